/** A config value as it should appear in an error message: numbers as JS prints them (NaN stays
 * NaN, which JSON.stringify would turn into null), everything else as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

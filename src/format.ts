/**
 * How groklens writes a number or a training step in text — report tables, axes, captions, hover
 * read-outs (reports/hover-script.ts mirrors these two in the page's script, checked by
 * tests/reports/format.test.ts), the analysis notes in analysis.json, and the CLI's summaries.
 * Locale-free, so every output is reproducible.
 */

/** A finite number with `digits` significant digits, no trailing zeros, scientific outside [1e-3, 1e6). */
export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  let s: string;
  if (a >= 1e6 || a < 1e-3) {
    const [m, e] = v.toExponential(digits - 1).split('e');
    s = `${stripZeros(m)}e${Number(e)}`;
  } else {
    s = stripZeros(Number(v.toPrecision(digits)).toString());
  }
  return s.replace(/^-/, '−');
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/**
 * A training step, never rounded: compact when that is exact (950, 1.25k, 14k, 2.5M), otherwise
 * every digit with thousands separators (14,050; 1,234,567).
 */
export function fmtStep(step: number | null | undefined): string {
  if (step === null || step === undefined || !Number.isFinite(step)) return '–';
  const a = Math.round(Math.abs(step));
  const sign = step < 0 && a > 0 ? '−' : '';
  if (a < 1000) return sign + String(a);
  const [unit, suffix, decimals] = a < 1e6 ? [1000, 'k', a < 1e4 ? 2 : 1] : [1e6, 'M', 2];
  const compact = (a / unit).toFixed(decimals);
  if (Math.round(Number(compact) * unit) === a) return sign + stripZeros(compact) + suffix;
  return sign + String(a).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A fraction as a percentage with one decimal: 0.9534 → "95.3 %". */
export function fmtPct(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${(v * 100).toFixed(1)} %`;
}

/** A value from a config or summary, for a table cell: numbers compactly, arrays joined, the rest as text. */
export function fmtValue(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : fmtNum(v, 4);
  if (Array.isArray(v)) return '[' + v.map(fmtValue).join(', ') + ']';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

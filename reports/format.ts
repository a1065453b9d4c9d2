/**
 * Number formatting for reports. Everything a reader sees goes through here, so the same value is
 * printed the same way in a table, an axis and a hover read-out, and SVG output stays deterministic.
 */

const SUPERSCRIPT: Record<string, string> = {
  '-': '⁻',
  '0': '⁰',
  '1': '¹',
  '2': '²',
  '3': '³',
  '4': '⁴',
  '5': '⁵',
  '6': '⁶',
  '7': '⁷',
  '8': '⁸',
  '9': '⁹',
};

/** 10ⁿ with a Unicode superscript exponent, e.g. pow10Label(-3) = "10⁻³". */
export function pow10Label(n: number): string {
  if (n === 0) return '1';
  if (n === 1) return '10';
  return (
    '10' +
    String(n)
      .split('')
      .map((c) => SUPERSCRIPT[c] ?? c)
      .join('')
  );
}

// Numbers and steps in text: one definition for reports, analysis notes and the CLI.
export { fmtNum, fmtPct, fmtStep, fmtValue } from '../src/format.ts';

/** Round to `digits` decimals for coordinates (returns a number; −0 becomes 0). */
export function roundTo(v: number, digits: number): number {
  const f = 10 ** digits;
  const r = Math.round(v * f) / f;
  return r === 0 ? 0 : r;
}

/** Round to `digits` significant digits (data embedded for hover read-outs). */
export function roundSig(v: number, digits = 4): number | null {
  if (!Number.isFinite(v)) return null;
  if (v === 0) return 0;
  return Number(v.toPrecision(digits));
}

const COORD_RE = /-?\d*\.\d{3,}(?:e[-+]?\d+)?/g;

/** Round every decimal number with more than two decimals in a string (SVG path data, transforms). */
export function roundNumbersIn(s: string, digits = 2): string {
  return s.replace(COORD_RE, (m) => String(roundTo(Number(m), digits)));
}

/**
 * Number formatting for reports. Everything a reader sees goes through here, so the same value is
 * printed the same way in a table, an axis and a hover read-out, and SVG output stays deterministic.
 */

const SUPERSCRIPT: Record<string, string> = {
  '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹',
};

/** 10ⁿ with a Unicode superscript exponent, e.g. pow10Label(-3) = "10⁻³". */
export function pow10Label(n: number): string {
  if (n === 0) return '1';
  if (n === 1) return '10';
  return '10' + String(n).split('').map((c) => SUPERSCRIPT[c] ?? c).join('');
}

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

/** A training step, compact: 950, 1.4k, 14k, 1.25M. Exact below 1000. */
export function fmtStep(step: number | null | undefined): string {
  if (step === null || step === undefined || !Number.isFinite(step)) return '–';
  const a = Math.abs(step);
  const sign = step < 0 ? '−' : '';
  if (a < 1000) return sign + String(Math.round(a));
  if (a < 1e6) return sign + stripZeros((a / 1000).toFixed(a < 1e4 ? 2 : 1)) + 'k';
  return sign + stripZeros((a / 1e6).toFixed(2)) + 'M';
}

/** A fraction as a percentage with one decimal: 0.9534 → "95.3 %". */
export function fmtPct(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${(v * 100).toFixed(1)} %`;
}

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

/** A value from a config or summary, for a table cell: numbers compactly, arrays joined, the rest as text. */
export function fmtValue(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : fmtNum(v, 4);
  if (Array.isArray(v)) return '[' + v.map(fmtValue).join(', ') + ']';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

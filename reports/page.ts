/**
 * The HTML shell shared by the run report and the comparison: one self-contained file with inline
 * CSS, inline SVG and one hashed inline script. A Content-Security-Policy forbids every request
 * (default-src 'none'; images only from data: URLs), so the file cannot reach a network even if
 * opened on a connected machine, and nothing but our own script can run.
 */
import { createHash } from 'node:crypto';
import type { GridHover } from './chart/raster.ts';
import type { BarsHover } from './chart/bars.ts';
import type { LinesHover } from './chart/lines.ts';
import { boundaryText, type PhaseOverlay } from './chart/phases.ts';
import { roundGeometry } from './dom.ts';
import { HOVER_SCRIPT } from './hover-script.ts';

export type Hover = LinesHover | GridHover | BarsHover;

/** One chart slot in a report: a drawn chart, or a note saying why it is not drawn. */
export interface Figure {
  id: string; // stable, unique in the page
  title: string;
  svg?: SVGSVGElement;
  hover?: Hover;
  caption?: string[]; // paragraphs
  /** Phase boundaries to list under the chart (reasons in print, where tooltips do not exist). */
  boundaries?: PhaseOverlay | null;
  /** Why the chart is missing (a pass not run, no data). */
  note?: string;
}

export interface Section {
  id: string;
  title: string;
  intro?: Node[];
  figures: Figure[];
}

export const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222; background: #fff; max-width: 800px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; word-break: break-word; }
h2 { font-size: 18px; border-bottom: 1px solid #ddd; margin: 32px 0 8px; padding-bottom: 2px; }
h3 { font-size: 15px; margin: 0 0 4px; }
.sub { color: #555; margin: 0 0 12px; }
nav ol { columns: 2; font-size: 13px; padding-left: 20px; }
a { color: #0072B2; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; border-bottom: 1px solid #eee; }
th { font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.wide { width: 100%; }
.scroll { overflow-x: auto; }
table.transitions { font-size: 12px; }
table.transitions td:first-child, table.differs td:first-child { min-width: 11em; }
.keys { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px; margin: 12px 0; }
.key { border: 1px solid #ddd; border-radius: 4px; padding: 6px 8px; }
.key .k { font-size: 12px; color: #555; }
.key .v { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; word-break: break-word; }
.key .d { font-size: 11px; color: #666; }
figure { margin: 22px 0; }
figure svg.chart { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; color: #444; margin-top: 2px; }
figcaption p { margin: 2px 0; }
ul.boundaries { font-size: 11px; color: #555; margin: 2px 0; padding: 0; list-style: none; }
output.readout { display: block; min-height: 1.3em; font: 12px ui-monospace, "DejaVu Sans Mono", monospace; color: #333; }
.note { background: #fff8e1; border-left: 3px solid #E69F00; padding: 6px 10px; font-size: 13px; margin: 6px 0; }
.warn { background: #fdecea; border-left: 3px solid #D55E00; padding: 6px 10px; font-size: 13px; }
footer { margin-top: 40px; font-size: 12px; color: #666; border-top: 1px solid #ddd; padding-top: 8px; }
code { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; background: #f4f4f4; padding: 0 3px; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  nav, output.readout { display: none; }
  figure, table, .keys, .note { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
@page { size: A4; margin: 14mm; }
`;

/** JSON safe inside a <script> element: no '<' (so no '</script>'), no line separators. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export const scriptHash = (script: string): string =>
  'sha256-' + createHash('sha256').update(script, 'utf8').digest('base64');

export const CSP = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '${scriptHash(HOVER_SCRIPT)}'; base-uri 'none'; form-action 'none'`;

/** Small element builder: text goes in through textContent, never as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' ? doc.createTextNode(c) : c);
  }
  return e;
}

/** Head: charset, viewport, CSP, title, CSS. */
export function setupHead(doc: Document, title: string): void {
  const head = doc.head;
  head.append(el(doc, 'meta', { charset: 'utf-8' }));
  head.append(el(doc, 'meta', { 'http-equiv': 'Content-Security-Policy', content: CSP }));
  head.append(el(doc, 'meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }));
  head.append(el(doc, 'meta', { name: 'generator', content: 'groklens' }));
  head.append(el(doc, 'title', {}, title));
  const style = el(doc, 'style');
  style.textContent = CSS;
  head.append(style);
}

export function renderFigure(doc: Document, f: Figure): HTMLElement {
  const fig = el(doc, 'figure', { id: f.id });
  fig.append(el(doc, 'h3', {}, f.title));
  if (f.svg) {
    roundGeometry(f.svg);
    fig.append(f.svg);
  }
  if (f.note) fig.append(el(doc, 'p', { class: 'note' }, f.note));
  if (f.svg && f.hover) {
    fig.setAttribute('data-hover', '');
    fig.append(el(doc, 'output', { class: 'readout', 'aria-live': 'polite' }));
    const data = el(doc, 'script', { type: 'application/json', class: 'hover-data' });
    data.textContent = jsonForScript(f.hover);
    fig.append(data);
  }
  const cap = el(doc, 'figcaption');
  for (const p of f.caption ?? []) cap.append(el(doc, 'p', {}, p));
  if (f.svg && f.boundaries?.boundaries.length) {
    const ul = el(doc, 'ul', { class: 'boundaries' });
    f.boundaries.boundaries.forEach((b, i) => ul.append(el(doc, 'li', {}, boundaryText(b, i))));
    cap.append(ul);
  }
  if (cap.childNodes.length) fig.append(cap);
  return fig;
}

export function renderSections(doc: Document, sections: Section[]): void {
  const nav = el(
    doc,
    'nav',
    { 'aria-label': 'contents' },
    el(doc, 'ol', {}, ...sections.map((s) => el(doc, 'li', {}, el(doc, 'a', { href: `#${s.id}` }, s.title)))),
  );
  doc.body.append(nav);
  for (const s of sections) {
    const sec = el(doc, 'section', { id: s.id }, el(doc, 'h2', {}, s.title));
    for (const n of s.intro ?? []) sec.append(n);
    for (const f of s.figures) sec.append(renderFigure(doc, f));
    doc.body.append(sec);
  }
}

/** The finished page: the script last, then the whole document serialised. */
export function finishPage(doc: Document): string {
  const script = el(doc, 'script');
  script.textContent = HOVER_SCRIPT;
  doc.body.append(script);
  return '<!DOCTYPE html>\n' + doc.documentElement.outerHTML + '\n';
}

/**
 * The document every report is built in: one jsdom document per report, passed to each chart
 * (never a global), serialised once at the end. Building through the DOM — textContent and
 * setAttribute, never string concatenation — is what escapes every user string.
 */
import { select, type Selection } from 'd3';
import { JSDOM } from 'jsdom';
import { roundNumbersIn } from './format.ts';

export const SVG_NS = 'http://www.w3.org/2000/svg';

export type Svg = Selection<SVGSVGElement, unknown, null, undefined>;
export type G = Selection<SVGGElement, unknown, null, undefined>;

/** A fresh, empty HTML document (and its window) to build a report or a chart in. */
export function newDocument(): Document {
  return new JSDOM('<!DOCTYPE html><html lang="en"><head></head><body></body></html>').window.document;
}

/** A root <svg> of the given size with an accessible title; not yet attached to the document. */
export function svgRoot(doc: Document, id: string, width: number, height: number, title: string): Svg {
  const el = doc.createElementNS(SVG_NS, 'svg') as SVGSVGElement;
  const svg = select(el);
  svg
    .attr('xmlns', SVG_NS)
    .attr('id', id)
    .attr('class', 'chart')
    .attr('width', width)
    .attr('height', height)
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('role', 'img')
    .attr('aria-labelledby', `${id}-title`)
    .attr('font-family', 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif')
    .attr('font-size', 11);
  svg.append('title').attr('id', `${id}-title`).text(title);
  return svg;
}

const GEOMETRY = [
  'd',
  'transform',
  'x',
  'y',
  'x1',
  'x2',
  'y1',
  'y2',
  'width',
  'height',
  'cx',
  'cy',
  'r',
  'points',
  'dx',
  'dy',
  'fill-opacity',
  'stroke-opacity',
  'opacity',
];

/** Round every coordinate to two decimals, so output is stable across platforms and small. */
export function roundGeometry(root: Element): void {
  const all = [root, ...Array.from(root.querySelectorAll('*'))];
  for (const el of all) {
    for (const name of GEOMETRY) {
      const v = el.getAttribute(name);
      if (v !== null && /\.\d{3}/.test(v)) el.setAttribute(name, roundNumbersIn(v));
    }
  }
}

/** Standalone SVG text of a chart (for snapshot files): rounded, with the xmlns the root carries. */
export function svgText(svg: SVGSVGElement): string {
  roundGeometry(svg);
  return svg.outerHTML + '\n';
}

/** Estimated width in px of a text at a font size: jsdom has no layout, so we estimate, never measure. */
export function textWidth(text: string, fontSize = 11): number {
  let w = 0;
  for (const ch of text) {
    if ("il.,:;|!'’ ".includes(ch)) w += 0.3;
    else if ('mwMW@'.includes(ch)) w += 0.85;
    else if (ch >= 'A' && ch <= 'Z') w += 0.68;
    else w += 0.56;
  }
  return w * fontSize;
}

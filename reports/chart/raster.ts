/**
 * Heatmap cells as an embedded indexed PNG (one palette entry per colour level, one transparent
 * entry for gaps) inside an SVG <image>: tens of thousands of cells cost tens of kilobytes instead
 * of one <rect> each, the bytes are deterministic, and nothing is fetched (a data: URL).
 */
import { axisBottom, scaleLinear } from 'd3';
import type { G } from '../dom.ts';
import { fmtNum, roundSig } from '../format.ts';
import { viridisPalette } from '../palette.ts';
import { encodeIndexedPng, pngDataUrl } from '../png.ts';

export const LEVELS = 255; // colour levels; index 255 is transparent
const GAP = 255;
const PALETTE = [...viridisPalette(LEVELS), [255, 255, 255] as [number, number, number]];

/** Colour level 0…254 of a value in [d0, d1] (clamped), or the gap index for NaN. */
export function level(v: number, d0: number, d1: number): number {
  if (!Number.isFinite(v)) return GAP;
  const t = d1 > d0 ? (v - d0) / (d1 - d0) : 0.5;
  return Math.max(0, Math.min(LEVELS - 1, Math.round(t * (LEVELS - 1))));
}

export interface RasterSpec {
  values: ArrayLike<number>[]; // [rows][cols]
  /** Column j spans [colStart[j], colEnd[j]) in image pixels (image width = `imgWidth`). */
  colStart: ArrayLike<number>;
  colEnd: ArrayLike<number>;
  imgWidth: number;
  domain: [number, number];
}

/** Palette indices of the image, rows top to bottom: each image column takes the column whose span holds its centre. */
export function rasterIndices(spec: RasterSpec): Uint8Array {
  const rows = spec.values.length;
  const W = spec.imgWidth;
  const out = new Uint8Array(rows * W).fill(GAP);
  const cols = spec.colStart.length;
  const colOf = new Int32Array(W).fill(-1);
  let j = 0;
  for (let c = 0; c < W; c++) {
    const centre = c + 0.5;
    while (j < cols && spec.colEnd[j] <= centre) j++;
    if (j < cols && spec.colStart[j] <= centre) colOf[c] = j;
  }
  const [d0, d1] = spec.domain;
  for (let r = 0; r < rows; r++) {
    const row = spec.values[r];
    for (let c = 0; c < W; c++) if (colOf[c] >= 0) out[r * W + c] = level(row[colOf[c]], d0, d1);
  }
  return out;
}

/** Draw the raster into a plot area of width × height; returns nothing, the <image> is appended to `g`. */
export function drawRaster(g: G, spec: RasterSpec, width: number, height: number): void {
  const png = encodeIndexedPng(spec.imgWidth, spec.values.length, rasterIndices(spec), PALETTE, GAP);
  g.append('rect').attr('width', width).attr('height', height).attr('fill', '#f2f2f2'); // shows through gaps
  g.append('image')
    .attr('width', width)
    .attr('height', height)
    .attr('preserveAspectRatio', 'none')
    .attr('style', 'image-rendering:pixelated')
    .attr('href', pngDataUrl(png));
}

/** A horizontal colour bar with a few ticks and a title, at the group's origin. */
export function drawColourBar(g: G, domain: [number, number], label: string, width = 160): void {
  const ramp = new Uint8Array(LEVELS);
  for (let i = 0; i < LEVELS; i++) ramp[i] = i;
  g.append('text').attr('x', 0).attr('y', 8).attr('dy', '0.35em').attr('fill', '#222').text(label);
  const bar = g.append('g').attr('transform', 'translate(0,16)');
  bar
    .append('image')
    .attr('width', width)
    .attr('height', 8)
    .attr('preserveAspectRatio', 'none')
    .attr('href', pngDataUrl(encodeIndexedPng(LEVELS, 1, ramp, PALETTE)));
  const s = scaleLinear().domain(domain).range([0, width]);
  const axis = bar
    .append('g')
    .attr('transform', 'translate(0,8)')
    .call(
      axisBottom(s)
        .ticks(4)
        .tickSize(3)
        .tickFormat((v) => fmtNum(Number(v), 2)),
    );
  axis.attr('font-family', null).attr('font-size', 9);
  axis.select('.domain').remove();
}

export interface GridPanel {
  plot: [number, number, number, number]; // left, top, width, height in SVG units
  rowName: string;
  colName: string;
  valueName: string;
  rowValues: number[];
  colValues: number[];
  /** Column edges in SVG units relative to the panel's left, length cols + 1 (cells may be uneven). */
  colEdges: number[];
  values: (number | null)[][];
}

export interface GridHover {
  kind: 'grid';
  panels: GridPanel[];
}

export const roundGrid = (values: ArrayLike<number>[], digits: number): (number | null)[][] =>
  values.map((row) => Array.from(row, (v) => roundSig(v, digits)));

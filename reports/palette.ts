/**
 * Colours: the Okabe–Ito palette (Okabe & Ito 2008), distinguishable under the common forms of
 * colour-vision deficiency, plus viridis for heatmaps. Lines also differ by dash pattern so a chart
 * still reads in greyscale print.
 */
import { interpolateViridis } from 'd3';
import type { PhaseName } from '../analyses/types.ts';

export const OKABE_ITO = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
} as const;

/** Series colours in order of use; yellow last (low contrast on white). */
export const SERIES_COLOURS: readonly string[] = [
  OKABE_ITO.blue,
  OKABE_ITO.vermillion,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.orange,
  OKABE_ITO.skyBlue,
  OKABE_ITO.black,
  OKABE_ITO.yellow,
];

/** Dash patterns paired with series colours (solid first). */
export const DASHES: readonly (string | null)[] = [null, '6 3', '2 2', '8 3 2 3', '4 4', '1 3', '10 4', '3 6'];

export const seriesColour = (i: number): string => SERIES_COLOURS[i % SERIES_COLOURS.length];
export const seriesDash = (i: number): string | null => DASHES[i % DASHES.length];

/** Phase band fills: light tints, distinct in hue and lightness; 'stable' is left blank. */
export const PHASE_STYLE: Record<PhaseName, { fill: string; opacity: number; label: string }> = {
  memorisation: { fill: OKABE_ITO.orange, opacity: 0.16, label: 'memorisation' },
  circuit_formation: { fill: OKABE_ITO.skyBlue, opacity: 0.2, label: 'circuit formation' },
  cleanup: { fill: OKABE_ITO.bluishGreen, opacity: 0.18, label: 'cleanup' },
  stable: { fill: '#bbbbbb', opacity: 0.08, label: 'stable' },
};

/** Key frequencies in bar charts. */
export const KEY_COLOUR = OKABE_ITO.vermillion;
export const OTHER_COLOUR = '#9a9a9a';

/** 256 viridis colours as [r, g, b] bytes: the palette of heatmap images. */
export function viridisPalette(levels = 256): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < levels; i++) {
    const hex = interpolateViridis(levels === 1 ? 0 : i / (levels - 1)); // "#rrggbb"
    out.push([parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)]);
  }
  return out;
}

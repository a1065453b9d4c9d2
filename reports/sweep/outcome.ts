/**
 * How each run outcome looks, everywhere in the sweep report: an Okabe–Ito colour, and a glyph so
 * the phase diagram still reads in greyscale print. Grokked runs carry no glyph: their colour is
 * their delay (viridis, as in every heatmap of the reports).
 */
import type { RunOutcome } from '../../analyses/sweep/types.ts';
import { level, LEVELS } from '../chart/raster.ts';
import { OKABE_ITO, viridisPalette } from '../palette.ts';

export interface OutcomeStyle {
  label: string;
  colour: string;
  colourName: string; // for captions
  glyph: string;
  /** Fill of a phase-diagram square (grokked: the delay's colour instead). */
  fill: string;
  fillOpacity: number;
  dash: string | null;
}

export const OUTCOMES: readonly RunOutcome[] = [
  'grokked',
  'memorised',
  'not-memorised',
  'diverged',
  'failed',
  'unfinished',
];

export const OUTCOME_STYLE: Record<RunOutcome, OutcomeStyle> = {
  grokked: {
    label: 'grokked',
    colour: OKABE_ITO.blue,
    colourName: 'blue',
    glyph: '',
    fill: OKABE_ITO.blue,
    fillOpacity: 1,
    dash: null,
  },
  memorised: {
    label: 'memorised only',
    colour: OKABE_ITO.orange,
    colourName: 'orange',
    glyph: 'm',
    fill: OKABE_ITO.orange,
    fillOpacity: 0.3,
    dash: null,
  },
  'not-memorised': {
    label: 'failed to memorise',
    colour: OKABE_ITO.vermillion,
    colourName: 'vermillion',
    glyph: '×',
    fill: OKABE_ITO.vermillion,
    fillOpacity: 0.25,
    dash: null,
  },
  diverged: {
    label: 'diverged (loss not finite)',
    colour: OKABE_ITO.bluishGreen,
    colourName: 'bluish green',
    glyph: '∞',
    fill: OKABE_ITO.bluishGreen,
    fillOpacity: 0.25,
    dash: '4 2',
  },
  failed: {
    label: 'run failed (error)',
    colour: OKABE_ITO.black,
    colourName: 'black',
    glyph: '!',
    fill: '#ffffff',
    fillOpacity: 1,
    dash: '2 2',
  },
  unfinished: {
    label: 'unfinished',
    colour: OKABE_ITO.reddishPurple,
    colourName: 'purple',
    glyph: '…',
    fill: OKABE_ITO.reddishPurple,
    fillOpacity: 0.2,
    dash: '2 2',
  },
};

const VIRIDIS = viridisPalette(LEVELS);
const hex = (b: number) => b.toString(16).padStart(2, '0');

/** The colour of a value on the viridis scale over [d0, d1], matching drawColourBar. */
export function viridisColour(v: number, d0: number, d1: number): string {
  const [r, g, b] = VIRIDIS[Math.min(LEVELS - 1, level(v, d0, d1))];
  return `#${hex(r)}${hex(g)}${hex(b)}`;
}

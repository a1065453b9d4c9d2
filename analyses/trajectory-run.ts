/**
 * The `trajectory` pass over a run directory's checkpoints: a ChunkSource (./trajectory.ts) that
 * reads byte ranges of the checkpoint files (each header validated once: format, step, every
 * trained tensor F32 with its spec's shape), so no checkpoint is ever held in memory whole.
 * A checkpoint whose header is unusable, or whose weights are not finite, is left out and listed.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readSafetensorsHeader } from '../src/io/safetensors.ts';
import { trainedSpecs, type ParamSpec } from '../src/models/types.ts';
import {
  centredGrams,
  DEFAULT_BUDGET,
  DEFAULT_WINDOW,
  perTensorNames,
  trajectoryView,
  windowSteps,
  type ChunkSource,
  type TrajectoryResult,
} from './trajectory.ts';

export interface TrajectoryFile {
  step: number;
  file: string;
}

export interface TrajectoryRunOptions {
  window?: number; // checkpoints per sliding window (default 10)
  budget?: number; // values held at once (default 4M)
}

export function trajectoryOfCheckpoints(
  files: TrajectoryFile[],
  specs: ParamSpec[],
  o: TrajectoryRunOptions = {},
): TrajectoryResult {
  const window = o.window ?? DEFAULT_WINDOW;
  if (!(Number.isInteger(window) && window >= 2))
    throw new RangeError(`trajectory.window: expected an integer ≥ 2, got ${window}`);
  const trained = trainedSpecs(specs);
  const sizes = trained.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const excluded: TrajectoryResult['excluded'] = [];
  const usable: { step: number; file: string; offsets: number[] }[] = [];
  for (const f of files) {
    try {
      const h = readSafetensorsHeader(f.file);
      if (h.metadata.step !== undefined && h.metadata.step !== String(f.step))
        throw new Error(`metadata step is ${h.metadata.step}, the file name says ${f.step}`);
      const dataStart = 8 + h.headerLength;
      const offsets = trained.map((s) => {
        const e = h.entries.find((x) => x.name === s.name);
        if (!e) throw new Error(`tensor ${s.name} missing`);
        if (e.dtype !== 'F32') throw new Error(`tensor ${s.name} is ${e.dtype}, expected F32`);
        if (e.shape.join(',') !== s.shape.join(','))
          throw new Error(`tensor ${s.name} has shape [${e.shape}], expected [${s.shape}]`);
        return dataStart + e.begin;
      });
      usable.push({ step: f.step, file: f.file, offsets });
    } catch (e) {
      excluded.push({ step: f.step, problem: firstLine(e) });
    }
  }
  const T = usable.length;
  const src: ChunkSource = {
    T,
    tensors: trained.map((s, i) => ({ name: s.name, size: sizes[i] })),
    read(t, k, start, out) {
      const u = usable[t];
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      const fd = openSync(u.file, 'r');
      try {
        let done = 0;
        while (done < bytes.length) {
          const n = readSync(fd, bytes, done, bytes.length - done, u.offsets[k] + start * 4 + done);
          if (n === 0) throw new Error(`${u.file}: file ended while being read`);
          done += n;
        }
      } finally {
        closeSync(fd);
      }
    },
  };
  const names = perTensorNames(trained.map((s) => s.name));
  const grams = centredGrams(src, names, o.budget ?? DEFAULT_BUDGET);
  for (const t of grams.bad) excluded.push({ step: usable[t].step, problem: 'weights not finite' });
  const keep = [...Array(T).keys()].filter((t) => !grams.bad.includes(t));
  const steps = keep.map((t) => usable[t].step);
  const nParams = sizes.reduce((a, b) => a + b, 0);
  const view = trajectoryView(grams.total, T, keep, nParams, window);
  const per_tensor: TrajectoryResult['per_tensor'] = {};
  for (const name of names)
    per_tensor[name] = trajectoryView(
      grams.perTensor[name],
      T,
      keep,
      sizes[trained.findIndex((s) => s.name === name)],
      window,
    );
  return {
    ...view,
    steps,
    window: Math.min(window, steps.length),
    window_steps: windowSteps(steps, window),
    per_tensor,
    excluded: excluded.sort((a, b) => a.step - b.step),
  };
}

function firstLine(e: unknown): string {
  const m = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  return m.length > 300 ? m.slice(0, 297) + '...' : m;
}

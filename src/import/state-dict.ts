/**
 * One checkpoint of a source, seen as names → (shape, dtype) with the data read on demand: a
 * state dict inside a torch file (tensors still TensorRefs) or one safetensors file. Converters
 * look at shapes first and load each tensor once; every dtype change is recorded.
 */
import { FormatError } from '../errors.ts';
import { readSafetensors } from '../io/safetensors.ts';
import type { PyDict } from '../io/pickle.ts';
import { TensorRef, tensorEntries, type LazyTorchFile } from './lazy-torch.ts';

export interface SourceStateDict {
  where: string; // 'FILE: state_dicts/3' or a safetensors file, for errors
  file: string;
  shapes: Map<string, number[]>;
  dtypes: Map<string, string>; // torch dtype names ('float32', 'float64', …)
  /** The tensor as float32, row-major; float64 / float16 / bfloat16 are converted and recorded in `conversions`. */
  load(name: string, conversions: Set<string>): Promise<Float32Array>;
}

const FLOAT_NAMES: Record<string, string> = { F32: 'float32', F64: 'float64', F16: 'float16', BF16: 'bfloat16' };

function toFloat32(
  data: unknown,
  dtype: string,
  fail: (problem: string) => never,
  conversions: Set<string>,
): Float32Array {
  const name = FLOAT_NAMES[dtype];
  if (!name) fail(`has dtype ${dtype}; a weight must be a floating-point tensor`);
  if (name === 'float64') conversions.add('float64 → float32 (rounded to nearest)');
  else if (name !== 'float32') conversions.add(`${name} → float32 (exact)`);
  return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
}

/** A state dict inside a torch file; `path` is where it sits in the saved object ('model', 'state_dicts/3'). */
export function torchStateDict(lazy: LazyTorchFile, dict: PyDict, path: string): SourceStateDict {
  const refs = new Map<string, TensorRef>(tensorEntries(dict));
  const where = `${lazy.file}: ${path || 'the saved object'}`;
  return {
    where,
    file: lazy.file,
    shapes: new Map([...refs].map(([k, r]) => [k, [...r.size]])),
    dtypes: new Map([...refs].map(([k, r]) => [k, r.dtype.name])),
    async load(name, conversions) {
      const ref = refs.get(name);
      if (!ref) throw new FormatError(lazy.file, `${path}: no tensor '${name}'`);
      const t = await lazy.load(ref, path ? `${path}/${name}` : name);
      const fail = (problem: string): never => {
        throw new FormatError(lazy.file, `${path ? `${path}/` : ''}${name}: ${problem}`);
      };
      return toFloat32(t.data, t.dtype, fail, conversions);
    },
  };
}

/** One safetensors file (as safetensors.torch.save_file writes), read whole: one step's weights. */
export function safetensorsStateDict(file: string): { sd: SourceStateDict; metadata: Record<string, string> } {
  const { tensors, metadata } = readSafetensors(file);
  const entries = Object.entries(tensors);
  return {
    metadata,
    sd: {
      where: file,
      file,
      shapes: new Map(entries.map(([k, t]) => [k, [...t.shape]])),
      dtypes: new Map(entries.map(([k, t]) => [k, FLOAT_NAMES[t.dtype] ?? t.dtype])),
      async load(name, conversions) {
        const t = tensors[name];
        if (!t) throw new FormatError(file, `no tensor '${name}'`);
        return toFloat32(
          t.data as ArrayLike<number>,
          t.dtype,
          (problem) => {
            throw new FormatError(file, `tensor '${name}': ${problem}`);
          },
          conversions,
        );
      },
    },
  };
}

/** "name [shape]" for each tensor, bounded: the body of the "unknown layout" listing. */
export function describeShapes(shapes: Map<string, number[]>, max = 24): string {
  const items = [...shapes].map(([k, s]) => `${k} [${s.join(', ')}]`);
  const more = items.length > max ? `, … (${items.length - max} more)` : '';
  return items.slice(0, max).join(', ') + more;
}

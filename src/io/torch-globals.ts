/**
 * The torch names a checkpoint's pickle may use, each rebuilt as plain data: dtypes, storage types,
 * torch.Size, torch.device, and the _rebuild_* functions that torch.save records for every tensor
 * and nn.Parameter. A tensor becomes a TensorRef (where its elements are in which storage); the
 * bytes are read and copied out later (torch-tensor.ts). The list follows what torch.load's
 * weights_only unpickler admits, minus what we cannot represent (quantized, sparse, nested and
 * meta tensors get a clear "not supported" instead).
 */
import type { DType } from './dtypes.ts';
import {
  PickleDataError,
  PyCallable,
  PyTuple,
  argCount,
  table,
  typeName,
  type PyObject,
  type PyValue,
} from './pickle.ts';

/** A torch dtype. `dtype` is the groklens DType its elements decode to, null if we cannot decode it. */
export class TorchDtype implements PyObject {
  readonly pyType = 'torch.dtype';
  constructor(
    readonly name: string, // torch's name: 'float32', 'bfloat16', …
    readonly dtype: DType | null,
    readonly itemSize: number, // bytes per element
  ) {}
  hashKey(): string {
    return `torch.${this.name}`;
  }
}

/** A storage class such as torch.FloatStorage, naming the dtype of a storage in a persistent id. */
export class TorchStorageType implements PyObject {
  readonly pyType = 'torch.storage_type';
  constructor(
    readonly qualname: string,
    readonly dtype: TorchDtype,
  ) {}
}

/** One storage a persistent id names: `numel` elements of `dtype` in the record `key`. */
export class StorageRef implements PyObject {
  readonly pyType = 'torch.storage';
  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly location: string, // where it lived when saved ('cpu', 'cuda:0'); we read it on the CPU
    readonly numel: number,
    /** Legacy files only: this storage is `numel` elements of root storage `key` from element `offset`. */
    readonly view: { key: string; offset: number; numel: number } | null = null,
  ) {}
}

/** A tensor as the pickle describes it: `size`/`stride` in elements, `offset` into the storage. */
export class TensorRef implements PyObject {
  readonly pyType = 'torch.Tensor';
  constructor(
    readonly storage: StorageRef,
    readonly dtype: TorchDtype,
    readonly offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
    readonly requiresGrad: boolean,
    readonly isParameter: boolean,
  ) {}
  asParameter(requiresGrad: boolean): TensorRef {
    return new TensorRef(this.storage, this.dtype, this.offset, this.size, this.stride, requiresGrad, true);
  }
}

export class TorchDevice implements PyObject {
  readonly pyType = 'torch.device';
  constructor(readonly spec: string) {}
  hashKey(): string {
    return this.spec;
  }
}

// [torch name, aliases, legacy storage class, DType, bytes per element]
const DTYPES: [string, string[], string | null, DType | null, number][] = [
  ['float32', ['float'], 'FloatStorage', 'F32', 4],
  ['float64', ['double'], 'DoubleStorage', 'F64', 8],
  ['float16', ['half'], 'HalfStorage', 'F16', 2],
  ['bfloat16', [], 'BFloat16Storage', 'BF16', 2],
  ['int64', ['long'], 'LongStorage', 'I64', 8],
  ['int32', ['int'], 'IntStorage', 'I32', 4],
  ['int16', ['short'], 'ShortStorage', 'I16', 2],
  ['int8', [], 'CharStorage', 'I8', 1],
  ['uint8', [], 'ByteStorage', 'U8', 1],
  ['bool', [], 'BoolStorage', 'BOOL', 1],
  ['uint16', [], null, 'U16', 2],
  ['uint32', [], null, 'U32', 4],
  ['uint64', [], null, 'U64', 8],
  ['float8_e5m2', [], null, 'F8_E5M2', 1],
  ['float8_e4m3fn', [], null, 'F8_E4M3', 1],
  ['complex32', ['chalf'], 'ComplexHalfStorage', null, 4],
  ['complex64', ['cfloat'], 'ComplexFloatStorage', null, 8],
  ['complex128', ['cdouble'], 'ComplexDoubleStorage', null, 16],
  ['qint8', [], 'QInt8Storage', null, 1],
  ['quint8', [], 'QUInt8Storage', null, 1],
  ['qint32', [], 'QInt32Storage', null, 4],
  ['quint4x2', [], 'QUInt4x2Storage', null, 1],
  ['quint2x4', [], 'QUInt2x4Storage', null, 1],
];

const dtypeValues = new Map<string, PyValue>();
const storageValues = new Map<string, PyValue>();
let uint8: TorchDtype | undefined;
for (const [name, aliases, storage, dtype, size] of DTYPES) {
  const d = new TorchDtype(name, dtype, size);
  if (name === 'uint8') uint8 = d;
  for (const n of [name, ...aliases]) dtypeValues.set(`torch.${n}`, d);
  if (storage) {
    // Files saved from a GPU by old torch versions name the CUDA storage class; the bytes are the same.
    for (const qualname of [`torch.${storage}`, `torch.cuda.${storage}`])
      storageValues.set(qualname, new TorchStorageType(qualname, d));
  }
}
// Untyped (byte) storages, under the names torch versions have given them.
for (const qualname of [
  'torch.UntypedStorage',
  'torch.storage.UntypedStorage',
  'torch._UntypedStorage',
  'torch.storage._UntypedStorage',
  'torch.cuda.UntypedStorage',
]) {
  storageValues.set(qualname, new TorchStorageType(qualname, uint8!));
}

// ---- tensors

function nonNegativeInt(fn: string, what: string, v: PyValue): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new PickleDataError(
      `${fn}: ${what} must be a non-negative integer, got ${typeof v === 'number' || typeof v === 'bigint' ? v : typeName(v)}`,
    );
  }
  return v;
}

function intList(fn: string, what: string, v: PyValue): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items) throw new PickleDataError(`${fn}: ${what} must be a tuple of integers, got ${typeName(v)}`);
  if (items.length > 64) throw new PickleDataError(`${fn}: ${what} has ${items.length} dimensions (more than 64)`);
  return items.map((x, i) => nonNegativeInt(fn, `${what}[${i}]`, x));
}

function storageArg(fn: string, v: PyValue): StorageRef {
  if (!(v instanceof StorageRef))
    throw new PickleDataError(`${fn}: expected a storage (a persistent id), got ${typeName(v)}`);
  return v;
}

function boolArg(fn: string, what: string, v: PyValue): boolean {
  if (typeof v !== 'boolean') throw new PickleDataError(`${fn}: ${what} must be a bool, got ${typeName(v)}`);
  return v;
}

function tensorArg(fn: string, v: PyValue): TensorRef {
  if (!(v instanceof TensorRef)) throw new PickleDataError(`${fn}: expected a tensor, got ${typeName(v)}`);
  return v;
}

/** The common part of every _rebuild_tensor*: storage, offset, size, stride. */
function tensorFrom(fn: string, args: readonly PyValue[], dtype: TorchDtype | null, requiresGrad: boolean): TensorRef {
  const storage = storageArg(fn, args[0]);
  const offset = nonNegativeInt(fn, 'storage_offset', args[1]);
  const size = intList(fn, 'size', args[2]);
  const stride = intList(fn, 'stride', args[3]);
  if (size.length !== stride.length)
    throw new PickleDataError(`${fn}: size has ${size.length} dimensions but stride has ${stride.length}`);
  return new TensorRef(storage, dtype ?? storage.dtype, offset, size, stride, requiresGrad, false);
}

const rebuildTensorV2 = new PyCallable('torch._utils._rebuild_tensor_v2', (args) => {
  const fn = 'torch._utils._rebuild_tensor_v2';
  argCount(fn, args, 6, 7); // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  return tensorFrom(fn, args, null, boolArg(fn, 'requires_grad', args[4]));
});

const rebuildTensorV3 = new PyCallable('torch._utils._rebuild_tensor_v3', (args) => {
  const fn = 'torch._utils._rebuild_tensor_v3';
  argCount(fn, args, 7, 8); // (…, backward_hooks, dtype[, metadata]); storage is untyped bytes
  const dtype = args[6];
  if (!(dtype instanceof TorchDtype))
    throw new PickleDataError(`${fn}: dtype must be a torch dtype, got ${typeName(dtype)}`);
  return tensorFrom(fn, args, dtype, boolArg(fn, 'requires_grad', args[4]));
});

const rebuildTensor = new PyCallable('torch._utils._rebuild_tensor', (args) => {
  argCount('torch._utils._rebuild_tensor', args, 4);
  return tensorFrom('torch._utils._rebuild_tensor', args, null, false);
});

const rebuildParameter = new PyCallable('torch._utils._rebuild_parameter', (args) => {
  const fn = 'torch._utils._rebuild_parameter';
  argCount(fn, args, 3); // (data, requires_grad, backward_hooks)
  return tensorArg(fn, args[0]).asParameter(boolArg(fn, 'requires_grad', args[1]));
});

const rebuildParameterWithState = new PyCallable('torch._utils._rebuild_parameter_with_state', (args) => {
  const fn = 'torch._utils._rebuild_parameter_with_state';
  argCount(fn, args, 4); // (data, requires_grad, backward_hooks, state): the Python attributes are dropped
  return tensorArg(fn, args[0]).asParameter(boolArg(fn, 'requires_grad', args[1]));
});

const TENSOR_REBUILDERS = new Set<PyCallable>([
  rebuildTensorV2,
  rebuildTensorV3,
  rebuildTensor,
  rebuildParameter,
  rebuildParameterWithState,
]);

const torchTensor = new PyCallable('torch.Tensor'); // only ever an argument of _rebuild_from_type_v2

const parameter = new PyCallable(
  'torch.nn.parameter.Parameter',
  (args) => makeParameter(args),
  (args) => makeParameter(args),
);

function makeParameter(args: readonly PyValue[]): TensorRef {
  const fn = 'torch.nn.parameter.Parameter';
  argCount(fn, args, 1, 2);
  return tensorArg(fn, args[0]).asParameter(args.length > 1 ? boolArg(fn, 'requires_grad', args[1]) : true);
}

/** Tensors with Python attributes, or of a Tensor subclass: (func, new_type, args, state). */
const rebuildFromType = new PyCallable('torch._tensor._rebuild_from_type_v2', (args) => {
  const fn = 'torch._tensor._rebuild_from_type_v2';
  argCount(fn, args, 4);
  const [func, newType, inner] = args;
  if (!(func instanceof PyCallable) || !TENSOR_REBUILDERS.has(func))
    throw new PickleDataError(`${fn}: ${describe(func)} is not a tensor rebuild function`);
  if (newType !== torchTensor && newType !== parameter)
    throw new PickleDataError(`${fn}: tensor subclass ${describe(newType)} is not supported`);
  if (!(inner instanceof PyTuple)) throw new PickleDataError(`${fn}: args must be a tuple, got ${typeName(inner)}`);
  const t = tensorArg(fn, func.call!(inner.items));
  return newType === parameter && !t.isParameter ? t.asParameter(t.requiresGrad) : t;
});

function describe(v: PyValue): string {
  return v instanceof PyCallable ? v.qualname : `a ${typeName(v)}`;
}

/** torch names we know but cannot represent: a clear refusal rather than "not allowed". */
function unsupported(qualname: string, what: string): PyCallable {
  return new PyCallable(qualname, () => {
    throw new PickleDataError(`${what} (${qualname}) are not supported`);
  });
}

export const TORCH_GLOBALS: ReadonlyMap<string, PyValue> = new Map<string, PyValue>([
  ...dtypeValues,
  ...storageValues,
  ...table(
    rebuildTensorV2,
    rebuildTensorV3,
    rebuildTensor,
    rebuildParameter,
    rebuildParameterWithState,
    rebuildFromType,
    torchTensor,
    parameter,
    new PyCallable('torch.Size', (args) => {
      argCount('torch.Size', args, 0, 1);
      return new PyTuple(args.length ? intList('torch.Size', 'sizes', args[0]) : []);
    }),
    new PyCallable('torch.device', (args) => {
      argCount('torch.device', args, 1, 2);
      const [type, index] = args;
      if (typeof type !== 'string') throw new PickleDataError(`torch.device: expected a str, got ${typeName(type)}`);
      if (index !== undefined && index !== null && typeof index !== 'number')
        throw new PickleDataError('torch.device: the index must be an int');
      return new TorchDevice(index === undefined || index === null ? type : `${type}:${index}`);
    }),
    unsupported('torch._utils._rebuild_qtensor', 'quantized tensors'),
    unsupported('torch._utils._rebuild_sparse_tensor', 'sparse tensors'),
    unsupported('torch._utils._rebuild_sparse_csr_tensor', 'sparse tensors'),
    unsupported('torch._utils._rebuild_nested_tensor', 'nested tensors'),
    unsupported('torch._utils._rebuild_meta_tensor_no_storage', 'meta tensors (shapes without data)'),
    unsupported('torch._utils._rebuild_wrapper_subclass', 'tensor subclasses'),
    unsupported('torch._utils._rebuild_device_tensor_from_numpy', 'tensors saved through numpy'),
    unsupported('torch._utils._rebuild_device_tensor_from_cpu_tensor', 'device tensors'),
    unsupported('torch._utils._rebuild_xla_tensor', 'XLA tensors'),
  ),
]);

/**
 * Resolve a torch persistent id, ('storage', storage_type, key, location, numel) in zip files and
 * the same plus view_metadata in legacy files. `seen` checks that every id naming one key agrees on
 * its dtype and size.
 */
export function storageFromPersistentId(pid: PyValue, seen: Map<string, StorageRef>): StorageRef {
  if (!(pid instanceof PyTuple) || (pid.length !== 5 && pid.length !== 6)) {
    throw new PickleDataError(
      `a torch persistent id is a 5- or 6-tuple, got ${pid instanceof PyTuple ? `a ${pid.length}-tuple` : typeName(pid)}`,
    );
  }
  const [kind, type, key, location, numel, view] = pid.items.map(asciiIfBytes);
  if (kind !== 'storage')
    throw new PickleDataError(
      `persistent id of kind ${typeof kind === 'string' ? `'${kind}'` : typeName(kind)}: only 'storage' is supported`,
    );
  if (!(type instanceof TorchStorageType))
    throw new PickleDataError(
      `persistent id: expected a storage type such as torch.FloatStorage, got ${typeName(type)}`,
    );
  const k = typeof key === 'number' ? String(key) : key;
  if (typeof k !== 'string' || k.length === 0 || k.length > 256)
    throw new PickleDataError(`persistent id: bad storage key ${typeName(key)}`);
  if (typeof location !== 'string')
    throw new PickleDataError(`persistent id: the location must be a str, got ${typeName(location)}`);
  const n = nonNegativeInt('persistent id', 'numel', numel);
  let viewOf: StorageRef['view'] = null;
  if (view !== undefined && view !== null) {
    if (!(view instanceof PyTuple) || view.length !== 3)
      throw new PickleDataError(`persistent id: view metadata must be a 3-tuple, got ${typeName(view)}`);
    const [vkey, voffset, vnumel] = view.items.map(asciiIfBytes);
    if (typeof vkey !== 'string') throw new PickleDataError('persistent id: the view key must be a str');
    viewOf = {
      key: vkey,
      offset: nonNegativeInt('view metadata', 'offset', voffset),
      numel: nonNegativeInt('view metadata', 'size', vnumel),
    };
  }
  const ref = new StorageRef(k, type.dtype, location, n, viewOf);
  const before = seen.get(k);
  if (!before) seen.set(k, ref);
  else if (before.dtype !== ref.dtype || before.numel !== ref.numel) {
    throw new PickleDataError(
      `storage '${k}' is declared both as ${before.numel} × ${before.dtype.name} and as ${ref.numel} × ${ref.dtype.name}`,
    );
  }
  return ref;
}

/** Python 2 files may hold the id's strings as bytes; torch decodes them as ASCII. */
function asciiIfBytes(v: PyValue): PyValue {
  return v instanceof Uint8Array && v.length <= 256 && v.every((b) => b < 0x80) ? String.fromCharCode(...v) : v;
}

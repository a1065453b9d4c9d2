#!/usr/bin/python3
"""Write the PyTorch fixtures that tests/io/torch-file.test.ts and tests/io/pickle.test.ts read.

    /usr/bin/python3 scripts/make-torch-fixtures.py [--out fixtures/torch]

Needs PyTorch (Debian: `apt-get install python3-torch`; run it with /usr/bin/python3, which sees
Debian's packages). Every file is small (a few KB) and deterministic in its values (seeded), so the
committed copies stay valid; the bytes may differ between torch versions, which is why a test with
torch installed runs this script again into a temporary folder and reads what it wrote. (Legacy
files name their storages by memory address, so their bytes change from run to run; what they
hold, and expected.json, do not.)

Besides the files it writes `expected.json`, the oracle: for each torch file, what *torch.load*
(not the objects in memory) reads back from it, as a tagged tree (see `tagged`) plus every tensor's
path, dtype, shape and values; for each plain pickle, what CPython's pickle.load reads.

The hostile files carry a __reduce__ that would run a shell command (touching a marker file under
/tmp) when unpickled by an unsafe loader. Writing them runs nothing: pickling only records the call.
"""
import argparse
import builtins
import collections
import json
import math
import os
import pickle
import subprocess
import sys

import numpy
import torch
import torch.nn as nn

# Hostile payloads would create these files if anything executed them; the tests check they do not exist.
MARKER_DIR = '/tmp'
MARKERS = {
    'os-system': 'groklens-torch-hostile-os-system',
    'eval-legacy': 'groklens-torch-hostile-eval-legacy',
    'subprocess-p4': 'groklens-torch-hostile-subprocess-p4',
    'nested-system': 'groklens-torch-hostile-nested-system',
}


def marker(name):
    return os.path.join(MARKER_DIR, MARKERS[name])


# ---------------------------------------------------------------------------------------------
# The models: a 1-layer transformer with TransformerLens parameter names (shapes in comments).

class Embed(nn.Module):
    def __init__(self, d_vocab, d_model):
        super().__init__()
        self.W_E = nn.Parameter(torch.randn(d_vocab, d_model))  # [d_vocab, d_model]


class PosEmbed(nn.Module):
    def __init__(self, n_ctx, d_model):
        super().__init__()
        self.W_pos = nn.Parameter(torch.randn(n_ctx, d_model))  # [n_ctx, d_model]


class Attention(nn.Module):
    def __init__(self, d_model, n_heads, d_head, n_ctx):
        super().__init__()
        self.W_Q = nn.Parameter(torch.randn(n_heads, d_model, d_head))  # [n_heads, d_model, d_head]
        self.W_K = nn.Parameter(torch.randn(n_heads, d_model, d_head))
        self.W_V = nn.Parameter(torch.randn(n_heads, d_model, d_head))
        self.W_O = nn.Parameter(torch.randn(n_heads, d_head, d_model))  # [n_heads, d_head, d_model]
        self.b_Q = nn.Parameter(torch.randn(n_heads, d_head))
        self.b_K = nn.Parameter(torch.randn(n_heads, d_head))
        self.b_V = nn.Parameter(torch.randn(n_heads, d_head))
        self.b_O = nn.Parameter(torch.randn(d_model))
        # TransformerLens keeps these two buffers in its state dicts: a bool causal mask and a scalar.
        self.register_buffer('mask', torch.tril(torch.ones(n_ctx, n_ctx)).bool())  # [n_ctx, n_ctx]
        self.register_buffer('IGNORE', torch.tensor(-1e5))  # []


class MLP(nn.Module):
    def __init__(self, d_model, d_mlp):
        super().__init__()
        self.W_in = nn.Parameter(torch.randn(d_model, d_mlp))  # [d_model, d_mlp]
        self.b_in = nn.Parameter(torch.randn(d_mlp))
        self.W_out = nn.Parameter(torch.randn(d_mlp, d_model))  # [d_mlp, d_model]
        self.b_out = nn.Parameter(torch.randn(d_model))


class Block(nn.Module):
    def __init__(self, d_model, n_heads, d_head, d_mlp, n_ctx):
        super().__init__()
        self.attn = Attention(d_model, n_heads, d_head, n_ctx)
        self.mlp = MLP(d_model, d_mlp)


class Unembed(nn.Module):
    def __init__(self, d_model, d_vocab):
        super().__init__()
        self.W_U = nn.Parameter(torch.randn(d_model, d_vocab))  # [d_model, d_vocab_out]
        self.b_U = nn.Parameter(torch.randn(d_vocab))


class TinyTransformer(nn.Module):
    def __init__(self, d_vocab=7, d_model=8, n_heads=2, d_head=4, d_mlp=16, n_ctx=3):
        super().__init__()
        self.embed = Embed(d_vocab, d_model)
        self.pos_embed = PosEmbed(n_ctx, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, d_head, d_mlp, n_ctx)])
        self.unembed = Unembed(d_model, d_vocab)


# ---------------------------------------------------------------------------------------------
# Hostile objects: what an attacker would put in a checkpoint.

class RunsShell:
    """Unpickling this calls os.system(command)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class RunsEval:
    def __init__(self, source):
        self.source = source

    def __reduce__(self):
        return (builtins.eval, (self.source,))


class RunsSubprocess:
    def __init__(self, argv):
        self.argv = argv

    def __reduce__(self):
        return (subprocess.call, (self.argv,))


# ---------------------------------------------------------------------------------------------
# The fixtures.

def tl_state_dict():
    torch.manual_seed(1)
    return TinyTransformer().state_dict()


def nanda_run():
    """Shaped like Nanda et al.'s published run file (smaller model, three checkpoints)."""
    torch.manual_seed(2)
    model = TinyTransformer(d_vocab=5, d_model=4, n_heads=1, d_head=4, d_mlp=8, n_ctx=3)
    checkpoints = []
    for step in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(0.9).add_(0.01 * step)
        checkpoints.append({k: v.clone() for k, v in model.state_dict().items()})
    # The last checkpoint's embedding is a view (a slice with a storage offset) of a bigger tensor,
    # and its unembedding the transposed view of that same storage: views must come out right.
    big = torch.arange(40, dtype=torch.float32).reshape(8, 5) / 7
    checkpoints[2]['embed.W_E'] = big[3:8, 1:5]  # [5, 4], offset 16, stride (5, 1)
    checkpoints[2]['unembed.W_U'] = big[3:8, 1:5].t()  # [4, 5], stride (1, 5)
    return {
        'model': model.state_dict(),
        'config': {
            'p': 113, 'd_model': 4, 'lr': 1e-3, 'weight_decay': 1.0, 'frac_train': 0.3,
            'fn_name': 'add', 'use_ln': False, 'act_type': 'ReLU', 'seed': 0,
            'betas': (0.9, 0.98), 'stopping_thresh': -1, 'device': 'cpu', 'comment': None,
            'big_int': 2 ** 70, 'layers': [1, 'two', 3.5],
        },
        'checkpoints': checkpoints,
        'checkpoint_epochs': [0, 100, 200],
        'train_losses': [4.75, 2.5, 0.125, 1e-7],
        'test_losses': [4.8, 4.9, 0.3, float('inf')],
        'train_indices': torch.tensor([5, 1, 9, 2**40, -3], dtype=torch.int64),
        'test_indices': torch.tensor([0, 4], dtype=torch.int64),
    }


def every_dtype():
    torch.manual_seed(3)
    f32 = torch.tensor([0.0, -0.0, 1.5, -2.25, float('inf'), float('-inf'), float('nan'),
                        3.4028234663852886e38, 1.401298464324817e-45, 1 / 3], dtype=torch.float32)
    f64 = torch.tensor([math.pi, -1e-300, 1.7976931348623157e308, 5e-324, float('nan'), -0.0],
                       dtype=torch.float64)
    f16 = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.103515625e-05, 5.960464477539063e-08,
                        float('inf'), float('-inf'), float('nan'), 0.1], dtype=torch.float16)
    bf16 = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.3895313892515355e38, 9.183549615799121e-41,
                         float('inf'), float('-inf'), float('nan'), 0.1], dtype=torch.bfloat16)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5  # [4, 6]
    shared = torch.arange(12, dtype=torch.int32)
    p_grad = nn.Parameter(torch.randn(3, 2))
    p_frozen = nn.Parameter(torch.randn(2), requires_grad=False)
    return collections.OrderedDict([
        ('f32', f32),
        ('f64', f64),
        ('f16', f16),
        ('bf16', bf16),
        ('i64', torch.tensor([0, -1, 2**53 + 1, -(2**63), 2**63 - 1], dtype=torch.int64)),
        ('i32', torch.tensor([-(2**31), 2**31 - 1, 0, 7], dtype=torch.int32)),
        ('i16', torch.tensor([-(2**15), 2**15 - 1, 3], dtype=torch.int16)),
        ('i8', torch.tensor([-128, 127, 0, -1], dtype=torch.int8)),
        ('u8', torch.tensor([0, 1, 128, 255], dtype=torch.uint8)),
        ('bool', torch.tensor([[True, False, True], [False, False, True]])),
        ('scalar', torch.tensor(2.5)),
        ('empty', torch.zeros(0)),
        ('empty_2d', torch.zeros(2, 0, dtype=torch.int64)),
        ('base', base),
        ('transposed', base.t()),  # [6, 4], stride (1, 6)
        ('slice', base[1:3, 2:5]),  # [2, 3], storage offset 8, stride (6, 1)
        ('strided', base[::2, ::3]),  # [2, 2], stride (12, 3)
        ('permuted', torch.arange(24, dtype=torch.float64).reshape(2, 3, 4).permute(2, 0, 1)),
        ('expanded', torch.tensor([1.0, 2.0, 3.0]).expand(4, 3)),  # stride (0, 1)
        ('shared_a', shared[:6]),  # two tensors of one storage
        ('shared_b', shared[6:].view(2, 3)),  # offset 6
        ('f16_t', f16[:10].reshape(2, 5).t()),
        ('param', p_grad),
        ('param_frozen', p_frozen),
    ])


def plain_object():
    """Everything plain pickles hold, for the VM tests against CPython's own pickler."""
    shared = [1, 2]
    od = collections.OrderedDict([('z', 1), ('a', 2)])
    return {
        'none': None, 'true': True, 'false': False,
        'ints': [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31, 2**53 - 1, 2**63, -2**64, 2**100],
        'floats': [0.0, -0.0, 1.5, -1e-310, 1e308, float('inf'), float('-inf'), float('nan')],
        'str': 'grokking — π ≈ 3.14159 \U0001F600 "quotes" \\ back\nnewline',
        'empty_str': '',
        'long_str': 'x' * 300,
        'bytes': b'\x00\x01\xff binary',
        'long_bytes': bytes(range(256)) + b'>255',  # BINBYTES, not SHORT_BINBYTES
        'bytearray': bytearray(b'mutable'),
        'tuple0': (), 'tuple1': (1,), 'tuple2': (1, 'b'), 'tuple3': (1, 2, 3), 'tuple5': (1, 2, 3, 4, 5),
        'list': [1, [2, [3, []]]],
        'dict_int_keys': {1: 'one', -2: 'minus two', 2**70: 'big'},
        'dict_mixed_keys': {'s': 1, 2: 2, (1, 'x'): 3, None: 4, True: 5, 1.5: 6},
        'set': {1, 2, 3},
        'frozenset': frozenset(['a']),
        'ordered': od,
        'complex': complex(1.5, -2),
        'shared_twice': [shared, shared],
        'many': [i % 7 for i in range(1001)],  # more than one APPENDS batch (CPython batches 1000)
    }


# ---------------------------------------------------------------------------------------------
# The oracle: a tagged JSON encoding the TypeScript tests decode (see tests/io/torch-expected.ts).

def tagged(x, tensor_path=None):
    """JSON-safe, lossless: ints beyond ±(2^53 − 1) and non-finite floats become tagged strings."""
    if tensor_path is not None and torch.is_tensor(x):
        return {'$tensor': tensor_path}
    if x is None or isinstance(x, bool) or isinstance(x, str):
        return x
    if isinstance(x, int):
        return x if abs(x) <= 2**53 - 1 else {'$int': str(x)}
    if isinstance(x, float):
        return x if math.isfinite(x) else {'$float': repr(x)}
    if isinstance(x, complex):
        return {'$complex': [tagged(x.real), tagged(x.imag)]}
    if isinstance(x, (bytes, bytearray)):
        return {'$bytes': x.hex()}
    if isinstance(x, tuple):
        return {'$tuple': [tagged(v) for v in x]}
    if isinstance(x, list):
        return [tagged(v) for v in x]
    if isinstance(x, frozenset):
        return {'$frozenset': sorted((tagged(v) for v in x), key=json.dumps)}
    if isinstance(x, set):
        return {'$set': sorted((tagged(v) for v in x), key=json.dumps)}
    if isinstance(x, dict):
        return {'$dict': [[tagged(k), tagged(v)] for k, v in x.items()]}
    raise TypeError(f'cannot tag {type(x)}')


def tensor_values(t):
    """Row-major values: floats as JSON numbers (non-finite tagged), integers beyond 2^53 as strings.

    float16, bfloat16 and float32 values are written as the shortest decimal that reads back as the
    same float32 (every f16 and bf16 value is one exactly), which keeps this file small: a reader
    compares Math.fround(expected) with what it decoded.
    """
    flat = t.detach().reshape(-1)
    if t.dtype == torch.float64:
        return [tagged(v) for v in flat.tolist()]
    if t.dtype in (torch.float16, torch.bfloat16, torch.float32):
        return [tagged(float(str(numpy.float32(v)))) for v in flat.float().tolist()]
    if t.dtype == torch.bool:
        return [1 if v else 0 for v in flat.tolist()]
    return [str(v) if abs(v) > 2**53 - 1 else v for v in flat.tolist()]


DTYPE_NAMES = {
    torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16',
    torch.int64: 'I64', torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8',
    torch.bool: 'BOOL',
}


def describe_loaded(obj):
    """The tree with tensors replaced by their paths, and every tensor in the order a walk finds it."""
    tensors = []

    def walk(x, path):
        if torch.is_tensor(x):
            p = '/'.join(path)
            tensors.append({
                'path': p, 'dtype': DTYPE_NAMES[x.dtype], 'shape': list(x.shape),
                'requiresGrad': bool(x.requires_grad), 'isParameter': isinstance(x, nn.Parameter),
                'values': tensor_values(x),
            })
            return {'$tensor': p}
        if isinstance(x, dict):
            return {'$dict': [[tagged(k), walk(v, path + [str(k)])] for k, v in x.items()]}
        if isinstance(x, list):
            return [walk(v, path + [str(i)]) for i, v in enumerate(x)]
        if isinstance(x, tuple):
            return {'$tuple': [walk(v, path + [str(i)]) for i, v in enumerate(x)]}
        return tagged(x)

    tree = walk(obj, [])
    return tree, tensors


def compact_json(expected):
    """One line per file entry (readable diffs when a fixture changes, a small file)."""
    dump = lambda x: json.dumps(x, separators=(',', ':'), allow_nan=False, ensure_ascii=False)
    lines = []
    for key, value in expected.items():
        if key in ('files', 'hostile'):
            inner = [f'  {dump(k)}: {dump(v)}' for k, v in value.items()]
            lines.append(f' {dump(key)}: {{\n' + ',\n'.join(inner) + '\n }')
        else:
            lines.append(f' {dump(key)}: {dump(value)}')
    return '{\n' + ',\n'.join(lines) + '\n}\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'torch'))
    out = os.path.normpath(ap.parse_args().out)
    os.makedirs(out, exist_ok=True)
    expected = {'torch_version': torch.__version__, 'files': {}}

    def save(name, obj, **kw):
        path = os.path.join(out, name)
        torch.save(obj, path, **kw)
        return path

    def record(name, fmt):
        # The oracle is torch reading the file back, not the objects we saved.
        loaded = torch.load(os.path.join(out, name), map_location='cpu')
        tree, tensors = describe_loaded(loaded)
        entry = {'format': fmt, 'tree': tree, 'tensors': tensors}
        for other, seen in expected['files'].items():
            if 'tree' in seen and json.dumps([seen['tree'], seen['tensors']]) == json.dumps([tree, tensors]):
                entry = {'format': fmt, 'sameAs': other}  # torch read the same content from both files
                break
        expected['files'][name] = entry

    legacy = {'_use_new_zipfile_serialization': False}
    save('tl-state-dict.pt', tl_state_dict())
    record('tl-state-dict.pt', 'zip')
    save('tl-state-dict-legacy.pt', tl_state_dict(), **legacy)
    record('tl-state-dict-legacy.pt', 'legacy')
    save('nanda-run.pt', nanda_run())
    record('nanda-run.pt', 'zip')
    save('dtypes.pt', every_dtype())
    record('dtypes.pt', 'zip')
    save('dtypes-legacy.pt', every_dtype(), **legacy)
    record('dtypes-legacy.pt', 'legacy')
    for proto in (1, 4):  # 2 is torch's default; plain-p*.pkl cover 0, 3 and 5
        save(f'dtypes-p{proto}.pt', every_dtype(), pickle_protocol=proto)
        record(f'dtypes-p{proto}.pt', 'zip')
    save('nanda-run-legacy-p4.pt', nanda_run(), pickle_protocol=4, **legacy)
    record('nanda-run-legacy-p4.pt', 'legacy')

    # Hostile files: an attacker's call inside an otherwise ordinary checkpoint.
    hostile = {}
    touch = lambda k: f'touch {marker(k)}'
    save('hostile-os-system.pt', {'w': torch.ones(3), 'x': RunsShell(touch('os-system'))})
    hostile['hostile-os-system.pt'] = {'format': 'zip', 'global': f'{os.system.__module__}.system', 'marker': marker('os-system')}
    save('hostile-eval-legacy.pt', [torch.ones(2), RunsEval(f"__import__('os').system('{touch('eval-legacy')}')")], **legacy)
    hostile['hostile-eval-legacy.pt'] = {'format': 'legacy', 'global': 'builtins.eval', 'marker': marker('eval-legacy')}
    save('hostile-subprocess-p4.pt', {'a': RunsSubprocess(['touch', marker('subprocess-p4')])}, pickle_protocol=4)
    hostile['hostile-subprocess-p4.pt'] = {'format': 'zip', 'global': 'subprocess.call', 'marker': marker('subprocess-p4')}
    save('hostile-nested-legacy.pt', {'checkpoints': [{'w': torch.zeros(2, 2)}, {'w': RunsShell(touch('nested-system'))}]}, **legacy)
    hostile['hostile-nested-legacy.pt'] = {'format': 'legacy', 'global': f'{os.system.__module__}.system', 'marker': marker('nested-system')}
    # A whole nn.Module (not a state dict): its class is a global we will not import either.
    torch.manual_seed(4)
    save('whole-module.pt', nn.Linear(2, 2))
    hostile['whole-module.pt'] = {'format': 'zip', 'global': 'torch.nn.modules.linear.Linear', 'marker': None}
    expected['hostile'] = hostile

    # Plain pickles from CPython's own pickler, every protocol.
    # Every protocol must read back as the same tree, recorded once.
    obj = plain_object()
    plain_tree = tagged(obj)
    expected['plain'] = {'files': [], 'tree': plain_tree}
    for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
        name = f'plain-p{proto}.pkl'
        with open(os.path.join(out, name), 'wb') as f:
            pickle.dump(obj, f, protocol=proto)
        with open(os.path.join(out, name), 'rb') as f:
            if json.dumps(tagged(pickle.load(f))) != json.dumps(plain_tree):
                raise SystemExit(f'{name}: CPython does not read back what it wrote')
        expected['plain']['files'].append(name)
    with open(os.path.join(out, 'plain-hostile-p2.pkl'), 'wb') as f:
        pickle.dump([1, RunsShell(f'touch {marker("os-system")}')], f, protocol=2)

    with open(os.path.join(out, 'expected.json'), 'w') as f:
        f.write(compact_json(expected))
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f'wrote {len(os.listdir(out))} files, {total} bytes, into {out} (torch {torch.__version__})')


if __name__ == '__main__':
    sys.exit(main())

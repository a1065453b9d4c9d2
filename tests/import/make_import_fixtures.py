#!/usr/bin/python3
"""Fixtures for tests/import: tiny models TRAINED IN PYTORCH, saved in each layout groklens imports,
with PyTorch's own logits over all p² inputs at every saved checkpoint (the oracle).

    /usr/bin/python3 tests/import/make_import_fixtures.py OUT_DIR

Writes (p = 7, d_model 16, 2 heads × 8, d_mlp 32, a+b mod p, full batch AdamW):
  nanda-run.pt          Nanda et al.'s run-file layout (their model class's shapes), storages tagged cuda:0
  nanda-run-legacy.pt   the same, legacy (pre-1.6) format
  tl-state-dict.pt      a HookedTransformer-style state dict (TL names, nonzero attention biases),
                        with a non-contiguous W_E view and W_pos sharing a storage with it
  tl-f64.pt, tl-f16.pt  the same weights as float64 / float16
  tl-demo.pt            the TL grokking demo's layout, config a pickled HookedTransformerConfig
                        (a stand-in class under module transformer_lens.HookedTransformerConfig)
  tl-safetensors/       one safetensors file per step, TL names, metadata step
  expected.json         {file: {step: [p² × p logits over the number classes]}}, split facts
"""
import dataclasses, json, math, os, random, struct, sys, types
import torch
import torch.nn.functional as F

P, D, H, E, M = 7, 16, 2, 8, 32
V = P + 1
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
ALL = torch.tensor([(a, b, P) for a in range(P) for b in range(P)])  # [p², 3], a-major
LABELS = (ALL[:, 0] + ALL[:, 1]) % P
expected = {}


def attention(x, WQ, WK, WV, WO, bQ, bK, bV, bO):
    """TL orientation: W_Q [H, D, E], W_O [H, E, D]; causal, scores / √E."""
    q = torch.einsum('bpd,hde->bhpe', x, WQ) + bQ[None, :, None]
    k = torch.einsum('bpd,hde->bhpe', x, WK) + bK[None, :, None]
    v = torch.einsum('bpd,hde->bhpe', x, WV) + bV[None, :, None]
    s = torch.einsum('bhqe,bhke->bhqk', q, k) / math.sqrt(E)
    T = x.shape[1]
    s = s.masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool)), float('-inf'))
    z = torch.einsum('bhqk,bhke->bhqe', s.softmax(-1), v)
    return torch.einsum('bhqe,hed->bqd', z, WO) + bO


def tl_forward(sd, x):
    """Logits [n, 3, d_vocab_out] of a TL-named 1-layer transformer, ReLU, no LayerNorm."""
    h = sd['embed.W_E'][x] + sd['pos_embed.W_pos'][None]
    a = 'blocks.0.attn.'
    h = h + attention(h, *(sd[a + n] for n in ['W_Q', 'W_K', 'W_V', 'W_O', 'b_Q', 'b_K', 'b_V', 'b_O']))
    m = 'blocks.0.mlp.'
    h = h + F.relu(h @ sd[m + 'W_in'] + sd[m + 'b_in']) @ sd[m + 'W_out'] + sd[m + 'b_out']
    return h @ sd['unembed.W_U'] + sd['unembed.b_U']


def nanda_forward(sd, x):
    """Their orientation (transformers.py): W_E [D, V], W_Q [H, E, D], W_O [D, H·E], W_in [M, D], W_out [D, M], W_U [D, V]."""
    h = sd['embed.W_E'][:, x].permute(1, 2, 0) + sd['pos_embed.W_pos'][None]
    a = 'blocks.0.attn.'
    WO = sd[a + 'W_O'].T.reshape(H, E, D)
    zeros = torch.zeros(H, E)
    h = h + attention(h, sd[a + 'W_Q'].transpose(1, 2), sd[a + 'W_K'].transpose(1, 2), sd[a + 'W_V'].transpose(1, 2), WO, zeros, zeros, zeros, torch.zeros(D))
    m = 'blocks.0.mlp.'
    h = h + F.relu(h @ sd[m + 'W_in'].T + sd[m + 'b_in']) @ sd[m + 'W_out'].T + sd[m + 'b_out']
    return h @ sd['unembed.W_U']


def number_logits(fwd, sd):
    with torch.no_grad():
        return fwd({k: v.float() for k, v in sd.items()}, ALL)[:, -1, :P].reshape(-1).tolist()


def params(shapes, scale):
    return {k: (torch.randn(*s) * scale(k)).requires_grad_() for k, s in shapes.items()}


def train(fwd, ps, train_idx, test_idx, epochs, every, warmup, nanda_loop):
    """Full-batch AdamW(lr 1e-2, wd 1, betas (0.9, 0.98)). Returns saved (epoch, state) pairs and losses."""
    opt = torch.optim.AdamW(ps.values(), lr=1e-2, weight_decay=1.0, betas=(0.9, 0.98))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, (lambda s: min(s / 10, 1)) if warmup else (lambda s: 1.0))
    saved, tr_losses, te_losses = [], [], []
    for epoch in range(epochs):
        loss = F.cross_entropy(fwd(ps, ALL[train_idx])[:, -1], LABELS[train_idx])
        if nanda_loop:
            te_losses.append(F.cross_entropy(fwd(ps, ALL[test_idx])[:, -1], LABELS[test_idx]).item())
        tr_losses.append(loss.item())
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
        if not nanda_loop:
            with torch.no_grad():
                te_losses.append(F.cross_entropy(fwd(ps, ALL[test_idx])[:, -1], LABELS[test_idx]).item())
        if (nanda_loop and epoch % every == 0) or (not nanda_loop and (epoch + 1) % every == 0):
            saved.append((epoch, {k: v.detach().clone() for k, v in ps.items()}))
    return saved, tr_losses, te_losses


# ---- Nanda layout: their split (random.seed(seed); random.shuffle(pairs)), their warm-up and loop
pairs = [(i, j, P) for i in range(P) for j in range(P)]
random.seed(0)
random.shuffle(pairs)
cut = int(0.5 * len(pairs))
train_idx = [a * P + b for a, b, _ in pairs[:cut]]
test_idx = [a * P + b for a, b, _ in pairs[cut:]]
nanda_shapes = {'embed.W_E': (D, V), 'pos_embed.W_pos': (3, D), 'blocks.0.attn.W_K': (H, E, D), 'blocks.0.attn.W_Q': (H, E, D),
                'blocks.0.attn.W_V': (H, E, D), 'blocks.0.attn.W_O': (D, H * E), 'blocks.0.mlp.W_in': (M, D), 'blocks.0.mlp.b_in': (M,),
                'blocks.0.mlp.W_out': (D, M), 'blocks.0.mlp.b_out': (D,), 'unembed.W_U': (D, V)}
nanda = params(nanda_shapes, lambda k: 0.0 if '.b_' in k else 1 / math.sqrt(D))
saved, tr, te = train(nanda_forward, nanda, train_idx, test_idx, 31, 10, True, True)
mask = torch.tril(torch.ones(3, 3))
with_mask = lambda sd: {**sd, 'blocks.0.attn.mask': mask}
final = {k: v.detach().clone() for k, v in nanda.items()}
run = {'config': {'lr': 1e-2, 'weight_decay': 1.0, 'p': P, 'd_model': D, 'fn_name': 'add', 'frac_train': 0.5, 'num_epochs': 31, 'save_models': True,
                  'save_every': 10, 'seed': 0, 'num_layers': 1, 'batch_style': 'full', 'd_vocab': V, 'n_ctx': 3, 'd_mlp': M, 'num_heads': H,
                  'd_head': E, 'act_type': 'ReLU', 'use_ln': False},
       'model': with_mask(final), 'state_dicts': [with_mask(s) for _, s in saved], 'epochs': [e for e, _ in saved],
       'train_losses': tr, 'test_losses': te}
steps = {0: saved[0][1]}
steps.update({e + 1: s for e, s in saved})
steps[len(tr)] = final
expected['nanda'] = {'steps': {str(k): number_logits(nanda_forward, v) for k, v in steps.items()}, 'train': train_idx, 'train_losses': tr}

real_tag = torch.serialization.location_tag
torch.serialization.location_tag = lambda storage: 'cuda:0'  # as saved from a GPU; the bytes are the same
try:
    torch.save(run, os.path.join(OUT, 'nanda-run.pt'))
    torch.save(run, os.path.join(OUT, 'nanda-run-legacy.pt'), _use_new_zipfile_serialization=False)
finally:
    torch.serialization.location_tag = real_tag

# ---- TL layout: TL names, trained attention biases, a d_vocab_out = p + 1 unembedding
tl_shapes = {'embed.W_E': (V, D), 'pos_embed.W_pos': (3, D), 'blocks.0.attn.W_Q': (H, D, E), 'blocks.0.attn.W_K': (H, D, E),
             'blocks.0.attn.W_V': (H, D, E), 'blocks.0.attn.W_O': (H, E, D), 'blocks.0.attn.b_Q': (H, E), 'blocks.0.attn.b_K': (H, E),
             'blocks.0.attn.b_V': (H, E), 'blocks.0.attn.b_O': (D,), 'blocks.0.mlp.W_in': (D, M), 'blocks.0.mlp.b_in': (M,),
             'blocks.0.mlp.W_out': (M, D), 'blocks.0.mlp.b_out': (D,), 'unembed.W_U': (D, V), 'unembed.b_U': (V,)}
tl = params(tl_shapes, lambda k: 0.1 if '.b_' in k else 1 / math.sqrt(D))
perm = torch.randperm(P * P)
tl_train, tl_test = perm[:cut], perm[cut:]
saved, tr, te = train(tl_forward, tl, tl_train, tl_test, 30, 10, False, False)
tl_final = {k: v.detach().clone() for k, v in tl.items()}
buffers = {'blocks.0.attn.mask': torch.tril(torch.ones(3, 3, dtype=torch.bool)), 'blocks.0.attn.IGNORE': torch.tensor(-1e5)}

sd = {**tl_final, **buffers}
big = torch.cat([tl_final['embed.W_E'].T.contiguous(), torch.zeros(D, 1)], 1)  # [D, V + 1]
sd['embed.W_E'] = big[:, :V].T  # non-contiguous view [V, D] (strides (1, V + 1))
shared = torch.cat([tl_final['pos_embed.W_pos'].reshape(-1), tl_final['unembed.b_U']])
sd['pos_embed.W_pos'] = shared[:3 * D].view(3, D)  # shares one storage with b_U
sd['unembed.b_U'] = shared[3 * D:]
torch.save(sd, os.path.join(OUT, 'tl-state-dict.pt'))
torch.save({k: v.double() for k, v in tl_final.items()}, os.path.join(OUT, 'tl-f64.pt'))
half = {k: v.half() for k, v in tl_final.items()}
torch.save(half, os.path.join(OUT, 'tl-f16.pt'))
expected['tl-state-dict'] = {'steps': {'30': number_logits(tl_forward, tl_final)}}
expected['tl-f16'] = {'steps': {'30': number_logits(tl_forward, half)}}

# ---- TL demo layout: a pickled HookedTransformerConfig object (a stand-in dataclass)
mod = types.ModuleType('transformer_lens.HookedTransformerConfig')
pkg = types.ModuleType('transformer_lens')
sys.modules['transformer_lens'] = pkg
sys.modules['transformer_lens.HookedTransformerConfig'] = mod


@dataclasses.dataclass
class HookedTransformerConfig:
    n_layers: int
    d_model: int
    n_ctx: int
    d_head: int
    n_heads: int = 2
    d_mlp: int = 32
    act_fn: str = 'relu'
    d_vocab: int = V
    d_vocab_out: int = V
    normalization_type: object = None
    device: str = 'cuda'
    seed: int = 999
    dtype: object = torch.float32


HookedTransformerConfig.__module__ = 'transformer_lens.HookedTransformerConfig'
mod.HookedTransformerConfig = HookedTransformerConfig
cfg = HookedTransformerConfig(n_layers=1, d_model=D, n_ctx=3, d_head=E)
demo = {'model': {**tl_final, **buffers}, 'config': cfg, 'checkpoints': [{**s, **buffers} for _, s in saved],
        'checkpoint_epochs': [e for e, _ in saved], 'test_losses': te, 'train_losses': tr,
        'train_indices': tl_train, 'test_indices': tl_test}
torch.save(demo, os.path.join(OUT, 'tl-demo.pt'))
expected['tl-demo'] = {'steps': {str(e + 1): number_logits(tl_forward, s) for e, s in saved}, 'train': tl_train.tolist(), 'train_losses': tr, 'test_losses': te}

# ---- a directory of TL-named safetensors files, one per step (safetensors.torch.save_file's format)
os.makedirs(os.path.join(OUT, 'tl-safetensors'), exist_ok=True)
for e, s in saved:
    header, blobs, off = {'__metadata__': {'step': str(e + 1)}}, [], 0
    for k, v in sorted(s.items()):
        b = v.contiguous().numpy().tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(v.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(os.path.join(OUT, 'tl-safetensors', f'ckpt-{e + 1}.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
expected['tl-safetensors'] = {'steps': expected['tl-demo']['steps'], 'train': tl_train.tolist()}

with open(os.path.join(OUT, 'expected.json'), 'w') as f:
    json.dump(expected, f)

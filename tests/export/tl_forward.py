"""
The counterpart of tests/export/: load a `groklens export --format transformer-lens` directory
with nothing but the standard library and PyTorch, check it has exactly the state dict a
TransformerLens HookedTransformer built from config.json would have (names, shapes, dtypes, the
mask and IGNORE buffers), run TransformerLens' forward pass written out here, and print the
logits of every [a, b, =] input as JSON.

    /usr/bin/python3 tests/export/tl_forward.py EXPORT_DIR [--pt]

The architecture is TransformerLens' HookedTransformer as its components compute it (embed +
pos_embed; per block: optional ln1, attention with scores q.k / sqrt(d_head) replaced by IGNORE
where the mask is False, softmax over keys, W_O, b_O; optional ln2; MLP W_in, act_fn, W_out;
optional ln_final; unembed). It runs in float64 so that the comparison measures the export, not
float32 rounding. With --pt, every step's .pt is read with torch.load(weights_only=True) and each
tensor must equal the safetensors one exactly (dtype, shape and bits).

No safetensors package: the file is parsed with json/struct/torch.frombuffer.
"""

import json
import math
import struct
import sys
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "BOOL": torch.bool, "U8": torch.uint8, "I64": torch.int64}


def read_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n :]
    out = OrderedDict()
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        buf = bytearray(data[begin:end])  # writable copy: frombuffer warns on read-only memory
        t = torch.frombuffer(buf, dtype=dtype) if len(buf) else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


def expected_shapes(cfg):
    """TransformerLens' HookedTransformer.state_dict() names and shapes for this config."""
    D, H, E, M, T = cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["d_mlp"], cfg["n_ctx"]
    ln = cfg["normalization_type"] == "LN"
    assert cfg["normalization_type"] in ("LN", None), cfg["normalization_type"]
    s = {"embed.W_E": ((cfg["d_vocab"], D), torch.float32), "pos_embed.W_pos": ((T, D), torch.float32)}
    for l in range(cfg["n_layers"]):
        b = f"blocks.{l}"
        if ln:
            for n in ("ln1", "ln2"):
                s[f"{b}.{n}.w"] = ((D,), torch.float32)
                s[f"{b}.{n}.b"] = ((D,), torch.float32)
        for w in "QKV":
            s[f"{b}.attn.W_{w}"] = ((H, D, E), torch.float32)
            s[f"{b}.attn.b_{w}"] = ((H, E), torch.float32)
        s[f"{b}.attn.W_O"] = ((H, E, D), torch.float32)
        s[f"{b}.attn.b_O"] = ((D,), torch.float32)
        s[f"{b}.attn.mask"] = ((T, T), torch.bool)
        s[f"{b}.attn.IGNORE"] = ((), torch.float32)
        s[f"{b}.mlp.W_in"] = ((D, M), torch.float32)
        s[f"{b}.mlp.b_in"] = ((M,), torch.float32)
        s[f"{b}.mlp.W_out"] = ((M, D), torch.float32)
        s[f"{b}.mlp.b_out"] = ((D,), torch.float32)
    if ln:
        s["ln_final.w"] = ((D,), torch.float32)
        s["ln_final.b"] = ((D,), torch.float32)
    s["unembed.W_U"] = ((D, cfg["d_vocab_out"]), torch.float32)
    s["unembed.b_U"] = ((cfg["d_vocab_out"],), torch.float32)
    return s


def check_state_dict(sd, cfg, where):
    want = expected_shapes(cfg)
    missing = sorted(set(want) - set(sd))
    extra = sorted(set(sd) - set(want))
    assert not missing and not extra, f"{where}: missing {missing}, unexpected {extra}"
    for name, (shape, dtype) in want.items():
        t = sd[name]
        assert tuple(t.shape) == shape and t.dtype == dtype, f"{where}: {name} is {t.dtype}{list(t.shape)}, TL has {dtype}{list(shape)}"
    T = cfg["n_ctx"]
    causal = torch.tril(torch.ones((T, T), dtype=torch.bool))
    for l in range(cfg["n_layers"]):
        assert torch.equal(sd[f"blocks.{l}.attn.mask"], causal), f"{where}: blocks.{l}.attn.mask is not the causal mask"
        assert sd[f"blocks.{l}.attn.IGNORE"].item() == -math.inf, f"{where}: IGNORE is {sd[f'blocks.{l}.attn.IGNORE'].item()}"


def layer_norm(x, w, b, eps):
    # TransformerLens LayerNorm: centre, scale by sqrt(mean(x^2) + eps), then w, b
    x = x - x.mean(-1, keepdim=True)
    scale = (x.pow(2).mean(-1, keepdim=True) + eps).sqrt()
    return x / scale * w + b


ACTS = {"relu": F.relu, "gelu": F.gelu}


def forward(sd, cfg, tokens):
    """HookedTransformer.forward(tokens) -> logits [batch, pos, d_vocab_out], in float64."""
    p = {k: (v.double() if v.is_floating_point() else v) for k, v in sd.items()}
    ln = cfg["normalization_type"] == "LN"
    eps = cfg["eps"]
    T = tokens.shape[1]
    resid = p["embed.W_E"][tokens] + p["pos_embed.W_pos"][:T][None]  # [batch, pos, d_model]
    for l in range(cfg["n_layers"]):
        b = f"blocks.{l}"
        x = layer_norm(resid, p[f"{b}.ln1.w"], p[f"{b}.ln1.b"], eps) if ln else resid
        q = torch.einsum("bpd,hde->bphe", x, p[f"{b}.attn.W_Q"]) + p[f"{b}.attn.b_Q"]
        k = torch.einsum("bpd,hde->bphe", x, p[f"{b}.attn.W_K"]) + p[f"{b}.attn.b_K"]
        v = torch.einsum("bpd,hde->bphe", x, p[f"{b}.attn.W_V"]) + p[f"{b}.attn.b_V"]
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(cfg["d_head"])  # attn_scale = sqrt(d_head)
        mask = p[f"{b}.attn.mask"][:T, :T]  # [query, key], True where the key is visible
        scores = torch.where(mask, scores, p[f"{b}.attn.IGNORE"])
        pattern = scores.softmax(-1)
        z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)
        resid = resid + torch.einsum("bqhe,hed->bqd", z, p[f"{b}.attn.W_O"]) + p[f"{b}.attn.b_O"]
        x2 = layer_norm(resid, p[f"{b}.ln2.w"], p[f"{b}.ln2.b"], eps) if ln else resid
        post = ACTS[cfg["act_fn"]](x2 @ p[f"{b}.mlp.W_in"] + p[f"{b}.mlp.b_in"])
        resid = resid + post @ p[f"{b}.mlp.W_out"] + p[f"{b}.mlp.b_out"]
    if ln:
        resid = layer_norm(resid, p["ln_final.w"], p["ln_final.b"], eps)
    return resid @ p["unembed.W_U"] + p["unembed.b_U"]


def main():
    root = Path(sys.argv[1])
    check_pt = "--pt" in sys.argv[2:]
    cfg = json.loads((root / "config.json").read_text())
    info = json.loads((root / "groklens.json").read_text())
    p = cfg["d_vocab_out"]
    assert cfg["d_vocab"] == p + 1 and cfg["n_ctx"] == 3, "this script knows the modular tasks: [a, b, =] with '=' = p"
    tokens = torch.tensor([[a, b, p] for a in range(p) for b in range(p)], dtype=torch.long)
    result = {"torch_version": torch.__version__, "steps": {}, "pt_checked": []}
    for f in info["files"]:
        sd, meta = read_safetensors(root / f["safetensors"])
        assert meta.get("step") == str(f["step"]), meta
        check_state_dict(sd, cfg, f["safetensors"])
        logits = forward(sd, cfg, tokens)[:, -1, :]  # [p*p, p]: the last position
        result["steps"][str(f["step"])] = logits.flatten().tolist()
        if check_pt:
            loaded = torch.load(root / f["pt"], weights_only=True)
            assert type(loaded) is OrderedDict, type(loaded)
            assert list(loaded.keys()) == list(sd.keys()), (list(loaded.keys()), list(sd.keys()))
            for name, t in sd.items():
                u = loaded[name]
                assert u.dtype == t.dtype and u.shape == t.shape, f"{f['pt']}: {name} is {u.dtype}{list(u.shape)}, safetensors {t.dtype}{list(t.shape)}"
                assert torch.equal(u.reshape(-1).view(torch.uint8), t.reshape(-1).view(torch.uint8)), f"{f['pt']}: {name} differs in its bits"
                assert u.is_contiguous() and u.storage_offset() == 0
            result["pt_checked"].append(f["step"])
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

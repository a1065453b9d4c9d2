"""PyTorch twin of a groklens run, for bench/timeline-vs-pytorch.ts: the same model, initial
weights, split, optimiser, schedule, evaluation steps and early-stop rule, trained in PyTorch and
written as a groklens run directory, so that `groklens analyze` reads it like any other run.

    /usr/bin/python3 bench/torch_timeline.py GROKLENS_RUN_DIR OUT_DIR [--threads N] [--attn-bias auto|true|false]

GROKLENS_RUN_DIR must hold run.json, split.json and checkpoints/step-0000000.safetensors (the
initial weights). OUT_DIR (created, must not hold a run yet) gets run.json (a copy, name and backend
changed), split.json (a copy), metrics.jsonl, status.json and checkpoints/step-SSSSSSS.safetensors
at the steps groklens's schedule checkpoints (step 0, the log-spaced early steps, every
`checkpoints.every` steps, the final step). No resume.safetensors: the run cannot be resumed.

Supported: task.kind modular (every op), model.kind transformer without LayerNorm (any number of
layers, ReLU or exact-erf GELU), optimizer adamw or adam, cross-entropy, full batch or minibatches
(minibatches are NOT groklens's order: groklens derives them from its own RNG). Attention biases:
`auto` follows run.json's config.model.attn_bias; a run.json without that key comes from a
groklens that trained the biases, so `auto` trains them then. The last stdout line is one JSON
object with what was done. --perturb-ulp SEED makes a control run: every trained initial weight
moved one float32 ulp, so that its distance from the unperturbed PyTorch run shows how fast
rounding-sized differences grow in this training (the step-0 checkpoint written is the perturbed
one). --loss64 computes the training loss's log-softmax in float64 (the model stays float32), as
Nanda et al.'s code does: below a train loss of ~1e-5 the float32 gradient of the loss is off by
percents (measured: 1 % at 2e-5, 5-9 % at 1e-6, ~80 % at 1.6e-7), in PyTorch as in groklens.
Evaluation metrics stay float32. Only a yardstick; groklens never depends on PyTorch.
"""
import argparse
import json
import math
import os
import shutil
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

GROK_ACC = 0.95
MEM_ACC = 0.99


# ---- safetensors (8-byte little-endian header length, JSON header, raw little-endian data) ----

def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    data = buf[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        if e["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name}: expected F32, got {e['dtype']}")
        start, end = e["data_offsets"]
        arr = np.frombuffer(data[start:end], dtype="<f4").reshape(e["shape"]).copy()
        tensors[name] = torch.from_numpy(arr)
    return tensors, meta


def write_safetensors(path, tensors, names, metadata):
    """groklens's layout: metadata first (keys sorted), tensors in `names` order, no padding between
    tensors, the JSON header padded with spaces to a multiple of 8 bytes; written atomically."""
    header = {"__metadata__": {k: metadata[k] for k in sorted(metadata)}}
    chunks, offset = [], 0
    for name in names:
        b = tensors[name].detach().contiguous().numpy().astype("<f4", copy=False).tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path, obj, indent=2):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(obj, indent=indent) + "\n")
    os.replace(tmp, path)


# ---- the task: example n is (n div p, n mod p), or (n div (p-1), n mod (p-1) + 1) for div ----

def modular_dataset(task):
    p, op = task["p"], task["op"]
    pairs = [(a, b) for a in range(p) for b in range(p) if op != "div" or b != 0]
    f = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a * pow(b, -1, p),
        "x2+y2": lambda a, b: a * a + b * b,
        "x2+xy+y2": lambda a, b: a * a + a * b + b * b,
        "x2+xy+y2+x": lambda a, b: a * a + a * b + b * b + a,
        "x3+xy": lambda a, b: a ** 3 + a * b,
        "x3+xy2+y": lambda a, b: a ** 3 + a * b * b + b,
    }[op]
    tokens = torch.tensor([[a, b, p] for a, b in pairs], dtype=torch.long)
    labels = torch.tensor([f(a, b) % p for a, b in pairs], dtype=torch.long)
    return tokens, labels


# ---- the model (docs/measures.md#reference-training-setup; README "Models and their parameters") ----

def forward(P, tokens, cfg):
    """[n, n_ctx] tokens → [n, p] logits at the last position."""
    H, E, L = cfg["n_heads"], cfg["d_head"], cfg["n_layers"]
    act = F.relu if cfg["act"] == "relu" else (lambda x: F.gelu(x))  # exact erf GELU, as groklens
    T = tokens.shape[1]
    x = P["embed.W_E"][tokens] + P["pos_embed.W_pos"][:T]  # [n, T, d]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for l in range(L):
        b = f"blocks.{l}.attn."
        q = torch.einsum("ntd,hde->nhte", x, P[b + "W_Q"]) + P[b + "b_Q"][None, :, None]
        k = torch.einsum("ntd,hde->nhte", x, P[b + "W_K"]) + P[b + "b_K"][None, :, None]
        v = torch.einsum("ntd,hde->nhte", x, P[b + "W_V"]) + P[b + "b_V"][None, :, None]
        scores = torch.einsum("nhqe,nhke->nhqk", q, k) / math.sqrt(E)
        pattern = scores.masked_fill(mask, float("-inf")).softmax(-1)
        z = torch.einsum("nhqk,nhke->nhqe", pattern, v)
        x = x + torch.einsum("nhqe,hed->nqd", z, P[b + "W_O"]) + P[b + "b_O"]
        m = f"blocks.{l}.mlp."
        x = x + act(x @ P[m + "W_in"] + P[m + "b_in"]) @ P[m + "W_out"] + P[m + "b_out"]
    return x[:, -1] @ P["unembed.W_U"] + P["unembed.b_U"]


def log_spaced_steps(count, below):
    """groklens's CheckpointSchedule early steps; JS Math.round(x) = floor(x + 0.5), not Python's round."""
    if count <= 0 or below <= 1:
        return []
    out = set()
    hi = math.log(below)
    for i in range(count):
        s = math.floor(math.exp(hi * i / count) + 0.5)
        if 1 <= s < below:
            out.add(s)
    return sorted(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--attn-bias", choices=["auto", "true", "false"], default="auto")
    ap.add_argument("--loss64", action="store_true",
                    help="variant: the training loss's log-softmax in float64 (Nanda et al.'s code does this), the model in float32")
    ap.add_argument("--perturb-ulp", type=int, default=None, metavar="SEED",
                    help="control run: move every trained initial weight one float32 ulp up or down (random signs from SEED)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    with open(os.path.join(args.src, "run.json")) as f:
        run = json.load(f)
    with open(os.path.join(args.src, "split.json")) as f:
        split = json.load(f)
    cfg = run["config"]
    task, mcfg, ocfg, tcfg, ccfg = cfg["task"], cfg["model"], cfg["optimizer"], cfg["training"], cfg["checkpoints"]
    if task["kind"] != "modular":
        raise SystemExit(f"task.kind {task['kind']}: only modular tasks are supported")
    if mcfg["kind"] != "transformer" or mcfg.get("layer_norm"):
        raise SystemExit("only a transformer without LayerNorm is supported")
    if ocfg["kind"] not in ("adamw", "adam") or ocfg.get("linf_penalty", 0) != 0:
        raise SystemExit(f"optimizer {ocfg['kind']} (linf_penalty {ocfg.get('linf_penalty')}): only adamw / adam without the l-inf penalty are supported")
    if tcfg["loss"] != "cross-entropy":
        raise SystemExit("only the cross-entropy loss is supported")
    if args.attn_bias == "auto":
        attn_bias = bool(mcfg.get("attn_bias", True))
        attn_bias_source = "run.json config.model.attn_bias" if "attn_bias" in mcfg else "run.json has no model.attn_bias (a groklens that trained them)"
    else:
        attn_bias = args.attn_bias == "true"
        attn_bias_source = "--attn-bias"

    tokens, labels = modular_dataset(task)
    if len(split["train"]) + len(split["test"]) != tokens.shape[0]:
        raise SystemExit("split.json does not cover the task's examples")
    train_idx = torch.tensor(split["train"], dtype=torch.long)
    test_idx = torch.tensor(split["test"], dtype=torch.long)
    x_tr, y_tr, x_te, y_te = tokens[train_idx], labels[train_idx], tokens[test_idx], labels[test_idx]

    init, init_meta = read_safetensors(os.path.join(args.src, "checkpoints", "step-0000000.safetensors"))
    ckpt_version = init_meta.get("format_version", "1")  # the checkpoint format (1), not the run format
    names = [s["name"] for s in run["params"]]
    frozen = {s["name"] for s in run["params"] if s.get("frozen")}  # run format 2 marks untrained tensors
    for s in run["params"]:
        if list(init[s["name"]].shape) != s["shape"]:
            raise SystemExit(f"step-0 checkpoint: {s['name']} has shape {list(init[s['name']].shape)}, run.json says {s['shape']}")
    is_attn_bias = lambda n: ".attn.b_" in n
    P = {}
    for n in names:
        t = init[n].clone()
        if is_attn_bias(n) and not attn_bias:
            if torch.count_nonzero(t) != 0:
                raise SystemExit(f"{n}: attention biases are off but the initial checkpoint holds non-zero values")
            P[n] = t  # fixed zeros, never trained
        else:
            P[n] = t.requires_grad_()
    trained = [n for n in names if P[n].requires_grad]
    if args.perturb_ulp is not None:
        rng = np.random.default_rng(args.perturb_ulp)
        with torch.no_grad():
            for n in trained:
                x = P[n].detach().numpy()  # shares memory with P[n]
                up = rng.random(x.shape) < 0.5
                x[...] = np.where(up, np.nextafter(x, np.float32(np.inf)), np.nextafter(x, np.float32(-np.inf)))
    if args.attn_bias == "auto" and frozen != set(names) - set(trained):
        raise SystemExit(f"run.json marks {sorted(frozen)} frozen, but this script would freeze {sorted(set(names) - set(trained))}")

    kw = dict(lr=ocfg["lr"], betas=tuple(ocfg["betas"]), eps=ocfg["eps"], weight_decay=ocfg["weight_decay"])
    if ocfg["kind"] == "adamw" and not ocfg.get("decoupled_weight_decay", True):
        Opt = torch.optim.Adam  # groklens: adamw with coupled decay is Adam's wd·θ added to the gradient
    else:
        Opt = torch.optim.AdamW if ocfg["kind"] == "adamw" else torch.optim.Adam
    opt = Opt([P[n] for n in trained], **kw)
    w = ocfg["warmup_steps"]
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(s / w, 1.0)) if w > 0 else None
    cur_lr = lambda: opt.param_groups[0]["lr"]

    # Out directory: a groklens run directory.
    if os.path.exists(os.path.join(args.out, "run.json")):
        raise SystemExit(f"{args.out}: a run already exists here")
    os.makedirs(os.path.join(args.out, "checkpoints"), exist_ok=True)
    name = os.path.basename(os.path.normpath(args.out))
    meta = dict(run)
    meta["name"] = name
    if args.attn_bias != "auto":  # record what this run did, not what the groklens run did
        meta["config"] = json.loads(json.dumps(cfg))
        if "attn_bias" in mcfg:
            meta["config"]["model"]["attn_bias"] = attn_bias
        if run["format_version"] >= 2:
            meta["params"] = [dict({k: v for k, v in s.items() if k != "frozen"}, **({} if P[s["name"]].requires_grad else {"frozen": True})) for s in run["params"]]
            meta["n_params"] = sum(math.prod(s["shape"]) for s in run["params"] if P[s["name"]].requires_grad)
    meta["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    meta["backend"] = {"name": "pytorch", "requested": "pytorch", "tfjs_version": "none", "threads": args.threads,
                       "torch_version": torch.__version__, "copied_from": run["name"], "attn_bias_trained": attn_bias,
                       "perturb_ulp": args.perturb_ulp, "loss64": args.loss64}
    write_json(os.path.join(args.out, "run.json"), meta)
    shutil.copyfile(os.path.join(args.src, "split.json"), os.path.join(args.out, "split.json"))
    metrics_path = os.path.join(args.out, "metrics.jsonl")
    mfile = open(metrics_path, "w")

    steps, eval_every, early = tcfg["steps"], tcfg["eval_every"], tcfg["early_stop_after_grok"]
    batch = tcfg["batch_size"]
    full = batch is None or batch >= len(train_idx)
    early_ckpt = set(log_spaced_steps(ccfg["log_spaced"], ccfg["every"]))
    has_ckpt = lambda s: s == 0 or s % ccfg["every"] == 0 or s in early_ckpt
    g = torch.Generator().manual_seed(tcfg["seed"])

    t0 = time.perf_counter()
    first_grok = mem = None
    checkpoints = []

    def record(step):
        nonlocal first_grok, mem
        with torch.no_grad():
            lt, lte = forward(P, x_tr, mcfg), forward(P, x_te, mcfg)
            row = {
                "step": step,
                "train_loss": F.cross_entropy(lt, y_tr).item(),
                "train_acc": (lt.argmax(-1) == y_tr).float().mean().item(),
                "test_loss": F.cross_entropy(lte, y_te).item(),
                "test_acc": (lte.argmax(-1) == y_te).float().mean().item(),
                "sq_norm": sum(float((P[n].double() ** 2).sum()) for n in names),
                "lr": cur_lr(),
                "wall_time": round(time.perf_counter() - t0, 3),
            }
        mfile.write(json.dumps(row) + "\n")
        mfile.flush()
        if first_grok is None and row["test_acc"] >= GROK_ACC:
            first_grok = step
        if mem is None and row["train_acc"] >= MEM_ACC:
            mem = step

    def save(step):
        write_safetensors(os.path.join(args.out, "checkpoints", f"step-{step:07d}.safetensors"), P, names,
                          {"format": "groklens-checkpoint", "format_version": ckpt_version, "step": str(step)})
        if step not in checkpoints:
            checkpoints.append(step)

    record(0)
    save(0)
    step = 0
    while step < steps:
        if full:
            xb, yb = x_tr, y_tr
        else:
            perm = torch.randperm(len(train_idx), generator=g)[:batch]
            xb, yb = x_tr[perm], y_tr[perm]
        opt.zero_grad(set_to_none=True)
        logits = forward(P, xb, mcfg)
        loss = F.cross_entropy(logits.double() if args.loss64 else logits, yb)
        loss.backward()
        opt.step()
        if sched:
            sched.step()
        step += 1
        evaluated = False
        if step % eval_every == 0 or has_ckpt(step) or step == steps:
            record(step)
            evaluated = True
        done = step == steps or (early is not None and first_grok is not None and step >= first_grok + early)
        if done and not evaluated:
            record(step)
        if has_ckpt(step) or done:
            save(step)
        if done:
            break
    train_seconds = time.perf_counter() - t0
    mfile.close()
    write_json(os.path.join(args.out, "status.json"), {
        "format_version": run["format_version"], "state": "finished", "step": step, "final_step": step,
        "checkpoints": checkpoints, "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    print(json.dumps({
        "out": args.out, "final_step": step, "t_mem": mem, "t_grok_95": first_grok, "train_seconds": round(train_seconds, 3),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "attn_bias_trained": attn_bias,
        "attn_bias_source": attn_bias_source, "perturb_ulp": args.perturb_ulp, "loss64": args.loss64, "trained_params": trained, "optimizer": Opt.__name__,
        "env_threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
    }))


if __name__ == "__main__":
    main()

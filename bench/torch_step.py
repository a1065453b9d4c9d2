"""PyTorch baseline for bench/train.ts: one full-batch (or minibatch) AdamW step of the same models
on the CPU, median ms per step, one JSON line per case.

    python3 bench/torch_step.py CASE_JSON [threads]

CASE_JSON: {"name", "kind": "transformer"|"mlp", "n": examples, "p": modulus, sizes...}.
Only a yardstick for our figures; groklens never depends on PyTorch.

Threads. torch.set_num_threads(n) does not limit the threads of the BLAS Debian's torch calls
(OpenBLAS starts one per core on its own): a 1024³ product took 8.0 ms with set_num_threads(1)
alone and 15.2 ms with OPENBLAS_NUM_THREADS=1 too. So the thread count is also put into
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS before torch is imported, and checked:
openblas_get_num_threads() of the library torch loaded (when it is OpenBLAS) and a timed 1024³
product, both printed with the result.
"""
import json
import math
import os
import resource
import statistics
import sys
import time

THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(THREADS)

import torch  # noqa: E402  (after the environment is set)
import torch.nn.functional as F  # noqa: E402


def blas_threads():
    """openblas_get_num_threads() of the OpenBLAS torch has loaded, or None when it has none."""
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "openblas" in line.split()[-1]}
    except OSError:
        libs = set()
    for lib in sorted(libs):
        try:
            return int(ctypes.CDLL(lib).openblas_get_num_threads())
        except (OSError, AttributeError):
            continue
    return None


def timed_product_ms(n=1024, reps=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return (time.perf_counter() - t0) / reps * 1e3


def transformer_params(c, g):
    d, H, dh, dm, V, Vo = c["d_model"], c["n_heads"], c["d_head"], c["d_mlp"], c["p"] + 1, c["p"]
    r = lambda *s, scale: (torch.randn(*s, generator=g) * scale).requires_grad_()
    z = lambda *s: torch.zeros(*s).requires_grad_()
    s = 1 / math.sqrt(d)
    return {
        "W_E": r(V, d, scale=s), "W_pos": r(3, d, scale=s),
        "W_Q": r(H, d, dh, scale=s), "W_K": r(H, d, dh, scale=s), "W_V": r(H, d, dh, scale=s), "W_O": r(H, dh, d, scale=s),
        "b_Q": z(H, dh), "b_K": z(H, dh), "b_V": z(H, dh), "b_O": z(d),
        "W_in": r(d, dm, scale=s), "b_in": z(dm), "W_out": r(dm, d, scale=s), "b_out": z(d),
        "W_U": r(d, Vo, scale=1 / math.sqrt(V)), "b_U": z(Vo),
    }


def transformer_forward(P, tokens, c):
    x = P["W_E"][tokens] + P["W_pos"]  # [n, 3, d]
    q = torch.einsum("npd,hde->nhpe", x, P["W_Q"]) + P["b_Q"][None, :, None]
    k = torch.einsum("npd,hde->nhpe", x, P["W_K"]) + P["b_K"][None, :, None]
    v = torch.einsum("npd,hde->nhpe", x, P["W_V"]) + P["b_V"][None, :, None]
    scores = torch.einsum("nhqe,nhke->nhqk", q, k) / math.sqrt(c["d_head"])
    mask = torch.triu(torch.ones(3, 3, dtype=torch.bool), 1)
    attn = scores.masked_fill(mask, float("-inf")).softmax(-1)
    z = torch.einsum("nhqk,nhke->nhqe", attn, v)
    x = x + torch.einsum("nhqe,hed->nqd", z, P["W_O"]) + P["b_O"]
    x = x + F.relu(x @ P["W_in"] + P["b_in"]) @ P["W_out"] + P["b_out"]
    return x[:, -1] @ P["W_U"] + P["b_U"]


def mlp_params(c, g):
    d, h, p = c["d_embed"], c["hidden"], c["p"]
    r = lambda *s, scale: (torch.randn(*s, generator=g) * scale).requires_grad_()
    z = lambda *s: torch.zeros(*s).requires_grad_()
    return {"E": r(p + 1, d, scale=1 / math.sqrt(d)), "W1": r(2 * d, h, scale=1 / math.sqrt(2 * d)), "b1": z(h),
            "W2": r(h, p, scale=1 / math.sqrt(h)), "b2": z(p)}


def mlp_forward(P, tokens, c):
    x = P["E"][tokens[:, :2]].reshape(tokens.shape[0], -1)
    return F.relu(x @ P["W1"] + P["b1"]) @ P["W2"] + P["b2"]


def main():
    c = json.loads(sys.argv[1])
    threads = THREADS
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    p, n = c["p"], c["n"]
    a = torch.randint(0, p, (n,), generator=g)
    b = torch.randint(0, p, (n,), generator=g)
    tokens = torch.stack([a, b, torch.full((n,), p)], 1)
    labels = (a + b) % p
    P = transformer_params(c, g) if c["kind"] == "transformer" else mlp_params(c, g)
    fwd = transformer_forward if c["kind"] == "transformer" else mlp_forward
    opt = torch.optim.AdamW(P.values(), lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(fwd(P, tokens, c), labels)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < 2.0:
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    product_ms = timed_product_ms()
    print(json.dumps({
        "case": c["name"], "threads": threads, "torch": torch.__version__, "median_ms": statistics.median(times), "reps": len(times),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "openblas_threads": blas_threads(), "product_1024_ms": product_ms, "product_1024_gflops": 2 * 1024**3 / product_ms / 1e6,
    }))


if __name__ == "__main__":
    main()

"""PyTorch yardstick for bench/llc.ts: the SGLD loop the llc estimator runs (what devinterp's
SGLD sampler does per step: a minibatch loss and its gradient, the localised drift and Gaussian
noise), on the nanda-2023 transformer, on the CPU. Prints one JSON line: ms per SGLD step and the
seconds one checkpoint's default estimate (chains × (burn-in + draws) steps) would take.

    python3 bench/torch_sgld.py CASE_JSON [threads]

CASE_JSON: {"p", "d_model", "n_heads", "d_head", "d_mlp", "n_train", "batch", "steps_per_checkpoint",
"epsilon", "gamma", "nbeta"}. Threads are pinned as in torch_step.py (OPENBLAS_NUM_THREADS before
torch is imported). Only a yardstick; groklens never depends on PyTorch.
"""
import json
import os
import statistics
import sys
import time

THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(THREADS)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch_step import blas_threads, transformer_forward, transformer_params  # noqa: E402


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(THREADS)
    g = torch.Generator().manual_seed(0)
    p, n = c["p"], c["n_train"]
    a = torch.randint(0, p, (n,), generator=g)
    b = torch.randint(0, p, (n,), generator=g)
    tokens = torch.stack([a, b, torch.full((n,), p)], 1)
    labels = (a + b) % p
    P = transformer_params(c, g)
    star = {k: v.detach().clone() for k, v in P.items()}
    eps, gamma, nbeta, batch = c["epsilon"], c["gamma"], c["nbeta"], c["batch"]

    def sgld_step(i):
        idx = torch.randint(0, n, (batch,), generator=g)
        for v in P.values():
            v.grad = None
        loss = F.cross_entropy(transformer_forward(P, tokens[idx], c), labels[idx])
        loss.backward()
        with torch.no_grad():
            for k, w in P.items():
                drift = -nbeta * w.grad - gamma * (w - star[k])
                w.add_(drift, alpha=eps / 2).add_(torch.randn(w.shape, generator=g), alpha=eps ** 0.5)
        return loss.item()

    for i in range(10):
        sgld_step(i)
    times = []
    start = time.perf_counter()
    while len(times) < 50 or time.perf_counter() - start < 3.0:
        t0 = time.perf_counter()
        sgld_step(len(times))
        times.append((time.perf_counter() - t0) * 1e3)
    ms = statistics.median(times)
    print(json.dumps({"threads": THREADS, "openblas_threads": blas_threads(), "torch": torch.__version__, "ms_per_step": ms,
                      "steps": len(times), "s_per_checkpoint": ms * c["steps_per_checkpoint"] / 1e3}))


if __name__ == "__main__":
    main()

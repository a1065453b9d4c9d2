"""PyTorch baseline for bench/matmul.ts: float32 n×n products on the CPU, one JSON line per case.

    python3 bench/torch_matmul.py [n] [threads ...]

Only a yardstick for our wasm figures; groklens never depends on PyTorch.
"""
import json
import statistics
import sys
import time

import torch


def median_ms(f, min_total_s=0.5, min_reps=5):
    f()  # warm-up
    f()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_total_s:
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    thread_counts = [int(t) for t in sys.argv[2:]] or [1, 2]
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen, dtype=torch.float32)
    b = torch.randn(n, n, generator=gen, dtype=torch.float32)
    cases = {
        "plain": lambda: a @ b,
        "transposeA": lambda: a.t() @ b,
        "transposeB": lambda: a @ b.t(),
    }
    for threads in thread_counts:
        torch.set_num_threads(threads)
        for name, f in cases.items():
            ms = median_ms(f)
            print(json.dumps({
                "case": name, "n": n, "threads": threads, "ms": round(ms, 3),
                "gflops": round(2 * n ** 3 / (ms * 1e6), 2), "torch": torch.__version__,
            }), flush=True)


if __name__ == "__main__":
    main()

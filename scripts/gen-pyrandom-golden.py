#!/usr/bin/env python3
"""Generate fixtures/pyrandom-golden.json: reference outputs of CPython's `random` module.

Run once with python3 (3.11 was used) from the repository root:
    python3 scripts/gen-pyrandom-golden.py
The TypeScript tests (tests/tasks/pyrandom.test.ts) compare src/tasks/pyrandom.ts against this file;
they never call python themselves.
"""
import json
import platform
import random

SEEDS = [0, 1, 42, 2**32 + 5, 2**100 + 12345, -7, 2**53 - 1]


def per_seed(seed):
    r = random.Random(seed)
    u32 = [r.getrandbits(32) for _ in range(12)]
    r = random.Random(seed)
    mixed = [[k, r.getrandbits(k)] for k in (1, 7, 31, 32, 33, 53, 64, 100)]
    r = random.Random(seed)
    below = [[n, r._randbelow(n)] for n in (1, 2, 3, 10, 97, 1000, 12769, 2**31 + 3, 2**40 + 1)]
    r = random.Random(seed)
    floats = [r.random() for _ in range(4)]
    return {
        "seed": str(seed),
        "getrandbits32": u32,
        # big values as strings so JSON numbers stay exact
        "getrandbits_mixed": [[k, str(v)] for k, v in mixed],
        "randbelow": [[str(n), v] for n, v in below],
        "random": floats,
    }


def shuffled(seed, n):
    random.seed(seed)
    x = list(range(n))
    random.shuffle(x)
    return {"seed": seed, "n": n, "result": x}


def nanda_split():
    # Nanda et al.'s split, exactly as their code does it.
    p = 113
    pairs = [(i, j) for i in range(p) for j in range(p)]
    random.seed(0)
    random.shuffle(pairs)
    n_train = int(0.3 * len(pairs))
    return {"p": p, "seed": 0, "train_fraction": 0.3, "n_train": n_train,
            "train_head": pairs[:10], "test_head": pairs[n_train:n_train + 10]}


out = {
    "generator": f"CPython {platform.python_version()} random module",
    "seeds": [per_seed(s) for s in SEEDS],
    "shuffles": [shuffled(s, n) for s in (0, 1) for n in (10, 1000)],
    "nanda_split": nanda_split(),
}
with open("fixtures/pyrandom-golden.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")

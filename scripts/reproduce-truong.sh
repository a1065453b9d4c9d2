#!/usr/bin/env bash
# Reproduce the weight-decay sweep of Truong et al. (arXiv 2603.13331), docs/measures.md#sweeps-and-the-delay-law:
#
#   adamw   a+b mod 97, 50 % train, 1-layer transformer (d 128, 4 heads, d_mlp 512), batch 512,
#           AdamW lr 1e-3, wd ∈ {0.1, 0.3, 0.5, 1, 2}, three seeds          (preset truong-2026)
#   sgd     the same settings with plain SGD (the paper: SGD never memorises)
#   parity  sparse parity, n ∈ {20, 30, 40}, k = 3, an MLP (the paper: no delay)
#
# Each arm is an ordinary sweep (docs/readme/sweeps.md) under $OUT/sweeps/, so the script can be
# stopped at any time (Ctrl-C) and run again: finished runs are skipped, interrupted ones resume.
# At the end each arm is aggregated with `groklens sweep report` (aggregate.json, a table and report.html), and
# the wall time of each arm is printed. This is long: 39 runs of up to 20k steps each (an estimated
# 8–9 hours on 2 cores, mostly the SGD arm, which never stops early).
#
# Settings (environment variables):
#   OUT     where to put everything                        (default: repro/truong)
#   JOBS    worker processes                               (default: the number of cores)
#   ARMS    which arms, space separated                    (default: "adamw sgd parity")
#   SEEDS   JSON list of seeds                             (default: [0,1,2])
#   WDS     JSON list of weight decays                     (default: [0.1,0.3,0.5,1,2])
#   STEPS   step budget of every run                       (default: 20000)
#   AFTER   AdamW runs stop this many steps after grokking (default: 500; "null" runs the budget)
#   GROKLENS  the command to run                           (default: node bin/groklens.js)
#
# A quick check that the pipeline works end to end (minutes, not hours):
#   STEPS=200 SEEDS='[0]' WDS='[1,2]' OUT=/tmp/truong-smoke scripts/reproduce-truong.sh
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-repro/truong}
JOBS=${JOBS:-$(nproc)}
ARMS=${ARMS:-adamw sgd parity}
SEEDS=${SEEDS:-[0,1,2]}
WDS=${WDS:-[0.1,0.3,0.5,1,2]}
STEPS=${STEPS:-20000}
AFTER=${AFTER:-500}
GROKLENS=${GROKLENS:-node bin/groklens.js}
SWEEPS="$OUT/sweeps"
mkdir -p "$OUT"

# Checkpoints every 100 steps as in the preset; a metrics row every 50 so T_mem / T_grok are
# located to within 50 steps.
cat > "$OUT/truong-adamw.json" <<EOF
{
  "name": "truong-adamw",
  "description": "Truong et al. weight-decay sweep: a+b mod 97, 50 % train, batch 512, AdamW lr 1e-3",
  "base": { "preset": "truong-2026",
            "set": { "training.steps": $STEPS, "training.eval_every": 50, "training.early_stop_after_grok": $AFTER } },
  "grid": { "optimizer.weight_decay": $WDS },
  "seeds": $SEEDS
}
EOF

# Same settings, plain SGD (no momentum), the same learning rate and weight decay.
cat > "$OUT/truong-sgd.json" <<EOF
{
  "name": "truong-sgd",
  "description": "The SGD arm: as truong-adamw with optimizer.kind sgd",
  "base": { "preset": "truong-2026",
            "set": { "optimizer.kind": "sgd", "optimizer.momentum": 0,
                     "training.steps": $STEPS, "training.eval_every": 50, "training.early_stop_after_grok": $AFTER } },
  "grid": { "optimizer.weight_decay": $WDS },
  "seeds": $SEEDS
}
EOF

# Sparse parity with an MLP. Our choices (the paper names only n, k and the model family): 2000
# samples, half for training, one bit = one token embedded in 8 dimensions, one hidden layer of
# 512 ReLU units, AdamW lr 1e-3 wd 1, batch 512.
cat > "$OUT/truong-parity.json" <<EOF
{
  "name": "truong-parity",
  "description": "Sparse parity, k = 3, MLP: no grokking delay expected",
  "base": { "set": {
      "task.kind": "sparse-parity", "task.k": 3, "task.samples": 2000, "task.labels": "class",
      "split.train_fraction": 0.5, "split.mode": "shuffle",
      "model.kind": "mlp", "model.d_embed": 8, "model.hidden": [512],
      "optimizer.lr": 0.001, "optimizer.weight_decay": 1,
      "training.steps": $STEPS, "training.batch_size": 512, "training.eval_every": 50,
      "training.early_stop_after_grok": $AFTER, "checkpoints.every": 100 } },
  "grid": { "task.n_bits": [20, 30, 40] },
  "seeds": $SEEDS
}
EOF

started=$(date +%s)
for arm in $ARMS; do
  file="$OUT/truong-$arm.json"
  if [ ! -f "$file" ]; then echo "unknown arm '$arm' (expected adamw, sgd or parity)" >&2; exit 2; fi
  t0=$(date +%s)
  echo "== $arm: $file"
  $GROKLENS sweep "$file" --sweeps-dir "$SWEEPS" --jobs "$JOBS"
  code=$?
  # 1: some run failed (listed above, and in `sweep status`); 130: stopped by Ctrl-C.
  if [ "$code" -eq 130 ]; then echo "stopped; run the script again to continue" >&2; exit 130; fi
  $GROKLENS sweep report "$SWEEPS/truong-$arm"
  echo "== $arm: wall time $(( $(date +%s) - t0 )) s (exit $code)"
done
echo "== total wall time $(( $(date +%s) - started )) s on $(nproc) cores ($JOBS workers)"

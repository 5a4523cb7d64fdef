#!/usr/bin/env bash
# What the AWD-LSTM regularizers cost: `recur bench train-m` (LSTM 512 × 2, E 512, B 32, T 64, no dropout),
# `train-m-reg` (the same with weight drop on W_hh and locked dropout between the layers and before the head)
# and `train-m-reg-input` (also locked dropout on the embedding output), alternated ROUNDS times (default 6) in
# one run, each round 5 timed repetitions of each; prints every round, the median of each and the ratios.
# usage: scripts/bench-regularizers.sh [path/to/recur] [ROUNDS] [THREADS]
set -euo pipefail
recur="${1:-.build/release/recur}"
rounds="${2:-6}"
threads="${3:-2}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
  for workload in train-m train-m-reg train-m-reg-input; do
    # A name also selects the workloads it prefixes (train-m-reg selects train-m-reg-input): keep its own line.
    "$recur" bench --json --threads "$threads" --repetitions 5 "$workload" | grep -F "{\"workload\":\"$workload\"," >> "$out"
  done
  echo "round $round done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["workload"], []).append(r["median"])
for name, values in by.items():
    print(f"{name:12s} tokens/s per round: {[round(v) for v in values]}  median {statistics.median(values):.0f}")
plain = statistics.median(by["train-m"])
for name in ("train-m-reg", "train-m-reg-input"):
    ratios = [b / a for a, b in zip(by["train-m"], by[name])]
    print(f"{name} / train-m: {statistics.median(by[name]) / plain:.3f} (medians; per round"
          f" {[round(x, 3) for x in ratios]}, median {statistics.median(ratios):.3f})")
PY

#!/usr/bin/env bash
# train-m (LSTM 512 × 2, E 64, B 32, T 64) as 1 process × 2 threads and as 2 ranks × 1 thread, alternated
# three times, 25 steps each; prints each run's median tokens/s (steps 5–25) and the median of the runs.
# usage: scripts/bench-mpi-train-m.sh path/to/recur-built-with-MPI TEXT
set -euo pipefail
recur="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
text="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
args=(--text "$text" --model lstm --hidden 512 --layers 2 --embedding 64 --batch-size 32 --seq-len 64 --dropout 0
  --steps 25 --validate-every 100000 --schedule constant --quiet)
for rep in 1 2 3; do
  "$recur" train "${args[@]}" --threads 2 --checkpoint "p1t2-$rep.safetensors" > /dev/null 2>&1
  mpirun --allow-run-as-root --oversubscribe -np 2 "$recur" train "${args[@]}" --threads 1 \
    --checkpoint "p2t1-$rep.safetensors" > /dev/null 2>&1
done
python3 - <<'PY'
import json, statistics
for name, label in [("p1t2", "1 process x 2 threads"), ("p2t1", "2 ranks x 1 thread")]:
    medians = []
    for rep in (1, 2, 3):
        rows = [json.loads(line) for line in open(f"{name}-{rep}.metrics.jsonl")]
        medians.append(statistics.median(r["tokens_per_s"] for r in rows[4:]))
    print(label, "tokens/s per run:", [round(m) for m in medians], "median:", round(statistics.median(medians)))
PY

#!/usr/bin/env bash
# train-m (LSTM 512 × 2, E 64, B 32, T 64) as 2 ranks × 1 thread, with the gradient's reduction overlapped with
# BPTT (the default) and after BPTT (RECUR_MPI_OVERLAP=0), alternated three times, 25 steps each; prints each
# run's median tokens/s (steps 5–25) and the median of the runs.
# usage: scripts/bench-mpi-overlap.sh path/to/recur-built-with-MPI [TEXT]
# Without TEXT it generates a 1 MB text of 18 words.
set -euo pipefail
recur="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ $# -ge 2 ]]; then
  text="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
else
  text="$work/text.txt"
  python3 - "$text" <<'PY'
import random, sys
random.seed(3)
words = "to be or not that is the question whether tis nobler in the mind suffer slings and arrows".split()
with open(sys.argv[1], "w") as f:
    n = 0
    while n < 1_000_000:
        line = " ".join(random.choice(words) for _ in range(random.randint(4, 14))) + "\n"
        f.write(line)
        n += len(line)
PY
fi
cd "$work"
args=(--text "$text" --model lstm --hidden 512 --layers 2 --embedding 64 --batch-size 32 --seq-len 64 --dropout 0
  --steps 25 --validate-every 100000 --schedule constant --quiet --threads 1)
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in 1 2 3; do
  RECUR_MPI_OVERLAP=0 "${mpi[@]}" -x RECUR_MPI_OVERLAP "$recur" train "${args[@]}" --checkpoint "after-$rep.safetensors" > /dev/null 2>&1
  RECUR_MPI_OVERLAP=1 "${mpi[@]}" -x RECUR_MPI_OVERLAP "$recur" train "${args[@]}" --checkpoint "overlap-$rep.safetensors" > /dev/null 2>&1
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - <<'PY'
import json, statistics
for name, label in [("after", "reduction after BPTT"), ("overlap", "reduction overlapped with BPTT")]:
    medians = []
    for rep in (1, 2, 3):
        rows = [json.loads(line) for line in open(f"{name}-{rep}.metrics.jsonl")]
        medians.append(statistics.median(r["tokens_per_s"] for r in rows[4:]))
    print(label, "tokens/s per run:", [round(m) for m in medians], "median:", round(statistics.median(medians)))
PY

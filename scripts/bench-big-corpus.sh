#!/usr/bin/env bash
# Corpora larger than memory: generates a text of SIZE bytes (default 2 GB) under /tmp, prepares it with
# `recur prepare` and trains a few steps on the token file, measuring each one's peak resident memory
# (/usr/bin/time -v); the same model trained on a 1 MB text gives the model's own training memory. Deletes
# the generated files at the end. A benchmark, not a test: it takes minutes and gigabytes of disk.
# usage: scripts/bench-big-corpus.sh path/to/recur [SIZE]
set -euo pipefail
recur="$1"
size="${2:-2000000000}"
work="$(mktemp -d /tmp/recur-big-XXXXXX)"
trap 'rm -rf "$work"' EXIT
cd "$work"

python3 - "$size" <<'PY'
import random, sys
size = int(sys.argv[1])
random.seed(3)
words = "to be or not that is the question whether tis nobler in the mind suffer slings and arrows of outrageous fortune".split()
lines = [" ".join(random.choice(words) for _ in range(random.randint(4, 14))) + "\n" for _ in range(20000)]
block = "".join(lines).encode()
with open("big.txt", "wb") as f:
    written = 0
    while written < size:
        piece = block[: size - written]
        f.write(piece)
        written += len(piece)
with open("small.txt", "wb") as f:
    f.write(block[:1000000])
PY
ls -l big.txt

peak() {  # peak NAME COMMAND...: runs it and prints its peak RSS (MiB) and wall time
  local name="$1"
  shift
  /usr/bin/time -v "$@" > "$name.out" 2> "$name.time"
  local kb wall
  kb="$(grep 'Maximum resident set size' "$name.time" | awk '{print $NF}')"
  wall="$(grep 'Elapsed (wall clock)' "$name.time" | awk '{print $NF}')"
  echo "$name: peak RSS $((kb / 1024)) MiB, wall $wall"
}
model=(--model lstm --hidden 512 --layers 2 --embedding 64 --batch-size 32 --seq-len 64 --steps 5
  --validate-every 1000 --threads 2 --quiet)
peak prepare "$recur" prepare --text big.txt --output big.tokens
ls -l big.tokens
peak train-small-text "$recur" train --text small.txt "${model[@]}" --checkpoint small.safetensors
peak train-token-file "$recur" train --text big.tokens "${model[@]}" --checkpoint big.safetensors

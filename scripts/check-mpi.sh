#!/usr/bin/env bash
# Multi-process checks of data-parallel training over MPI (needs mpirun and an MPI build of recur):
#   * 2 ranks against 1 (LSTM and GRU, 2 layers, dropout, 20 steps; lines mode; recur fit): every tensor of
#     the checkpoints (weights, optimizer state, carried state) within 1e-4 relative (the ranks sum the gradient
#     in another order; Adam turns a rounding difference in a gradient element near its ε = 1e-8 into a weight
#     difference of up to ~1e-5 relative from the first step on, which depends on the masks; a wrong mask or a
#     missing reduction differs by 1e-2 and more);
#   * a 2-rank checkpoint resumed on 1 rank equals the 1-rank run; recur eval under mpirun;
#   * refusals before the first step (batch not divisible, different options, different text);
#   * faults: SIGKILL of one rank ends the job quickly and the last checkpoint loads; SIGINT to mpirun stops
#     every rank at one step and saves once.
# usage: scripts/check-mpi.sh [path/to/recur built with --traits MPI]
# Without an argument it builds one: swift build -c release --traits MPI --scratch-path .build-mpi
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

if ! command -v mpirun > /dev/null; then
  echo "check-mpi: mpirun not found (install openmpi-bin libopenmpi-dev); skipped" >&2
  exit 2
fi
if [[ $# -ge 1 ]]; then
  recur="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
else
  echo "==> swift build -c release --traits MPI --scratch-path .build-mpi --product recur"
  swift build -c release --traits MPI --scratch-path .build-mpi --product recur
  recur="$root/.build-mpi/release/recur"
fi
compare="python3 $root/scripts/compare_checkpoints.py --tolerance 1e-4"
mpi=(mpirun --allow-run-as-root --oversubscribe)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
pass() { echo "  ok: $*"; }
fail() { echo "  FAILED: $*"; failures=$((failures + 1)); }

# A small text with lines of different lengths.
python3 - > small.txt <<'PY'
import random
random.seed(1)
words = "the quick brown fox jumps over a lazy dog and the cat sat on the mat".split()
for _ in range(900):
    print(" ".join(random.choice(words) for _ in range(random.randint(2, 12))))
PY

common=(--text small.txt --layers 2 --hidden 32 --embedding 16 --dropout 0.2 --batch-size 8 --seq-len 16
  --schedule constant --lr 0.01 --validate-every 5 --seed 7 --threads 1 --quiet)

quiet() {  # quiet COMMAND...: runs it, shows its output only when it fails
  "$@" > run.log 2>&1 || { cat run.log; return 1; }
}
same() {  # same NAME A B: every tensor within 1e-4 relative
  if out="$($compare "$2" "$3")"; then pass "$1: $out"; else fail "$1: $out"; fi
}

echo "==> 2 ranks against 1 (20 steps, dropout 0.2)"
for cell in lstm gru; do
  quiet "$recur" train "${common[@]}" --model "$cell" --steps 20 --checkpoint "one-$cell.safetensors"
  quiet "${mpi[@]}" -np 2 "$recur" train "${common[@]}" --model "$cell" --steps 20 --checkpoint "two-$cell.safetensors"
  same "stream mode, $cell" "one-$cell.safetensors" "two-$cell.safetensors"
done
# A token file of recur prepare, mapped by both ranks, trains as the text does.
quiet "$recur" prepare --text small.txt --output small.tokens
quiet "${mpi[@]}" -np 2 "$recur" train "${common[@]}" --text small.tokens --model lstm --steps 20 --checkpoint two-tokens.safetensors
same "stream mode from a token file, lstm" one-lstm.safetensors two-tokens.safetensors
# The comparison can fail: without dropout the weights differ.
quiet "$recur" train "${common[@]}" --model lstm --steps 20 --dropout 0 --checkpoint nodrop.safetensors
if $compare one-lstm.safetensors nodrop.safetensors --prefix rnn. > /dev/null; then
  fail "the comparison does not see dropout"
else
  pass "the comparison tells dropout 0.2 from none"
fi
quiet "$recur" train "${common[@]}" --model lstm --mode lines --seq-len 100 --steps 20 --checkpoint one-lines.safetensors
quiet "${mpi[@]}" -np 2 "$recur" train "${common[@]}" --model lstm --mode lines --seq-len 100 --steps 20 --checkpoint two-lines.safetensors
same "lines mode, lstm" one-lines.safetensors two-lines.safetensors

python3 - > pairs.jsonl <<'PY'
import json, random
random.seed(2)
for _ in range(200):
    n = random.randint(3, 15)
    x = [[random.uniform(-1, 1), random.uniform(-1, 1)] for _ in range(n)]
    s, y = 0.0, []
    for a, b in x:
        s = 0.7 * s + a * b
        y.append([s])
    print(json.dumps({"x": x, "y": y}))
PY
fit=(fit --data pairs.jsonl --cell gru --hidden 16 --batch-size 8 --steps 20 --seed 3)
quiet "$recur" "${fit[@]}" --checkpoint one-fit.safetensors
quiet "${mpi[@]}" -np 2 "$recur" "${fit[@]}" --checkpoint two-fit.safetensors
same "recur fit, gru" one-fit.safetensors two-fit.safetensors

echo "==> a 2-rank checkpoint resumed on 1 rank"
quiet "${mpi[@]}" -np 2 "$recur" train "${common[@]}" --model lstm --steps 10 --checkpoint resumed.safetensors
quiet "$recur" train "${common[@]}" --model lstm --resume resumed.safetensors --steps 20 --checkpoint resumed.safetensors
same "2 ranks to step 10, 1 rank to 20" one-lstm.safetensors resumed.safetensors
quiet "$recur" train "${common[@]}" --model lstm --steps 10 --checkpoint resumed2.safetensors
quiet "${mpi[@]}" -np 2 "$recur" train "${common[@]}" --model lstm --resume resumed2.safetensors --steps 20 --checkpoint resumed2.safetensors
same "1 rank to step 10, 2 ranks to 20" one-lstm.safetensors resumed2.safetensors

echo "==> recur eval under mpirun"
one="$("$recur" eval --checkpoint one-lstm.safetensors --text small.txt --streams 4 --json)"
two="$("${mpi[@]}" -np 2 "$recur" eval --checkpoint one-lstm.safetensors --text small.txt --streams 4 --json)"
if python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); sys.exit(0 if abs(a['nats_per_char']-b['nats_per_char']) <= 1e-6*a['nats_per_char'] and a['predictions']==b['predictions'] else 1)" "$one" "$two"; then
  pass "eval, 4 streams on 2 ranks = on 1 rank: $two"
else
  fail "eval differs: $one / $two"
fi

echo "==> refused before the first step"
refused() {  # refused NAME EXPECTED-TEXT COMMAND...: non-zero exit, one "Error:" line naming the difference
  local name="$1" expected="$2"
  shift 2
  local status=0
  "$@" > out.txt 2> err.txt || status=$?
  local errors
  errors="$(grep -c '^Error:' err.txt || true)"
  if [[ $status -ne 0 && $errors -eq 1 ]] && grep -q -- "$expected" err.txt && [[ ! -e refused.safetensors ]]; then
    pass "$name: $(grep '^Error:' err.txt)"
  else
    fail "$name (status $status, $errors error lines): $(head -c 600 err.txt)"
  fi
}
refused "batch of 9 on 2 ranks" "not divisible by the 2 ranks" \
  "${mpi[@]}" -np 2 "$recur" train "${common[@]}" --batch-size 9 --steps 5 --checkpoint refused.safetensors
refused "ranks with different --hidden" "different --hidden" \
  "${mpi[@]}" -np 1 "$recur" train "${common[@]}" --steps 5 --checkpoint refused.safetensors : \
  -np 1 "$recur" train "${common[@]}" --steps 5 --hidden 48 --checkpoint refused.safetensors
mkdir -p a b
cp small.txt a/small.txt
sed 's/fox/owl/' small.txt > b/small.txt
refused "ranks reading different texts" "different content of --text" \
  "${mpi[@]}" -np 1 --wdir "$work/a" "$recur" train "${common[@]}" --steps 5 --checkpoint refused.safetensors : \
  -np 1 --wdir "$work/b" "$recur" train "${common[@]}" --steps 5 --checkpoint refused.safetensors

echo "==> faults"
long=("${common[@]}" --model lstm --hidden 64 --steps 1000000 --validate-every 20)
# SIGKILL of one rank: the job ends within seconds with a non-zero status; the last checkpoint loads.
"${mpi[@]}" -np 2 "$recur" train "${long[@]}" --checkpoint killed.safetensors > killed.out 2>&1 &
job=$!
for _ in $(seq 1 300); do [[ -e killed.safetensors ]] && break; sleep 0.1; done
ranks="$(ps --ppid "$job" -o pid= | tr -d ' ')"
victim="$(echo "$ranks" | tail -n 1)"
if [[ -z "$victim" || ! -e killed.safetensors ]]; then
  fail "the SIGKILL run did not start (ranks: $ranks)"
  kill "$job" 2> /dev/null || true
else
  start=$(date +%s.%N)
  kill -KILL "$victim"
  status=0
  for _ in $(seq 1 300); do kill -0 "$job" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$job" 2> /dev/null; then
    fail "the job still runs 30 s after SIGKILL of rank pid $victim"
    kill -KILL "$job" $ranks 2> /dev/null || true
  fi
  wait "$job" || status=$?
  took=$(python3 -c "import time; print('%.1f' % (time.time() - $start))")
  if [[ $status -ne 0 ]] && "$recur" eval --checkpoint killed.safetensors --text small.txt --last 0.1 > eval.txt; then
    pass "SIGKILL of one rank: the job ended in ${took} s with status $status; the checkpoint loads ($(cat eval.txt))"
  else
    fail "SIGKILL of one rank: status $status after ${took} s; $(tail -n 2 killed.out)"
  fi
fi
# SIGINT to mpirun: every rank stops at the same step, rank 0 saves once.
"${mpi[@]}" -np 2 "$recur" train "${long[@]}" --checkpoint stopped.safetensors > stopped.out 2>&1 &
job=$!
for _ in $(seq 1 300); do [[ -e stopped.safetensors ]] && break; sleep 0.1; done
sleep 1
kill -INT "$job"
status=0
wait "$job" || status=$?
steps="$(grep -o 'stopped after [0-9]* steps (interrupted)' stopped.out || true)"
saved="$(python3 -c "
import json, struct
d = open('stopped.safetensors', 'rb').read()
n = struct.unpack('<Q', d[:8])[0]
print(json.loads(d[8:8 + n])['__metadata__']['recur.trainer.step'])" 2> /dev/null || true)"
last="$(tail -n 1 stopped.metrics.jsonl | grep -o '"step":[0-9]*' | cut -d: -f2)"
if [[ -n "$steps" && "$steps" == "stopped after $saved steps (interrupted)" && "$last" == "$saved" ]]; then
  pass "SIGINT: $steps, checkpoint and metrics at step $saved (mpirun status $status)"
else
  fail "SIGINT: status $status, '$steps', checkpoint step '$saved', last metrics step '$last'; $(tail -n 3 stopped.out)"
fi

if [[ $failures -gt 0 ]]; then
  echo "check-mpi: $failures check(s) failed"
  exit 1
fi
echo "check-mpi: all checks passed"

#!/usr/bin/env python3
"""The PyTorch side of Recur's benchmark suite: the same workloads as `recur bench`, run in PyTorch.

Workloads (V = 65 characters, embedding size = hidden size, Adam, gradient clipping at norm 5,
cross-entropy, random token data, zero initial state for every batch):
  train-s              LSTM H = 128, 2 layers, batch 50, sequence 50        training tokens/s
  train-m              LSTM H = 512, 2 layers, batch 32, sequence 64        training tokens/s
  train-gru, train-rnn as train-m with a GRU and with a tanh RNN            training tokens/s
  gen-m                the train-m model generating one character at a time, batch 1, sampling   tokens/s
  lstm-layer-H-B-T     one nn.LSTM layer (input size H) forward + backward over T steps of batch B   ms
                       (defaults: the DeepBench shapes 512-16-25, 512-64-50, 1024-32-25, 256-16-150)
  memory-train-m       peak resident memory (ru_maxrss) of a separate process training train-m   MiB

Each workload is warmed up, then measured --repetitions times; a repetition runs as many steps as fill
--min-time seconds. Output is a table, or with --json one object per line:
  {"workload": "train-m", "unit": "tokens/s", "threads": 2, "repetitions": 5, "median": …, "min": …, "max": …}

Usage: python3 Benchmarks/torch_compare.py [--threads N] [--repetitions N] [--json] [WORKLOAD ...]
"""

import argparse
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from recur_torch import RecurLM  # noqa: E402

VOCAB_SIZE = 65
CLIP_NORM = 5.0
LEARNING_RATE = 2e-3
TRAINING = {
    # name: (cell, hidden size = embedding size, layers, batch, sequence length)
    "train-s": ("lstm", 128, 2, 50, 50),
    "train-m": ("lstm", 512, 2, 32, 64),
    "train-gru": ("gru", 512, 2, 32, 64),
    "train-rnn": ("rnn_tanh", 512, 2, 32, 64),
}
LSTM_LAYER_SHAPES = ((512, 16, 25), (512, 64, 50), (1024, 32, 25), (256, 16, 150))
STREAM_SIZES = (128, 512)
DEFAULT_WORKLOADS = (list(TRAINING) + ["gen-m"] + [f"lstm-layer-{h}-{b}-{t}" for h, b, t in LSTM_LAYER_SHAPES]
                     + ["memory-train-m"] + [f"stream-lstm-{h}" for h in STREAM_SIZES])
STREAM = re.compile(r"^stream-lstm-(\d+)$")
LSTM_LAYER = re.compile(r"^lstm-layer-(\d+)-(\d+)-(\d+)$")


def repeat(step, repetitions, min_time, warmup):
    """Runs ``step`` ``warmup`` times, then ``repetitions`` timed runs of k steps each (k fills min_time).

    Returns the list of (steps, seconds) per repetition."""
    start = time.perf_counter()
    for _ in range(warmup):
        step()
    per_step = (time.perf_counter() - start) / warmup
    steps = max(1, math.ceil(min_time / per_step))
    runs = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        runs.append((steps, time.perf_counter() - start))
    return runs


def training_step_function(name, seed=0):
    """A closure running one training step of workload ``name``; also returns tokens per step."""
    cell, hidden, layers, batch, steps = TRAINING[name]
    torch.manual_seed(seed)
    model = RecurLM(cell, VOCAB_SIZE, hidden, hidden, layers).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    batches = [torch.randint(0, VOCAB_SIZE, (batch, steps + 1)) for _ in range(4)]
    position = [0]

    def step():
        tokens = batches[position[0] % len(batches)]
        position[0] += 1
        logits, _ = model(tokens[:, :-1])  # [B, T, V], zero initial state
        loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
        optimizer.step()

    return step, batch * steps


def training(name, args):
    step, tokens = training_step_function(name)
    runs = repeat(step, args.repetitions, args.min_time, warmup=2)
    return "tokens/s", [n * tokens / seconds for n, seconds in runs]


def generation(args):
    cell, hidden, layers, _, _ = TRAINING["train-m"]
    torch.manual_seed(0)
    model = RecurLM(cell, VOCAB_SIZE, hidden, hidden, layers).eval()
    generator = torch.Generator().manual_seed(1)
    current = {"token": torch.zeros(1, 1, dtype=torch.int64), "state": None}

    def step():
        with torch.no_grad():
            logits, current["state"] = model(current["token"], current["state"])
            probabilities = torch.softmax(logits[0, -1], dim=0)
            current["token"] = torch.multinomial(probabilities, 1, generator=generator).view(1, 1)

    runs = repeat(step, args.repetitions, args.min_time, warmup=50)
    return "tokens/s", [n / seconds for n, seconds in runs]


def lstm_layer(hidden, batch, steps, args):
    torch.manual_seed(0)
    layer = torch.nn.LSTM(hidden, hidden)
    x = torch.randn(steps, batch, hidden, requires_grad=True)
    grad_output = torch.randn(steps, batch, hidden)

    def step():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        output, _ = layer(x)
        output.backward(grad_output)

    runs = repeat(step, args.repetitions, args.min_time, warmup=3)
    return "ms", [1000 * seconds / n for n, seconds in runs]


def stream_step(hidden, args):
    """A live stream: nn.LSTM(16, H) and a linear head to 4 outputs, batch 1, one step at a time, carrying
    (h, c) between calls; microseconds per step."""
    torch.manual_seed(0)
    layer = torch.nn.LSTM(16, hidden).eval()
    head = torch.nn.Linear(hidden, 4).eval()
    steps = torch.randn(64, 1, 1, 16)
    current = {"t": 0, "state": None}

    def step():
        with torch.no_grad():
            output, current["state"] = layer(steps[current["t"] % 64], current["state"])
            head(output[0])
        current["t"] += 1

    runs = repeat(step, args.repetitions, args.min_time, warmup=50)
    return "µs", [1e6 * seconds / n for n, seconds in runs]


def peak_memory(args):
    """ru_maxrss of fresh processes that each train train-m for a few steps, in MiB."""
    values = []
    for _ in range(args.repetitions):
        child = subprocess.run([sys.executable, os.path.abspath(__file__), "--threads", str(args.threads),
                                "--memory-child", "train-m"], check=True, capture_output=True, text=True)
        values.append(int(child.stdout.strip()) / 1024)
    return "MiB", values


def memory_child(name):
    """Trains ``name`` for three steps and prints this process's peak resident set in KiB."""
    step, _ = training_step_function(name)
    for _ in range(3):
        step()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run(name, args):
    if name in TRAINING:
        return training(name, args)
    if name == "gen-m":
        return generation(args)
    if name == "memory-train-m":
        return peak_memory(args)
    match = LSTM_LAYER.match(name)
    if match:
        return lstm_layer(*map(int, match.groups()), args)
    match = STREAM.match(name)
    if match:
        return stream_step(int(match.group(1)), args)
    raise ValueError(name)


def significant(value):
    return float(f"{value:.6g}")


def main():
    parser = argparse.ArgumentParser(description="Run Recur's benchmark workloads in PyTorch.",
                                     epilog="workloads: " + ", ".join(DEFAULT_WORKLOADS)
                                     + " (any lstm-layer-H-B-T works)")
    parser.add_argument("workloads", nargs="*", metavar="WORKLOAD", help="workloads to run (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--repetitions", type=int, default=5, help="timed repetitions (default 5)")
    parser.add_argument("--min-time", type=float, default=1.0,
                        help="seconds each repetition lasts at least (default 1.0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    parser.add_argument("--memory-child", metavar="WORKLOAD", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads < 1 or args.repetitions < 1 or args.min_time <= 0:
        parser.error("--threads and --repetitions must be at least 1, --min-time positive")
    known = set(DEFAULT_WORKLOADS)
    unknown = [w for w in args.workloads if w not in known and not LSTM_LAYER.match(w)]
    if unknown:
        parser.error(f"unknown workload {unknown[0]!r}; known: {', '.join(DEFAULT_WORKLOADS)}")
    torch.set_num_threads(args.threads)

    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    if not args.json:
        print(f"PyTorch {torch.__version__}, {args.threads} thread(s), {args.repetitions} repetitions")
        print(f"{'workload':<24}{'unit':>10}{'median':>14}{'min':>14}{'max':>14}")
    for name in args.workloads or DEFAULT_WORKLOADS:
        unit, values = run(name, args)
        row = {"workload": name, "unit": unit, "threads": args.threads, "repetitions": args.repetitions,
               "median": significant(statistics.median(values)), "min": significant(min(values)),
               "max": significant(max(values))}
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"{name:<24}{unit:>10}{row['median']:>14.6g}{row['min']:>14.6g}{row['max']:>14.6g}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Measures the GEMM shapes of `recur bench gemm` with PyTorch, in the same JSON-lines format.

Each workload gemm-MxKxN-{nn,nt} is C = A @ B (A M x K, B K x N) or C = A @ B.T (B stored N x K),
float32, timed like Recur's bench: one repetition runs the product until at least 0.2 s have passed and
reports 2*M*N*K / seconds-per-product in GFLOP/s.

    python3 Benchmarks/torch_gemm.py --threads 2 --repetitions 5 [--json] [WORKLOAD_PREFIX ...]
"""
import argparse
import json
import statistics
import time

import torch

SHAPES = [(1024, 1024, 1024), (32, 512, 2048), (64, 1024, 4096), (2048, 512, 2048), (1, 512, 2048)]


def workloads():
    for m, k, n in SHAPES:
        for transposed in (False, True):
            yield f"gemm-{m}x{k}x{n}-{'nt' if transposed else 'nn'}", m, k, n, transposed


def calls_per_second(body, minimum_seconds=0.2, clock=time.perf_counter):
    calls = 0
    start = clock()
    while True:
        body()
        calls += 1
        elapsed = clock() - start
        if elapsed >= minimum_seconds:
            return calls / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", help="workload names or prefixes (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with this thread's CPU time instead of wall time (meaningful for 1 thread; "
                             "compare with Benchmarks/microkernel.c)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(42)
    if not args.json:
        print(f"torch {torch.__version__}: {args.threads} thread(s), {args.repetitions} repetition(s)")
    for name, m, k, n, transposed in workloads():
        if args.patterns and not any(name.startswith(p) for p in args.patterns):
            continue
        a = torch.rand(m, k, generator=generator) - 0.5
        b = torch.rand(n, k, generator=generator) - 0.5 if transposed else torch.rand(k, n, generator=generator) - 0.5
        c = torch.empty(m, n)
        bt = b.t() if transposed else b

        def product():
            torch.mm(a, bt, out=c)

        product()
        flops = 2.0 * m * n * k
        clock = time.thread_time if args.cpu_time else time.perf_counter
        speeds = sorted(calls_per_second(product, clock=clock) * flops / 1e9 for _ in range(args.repetitions))
        median = statistics.median(speeds)
        if args.json:
            record = {"workload": name, "unit": "GFLOP/s", "threads": args.threads,
                      "repetitions": args.repetitions, "median": round(median, 2),
                      "min": round(speeds[0], 2), "max": round(speeds[-1], 2)}
            print(json.dumps(record, separators=(",", ":")))
        else:
            print(f"{name:26s}{median:9.2f}{speeds[0]:9.2f}{speeds[-1]:9.2f}  GFLOP/s")


if __name__ == "__main__":
    main()

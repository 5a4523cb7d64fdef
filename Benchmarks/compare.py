#!/usr/bin/env python3
"""Runs `recur bench` and the matching PyTorch script alternately, workload by workload, and prints the
medians side by side with the ratio Recur / PyTorch (above 1: Recur is faster).

    swift build -c release
    python3 Benchmarks/compare.py --recur .build/release/recur --threads 1 2 --repetitions 5 [gemm ...]

Alternating the two programs on each workload spreads the noise of a shared machine over both.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The PyTorch script measuring each family of workloads.
TORCH_SCRIPTS = {"gemm": os.path.join(HERE, "torch_gemm.py")}


def json_lines(command):
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", default=["gemm"], help="workload names or prefixes")
    parser.add_argument("--recur", default=".build/release/recur", help="the recur executable (release build)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()

    names = [line.split()[0] for line in subprocess.run(
        [args.recur, "bench", "--list", *args.patterns], check=True, capture_output=True, text=True
    ).stdout.splitlines() if line.strip()]
    rows = []
    for threads in args.threads:
        for name in names:
            family = name.split("-")[0]
            if family not in TORCH_SCRIPTS:
                print(f"no PyTorch script for {name}; skipped", file=sys.stderr)
                continue
            common = ["--json", "--threads", str(threads), "--repetitions", str(args.repetitions), name]
            recur = json_lines([args.recur, "bench", *common])
            torch = [r for r in json_lines([sys.executable, TORCH_SCRIPTS[family], *common]) if r["workload"] == name]
            if not recur or not torch:
                print(f"{name}: missing result", file=sys.stderr)
                continue
            rows.append((name, threads, recur[0], torch[0]))
            if not args.markdown:
                print(f"{name:26s} {threads:2d}  recur {recur[0]['median']:8.2f}  torch {torch[0]['median']:8.2f}  "
                      f"ratio {recur[0]['median'] / torch[0]['median']:.2f}", flush=True)

    if args.markdown:
        print("| workload | threads | Recur median (min–max) | PyTorch median (min–max) | Recur / PyTorch |")
        print("|---|---:|---:|---:|---:|")
        for name, threads, r, t in rows:
            print(f"| {name} | {threads} | {r['median']:.1f} ({r['min']:.1f}–{r['max']:.1f}) | "
                  f"{t['median']:.1f} ({t['min']:.1f}–{t['max']:.1f}) | {r['median'] / t['median']:.2f} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Runs `recur bench` and the matching PyTorch script alternately, workload by workload, and prints the
medians side by side with the ratio Recur / PyTorch of the medians and how far ahead Recur is.

    swift build -c release
    python3 Benchmarks/compare.py --recur .build/release/recur --threads 1 2 --repetitions 5 [gemm train ...]

Units: GFLOP/s and tokens/s are speeds (higher is better); ms, µs and MiB are costs (lower is better). The
column "Recur / PyTorch" is always the plain ratio of the two medians; the column "Recur ahead" turns it
into "how many times better Recur is" for either kind of unit (Recur / PyTorch for speeds, PyTorch / Recur
for costs): above 1, Recur wins. Each row also shows the 1-minute load average when it was measured.
With --rounds N every workload is measured N times (alternating Recur and PyTorch each time) and the
table gives the median of the rounds' medians.

Alternating the two programs on each workload spreads the noise of a shared machine over both.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The PyTorch script measuring each family of workloads (the first part of the workload name).
TORCH_SCRIPTS = {
    "gemm": os.path.join(HERE, "torch_gemm.py"),
    "train": os.path.join(HERE, "torch_compare.py"),
    "gen": os.path.join(HERE, "torch_compare.py"),
    "lstm": os.path.join(HERE, "torch_compare.py"),
    "memory": os.path.join(HERE, "torch_compare.py"),
    "stream": os.path.join(HERE, "torch_compare.py"),
}
LOWER_IS_BETTER = {"ms", "MiB", "µs"}


def json_lines(command):
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def ahead(unit, recur, torch):
    """How many times better Recur's figure is than PyTorch's (above 1: Recur wins)."""
    return torch / recur if unit in LOWER_IS_BETTER else recur / torch


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("patterns", nargs="*", default=["gemm"], help="workload names or prefixes")
    parser.add_argument("--recur", default=".build/release/recur", help="the recur executable (release build)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1, help="alternating measurements per workload")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table at the end")
    args = parser.parse_args()

    names = [line.split()[0] for line in subprocess.run(
        [args.recur, "bench", "--list", *args.patterns], check=True, capture_output=True, text=True
    ).stdout.splitlines() if line.strip()]
    # Shapes not in the list (lstm-layer-H-B-T) are passed through as given.
    names += [p for p in args.patterns if p.startswith("lstm-layer-") and p not in names]
    rows = []
    for threads in args.threads:
        for name in names:
            family = name.split("-")[0]
            if family not in TORCH_SCRIPTS:
                print(f"no PyTorch script for {name}; skipped", file=sys.stderr)
                continue
            common = ["--json", "--threads", str(threads), "--repetitions", str(args.repetitions), name]
            rounds = []
            for _ in range(args.rounds):
                load = os.getloadavg()[0]
                recur = json_lines([args.recur, "bench", *common])
                torch = [r for r in json_lines([sys.executable, TORCH_SCRIPTS[family], *common])
                         if r["workload"] == name]
                if not recur or not torch:
                    print(f"{name}: missing result", file=sys.stderr)
                    continue
                r, t = recur[0], torch[0]
                rounds.append((r, t, load))
                print(f"{name:26s} {threads:2d}  recur {r['median']:10.2f}  torch {t['median']:10.2f} {r['unit']:9s}"
                      f" recur/torch {r['median'] / t['median']:6.2f}  recur ahead {ahead(r['unit'], r['median'], t['median']):6.2f}"
                      f"  load {load:.1f}", flush=True)
            if rounds:
                rows.append((name, threads, rounds))

    if args.markdown:
        def figure(x):
            """Four significant digits without an exponent (59 840, not 5.984e+04)."""
            return f"{x:.4g}" if abs(x) < 10000 else f"{round(x, -int(f'{x:e}'.split('e')[1]) + 3):.0f}"

        print()
        print("| workload | unit | threads | Recur median (min–max) | PyTorch median (min–max) | Recur / PyTorch "
              "| Recur ahead | load |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for name, threads, rounds in rows:
            unit = rounds[0][0]["unit"]
            r = statistics.median(x[0]["median"] for x in rounds)
            t = statistics.median(x[1]["median"] for x in rounds)
            rmin, rmax = min(x[0]["min"] for x in rounds), max(x[0]["max"] for x in rounds)
            tmin, tmax = min(x[1]["min"] for x in rounds), max(x[1]["max"] for x in rounds)
            loads = [x[2] for x in rounds]
            print(f"| {name} | {unit} | {threads} | {figure(r)} ({figure(rmin)}–{figure(rmax)}) "
                  f"| {figure(t)} ({figure(tmin)}–{figure(tmax)}) "
                  f"| {r / t:.2f} | {ahead(unit, r, t):.2f} | {min(loads):.1f}–{max(loads):.1f} |")


if __name__ == "__main__":
    main()

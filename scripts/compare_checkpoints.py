#!/usr/bin/env python3
"""Compares two safetensors checkpoints tensor by tensor (standard library only).

Each tensor of the first file must exist in the second with the same shape, and
max|a - b| <= tolerance * max(max|a|, tiny) for every tensor ("within 1e-5 relative").
Prints the worst tensor and exits non-zero when some tensor differs more (or is missing).

usage: compare_checkpoints.py A.safetensors B.safetensors [--tolerance 1e-5] [--prefix NAME]
"""
import argparse
import json
import struct
import sys

FORMATS = {"F32": ("f", 4), "F64": ("d", 8), "I32": ("i", 4), "I64": ("q", 8)}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        code, width = FORMATS[info["dtype"]]
        start, end = info["data_offsets"]
        count = (end - start) // width
        tensors[name] = (info["shape"], struct.unpack("<%d%s" % (count, code), body[start:end]))
    return tensors, header.get("__metadata__", {})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--prefix", default="", help="compare only tensors whose name starts with this")
    args = parser.parse_args()
    a, meta_a = read(args.a)
    b, meta_b = read(args.b)
    worst, worst_name, failures = 0.0, None, []
    compared = 0
    for name, (shape, values) in sorted(a.items()):
        if not name.startswith(args.prefix):
            continue
        if name not in b:
            failures.append("%s is missing in %s" % (name, args.b))
            continue
        shape_b, values_b = b[name]
        if shape != shape_b:
            failures.append("%s has shape %s and %s" % (name, shape, shape_b))
            continue
        scale = max(max((abs(x) for x in values), default=0.0), 1e-30)
        diff = max((abs(x - y) for x, y in zip(values, values_b)), default=0.0)
        relative = diff / scale
        compared += 1
        if relative > worst:
            worst, worst_name = relative, name
        if relative > args.tolerance:
            failures.append("%s differs by %.3g relative (max |a-b| %.3g)" % (name, relative, diff))
    step_a, step_b = meta_a.get("recur.trainer.step"), meta_b.get("recur.trainer.step")
    if step_a != step_b:
        failures.append("steps differ: %s and %s" % (step_a, step_b))
    print("%d tensors compared, largest relative difference %.3g (%s)" % (compared, worst, worst_name))
    for f in failures:
        print("  " + f)
    if compared == 0:
        print("  no tensors compared")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

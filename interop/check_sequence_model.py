#!/usr/bin/env python3
"""Recur → PyTorch for vector-sequence models: loads a ``recur fit`` checkpoint with
recur_torch.load_sequence_model_from_recur, runs it over a sequence file (JSON Lines), and checks that its
outputs equal those ``recur predict`` wrote (JSON Lines, one line per sequence), to 1e-5.

    python3 interop/check_sequence_model.py model.safetensors data.jsonl predictions.jsonl
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recur_torch  # noqa: E402


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    model = recur_torch.load_sequence_model_from_recur(sys.argv[1])
    rows = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
    xs = [[step if isinstance(step, list) else [step] for step in row["x"]] for row in rows]
    lengths = torch.tensor([len(x) for x in xs])
    steps, features = int(lengths.max()), len(xs[0][0])
    batch = torch.zeros(len(xs), steps, features, dtype=torch.float64)
    for b, x in enumerate(xs):
        batch[b, :len(x)] = torch.tensor(x, dtype=torch.float64)
    with torch.no_grad():
        ours = recur_torch._working_copy(model, torch.float64)(batch, lengths)
    worst = 0.0
    for b, line in enumerate(open(sys.argv[3])):
        recur = json.loads(line)
        if model.readout is None:
            got = torch.tensor(recur["p"] if "p" in recur else recur["y"], dtype=torch.float64).reshape(len(xs[b]), -1)
            want = ours[b, :len(xs[b])].reshape(len(xs[b]), -1)
        else:
            got = torch.tensor(recur["p"] if "p" in recur else recur["y"], dtype=torch.float64).reshape(-1)
            want = ours[b].reshape(-1)
        worst = max(worst, (got - want).abs().max().item())
    print(f"{len(xs)} sequences: PyTorch and recur predict differ by at most {worst:.2e}")
    return 0 if worst <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())

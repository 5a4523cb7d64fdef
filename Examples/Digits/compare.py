#!/usr/bin/env python3
"""Test accuracy on scikit-learn's handwritten digits (read row by row: 8 steps of 8 features, one label per
image) for Recur's cells, one and two directions, next to PyTorch's figure for the same model, split and
budget.

Every run: one layer of H = 64, the class read off the last step (for two directions: the output at the last
step, [h→_8, h←_8], as PyTorch's output[:, -1]), a linear head and softmax cross-entropy, Adam at 0.01,
global-norm clipping at 1, batch 32, a fixed number of epochs over the 1437 training images (each epoch in a
new random order), PyTorch's default initialization (the LSTM's forget-gate bias set to 1 in both), seed 1.
Test accuracy on the 360 test images of the fixed split in make_digits.py. The chapter's gated RNN exists only
in Recur.

    python3 Examples/Digits/compare.py [--epochs 15] [--recur .build/release/recur] [--threads 1]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
CELLS = [("rnn", "the chapter's RNN (tanh)", torch.nn.RNN), ("gated", "the chapter's gated RNN", None),
         ("lstm", "LSTM", torch.nn.LSTM), ("gru", "GRU", torch.nn.GRU)]
HIDDEN, BATCH, LEARNING_RATE, CLIP, SEED = 64, 32, 0.01, 1.0, 1


def read(path):
    rows = [json.loads(line) for line in open(path)]
    return torch.tensor([r["x"] for r in rows], dtype=torch.float32), torch.tensor([r["y"] for r in rows])


def recur(binary, cell, bidirectional, epochs, threads, folder):
    checkpoint = os.path.join(folder, f"{cell}-{bidirectional}.safetensors")
    command = [binary, "fit", "--data", os.path.join(HERE, "digits-train.jsonl"), "--cell", cell,
               "--hidden", str(HIDDEN), "--epochs", str(epochs), "--batch-size", str(BATCH),
               "--learning-rate", str(LEARNING_RATE), "--clip", str(CLIP), "--seed", str(SEED), "--validation", "0",
               "--readout", "last", "--threads", str(threads), "--checkpoint", checkpoint]
    if bidirectional:
        command.append("--bidirectional")
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    result = subprocess.run([binary, "eval", "--checkpoint", checkpoint, "--data",
                             os.path.join(HERE, "digits-test.jsonl"), "--json"], check=True, capture_output=True, text=True)
    return json.loads(result.stdout)["accuracy"], seconds


class Model(torch.nn.Module):
    def __init__(self, module, bidirectional):
        super().__init__()
        keywords = {"nonlinearity": "tanh"} if module is torch.nn.RNN else {}
        self.rnn = module(8, HIDDEN, batch_first=True, bidirectional=bidirectional, **keywords)
        self.head = torch.nn.Linear(HIDDEN * (2 if bidirectional else 1), 10)
        if module is torch.nn.LSTM:
            with torch.no_grad():
                for name, p in self.rnn.named_parameters():
                    if name.startswith("bias_ih"):
                        p[HIDDEN:2 * HIDDEN] = 1.0  # gate order i, f, g, o
                    elif name.startswith("bias_hh"):
                        p[HIDDEN:2 * HIDDEN] = 0.0

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def pytorch(module, bidirectional, epochs, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(SEED)
    x, y = read(os.path.join(HERE, "digits-train.jsonl"))
    tx, ty = read(os.path.join(HERE, "digits-test.jsonl"))
    model = Model(module, bidirectional)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), BATCH):
            batch = order[i:i + BATCH]
            loss = F.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(tx).argmax(1) == ty).float().mean().item()
    return accuracy, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--recur", default=".build/release/recur")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"| cell | directions | Recur test accuracy (training s) | PyTorch test accuracy (training s) |")
    print("|---|---|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for cell, label, module in CELLS:
            for bidirectional in (False, True):
                ours, our_seconds = recur(args.recur, cell, bidirectional, args.epochs, args.threads, folder)
                theirs = "—"
                if module is not None:
                    accuracy, seconds = pytorch(module, bidirectional, args.epochs, args.threads)
                    theirs = f"{accuracy:.4f} ({seconds:.1f})"
                print(f"| {label} | {2 if bidirectional else 1} | {ours:.4f} ({our_seconds:.1f}) | {theirs} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

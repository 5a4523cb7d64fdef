#!/usr/bin/env python3
"""Writes scikit-learn's handwritten digits as sequences for `recur fit`: each 8×8 image read row by row, 8
steps of 8 features (pixel intensities 0–16 divided by 16), one label per sequence (the digit).

The data: `sklearn.datasets.load_digits()` — the 1797 8×8 images of the UCI "Optical Recognition of
Handwritten Digits" test set that scikit-learn ships inside the package (no download). The split is fixed:
`train_test_split(test_size=0.2, random_state=0, stratify=labels)`, 1437 training and 360 test images.

    python3 Examples/Digits/make_digits.py [FOLDER]     # writes FOLDER/digits-train.jsonl, digits-test.jsonl
"""

import json
import os
import sys

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def sequences():
    """(x, y) pairs: x a list of 8 rows of 8 numbers in [0, 1], y the digit."""
    digits = load_digits()
    images = digits.images / 16.0
    return [(image.tolist(), int(label)) for image, label in zip(images, digits.target)]


def split():
    pairs = sequences()
    labels = [y for _, y in pairs]
    train, test = train_test_split(pairs, test_size=0.2, random_state=0, stratify=labels)
    return train, test


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(folder, exist_ok=True)
    train, test = split()
    for name, part in (("digits-train.jsonl", train), ("digits-test.jsonl", test)):
        with open(os.path.join(folder, name), "w") as f:
            for x, y in part:
                f.write(json.dumps({"x": x, "y": y}, separators=(",", ":")) + "\n")
        print(f"{len(part)} sequences written to {os.path.join(folder, name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

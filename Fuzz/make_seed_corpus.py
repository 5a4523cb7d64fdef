#!/usr/bin/env python3
"""Writes the seed corpus of the safetensors fuzz target into Fuzz/corpus/safetensors/.

Run from anywhere: python3 Fuzz/make_seed_corpus.py (needs torch and safetensors). The seeds are small
valid files covering every dtype, metadata, scalars and empty tensors, plus a few near-misses.
"""
import os
import struct

import torch
from safetensors.torch import save

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "safetensors")
os.makedirs(out, exist_ok=True)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def raw(header, buffer=b""):
    encoded = header.encode()
    return struct.pack("<Q", len(encoded)) + encoded + buffer


g = torch.Generator().manual_seed(0)
write("all-dtypes", save({
    "f64": torch.randn(2, 2, generator=g, dtype=torch.float64),
    "f32": torch.randn(3, generator=g),
    "f16": torch.randn(3, generator=g).half(),
    "bf16": torch.randn(2, 1, generator=g).bfloat16(),
    "i64": torch.tensor([-1, 2**40]),
    "i32": torch.tensor([7], dtype=torch.int32),
    "i16": torch.tensor([-3], dtype=torch.int16),
    "i8": torch.tensor([-4, 5], dtype=torch.int8),
    "u8": torch.tensor([255], dtype=torch.uint8),
    "bool": torch.tensor([True, False]),
}))
write("metadata", save({"w": torch.ones(2, 2)}, metadata={"format": "pt", "vocab": "ab\\n\"c\u00e9"}))
write("scalar-and-empty", save({"s": torch.tensor(3.5), "e": torch.zeros(0, 4)}))
write("empty-file", save({}))
write("one-f32", save({"rnn.weight_hh_l0": torch.arange(4, dtype=torch.float32).reshape(2, 2)}))
write("overlap", raw('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},'
                     '"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', b"abc"))
write("escapes", raw('{"\\u00e9\\ud83d\\ude00\\n":{"dtype":"I16","shape":[1],"data_offsets":[0,2]}}', b"\x01\x02"))
write("truncated", save({"x": torch.ones(4)})[:30])

"""What the PyTorch fixture generators next to this file share.

The cell kinds, the random draws (PyTorch's default init from the global seed, float32 normals from the
fixture's own generator), a padded batch of variable-length sequences, the packed forward and backward of a
recurrent module under probe weights, the float32-in / float64-computed / float32-stored round trip, the
reload of a committed file and the float64 recheck of its stored results, and the write-then-verify main.
"""

import argparse
import os
import sys

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from safetensors import safe_open

FIXTURES = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(FIXTURES, "..", "..", "..", "interop"))
from recur_torch import save_safetensors  # noqa: E402,F401  (deterministic safetensors writer)

KINDS = {
    # kind: (metadata mode, module class, constructor keywords)
    "rnn_tanh": ("RNN_TANH", nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": ("RNN_RELU", nn.RNN, {"nonlinearity": "relu"}),
    "gru": ("GRU", nn.GRU, {}),
    "lstm": ("LSTM", nn.LSTM, {}),
}

TORCH_VERSION = torch.__version__.split("+")[0]


def reseed(generator):
    """Seeds PyTorch's global generator (used by the modules' default init) from `generator`, and returns a
    sampler of float32 standard normals drawn from `generator`."""
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))

    def rand(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float32)

    return rand


def padded_input(rand, steps, input_size, lengths):
    """A batch_first input [B, T, I] of normals, zero beyond each sequence's length."""
    x = rand(len(lengths), steps, input_size)
    for b, n in enumerate(lengths):
        x[b, n:] = 0
    return x


def as_float64(tensors, names=None):
    """The floating-point tensors widened to float64 (others as they are), optionally only those named."""
    return {k: (v.double() if v.is_floating_point() else v) for k, v in tensors.items()
            if names is None or k in names}


def packed_outputs(module, x, lengths, steps, state=None):
    """Runs `module` over the packed batch; returns the padded output [B, T, ·] and the final state."""
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    packed_out, final = module(packed, state)
    output, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=steps)
    return output, final


def run_probed(module, kind, tensors, steps):
    """Forward and backward in the module's dtype under the probe loss
    sum(output * w_out) + sum(h_n * w_h) (+ sum(c_n * w_c) for the LSTM); returns outputs, loss and
    gradients (detached)."""
    is_lstm = kind == "lstm"
    leaves = dict(module.named_parameters())
    x = tensors["input"].clone().requires_grad_(True)
    h0 = tensors["h0"].clone().requires_grad_(True)
    c0 = tensors["c0"].clone().requires_grad_(True) if is_lstm else None
    output, state = packed_outputs(module, x, tensors["lengths"], steps, (h0, c0) if is_lstm else h0)
    h_n, c_n = state if is_lstm else (state, None)
    loss = (output * tensors["w_out"]).sum() + (h_n * tensors["w_h"]).sum()
    if is_lstm:
        loss = loss + (c_n * tensors["w_c"]).sum()
    wrt = list(leaves.values()) + [x, h0] + ([c0] if is_lstm else [])
    grads = torch.autograd.grad(loss, wrt)
    result = {"output": output, "h_n": h_n, "loss": loss.reshape(1)}
    if is_lstm:
        result["c_n"] = c_n
    names = [f"grad.{n}" for n in leaves] + ["grad.input", "grad.h0"] + (["grad.c0"] if is_lstm else [])
    result.update(zip(names, grads))
    return {k: v.detach() for k, v in result.items()}


def stored_tensors(module, inputs, run):
    """The float32 parameters and inputs, and `run(module in float64, inputs in float64)` rounded once to
    float32: the tensors of one fixture file."""
    params = {n: p.detach().clone() for n, p in module.named_parameters()}
    results = run(module.double(), as_float64(inputs))
    tensors = {}
    tensors.update(params)
    tensors.update(inputs)
    tensors.update({k: v.float() for k, v in results.items()})
    return {k: v.contiguous() for k, v in tensors.items()}


def fixture_metadata(generator, kind, layers, input_size, hidden_size, batch, steps, **extra):
    """The metadata every fixture file carries (the writer sorts the keys), and `extra`."""
    return {
        "generator": generator,
        "mode": KINDS[kind][0],
        "num_layers": str(layers),
        "input_size": str(input_size),
        "hidden_size": str(hidden_size),
        "batch": str(batch),
        "steps": str(steps),
        "computed_dtype": "float64",
        "stored_dtype": "float32",
        "torch_version": TORCH_VERSION,
        **extra,
    }


def load(path):
    """The metadata and tensors of one committed file."""
    with safe_open(path, framework="pt") as f:
        return f.metadata(), {k: f.get_tensor(k) for k in f.keys()}


def load_parameters(module, stored):
    """Copies the stored float32 parameters (under the module's own names) into `module`."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            assert stored[name].dtype == torch.float32 and stored[name].shape == p.shape, name
            p.copy_(stored[name].double())
    return module


def recheck(path, stored, results, tolerance=1e-7):
    """Checks every recomputed result against the stored one (float32, same shape, within `tolerance`
    relative to the result's largest entry); returns the worst relative difference."""
    worst = 0.0
    for name, expected in results.items():
        got = stored[name]
        assert got.dtype == torch.float32 and got.shape == expected.shape, name
        scale = expected.abs().max().item() or 1.0
        err = (got.double() - expected).abs().max().item() / scale
        worst = max(worst, err)
        assert err <= tolerance, f"{path}: {name} differs by {err:.3g} (relative to its largest entry)"
    return worst


def main(description, seed, cases, generate, verify):
    """Unless --verify-only: writes every case from one generator seeded with `seed`. Then re-verifies
    every case, printing the line `verify` returns."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--verify-only", action="store_true", help="only re-check the committed files")
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    if not args.verify_only:
        generator = torch.Generator().manual_seed(seed)
        for case in cases:
            generate(*case, generator)
    for case in cases:
        print(verify(*case))
    return 0

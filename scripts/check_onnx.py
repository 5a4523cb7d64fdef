"""Checks Recur's ONNX export against ONNX Runtime.

    python3 scripts/check_onnx.py DIR [MODEL.onnx ...]

DIR holds what `swift run ONNXReference DIR` wrote: <case>.onnx and <case>.reference.safetensors (inputs,
sequence_lens, h0, c0 and Recur's outputs and final states). For every case this script

- runs onnx.checker.check_model (full check, with shape inference);
- runs the whole batch of sequences of different lengths in ONNX Runtime and compares `output` at every
  valid step and the final states `hn`/`cn` with Recur's (largest absolute difference ≤ 1e-5);
- for a one-direction model, runs each sequence again one step at a time (T = 1, feeding `hn`/`cn` back
  as `h0`/`c0`) and compares every step's output and the final state the same way. A bidirectional model
  (a recurrent node with direction = "bidirectional") has no step-by-step use: its reverse direction
  reads the steps after t, so it is checked on whole sequences, where the reverse direction starts at each
  sequence's own last valid step (the batch's lengths differ).

Further MODEL.onnx arguments (for example written by `recur export --onnx`) get the checker and one
ONNX Runtime run on a short batch.

Needs numpy, onnx, onnxruntime and safetensors. Prints the largest difference and exits non-zero on any
failure.
"""

import glob
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from safetensors.numpy import load_file

TOLERANCE = 1e-5


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def is_bidirectional(model):
    return any(
        a.name == "direction" and a.s == b"bidirectional" for node in model.graph.node for a in node.attribute
    )


def check_case(model_path, reference_path):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    bidirectional = is_bidirectional(model)
    ref = load_file(reference_path)
    s = session(model_path)
    names = {i.name for i in s.get_inputs()}
    token_model = "tokens" in names
    x = ref["tokens"].astype(np.int64) if token_model else ref["inputs"].astype(np.float32)
    lengths = ref["sequence_lens"].astype(np.int32)
    has_c = "c0" in names
    feeds = {"tokens" if token_model else "inputs": x, "sequence_lens": lengths, "h0": ref["h0"]}
    if has_c:
        feeds["c0"] = ref["c0"]
    outputs = dict(zip([o.name for o in s.get_outputs()], s.run(None, feeds)))
    worst = 0.0
    B = lengths.shape[0]
    # Whole sequence: every valid step's output and the final states.
    for b in range(B):
        n = lengths[b]
        worst = max(worst, float(np.abs(outputs["output"][:n, b] - ref["output"][:n, b]).max()))
    worst = max(worst, float(np.abs(outputs["hn"] - ref["hn"]).max()))
    if has_c:
        worst = max(worst, float(np.abs(outputs["cn"] - ref["cn"]).max()))
    whole = worst
    if bidirectional:
        return whole, None
    # Step by step: one sequence at a time, T = 1, the state fed back.
    for b in range(B):
        h = ref["h0"][:, b : b + 1]
        c = ref["c0"][:, b : b + 1] if has_c else None
        for t in range(lengths[b]):
            step_feeds = {
                "tokens" if token_model else "inputs": x[t : t + 1, b : b + 1],
                "sequence_lens": np.array([1], dtype=np.int32),
                "h0": h,
            }
            if has_c:
                step_feeds["c0"] = c
            out = dict(zip([o.name for o in s.get_outputs()], s.run(None, step_feeds)))
            worst = max(worst, float(np.abs(out["output"][0, 0] - ref["output"][t, b]).max()))
            h = out["hn"]
            c = out["cn"] if has_c else None
        worst = max(worst, float(np.abs(h[:, 0] - ref["hn"][:, b]).max()))
        if has_c:
            worst = max(worst, float(np.abs(c[:, 0] - ref["cn"][:, b]).max()))
    return whole, worst


def smoke(model_path):
    """The checker and one run of a model written by the command line (no reference outputs)."""
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    s = session(model_path)
    feeds = {}
    T, B = 5, 2
    for i in s.get_inputs():
        if i.name == "tokens":
            feeds[i.name] = np.zeros((T, B), dtype=np.int64)
        elif i.name == "inputs":
            feeds[i.name] = np.zeros((T, B, i.shape[2]), dtype=np.float32)
        elif i.name == "sequence_lens":
            feeds[i.name] = np.array([T, T - 2], dtype=np.int32)
        else:
            feeds[i.name] = np.zeros((i.shape[0], B, i.shape[2]), dtype=np.float32)
    out = s.run(["output"], feeds)[0]
    assert np.isfinite(out).all(), f"{model_path}: non-finite outputs"
    return out.shape


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cases = sorted(glob.glob(os.path.join(sys.argv[1], "*.onnx")))
    if not cases:
        sys.exit(f"no .onnx files in {sys.argv[1]}")
    failures = 0
    overall = 0.0
    for model_path in cases:
        name = os.path.basename(model_path)[: -len(".onnx")]
        whole, steps = check_case(model_path, os.path.join(sys.argv[1], name + ".reference.safetensors"))
        worst = whole if steps is None else steps
        overall = max(overall, worst)
        status = "ok" if worst <= TOLERANCE else "FAIL"
        failures += status != "ok"
        stepped = "(bidirectional: whole sequences only)" if steps is None else f"with steps {steps:.2e}"
        print(f"{status:4}  {name:48}  max |ONNX Runtime − Recur|: whole {whole:.2e}, {stepped}")
    for model_path in sys.argv[2:]:
        print(f"ok    {model_path}: checker passed, output {smoke(model_path)}")
    print(f"{len(cases)} models, largest difference {overall:.2e} (tolerance {TOLERANCE:.0e})")
    if failures:
        sys.exit(f"{failures} models differ from Recur by more than {TOLERANCE}")


if __name__ == "__main__":
    main()

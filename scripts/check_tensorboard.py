"""Reads the TensorBoard event files of a `recur train`/`recur fit --tensorboard DIR` run back with
TensorBoard's own reader (EventAccumulator) and compares every scalar with the run's metrics.jsonl.

    python3 scripts/check_tensorboard.py DIR RUN.metrics.jsonl [--samples]

Each metrics line's `loss`, `val_loss` (when present), `lr`, `grad_norm` and `tokens_per_s` must appear at
its step under loss/train, loss/validation, learning_rate, gradient_norm and tokens_per_second, equal up to
float32 rounding, and no scalar may appear that the metrics do not have. The run's command and options
must be there as text; with --samples, a text sample at every validation step.
"""

import json
import sys

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

TAGS = {"loss": "loss/train", "val_loss": "loss/validation", "lr": "learning_rate",
        "grad_norm": "gradient_norm", "tokens_per_s": "tokens_per_second"}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    directory, metrics_path = sys.argv[1], sys.argv[2]
    want_samples = "--samples" in sys.argv[3:]
    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0, "tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    expected = {tag: {} for tag in TAGS.values()}
    with open(metrics_path) as f:
        for line in f:
            row = json.loads(line)
            for key, tag in TAGS.items():
                if key in row:
                    expected[tag][row["step"]] = row[key]
    compared = 0
    for tag, values in expected.items():
        events = accumulator.Scalars(tag) if tag in tags["scalars"] else []
        got = {e.step: e.value for e in events}
        if set(got) != set(values):
            sys.exit(f"{tag}: steps {sorted(set(got) ^ set(values))[:5]} differ between the event file and metrics.jsonl")
        for step, value in values.items():
            if np.float32(value) != np.float32(got[step]):
                sys.exit(f"{tag} at step {step}: event file {got[step]}, metrics.jsonl {value}")
            compared += 1
    extra = set(tags["scalars"]) - set(TAGS.values())
    if extra:
        sys.exit(f"scalars not in metrics.jsonl: {sorted(extra)}")
    texts = set(tags["tensors"])
    for tag in ["run/command", "run/options"]:
        if tag not in texts:
            sys.exit(f"no {tag} text in the event file")
    command = accumulator.Tensors("run/command")[0].tensor_proto.string_val[0].decode()
    samples = 0
    if want_samples:
        validation_steps = set(expected["loss/validation"])
        events = accumulator.Tensors("samples") if "samples" in texts else []
        if {e.step for e in events} != validation_steps:
            sys.exit(f"samples at steps {sorted(e.step for e in events)}, validations at {sorted(validation_steps)}")
        if accumulator.SummaryMetadata("samples").plugin_data.plugin_name != "text":
            sys.exit("the samples are not marked for the text plugin")
        samples = len(events)
    print(f"ok: {compared} scalars equal to metrics.jsonl, {samples} samples, command {command.strip()!r}")


if __name__ == "__main__":
    main()

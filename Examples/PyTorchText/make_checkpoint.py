"""Trains the small PyTorch language model that Examples/PyTorchText loads by default.

Run from the repository root (needs torch and safetensors):

    python3 Examples/PyTorchText/make_checkpoint.py

It trains interop/recur_torch.py's RecurLM (a one-layer LSTM) on Resources/machines.txt with truncated
BPTT and Adam, prints the evaluation loss of the shared definition, and writes Resources/machines.safetensors
with save_for_recur. Training is seeded; the file is small enough to commit.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "interop"))

import torch  # noqa: E402
from recur_torch import RecurLM, Vocabulary, eval_loss, save_for_recur  # noqa: E402

torch.manual_seed(0)
text = open(os.path.join(HERE, "Resources", "machines.txt"), encoding="utf-8").read()
vocabulary = Vocabulary.from_text(text)
model = RecurLM("lstm", len(vocabulary), 16, 96, 1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
ids = torch.tensor(vocabulary.encode(text))
B, T = 8, 32
stream = (len(ids) - 1) // B
inputs = ids[: B * stream].view(B, stream)
targets = ids[1 : B * stream + 1].view(B, stream)
for epoch in range(150):
    state = None
    for start in range(0, stream - T + 1, T):
        logits, state = model(inputs[:, start : start + T], state)
        state = tuple(s.detach() for s in state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(vocabulary)),
                                                 targets[:, start : start + T].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
print("evaluation loss", eval_loss(model, vocabulary, text), "nats per character")
save_for_recur(model, vocabulary, os.path.join(HERE, "Resources", "machines.safetensors"))

"""Exchange character language models between PyTorch and Recur.

Needs only ``torch`` and ``safetensors``. A Recur language-model checkpoint ("recur-lm-1") is a
safetensors file whose tensors are the ``state_dict`` of :class:`RecurLM` (float32) and whose
``__metadata__`` describes the model and its vocabulary; see docs/pytorch-interchange.md.

    model, vocabulary = load_from_recur("shakespeare.safetensors")     # trained by Recur (or a model folder)
    print(eval_loss(model, vocabulary, open("valid.txt").read()))      # nats per character
    save_for_recur(model, vocabulary, "for-recur.safetensors")         # back to Recur

Shapes: ``B`` batch, ``T`` time steps, ``V`` vocabulary size, ``E`` embedding size, ``H`` hidden size,
``L`` layers.
"""

import copy
import json
import os
import struct

import torch
import torch.nn.functional as F
from torch import nn
from safetensors import safe_open
from safetensors.torch import save as _safetensors_bytes

FORMAT = "recur-lm-1"
START = "<start>"
END = "<end>"
RECUR_PREFIX = "recur."
AVERAGE_PREFIX = "recur.average."

# cell name in the metadata -> (torch module class, constructor keywords)
CELLS = {
    "lstm": (nn.LSTM, {}),
    "gru": (nn.GRU, {}),
    "rnn_tanh": (nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
}
RECUR_ONLY_CELLS = {"gated_tanh"}


class RecurFormatError(ValueError):
    """A file or model that does not follow the recur-lm-1 contract."""


def _check_tensors(path, model, tensors):
    """Raises RecurFormatError unless `tensors` holds exactly the model's tensors, each of its shape."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise RecurFormatError(f"{path}: missing tensors {missing}, unexpected tensors {unexpected}")
    for name, want in expected.items():
        if tensors[name].shape != want.shape:
            raise RecurFormatError(f"{path}: tensor {name!r} has shape {list(tensors[name].shape)}, "
                                   f"expected {list(want.shape)}")


class RecurLM(nn.Module):
    """Embedding, a stack of recurrent layers and a linear head: the model Recur trains on text.

    Parameters are ``embedding.weight`` [V, E], ``rnn.*`` (PyTorch's own names, e.g. ``rnn.weight_ih_l0``)
    and ``head.weight`` [V, H], ``head.bias`` [V].
    """

    def __init__(self, cell, vocab_size, embedding_size, hidden_size, num_layers=1, dropout=0.0):
        super().__init__()
        if cell in RECUR_ONLY_CELLS:
            raise RecurFormatError(f"cell {cell!r} exists only in Recur and has no PyTorch module")
        if cell not in CELLS:
            raise RecurFormatError(f"unknown cell {cell!r}; expected one of {sorted(CELLS)}")
        module, keywords = CELLS[cell]
        self.cell = cell
        self.dropout = float(dropout)
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.rnn = module(embedding_size, hidden_size, num_layers=num_layers, batch_first=True,
                          dropout=self.dropout, **keywords)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens, state=None):
        """Logits [B, T, V] and the final state for token ids [B, T] (``state`` None means zero)."""
        output, state = self.rnn(self.embedding(tokens), state)
        return self.head(output), state


class Vocabulary:
    """Token ids for text: one id per Unicode character ("characters") or per byte ("bytes"),
    then ``<start>`` and ``<end>``. ``tokens[i]`` is the string of token id ``i``."""

    def __init__(self, kind, tokens):
        if kind not in ("characters", "bytes"):
            raise RecurFormatError(f"unknown vocabulary kind {kind!r}; expected 'characters' or 'bytes'")
        tokens = list(tokens)
        if len(set(tokens)) != len(tokens):
            raise RecurFormatError("vocabulary tokens are not unique")
        if tokens[-2:] != [START, END]:
            raise RecurFormatError(f"vocabulary must end with {START!r}, {END!r}")
        for t in tokens[:-2]:
            if len(t) != 1:
                raise RecurFormatError(f"vocabulary entry {t!r} is not a single Unicode character")
        if kind == "bytes" and tokens[:-2] != [chr(b) for b in range(256)]:
            raise RecurFormatError("a bytes vocabulary must list U+0000 to U+00FF, then <start>, <end>")
        self.kind = kind
        self.tokens = tokens
        self._ids = {t: i for i, t in enumerate(tokens)}

    @classmethod
    def from_text(cls, text):
        """The characters vocabulary of ``text``: its sorted unique characters, then <start>, <end>."""
        return cls("characters", sorted(set(text)) + [START, END])

    @classmethod
    def of_bytes(cls):
        """The bytes vocabulary: 256 byte values, then <start>, <end>."""
        return cls("bytes", [chr(b) for b in range(256)] + [START, END])

    def __len__(self):
        return len(self.tokens)

    @property
    def start(self):
        """The id of ``<start>``."""
        return self._ids[START]

    @property
    def end(self):
        """The id of ``<end>``."""
        return self._ids[END]

    def encode(self, text):
        """Token ids of ``text`` (its characters, or its UTF-8 bytes in bytes mode); no <start>/<end>."""
        units = [chr(b) for b in text.encode("utf-8")] if self.kind == "bytes" else text
        try:
            return [self._ids[u] for u in units]
        except KeyError as missing:
            raise RecurFormatError(f"character {missing.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids):
        """Text of token ids; <start> and <end> are dropped (bytes mode decodes UTF-8, replacing errors)."""
        units = "".join(self.tokens[i] for i in ids if i not in (self.start, self.end))
        if self.kind == "bytes":
            return bytes(ord(u) for u in units).decode("utf-8", errors="replace")
        return units

    def metadata(self):
        """The ``vocabulary.*`` metadata entries of a checkpoint."""
        return {"vocabulary.kind": self.kind,
                "vocabulary.tokens": json.dumps(self.tokens, ensure_ascii=False)}


def save_safetensors(tensors, path, metadata):
    """Writes a safetensors file whose bytes depend only on its contents (metadata keys sorted)."""
    raw = _safetensors_bytes({k: v.detach().contiguous() for k, v in tensors.items()}, metadata=metadata)
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    ordered = {"__metadata__": dict(sorted(header.pop("__metadata__", {}).items()))}
    ordered.update(header)
    text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + raw[8 + length:])


def save_for_recur(model, vocabulary, path, extra_metadata=None):
    """Saves a :class:`RecurLM` and its :class:`Vocabulary` as a recur-lm-1 safetensors file (float32)."""
    if len(vocabulary) != model.embedding.num_embeddings:
        raise RecurFormatError(f"vocabulary has {len(vocabulary)} tokens but the model "
                               f"{model.embedding.num_embeddings}")
    metadata = {
        "format": FORMAT,
        "model.cell": model.cell,
        "model.vocab_size": str(model.embedding.num_embeddings),
        "model.embedding_size": str(model.embedding.embedding_dim),
        "model.hidden_size": str(model.rnn.hidden_size),
        "model.num_layers": str(model.rnn.num_layers),
        "model.dropout": repr(float(model.dropout)) if model.dropout else "0",
    }
    metadata.update(vocabulary.metadata())
    metadata.update(extra_metadata or {})
    tensors = {name: t.detach().float() for name, t in model.state_dict().items()}
    save_safetensors(tensors, path, metadata)


def _metadata_int(metadata, key):
    try:
        return int(metadata[key])
    except KeyError:
        raise RecurFormatError(f"metadata key {key!r} is missing") from None
    except ValueError:
        raise RecurFormatError(f"metadata {key!r} = {metadata[key]!r} is not a decimal integer") from None


MODEL_FOLDER_FILES = ("config.json", "model.safetensors", "vocab.json")


def model_file(path):
    """The checkpoint file of ``path``: the file itself, or the ``model.safetensors`` of a model folder
    written by ``recur export --folder`` (whose other files must be there too)."""
    if not os.path.isdir(path):
        return path
    for name in MODEL_FOLDER_FILES:
        if not os.path.isfile(os.path.join(path, name)):
            raise RecurFormatError(f"{path}: the model folder has no {name}")
    return os.path.join(path, "model.safetensors")


def _chosen_tensors(path, f, metadata, weights):
    """The model tensors of an open checkpoint and a line naming them: the average θ̄ that a run with
    ``recur train --average`` kept (``recur.average.*``) when ``weights`` is "averaged" and there is one,
    the raw weights θ otherwise."""
    if weights not in ("averaged", "raw"):
        raise ValueError(f"weights is {weights!r}, not 'averaged' or 'raw'")
    has_average = "recur.average.kind" in metadata and int(metadata.get("recur.average.count", "0")) > 0
    if weights == "averaged" and has_average:
        tensors = {k[len(AVERAGE_PREFIX):]: f.get_tensor(k) for k in f.keys() if k.startswith(AVERAGE_PREFIX)}
        return tensors, metadata.get("recur.average.summary", "averaged weights")
    tensors = {k: f.get_tensor(k) for k in f.keys() if not k.startswith(RECUR_PREFIX)}
    if has_average:
        return tensors, f"raw weights (the checkpoint's {metadata.get('recur.average.summary')} is not used)"
    return tensors, metadata.get("weights", "raw weights")


def load_from_recur(path, weights="averaged"):
    """Loads a recur-lm-1 file, or a model folder, as ``(RecurLM, Vocabulary)``; other ``recur.*`` tensors
    (optimizer and trainer state) are ignored.

    A training checkpoint of a run with weight averaging (``recur train --average``) loads the average θ̄ by
    default; ``weights="raw"`` takes the raw weights θ. The model's ``recur_weights`` attribute says which
    (for example "exponential moving average, decay 0.999, from step 0, 3248 steps averaged")."""
    path = model_file(path)
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
        tensors, description = _chosen_tensors(path, f, metadata, weights)
    if metadata.get("format") != FORMAT:
        raise RecurFormatError(f"{path}: format is {metadata.get('format')!r}, expected {FORMAT!r}")
    for key in ("model.cell", "vocabulary.kind", "vocabulary.tokens"):
        if key not in metadata:
            raise RecurFormatError(f"{path}: metadata key {key!r} is missing")
    vocabulary = Vocabulary(metadata["vocabulary.kind"], json.loads(metadata["vocabulary.tokens"]))
    model = RecurLM(metadata["model.cell"],
                    _metadata_int(metadata, "model.vocab_size"),
                    _metadata_int(metadata, "model.embedding_size"),
                    _metadata_int(metadata, "model.hidden_size"),
                    _metadata_int(metadata, "model.num_layers"),
                    float(metadata.get("model.dropout", "0")))
    if len(vocabulary) != model.embedding.num_embeddings:
        raise RecurFormatError(f"{path}: {len(vocabulary)} vocabulary tokens but model.vocab_size "
                               f"{model.embedding.num_embeddings}")
    _check_tensors(path, model, tensors)
    model.load_state_dict(tensors, strict=False)
    model.recur_weights = description
    return model, vocabulary


def _working_copy(model, dtype):
    """A copy of ``model`` in ``dtype`` with dropout off (eval mode)."""
    return copy.deepcopy(model).to(dtype).eval()


def eval_loss(model, vocabulary, text, dtype=torch.float64):
    """Recur's evaluation loss: mean cross-entropy (nats) of every character after the first,
    predicted from all characters before it, in one stream from the zero state (no <start> token).

    Computed on a copy of the model in ``dtype`` (float64 by default, the exact reference)."""
    ids = vocabulary.encode(text)
    if len(ids) < 2:
        raise ValueError("eval_loss needs a text of at least two characters")
    work = _working_copy(model, dtype)
    tokens = torch.tensor(ids, dtype=torch.int64).unsqueeze(0)  # [1, T+1]
    with torch.no_grad():
        logits, _ = work(tokens[:, :-1])  # [1, T, V]
        return F.cross_entropy(logits[0], tokens[0, 1:]).item()


def sgd_step(model, vocabulary, text, seq_len, lr, dtype=torch.float64):
    """One plain SGD step (p -= lr * grad) on the first ``seq_len + 1`` characters of ``text``.

    Batch size 1, x = chars[0:seq_len], y = chars[1:seq_len+1], zero initial state, loss = mean
    cross-entropy over the seq_len predictions, no clipping, no dropout. The gradient is computed on a
    copy of the model in ``dtype``; ``model`` is updated in place. Returns the loss before the step."""
    ids = vocabulary.encode(text)
    if len(ids) < seq_len + 1:
        raise ValueError(f"sgd_step needs {seq_len + 1} characters, the text has {len(ids)}")
    work = _working_copy(model, dtype)
    tokens = torch.tensor(ids[:seq_len + 1], dtype=torch.int64).unsqueeze(0)  # [1, seq_len+1]
    logits, _ = work(tokens[:, :-1])
    loss = F.cross_entropy(logits[0], tokens[0, 1:])
    work.zero_grad()
    loss.backward()
    gradients = dict(work.named_parameters())
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_((p.to(dtype) - lr * gradients[name].grad).to(p.dtype))
    return loss.item()


# Models over real vector sequences (`recur fit`): one or two directions, a target per step or per sequence.

ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda z: torch.softmax(z, dim=-1),
}
READOUTS = ("last", "mean", "max")


class RecurSequenceModel(nn.Module):
    """A stack of recurrent layers over I-feature vectors and a linear head: the model ``recur fit`` trains.

    Parameters are ``rnn.*`` (PyTorch's names; ``rnn.weight_ih_l0_reverse`` and so on when bidirectional) and
    ``head.weight`` [V, H·D], ``head.bias`` [V] with D = 2 directions when bidirectional, else 1. With a
    ``readout`` (``last``, ``mean``, ``max``) the model has one output per sequence, read off the top layer's
    outputs over each sequence's own steps; without one, an output per step.
    """

    def __init__(self, cell, input_size, hidden_size, output_size, num_layers=1, output_activation="identity",
                 bidirectional=False, readout=None):
        super().__init__()
        if cell in RECUR_ONLY_CELLS:
            raise RecurFormatError(f"cell {cell!r} exists only in Recur and has no PyTorch module")
        if cell not in CELLS:
            raise RecurFormatError(f"unknown cell {cell!r}; expected one of {sorted(CELLS)}")
        if output_activation not in ACTIVATIONS:
            raise RecurFormatError(f"unknown output activation {output_activation!r}")
        if readout is not None and readout not in READOUTS:
            raise RecurFormatError(f"unknown readout {readout!r}; expected one of {READOUTS}")
        module, keywords = CELLS[cell]
        self.cell = cell
        self.output_activation = output_activation
        self.readout = readout
        self.rnn = module(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                          bidirectional=bidirectional, **keywords)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)

    def forward(self, x, lengths):
        """Outputs g = f_o(z) for inputs [B, T, I] (zero beyond each length) and lengths [B]: [B, T, V] per step
        (zero beyond each length), or [B, V] with a readout."""
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
        steps = x.shape[1]
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=steps)
        mask = torch.arange(steps)[None, :] < lengths[:, None]
        f = ACTIVATIONS[self.output_activation]
        if self.readout is None:
            return f(self.head(out)) * mask[:, :, None]
        if self.readout == "last":
            p = out[torch.arange(x.shape[0]), lengths - 1]
        elif self.readout == "mean":
            p = out.sum(1) / lengths[:, None].to(out.dtype)
        else:
            p = out.masked_fill(~mask[:, :, None], float("-inf")).max(1).values
        return f(self.head(p))


def save_sequence_model_for_recur(model, path, targets=None, extra_metadata=None):
    """Saves a :class:`RecurSequenceModel` as a Recur checkpoint (float32) that ``recur predict`` and
    ``recur eval --data`` read; ``targets`` is ``values``, ``classes`` or ``binary`` (from the activation when
    None)."""
    rnn = model.rnn
    metadata = {
        "format": FORMAT,
        "model.cell": model.cell,
        "model.input_size": str(rnn.input_size),
        "model.hidden_size": str(rnn.hidden_size),
        "model.num_layers": str(rnn.num_layers),
        "model.dropout": "0",
        "model.output_size": str(model.head.out_features),
        "model.output_activation": model.output_activation,
        "data.targets": targets or {"softmax": "classes", "sigmoid": "binary"}.get(model.output_activation, "values"),
        "data.layout": "step" if model.readout is None else "sequence",
    }
    if rnn.bidirectional:
        metadata["model.bidirectional"] = "true"
    if model.readout is not None:
        metadata["data.readout"] = model.readout
    metadata.update(extra_metadata or {})
    save_safetensors({name: t.detach().float() for name, t in model.state_dict().items()}, path, metadata)


def load_sequence_model_from_recur(path, weights="averaged"):
    """Loads a Recur checkpoint of a vector-sequence model (``recur fit``) as a :class:`RecurSequenceModel`;
    other ``recur.*`` tensors (optimizer and trainer state) are ignored. With weight averaging, the average
    θ̄ by default (``weights="raw"``: θ); the model's ``recur_weights`` attribute says which."""
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
        tensors, description = _chosen_tensors(path, f, metadata, weights)
    if metadata.get("format") != FORMAT:
        raise RecurFormatError(f"{path}: format is {metadata.get('format')!r}, expected {FORMAT!r}")
    if "model.vocab_size" in metadata:
        raise RecurFormatError(f"{path}: a language model; load it with load_from_recur")
    bidirectional = metadata.get("model.bidirectional", "false")
    if bidirectional not in ("true", "false"):
        raise RecurFormatError(f"{path}: model.bidirectional is {bidirectional!r}, not true or false")
    readout = metadata.get("data.readout") if metadata.get("data.layout") == "sequence" else None
    model = RecurSequenceModel(metadata.get("model.cell"),
                               _metadata_int(metadata, "model.input_size"),
                               _metadata_int(metadata, "model.hidden_size"),
                               _metadata_int(metadata, "model.output_size"),
                               _metadata_int(metadata, "model.num_layers"),
                               metadata.get("model.output_activation", "identity"),
                               bidirectional == "true",
                               readout or ("last" if metadata.get("data.layout") == "sequence" else None))
    _check_tensors(path, model, tensors)
    model.load_state_dict(tensors)
    model.recur_weights = description
    return model

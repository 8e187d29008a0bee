"""The benchmark workloads: configurations, data and the registry of implementations (numpy only).

This module imports numpy and nothing else, so that each worker process (``worker.py``) loads only
the libraries of its own implementation: ``impl_tinyseq.py`` (tinyseq), ``impl_torch.py`` (PyTorch,
fused and composed) and ``impl_numpy.py`` (hand-written numpy). ``load(name)`` imports just the one
module that ``name`` needs.

Every implementation is a class with the same methods:

- ``__init__(cfg, state)``: build the model from ``state`` (numpy arrays under PyTorch's names:
  ``embed.weight`` (W2-W4 only), ``rnn.weight_ih_l0``, ``rnn.weight_hh_l0``, ``rnn.bias_ih_l0``,
  ``rnn.bias_hh_l0``, ``fc.weight``, ``fc.bias``) and its optimiser; raises ``NotImplementedError``
  if it has no version of this workload;
- ``loss_and_grads(x, y)``: forward + backward on one batch, returns ``(loss, {name: grad})``
  (no optimiser step; used by the correctness check);
- ``step(x, y)``: one full training step (forward over the sequence, cross-entropy over every step,
  full BPTT, clipping for W1, optimiser update);
- ``sample(us)``: characters sampled one at a time under no_grad, one per uniform in ``us``
  (inverse CDF with ``draw``), as a list of ints.

``x`` and ``y`` are int64 arrays ``(T, B)`` (sequence first). The hidden state starts at zero on
every step. The loss is the mean cross-entropy over all ``T*B`` positions. The reference weights
are tinyseq's freshly initialised ``state_dict`` (``impl_tinyseq.initial_state``).
"""
import importlib

import numpy as np

WORKLOADS = {
    # name: cell, V, embedding (None = one-hot input), H, B, T, optimiser, lr, clip
    "W1": dict(cell="RNN", V=65, E=None, H=100, B=1, T=25, opt="adagrad", lr=0.1, clip=5.0),
    "W2": dict(cell="LSTM", V=65, E=64, H=256, B=32, T=64, opt="adam", lr=2e-3, clip=None),
    "W3": dict(cell="LSTM", V=65, E=128, H=512, B=64, T=64, opt="adam", lr=2e-3, clip=None),
    "W4": dict(cell="GRU", V=65, E=64, H=256, B=32, T=64, opt="adam", lr=2e-3, clip=None),
}
# S1: sample characters one at a time from the W2 model under no_grad (inverse-CDF draws from
# shared uniforms, so every implementation must produce the same text)
WORKLOADS["S1"] = dict(WORKLOADS["W2"], sample=2000)
DESCRIPTION = {"W1": "min-char-rnn", "W2": "lstm-medium", "W3": "lstm-large", "W4": "gru-medium",
               "S1": "sampling"}
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}

# implementation name -> (module, class), in the order of the rounds and of the results table
IMPLEMENTATIONS = {
    "tinyseq": ("impl_tinyseq", "Tinyseq"),
    "torch-fused": ("impl_torch", "Torch"),
    "torch-composed": ("impl_torch", "TorchComposed"),
    "numpy": ("impl_numpy", "Numpy"),
    # tinyseq trading time for memory: its recurrent layer recomputed in backward, √T steps a segment
    "tinyseq-checkpoint": ("impl_tinyseq", "TinyseqCheckpoint"),
}


def load(name):
    """The implementation class called ``name``; imports only its own module (and libraries)."""
    module, cls = IMPLEMENTATIONS[name]
    return getattr(importlib.import_module(module), cls)


def uniforms(n, seed=2):
    return np.random.default_rng(seed).random(n)


def draw(probs, u):
    """Inverse-CDF sample from a probability vector (numpy) with the uniform ``u``."""
    return min(int(np.searchsorted(np.cumsum(probs, dtype=np.float64), u * probs.sum())), len(probs) - 1)


def batches(cfg, n, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, cfg["V"], (cfg["T"], cfg["B"])),
             rng.integers(0, cfg["V"], (cfg["T"], cfg["B"]))) for _ in range(n)]

"""``tinyseq demo``: a character-level RNN language model on the embedded names, trained by
backpropagation through time that the engine derives by itself.

The cell is the course's a⟨t⟩ = tanh(W_ax x⟨t⟩ + W_aa a⟨t-1⟩ + b_a), ŷ⟨t⟩ = softmax(W_ya a⟨t⟩ + b_y),
written with raw tensor ops; the loss is the cross-entropy summed over time steps.
"""
import time

import numpy as np
from tqdm import tqdm

from . import autograd, data
from .autograd.factories import randn, zeros
from .autograd.functional import stack
from .autograd.mode import no_grad
from .autograd.rng import generator, manual_seed


def _params(n_x, n_a):
    p = {"Wax": randn(n_x, n_a) * 0.1, "Waa": randn(n_a, n_a) * n_a ** -0.5,
         "ba": zeros(n_a), "Wya": randn(n_a, n_x) * n_a ** -0.5, "by": zeros(n_x)}
    return {k: v.detach().requires_grad_() for k, v in p.items()}


def _loss(p, x, y):
    """Mean cross-entropy of predicting ``y`` (B, T) from ``x`` (B, T), unrolled over T steps."""
    B, T = x.shape
    a = zeros(B, p["Waa"].shape[0])
    states = []
    for t, x_t in enumerate(p["Wax"][x].unbind(1)):  # x_t: the input row W_ax x⟨t⟩, (B, n_a)
        with autograd.scope(f"t={t}"):
            a = (x_t + a @ p["Waa"] + p["ba"]).tanh()  # a⟨t⟩
            states.append(a)
    logp = (stack(states, 1) @ p["Wya"] + p["by"]).log_softmax(-1)  # log ŷ, (B, T, n_x)
    return -logp[np.arange(B)[:, None], np.arange(T), y].mean()


def _sample(p, chars, rng, max_len=20):
    """One name: feed a⟨t⟩'s own sampled character back in until it ends the line."""
    with no_grad():
        a, i, out = zeros(1, p["Waa"].shape[0]), chars.index("\n"), []
        for _ in range(max_len):
            a = (p["Wax"][[i]] + a @ p["Waa"] + p["ba"]).tanh()
            probs = (a @ p["Wya"] + p["by"]).softmax(-1).data[0].astype(np.float64)
            i = int(rng.choice(len(chars), p=probs / probs.sum()))
            if chars[i] == "\n":
                break
            out.append(chars[i])
    return "".join(out)


def run(steps=3000, hidden=128, seq_len=16, batch=32, lr=0.5, clip=5.0, samples=8, seed=0):
    """Train for ``steps`` SGD steps with gradient clipping, print samples; returns the losses."""
    manual_seed(seed)
    text = data.corpus("names") + "\n"
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    p = _params(len(chars), hidden)
    rng, losses, start = generator(), [], time.perf_counter()
    bar = tqdm(range(steps), desc="training a character RNN on names", unit="step")
    for _ in bar:
        at = rng.integers(0, len(ids) - seq_len - 1, batch)[:, None] + np.arange(seq_len)
        loss = _loss(p, ids[at], ids[at + 1])
        for v in p.values():
            v.grad = None
        loss.backward()
        norm = np.sqrt(sum(float((v.grad.data ** 2).sum()) for v in p.values()))
        scale = lr * min(1.0, clip / (norm + 1e-6))  # the course's remedy for exploding gradients
        with no_grad():
            for v in p.values():
                v -= v.grad * scale
        losses.append(loss.item())
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}",
                        tok_s=f"{len(losses) * batch * seq_len / (time.perf_counter() - start):,.0f}")
    print(f"\nloss {np.mean(losses[:20]):.3f} -> {np.mean(losses[-20:]):.3f} "
          f"(uniform guessing: {np.log(len(chars)):.3f})")
    print("sampled names:", ", ".join(_sample(p, chars, rng) for _ in range(samples)))
    return losses

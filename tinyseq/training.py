"""Training a language model (``tinyseq train``, ``tinyseq demo``): truncated backpropagation
through time over contiguous streams, gradient clipping, Adam, a progress bar with the loss and
tokens/s, a held-out perplexity, and checkpoints that survive Ctrl-C and resume exactly.

Resuming restores the weights, the optimiser, the step, the recurrent state carried between
windows and the random generator, so an interrupted and resumed run ends with the same weights as
one that ran straight through.
"""
import dataclasses
import math
import signal
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import nn, optim
from .autograd import rng
from .autograd.mode import no_grad
from .data import LMStream, Vocab, load_text
from .io import CheckpointError
from .models.charlm import CharLM
from .models.checkpoint import load_checkpoint, save_checkpoint

# flags that shape the model or its data: a resumed run must keep them
MODEL_FLAGS = ("data", "level", "max_vocab", "cell", "hidden", "layers", "embedding", "dropout",
               "tie", "seq_len", "batch", "seed")


@dataclasses.dataclass
class LMConfig:
    """Everything a run depends on; ``embedding=0`` feeds one-hot vectors."""

    data: str = "names"
    level: str = "char"
    max_vocab: int = None
    cell: str = "lstm"
    hidden: int = 256
    layers: int = 2
    embedding: int = 64
    dropout: float = 0.0
    tie: bool = False
    seq_len: int = 64
    batch: int = 32
    steps: int = 2000
    lr: float = 3e-3
    clip: float = 5.0
    seed: int = 0
    save_every: int = 200
    time_limit: float = None  # seconds; stop early (and save) when it is reached


@dataclasses.dataclass
class Result:
    model: CharLM
    step: int
    losses: list
    valid_perplexity: float
    unigram_perplexity: float
    interrupted: bool
    seconds: float


def split(text, every=10):
    """``(train, valid)``: every ``every``-th line is held out (names are sorted by frequency, so
    this spreads the held-out lines over common and rare ones)."""
    lines = [line for line in text.splitlines() if line.strip()]
    valid = lines[every - 1::every]
    train = [line for i, line in enumerate(lines) if i % every != every - 1]
    return "\n".join(train), "\n".join(valid)


class Trainer:
    """One training run into ``out`` (a folder), fresh or resumed from its checkpoint."""

    def __init__(self, config, out, resume=False):
        self.config, self.out = config, Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        _, text = load_text(config.data)
        self.train_text, self.valid_text = split(text)
        rng.manual_seed(config.seed)
        saved = load_checkpoint(self.out) if resume else None
        if saved is not None:
            _check_same_model(saved.config, config)
        self.vocab = saved.vocab if saved else Vocab.build(self.train_text, config.level,
                                                           max_size=config.max_vocab)
        self.model = CharLM(self.vocab, config.hidden, config.layers, config.cell,
                            config.embedding or None, config.dropout, config.tie)
        self.optimizer = optim.Adam(self.model.parameters(), lr=config.lr)
        self.stream = LMStream(np.asarray(self.vocab.encode_lines(self.train_text)),
                               config.batch, config.seq_len)
        self.step, self.losses, self.state = 0, [], None
        if saved is not None:
            saved.load_model(self.model)
            saved.load_optimizer(self.optimizer)
            self.step, self.losses, self.state = saved.step, saved.losses, saved.state()
            rng.generator().bit_generator.state = saved.rng

    def run(self, progress=True, on_step=None):
        """Train up to ``config.steps`` steps (``on_step(step)`` after each, for tests); Ctrl-C
        stops after the current step, saves and returns with ``interrupted=True``."""
        stop = _StopOnInterrupt()
        start, first = time.perf_counter(), self.step
        bar = tqdm(total=self.config.steps, initial=self.step, disable=not progress,
                   desc=f"training {self.config.cell} on {self.config.data}", unit="step")
        with stop, bar:
            while self.step < self.config.steps and not stop.requested:
                self._train_step()
                bar.update(1)
                tokens = (self.step - first) * self.config.batch * self.config.seq_len
                bar.set_postfix(loss=f"{np.mean(self.losses[-50:]):.3f}",
                                tok_s=f"{tokens / (time.perf_counter() - start):,.0f}")
                if on_step is not None:
                    on_step(self.step)
                if self.step % self.config.save_every == 0:
                    self.save()
                limit = self.config.time_limit
                if limit is not None and time.perf_counter() - start > limit:
                    break
        self.save()
        valid = perplexity(self.model, self.vocab.encode_lines(self.valid_text), self.config)
        unigram = unigram_perplexity(self.vocab.encode_lines(self.train_text),
                                     self.vocab.encode_lines(self.valid_text), len(self.vocab))
        return Result(self.model, self.step, self.losses, valid, unigram, stop.requested,
                      time.perf_counter() - start)

    def _train_step(self):
        k = self.step % len(self.stream)
        if k == 0:
            self.state = None  # a new epoch: every stream starts again from its beginning
        x, y = self.stream.window(k)
        self.model.train()
        logits, state = self.model(x, self.state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
        self.optimizer.step()
        self.state = _detached(state)  # carried into the next window, cut from this graph
        self.losses.append(loss.item())
        self.step += 1

    def save(self):
        return save_checkpoint(self.out, self.model, dataclasses.asdict(self.config), self.step,
                               self.optimizer, self.state, self.losses,
                               rng.generator().bit_generator.state)


def perplexity(model, ids, config):
    """exp(mean negative log-likelihood per token) of the stream ``ids`` (held-out text)."""
    stream = LMStream(np.asarray(ids), min(config.batch, max(1, (len(ids) - 1) // 2)),
                      config.seq_len)
    total, count, state = 0.0, 0, None
    with no_grad(), nn.evaluating(model):
        for x, y in stream:
            logits, state = model(x, state)
            logp = logits.log_softmax(-1).data
            total -= float(np.take_along_axis(logp, y[..., None], -1).sum())
            count += y.size
    return math.exp(total / count)


def unigram_perplexity(train_ids, valid_ids, size):
    """The baseline: perplexity of predicting every token by its frequency in the training data
    (add-one smoothed), ignoring what came before."""
    counts = np.bincount(np.asarray(train_ids), minlength=size) + 1.0
    logp = np.log(counts / counts.sum())
    return math.exp(-logp[np.asarray(valid_ids)].mean())


def _detached(state):
    if state is None:
        return None
    return state.detach() if hasattr(state, "detach") else tuple(_detached(s) for s in state)


def _check_same_model(saved, config):
    changed = [f"--{k.replace('_', '-')} {saved.get(k)} -> {getattr(config, k)}"
               for k in MODEL_FLAGS if saved.get(k) != getattr(config, k)]
    if changed:
        raise CheckpointError("--resume with different model or data flags than the checkpoint: "
                              + ", ".join(changed) + "; use the same flags, or a new --out")


class _StopOnInterrupt:
    """Inside the block, the first Ctrl-C (SIGINT) only asks the loop to stop after its step; a
    second one interrupts at once."""

    requested = False

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)

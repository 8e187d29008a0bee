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
from .data import DataError, LMStream, Vocab, load_text, pad_batch
from .io import CheckpointError
from .models.charlm import CharLM
from .models.checkpoint import load_checkpoint, save_checkpoint

# flags that shape the model, its data or its optimiser: a resumed run must keep them
MODEL_FLAGS = ("data", "level", "max_vocab", "cell", "hidden", "layers", "embedding", "dropout",
               "tie", "batching", "seq_len", "batch", "seed", "lr")


@dataclasses.dataclass
class LMConfig:
    """Everything a run depends on; ``embedding=0`` feeds one-hot vectors. ``batching="lines"``
    trains on batches of whole lines, each from the zero state (as ``sample`` and ``log_prob``
    start); ``"stream"`` on windows of ``seq_len`` steps of contiguous streams, carrying the state
    from window to window (truncated BPTT)."""

    data: str = "names"
    level: str = "char"
    max_vocab: int = None
    cell: str = "lstm"
    hidden: int = 256
    layers: int = 2
    embedding: int = 64
    dropout: float = 0.0
    tie: bool = False
    batching: str = "lines"
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
        _, text = load_text(config.data)
        self.train_text, self.valid_text = split(text)
        if not self.valid_text:
            raise DataError(f"{config.data}: {len(self.train_text.splitlines())} line(s) are too "
                            "few: every tenth line is held out to measure the model, so the data "
                            "needs at least 10 non-empty lines")
        if self.out.exists() and not self.out.is_dir():
            raise DataError(f"--out {str(self.out)!r} is a file, not a folder")
        rng.manual_seed(config.seed)
        saved = load_checkpoint(self.out) if resume else None
        if saved is not None:
            _check_same_model(saved.config, config)
        self.vocab = saved.vocab if saved else Vocab.build(self.train_text, config.level,
                                                           max_size=config.max_vocab)
        self.model = CharLM(self.vocab, config.hidden, config.layers, config.cell,
                            config.embedding or None, config.dropout, config.tie)
        self.optimizer = optim.Adam(self.model.parameters(), lr=config.lr)
        self.lines = _lines(self.vocab, self.train_text)
        self.valid = _lines(self.vocab, self.valid_text)
        if config.batching == "stream":
            ids = np.concatenate(self.lines)
            if len(ids) < config.batch * config.seq_len + 1:
                raise DataError(f"{config.data}: {len(ids)} training tokens are too few for "
                                f"--batch {config.batch} streams of --seq-len {config.seq_len}; "
                                "use smaller values or more data")
            self.stream = LMStream(ids, config.batch, config.seq_len)
        self.out.mkdir(parents=True, exist_ok=True)
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
        start, self.tokens = time.perf_counter(), 0
        bar = tqdm(total=self.config.steps, initial=self.step, disable=not progress,
                   desc=f"training {self.config.cell} on {self.config.data}", unit="step")
        with stop, bar:
            while self.step < self.config.steps and not stop.requested:
                self._train_step()
                bar.update(1)
                bar.set_postfix(loss=f"{np.mean(self.losses[-50:]):.3f}",
                                tok_s=f"{self.tokens / (time.perf_counter() - start):,.0f}")
                if on_step is not None:
                    on_step(self.step)
                if self.step % self.config.save_every == 0:
                    self.save()
                limit = self.config.time_limit
                if limit is not None and time.perf_counter() - start > limit:
                    break
        self.save()
        valid = perplexity(self.model, self.valid)
        unigram = unigram_perplexity(self.lines, self.valid, len(self.vocab))
        return Result(self.model, self.step, self.losses, valid, unigram, stop.requested,
                      time.perf_counter() - start)

    def _train_step(self):
        """One step of Adam on a batch: the cross-entropy of ŷ⟨t⟩ against y⟨t⟩ for every t."""
        if self.config.batching == "stream":
            x, y = self._window()
        else:  # whole lines from <bos>, padded; a pad is never a target
            pick = rng.generator().integers(0, len(self.lines), self.config.batch)
            ids, _ = pad_batch([self.lines[i] for i in pick], self.vocab.pad_id)
            x, y, self.state = ids[:-1], ids[1:], None
        self.model.train()
        logits, state = self.model(x, self.state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                           ignore_index=self.vocab.pad_id)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
        self.optimizer.step()
        if self.config.batching == "stream":
            self.state = _detached(state)  # carried into the next window, cut from this graph
        self.losses.append(loss.item())
        self.tokens += int((y != self.vocab.pad_id).sum())
        self.step += 1

    def _window(self):
        k = self.step % len(self.stream)
        if k == 0:
            self.state = None  # a new epoch: every stream starts again from its beginning
        return self.stream.window(k)

    def save(self):
        return save_checkpoint(self.out, self.model, dataclasses.asdict(self.config), self.step,
                               self.optimizer, self.state, self.losses,
                               rng.generator().bit_generator.state)


def perplexity(model, lines, batch=256):
    """exp(mean negative log-likelihood per predicted token) of ``lines`` (lists of ids, each
    ``<bos> … <eos>``), each scored from the zero state: what ``CharLM.perplexity`` computes."""
    total, count = 0.0, 0
    with no_grad(), nn.evaluating(model):
        for i in range(0, len(lines), batch):
            ids, _ = pad_batch(lines[i:i + batch], model.vocab.pad_id)
            logits, _ = model(ids[:-1])
            logp = logits.log_softmax(-1).data
            y = ids[1:]
            real = y != model.vocab.pad_id
            total -= float(np.take_along_axis(logp, y[..., None], -1)[..., 0][real].sum())
            count += int(real.sum())
    return math.exp(total / count)


def unigram_perplexity(train_lines, valid_lines, size):
    """The baseline: perplexity of predicting every token (and ``<eos>``) by its frequency in the
    training lines (add-one smoothed), whatever came before."""
    targets = np.concatenate([line[1:] for line in train_lines])
    logp = np.log((np.bincount(targets, minlength=size) + 1.0) / (len(targets) + size))
    return math.exp(-np.mean(np.concatenate([logp[line[1:]] for line in valid_lines])))


def _lines(vocab, text):
    """Each non-empty line as ``<bos> ids <eos>`` (an int64 array)."""
    return [np.asarray([vocab.bos_id, *vocab.encode(line), vocab.eos_id], dtype=np.int64)
            for line in text.splitlines() if line]


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

"""Training a language model (``tinyseq train``, ``tinyseq demo``): truncated backpropagation
through time over contiguous streams, gradient clipping, Adam, a progress bar with the loss and
tokens/s, a held-out perplexity, and checkpoints that survive Ctrl-C and resume exactly.

Resuming restores the weights, the optimiser, the step, the recurrent state carried between
windows and the random generator, so an interrupted and resumed run ends with the same weights as
one that ran straight through.
"""
import dataclasses
import hashlib
import math
import os
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import nn, optim
from ..autograd import rng
from ..autograd.memory import available_memory
from ..autograd.mode import no_grad
from ..data import DataError, LMStream, Vocab, load_text, pad_batch
from ..io import CheckpointError
from ..models.charlm import CharLM, _exp
from .checkpoint import FILE, OUTPUTS, load_checkpoint, save_checkpoint

# flags that shape the model, its data or its optimiser: a resumed run must keep them
MODEL_FLAGS = ("data", "level", "max_vocab", "cell", "hidden", "layers", "embedding", "dropout",
               "tie", "batching", "seq_len", "batch", "seed", "lr")
BASE_MEMORY = 150 * 2 ** 20  # Python, numpy and tinyseq themselves
MAX_LINE = 1000  # tokens in one line that --batching lines trains in one piece, from the zero state


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
    seconds: float
    signal: int = None  # the signal that stopped the run (SIGINT or SIGTERM), if one did

    @property
    def interrupted(self):
        return self.signal is not None


class TooLarge(ValueError):
    """A run (or a figure) that cannot fit in this machine's memory: refused before allocating."""


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or infinite: the run stops without saving."""


def split(text, every=10):
    """``(train, valid)``: every ``every``-th line is held out (names are sorted by frequency, so
    this spreads the held-out lines over common and rare ones)."""
    lines = [line for line in text.splitlines() if line.strip()]
    valid = lines[every - 1::every]
    train = [line for i, line in enumerate(lines) if i % every != every - 1]
    return "\n".join(train), "\n".join(valid)


class Trainer:
    """One training run into ``out`` (a folder), fresh or resumed from its checkpoint.
    ``resume=None`` is a fresh run of a command that cannot resume (``demo``): its refusal to
    write over a model suggests sampling it instead."""

    def __init__(self, config, out, resume=False, overwrite=False):
        self.config, self.out = config, _out_folder(out)
        if not resume and not overwrite and (self.out / FILE).exists():
            keep = ("add --resume to continue it" if resume is not None else  # demo: no --resume
                    f"sample it with tinyseq sample {self.out}")
            raise CheckpointError(f"--out {str(self.out)!r} already holds a trained model: {keep}, "
                                  "--overwrite to replace it when the new run saves, or give "
                                  "another --out")
        taken = [name for name in OUTPUTS if (self.out / name).exists()]
        if not resume and not overwrite and taken:  # files of the user's that a run would replace
            raise CheckpointError(f"--out {str(self.out)!r} already holds {', '.join(taken)}, "
                                  "which this run would replace: give another --out, or "
                                  "--overwrite to replace them")
        _, text = load_text(config.data)
        self.fingerprint = hashlib.sha256(text.encode()).hexdigest()
        if config.batching == "lines":
            _check_line_lengths(config, text)
        self.train_text, self.valid_text = split(text)
        if not self.valid_text and config.batching == "stream":
            self.train_text, self.valid_text = _split_tail(text)
        if not self.valid_text:
            raise DataError(f"{config.data}: {len(self.train_text.splitlines())} line(s) are too "
                            "few: every tenth line is held out to measure the model, so the data "
                            "needs at least 10 non-empty lines (or use --batching stream)")
        rng.manual_seed(config.seed)
        saved = load_checkpoint(self.out) if resume else None
        if saved is not None:
            _check_same_model(saved.config, config)
            _check_same_data(saved.config, self.fingerprint, config.data)
        self.vocab = saved.vocab if saved else Vocab.build(self.train_text, config.level,
                                                           max_size=config.max_vocab)
        self.lines = _lines(self.vocab, self.train_text)
        self.valid = _lines(self.vocab, self.valid_text)
        if config.batching == "stream":
            ids = np.concatenate(self.lines)
            if len(ids) < config.batch * config.seq_len + 1:
                raise DataError(f"{config.data}: {len(ids)} training tokens are too few for "
                                f"--batch {config.batch} streams of --seq-len {config.seq_len}; "
                                "use smaller values or more data")
            self.stream = LMStream(ids, config.batch, config.seq_len)
        check_memory(config, len(self.vocab), max(map(len, self.lines)) - 1)
        self.model = CharLM(self.vocab, config.hidden, config.layers, config.cell,
                            config.embedding or None, config.dropout, config.tie)
        self.optimizer = optim.Adam(self.model.parameters(), lr=config.lr)
        self.out.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(self.out)
        self.step, self.losses, self.state, self.saved_step = 0, [], None, None
        if saved is not None:
            saved.load_model(self.model)
            saved.load_optimizer(self.optimizer)
            self.step, self.losses, self.state = saved.step, saved.losses, saved.state()
            self.saved_step = saved.step
            rng.generator().bit_generator.state = saved.rng

    def run(self, progress=True, on_step=None):
        """Train up to ``config.steps`` steps (``on_step(step)`` after each, for tests). Ctrl-C
        (SIGINT) or SIGTERM stops after the current step, saves and returns with
        ``interrupted=True``; a NaN or infinite loss raises ``TrainingDiverged`` without saving
        over the last good checkpoint."""
        stop = _StopOnSignals()
        start, self.tokens = time.perf_counter(), 0
        # (to a file or a pipe, a line every 30 s, not one every 0.1 s: thousands of lines)
        bar = tqdm(total=self.config.steps, initial=self.step, disable=not progress,
                   desc=f"training {self.config.cell} on {self.config.data}", unit="step",
                   mininterval=0.1 if sys.stderr.isatty() else 30)
        with stop, bar:
            while self.step < self.config.steps and not stop.requested:
                self._train_step()
                bar.set_postfix(loss=f"{np.mean(self.losses[-50:]):.3f}", refresh=False,
                                tok_s=f"{self.tokens / (time.perf_counter() - start):,.0f}")
                bar.update(1)  # (it redraws, at most every mininterval; set_postfix would always)
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
        return Result(self.model, self.step, self.losses, valid, unigram,
                      time.perf_counter() - start, stop.requested)

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
        norm = nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip).item()
        value = loss.item()
        if not math.isfinite(value):
            self._diverged(f"the loss is {value}", self.step + 1)
        if not math.isfinite(norm):
            self._diverged(f"the gradient's norm is {norm}", self.step + 1)
        self.optimizer.step()
        if self.config.batching == "stream":
            self.state = _detached(state)  # carried into the next window, cut from this graph
        self.losses.append(value)
        self.tokens += int((y != self.vocab.pad_id).sum())
        self.step += 1

    def _window(self):
        k = self.step % len(self.stream)
        if k == 0:
            self.state = None  # a new epoch: every stream starts again from its beginning
        return self.stream.window(k)

    def _diverged(self, what, step):
        kept = self._kept(f"in {self.out} is kept")
        raise TrainingDiverged(f"training diverged at step {step}: {what} (--lr "
                               f"{self.config.lr}, --clip {self.config.clip}); {kept}; lower --lr "
                               "(or --clip) and train again")

    def _kept(self, how):
        """What became of the checkpoint saved before: ``the checkpoint of step N <how>``."""
        if self.saved_step is None:
            return "no checkpoint was written"
        return f"the checkpoint of step {self.saved_step} {how}"

    def save(self):
        """Write the checkpoint; its config records a fingerprint of the data for --resume.
        Weights that are no longer finite are never saved (``TrainingDiverged``)."""
        if not all(np.isfinite(p.numpy()).all() for p in self.model.parameters()):
            self._diverged("the weights are no longer finite", self.step)
        config = {**dataclasses.asdict(self.config), "data_sha256": self.fingerprint}
        try:
            path = save_checkpoint(self.out, self.model, config, self.step, self.optimizer,
                                   self.state, self.losses)  # (and the generator's state)
        except OSError as error:  # disk full, read-only, ...: the file written before is whole
            kept = self._kept("there is intact")
            raise CheckpointError(f"cannot save the checkpoint of step {self.step} in "
                                  f"{str(self.out)!r}: {_cause(error)}; {kept}") from None
        self.saved_step = self.step
        return path


def _cause(error):
    """The system's words for why ``error`` (an OSError) happened, without the path."""
    return os.strerror(error.errno) if error.errno else str(error)


def perplexity(model, lines, budget=2 ** 24):
    """exp(mean negative log-likelihood per predicted token) of ``lines`` (lists of ids, each
    ``<bos> … <eos>``), each scored from the zero state: what ``CharLM.perplexity`` computes.
    Lines are scored in batches of at most ``budget`` logits; ``inf`` if it overflows."""
    total, count = 0.0, 0
    with no_grad(), nn.evaluating(model):
        for group in _groups(lines, max(1, budget // len(model.vocab))):
            ids, _ = pad_batch(group, model.vocab.pad_id)
            logits, _ = model(ids[:-1])
            logp = logits.log_softmax(-1).numpy()
            y = ids[1:]
            real = y != model.vocab.pad_id
            total -= float(np.take_along_axis(logp, y[..., None], -1)[..., 0][real].sum(dtype=np.float64))
            count += int(real.sum())
    return _exp(total / count)


def _groups(lines, size):
    """Consecutive runs of ``lines`` whose padded batch (longest x count) is at most ``size``."""
    group, longest = [], 0
    for line in lines:
        if group and max(longest, len(line)) * (len(group) + 1) > size:
            yield group
            group, longest = [], 0
        group.append(line)
        longest = max(longest, len(line))
    if group:
        yield group


def unigram_perplexity(train_lines, valid_lines, size):
    """The baseline: perplexity of predicting every token (and ``<eos>``) by its frequency in the
    training lines (add-one smoothed), whatever came before."""
    targets = np.concatenate([line[1:] for line in train_lines])
    logp = np.log((np.bincount(targets, minlength=size) + 1.0) / (len(targets) + size))
    return _exp(-np.mean(np.concatenate([logp[line[1:]] for line in valid_lines])))


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


def _check_same_data(saved, fingerprint, data):
    """A resumed run must read the text it started on: its sha256 is in the checkpoint's config
    (checkpoints from before it was recorded resume with a warning)."""
    if "data_sha256" not in saved:
        warnings.warn(f"--resume: this checkpoint does not record which text it was trained on; "
                      f"make sure {data} is unchanged", stacklevel=3)
    elif saved["data_sha256"] != fingerprint:
        raise CheckpointError(f"--resume: {data} is not the text this checkpoint was trained on "
                              "(its contents changed); restore that text, or train anew into "
                              "another --out")


def _out_folder(out):
    """``out`` as a Path, refused when it is empty, a file, or below a file."""
    if not str(out).strip():
        raise CheckpointError(f"--out {str(out)!r} is empty: name the folder to write into")
    path = Path(out)
    for folder in (path, *path.parents):
        if folder.exists() and not folder.is_dir():
            where = "is a file" if folder == path else f"is below {str(folder)!r}, a file"
            raise CheckpointError(f"--out {str(path)!r} {where}, not a folder: give a folder")
    return path


def _remove_stale_temporaries(folder):
    """The temporary files a run killed while writing its files left behind."""
    for name in (FILE, *OUTPUTS):
        for stale in folder.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)


def _split_tail(text, every=10):
    """``(train, valid)`` for text of fewer than ``every`` lines: the last ``1/every`` of its
    characters (cut at a space if one is near) is held out."""
    text = text.strip()
    cut = len(text) - max(1, len(text) // every)
    space = text.rfind(" ", 0, cut)
    cut = space if space > cut - 100 else cut
    return text[:cut], text[cut:].strip()


def _check_line_lengths(config, text):
    """--batching lines trains each line as one sequence: refuse lines too long for that."""
    count = len if config.level == "char" else (lambda line: len(line.split()))
    number, longest = max(enumerate(text.splitlines(), 1), key=lambda item: count(item[1]))
    if count(longest) > MAX_LINE:
        unit = "characters" if config.level == "char" else "words"
        raise DataError(f"{config.data}: line {number} has {count(longest):,} {unit}, more than "
                        f"{MAX_LINE:,}: with --batching lines each line is one sequence, trained "
                        "from the zero state by backpropagation through all of it; use "
                        "--batching stream for long running text")


def check_memory(config, vocab_size, longest):
    """Refuse (``TooLarge``, before allocating anything) a run whose parameters, Adam state and
    one step's activations need more memory than the machine has available."""
    need, params, step = memory_needed(config, vocab_size, longest)
    have = available_memory()
    if need > have:
        raise TooLarge(f"this run needs about {_size(need)} of memory (parameters, gradients "
                        f"and Adam's moments {_size(params)}; one step's activations "
                        f"{_size(step)}), more than the {_size(have)} available: use a smaller "
                        f"--hidden ({config.hidden}), --layers ({config.layers}), --embedding "
                        f"({config.embedding}) or --batch ({config.batch})")


def memory_needed(config, vocab_size, longest):
    """``(total, parameters', one step's)`` bytes a run needs, roughly: float32 parameters with
    their gradients and Adam's two moments, and the arrays a step keeps for its backward pass
    (``longest``: the time steps of a batch)."""
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[config.cell]
    h, e, v = config.hidden, config.embedding, vocab_size
    x = e or v
    count = v * e + gates * (x * h + (config.layers - 1) * h * h + config.layers * (h * h + 2 * h))
    count += h * v + v
    steps = config.seq_len if config.batching == "stream" else longest
    per_token = config.layers * gates * h * 28 + 6 * v + 2 * x  # (measured: about 28)
    nodes = steps * config.layers * 48 * 1024  # the graph's Python objects
    params, step = 4 * 4 * count, 4 * steps * config.batch * per_token + nodes
    return BASE_MEMORY + params + step, params, step


def _size(n):
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024


class _StopOnSignals:
    """Inside the block, the first Ctrl-C (SIGINT) or SIGTERM only asks the loop to stop after
    its step (``requested`` is then the signal's number); a second one interrupts at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)
    requested = None

    def __enter__(self):
        self.previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = signum

    def __exit__(self, *exc):
        for s, handler in self.previous.items():
            signal.signal(s, handler)

"""What each ``tinyseq`` subcommand does; ``cli.py`` parses the flags and turns a ``UsageError``
(or a bad data file or checkpoint) into one line and exit status 2.
"""
import contextlib
import csv
import io
import math
import signal
import sys
import warnings
from pathlib import Path

import numpy as np

from .. import viz
from ..autograd import rng
from ..autograd import record_grad_norms
from ..io import write_atomic
from .checkpoint import load_checkpoint
from ..nn import functional as F
from . import figures


class UsageError(ValueError):
    """A mistake in how the command was called: printed as one line, exit status 2."""


MAX_SAMPLES = 1000  # names train and demo print at the end; tinyseq sample --n draws any number
SAMPLE_CHUNK = 100  # tinyseq sample draws (and prints) this many at a time


def train(config, out, resume=False, overwrite=False, samples=0, progress=True):
    """Train a language model into ``out``; print where things went and what it learned."""
    from .training import Trainer

    if samples > MAX_SAMPLES:
        raise UsageError(f"--samples {samples}: at most {MAX_SAMPLES} are printed after training; "
                         "draw more with tinyseq sample --n")
    with _warnings_as_lines():
        trainer = Trainer(config, out, resume=resume, overwrite=overwrite)
    if trainer.step >= config.steps:
        print(f"the checkpoint is at step {trainer.step}, --steps {config.steps}: nothing to "
              "train; raise --steps to train more")
    result = trainer.run(progress=progress)
    curve = write_loss_curve(result.losses, trainer.out)
    written = [trainer.out / "checkpoint.safetensors", trainer.out / "vocab.json", *curve,
               draw_model(trainer, trainer.out)]
    if result.interrupted:
        name = "Ctrl-C" if result.signal == signal.SIGINT else signal.Signals(result.signal).name
        print(f"stopped by {name} at step {result.step}: saved {written[0]}; continue with the "
              "same command and --resume")
    print(f"step {result.step}: training loss {_mean_tail(result.losses):.3f}, held-out "
          f"perplexity {result.valid_perplexity:.2f} (unigram baseline "
          f"{result.unigram_perplexity:.2f}) in {result.seconds:.0f} s")
    if samples:
        print_samples(result.model.sample(samples))
    if len(curve) == 1:  # (loss.csv alone: matplotlib is not installed)
        print("skipped loss.png: matplotlib is not installed (pip install -e \".[plot]\"); the "
              "curve is in loss.csv")
    print("wrote", ", ".join(str(p) for p in written))
    return result


def print_samples(texts):
    """Names on one line (``samples: emma, ava``); longer text one sample a line, its own line
    breaks shown as `` / `` (so a sample with commas is never cut in pieces)."""
    if all(text and not any(c.isspace() or c == "," for c in text) for text in texts):
        print("samples:", ", ".join(texts))
        return
    print("samples:")
    for text in texts:
        print("  " + " / ".join(text.splitlines()))


def sample(folder, n=10, temperature=1.0, prime="", top_k=None, max_len=None, seed=None):
    """Print ``n`` samples from the model trained into ``folder``, ``SAMPLE_CHUNK`` at a time
    (any ``n``: they are printed as they are drawn, never all held in memory)."""
    if not 0 < temperature < float("inf"):
        raise UsageError(f"--temperature must be > 0 and finite, got {temperature} (use a small "
                         "value such as 0.1 for near-greedy sampling)")
    model = load_model(folder)
    if top_k is not None and not 1 <= top_k <= len(model.vocab):
        raise UsageError(f"--top-k must be between 1 and {len(model.vocab)}, got {top_k}")
    if seed is not None:
        rng.manual_seed(seed)
    for start in range(0, n, SAMPLE_CHUNK):
        with _warnings_as_lines(quiet=start > 0):  # (a warning about --prime: once)
            texts = model.sample(min(SAMPLE_CHUNK, n - start), prime=prime,
                                 temperature=temperature, top_k=top_k, max_len=max_len)
        print("\n".join(texts), flush=True)


def score(folder, text):
    """Print the natural-log probability of ``text`` and its perplexity under the model."""
    if not text.strip():
        raise UsageError("score: the text is empty; pass the text to score, e.g. "
                         "tinyseq score DIR 'emma'")
    model = load_model(folder)
    with _warnings_as_lines():
        log_p, ppl = model.log_prob(text), model.perplexity(text)
    if not math.isfinite(log_p):
        print(f"tinyseq: warning: the model gives log P = {log_p}: its weights are not finite "
              "(a diverged run?); retrain it with a lower --lr", file=sys.stderr)
    print(f"log P = {log_p:.4f} nats ({log_p / 0.6931471805599453:.4f} bits), "
          f"perplexity {ppl:.3f}")
    recased = _recased(text, model.vocab)
    if recased != text:
        print(f"tinyseq: hint: some letters are in the vocabulary only in the other case: try "
              f"tinyseq score {folder} {recased!r}", file=sys.stderr)
    return log_p, ppl


def _recased(text, vocab):
    """``text`` with each letter outside the vocabulary swapped to its other case where that one
    is in it (``Emma`` for a vocabulary of lower-case names: ``emma``)."""
    return "".join(c.swapcase() if c not in vocab and c.swapcase() in vocab else c for c in text)


def load_model(folder):
    """The CharLM saved in ``folder`` (its vocabulary and weights)."""
    return load_checkpoint(folder).model()


def write_loss_curve(losses, folder):
    """``loss.csv`` always, ``loss.png`` too when matplotlib (the plot extra) is installed."""
    folder = Path(folder)
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(["step", "loss"])
    writer.writerows((i + 1, f"{loss:.6f}") for i, loss in enumerate(losses))
    write_atomic(folder / "loss.csv", table.getvalue().encode())
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return [folder / "loss.csv"]
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(range(1, len(losses) + 1), losses, linewidth=0.6, alpha=0.5, label="each step")
    window = max(1, len(losses) // 50)
    sums = np.concatenate([[0.0], np.cumsum(losses)])  # the mean of the last window + 1 steps:
    first = np.maximum(0, np.arange(len(losses)) - window)  # O(n), not O(n * window)
    smooth = (sums[1:] - sums[first]) / (np.arange(1, len(losses) + 1) - first)
    ax.plot(range(1, len(losses) + 1), smooth, label=f"mean of {window + 1}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats per token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(folder / "loss.png", dpi=110)
    return [folder / "loss.csv", folder / "loss.png"]


def draw_model(trainer, folder, steps=3):
    """``graph.svg``: the model reading the first ``steps`` tokens of its training text, with the
    gradient norm of every op of that loss (a norm that is not finite is drawn off the scale)."""
    model, vocab = trainer.model, trainer.vocab
    first = trainer.train_text.splitlines()[0]
    ids = np.asarray([vocab.bos_id, *vocab.encode(first), vocab.eos_id][:steps + 1])
    model.eval()
    logits, _ = model(ids[:-1, None])
    loss = F.cross_entropy(logits.reshape(-1, len(vocab)), ids[1:], reduction="sum").named("L")
    with record_grad_norms():
        loss.backward()
    path = viz.render(viz.draw_graph(loss, show_grads=True), Path(folder) / "graph.svg")
    model.zero_grad()
    model.train()
    return path


MAX_GRAPH_OPS = 200_000  # ops graph builds (and traces) at most, however few boxes it draws
MAX_BOXES = viz.draw.MAX_NODES  # boxes a drawing can have and still be read


def graph(cell, steps, layers, collapse, out):
    """Draw ``cell`` unrolled over ``steps`` steps into ``out``; its size is checked first."""
    boxes, ops = figures.unrolled_graph_size(cell, steps, layers, collapse)
    if ops > MAX_GRAPH_OPS:
        raise UsageError(f"graph: --steps {steps} and --layers {layers} build {ops:,} ops, more "
                         f"than {MAX_GRAPH_OPS:,}: use fewer steps or layers")
    if boxes > MAX_BOXES:
        advice = "use fewer steps or layers" if collapse else "add --collapse steps"
        how = f"folded by --collapse {collapse}" if collapse else "in full"
        raise UsageError(f"graph: {steps} steps {how} make {boxes} boxes, more than "
                         f"{MAX_BOXES} can be read: {advice}")
    drawing = figures.unrolled_graph(cell, steps, layers, collapse=collapse)
    print(f"wrote {viz.render(drawing, out)}")


def gradflow(cells, steps, hidden, seed, out):
    """Plot the gradient flowing back through ``steps`` steps of each cell into ``out``."""
    from ..autograd.memory import available_memory, gib

    need, have = figures.gradient_flows_memory(steps, hidden), available_memory()
    if need > have:
        raise UsageError(f"gradflow: --steps {steps} with --hidden {hidden} need about "
                         f"{gib(need)} of memory, more than the {gib(have)} available: use fewer "
                         "steps or hidden units")
    curves = figures.gradient_flows(cells, steps, hidden_size=hidden, seed=seed)
    try:
        path = viz.plot_gradient_flow(curves, out, title=f"gradient flow back through {steps} "
                                      f"steps (hidden size {hidden})")
    except ImportError as error:
        raise UsageError(f"gradflow: {error}") from None
    print(f"wrote {path}")
    for cell, curve in curves.items():
        print(f"  {cell:>4}: ‖∂L/∂h⟨t⟩‖ = {curve[-1]:.2e} at t={len(curve) - 1}, "
              f"{curve[0]:.2e} at t=0")


@contextlib.contextmanager
def _warnings_as_lines(quiet=False):
    """Warnings inside the block are printed as ``tinyseq: warning: ...``, one line each, once
    (not at all if ``quiet``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore" if quiet else "always")
        yield
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"tinyseq: warning: {message}", file=sys.stderr)


def _mean_tail(losses, n=50):
    tail = losses[-n:]
    return sum(tail) / len(tail) if tail else float("nan")



"""The ``tinyseq`` command: ``demo`` trains a small LSTM language model on the embedded names and
shows what it learned; ``train``, ``sample`` and ``score`` do the same for any text and model
size; ``graph`` draws an unrolled recurrent layer; ``gradflow`` plots the gradient flowing back
through time. ``tinyseq COMMAND --help`` explains every flag."""
import argparse
import os
import signal
import sys
from pathlib import Path

from ..autograd.rng import SEEDS  # what ts.manual_seed (and torch.manual_seed) accepts
from ..models.charlm import CELLS  # the cells by the names --cell gives


class Parser(argparse.ArgumentParser):
    """argparse, but a user error is one line (``tinyseq: error: ...``) and exit status 2."""

    def error(self, message):
        self.exit(2, f"tinyseq: error: {message}\n")


def positive(kind):
    """A number > 0 (and finite: ``inf`` and ``nan`` are not sizes, rates or times)."""
    def parse(text):
        value = kind(text)
        if not 0 < value < float("inf"):
            what = "positive" if kind is int else "a finite number > 0"
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


def nonnegative(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def seed(text):
    value = int(text)
    if not SEEDS[0] <= value <= SEEDS[1]:
        raise argparse.ArgumentTypeError(f"must be an integer from -2**63 to 2**64 - 1, got "
                                         f"{text}")
    return value


def number(text):
    value = float(text)
    if value != value:
        raise argparse.ArgumentTypeError("must be a number, got nan")
    return value


def _model_flags(p, hidden, layers, embedding):
    p.add_argument("--cell", choices=tuple(CELLS), default="lstm",
                   help="the recurrent cell (default lstm)")
    p.add_argument("--hidden", type=positive(int), default=hidden,
                   help=f"hidden units per layer, the size of a⟨t⟩ (default {hidden})")
    p.add_argument("--layers", type=positive(int), default=layers,
                   help=f"stacked recurrent layers (default {layers})")
    p.add_argument("--embedding", type=int, default=embedding,
                   help=f"embedding size; 0 feeds one-hot vectors (default {embedding})")
    p.add_argument("--dropout", type=number, default=0.0,
                   help="dropout between layers and before the output layer (default 0)")
    p.add_argument("--tie", action="store_true",
                   help="share the embedding with the output layer (needs --embedding = --hidden)")


def _training_flags(p, steps, seq_len, batch, lr):
    p.add_argument("--seq-len", type=positive(int), default=seq_len,
                   help=f"with --batching stream: time steps per window (default {seq_len})")
    p.add_argument("--batch", type=positive(int), default=batch,
                   help=f"lines (or streams) per step (default {batch})")
    p.add_argument("--steps", type=positive(int), default=steps,
                   help=f"total optimiser steps, counting those of a resumed run (default {steps})")
    p.add_argument("--lr", type=positive(float), default=lr, help=f"Adam's step size "
                   f"(default {lr})")
    p.add_argument("--clip", type=positive(float), default=5.0,
                   help="clip the gradient's norm to this, against exploding gradients (default 5)")
    p.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    p.add_argument("--time-limit", type=positive(float), default=None,
                   help="stop (and save) after this many seconds")


def _overwrite_flag(p):
    p.add_argument("--overwrite", action="store_true",
                   help="replace the model already in --out (when the new run first saves)")


def build_parser():
    parser = Parser(prog="tinyseq", description=__doc__.replace("``", ""))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="train a small LSTM language model on the embedded names; show samples",
        description="Train a character-level LSTM language model on the 32,033 embedded first "
                    "names (about 30 s on 2 cores), print names it makes up and its held-out "
                    "perplexity, and write the checkpoint, vocabulary, loss curve and model graph "
                    "into --out.")
    demo.add_argument("--out", default="tinyseq-demo", help="output folder (default tinyseq-demo)")
    demo.add_argument("--steps", type=positive(int), default=3000,
                      help="optimiser steps (default 3000)")
    demo.add_argument("--time-limit", type=positive(float), default=90.0,
                      help="stop training after this many seconds (default 90)")
    demo.add_argument("--samples", type=nonnegative, default=10,
                      help="names to sample (default 10)")
    demo.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    _overwrite_flag(demo)

    train = commands.add_parser(
        "train", help="train a language model on a text file or an embedded corpus",
        description="Train a character- (or word-) level language model on batches of whole "
                    "lines (or, with --batching stream, by truncated BPTT over contiguous "
                    "streams). Ctrl-C or SIGTERM saves a checkpoint before exiting; --resume "
                    "continues from it.")
    train.add_argument("--data", default="names",
                       help="a UTF-8 text file, or an embedded corpus: names, shakespeare "
                            "(default names); each line is one sequence")
    train.add_argument("--level", choices=("char", "word"), default="char",
                       help="tokens are characters or whitespace-separated words (default char)")
    train.add_argument("--max-vocab", type=positive(int), default=None,
                       help="keep the most frequent tokens only; the rest become <unk>")
    _model_flags(train, hidden=256, layers=2, embedding=64)
    _training_flags(train, steps=2000, seq_len=64, batch=32, lr=3e-3)
    train.add_argument("--save-every", type=positive(int), default=200,
                       help="steps between checkpoints (default 200)")
    train.add_argument("--out", required=True, help="the folder for the checkpoint and the rest")
    keep_or_replace = train.add_mutually_exclusive_group()  # continue it, or replace it
    keep_or_replace.add_argument("--resume", action="store_true",
                                 help="continue from the checkpoint in --out (same model and "
                                      "data flags)")
    _overwrite_flag(keep_or_replace)
    train.add_argument("--samples", type=nonnegative, default=5,
                       help="samples to print at the end (default 5)")
    train.add_argument("--batching", choices=("lines", "stream"), default="lines",
                       help="lines: batches of whole lines, each from the zero state (default); "
                            "stream: windows of --seq-len steps of contiguous streams, the state "
                            "carried between them (truncated BPTT)")

    sample = commands.add_parser(
        "sample", help="sample text from a trained model",
        description="Draw novel sequences from a model trained with tinyseq train or demo.")
    sample.add_argument("dir", help="the folder tinyseq train wrote")
    sample.add_argument("--n", type=positive(int), default=10, help="how many (default 10)")
    sample.add_argument("--temperature", type=number, default=1.0,
                        help="> 0; below 1 safer, near 0 greedy, above 1 wilder (default 1)")
    sample.add_argument("--prime", default="", help="text every sample starts with")
    sample.add_argument("--top-k", type=positive(int), default=None,
                        help="sample among the k likeliest tokens only")
    sample.add_argument("--max-len", type=positive(int), default=None,
                        help="new tokens at most per sample (default 200)")
    sample.add_argument("--seed", type=seed, default=None, help="random seed")

    score = commands.add_parser(
        "score", help="the log-probability and perplexity of a text under a trained model",
        description="Print log P(text) (natural log, and in bits) and the perplexity; each line "
                    "of the text is one sequence, ended by <eos>.")
    score.add_argument("dir", help="the folder tinyseq train wrote")
    score.add_argument("text", help="the text to score")

    graph = commands.add_parser(
        "graph", help="draw the computation graph of a recurrent layer unrolled over time",
        description="Draw the autograd graph of an RNN, GRU or LSTM layer unrolled over --steps "
                    "steps, after a backward pass, each box coloured by its gradient norm.")
    graph.add_argument("--cell", choices=tuple(CELLS), default="lstm",
                       help="the recurrent cell (default lstm)")
    graph.add_argument("--steps", type=positive(int), default=4, help="time steps (default 4)")
    graph.add_argument("--layers", type=positive(int), default=1,
                       help="stacked layers (default 1)")
    graph.add_argument("--collapse", choices=("steps", "modules"), default=None,
                       help="fold each time step (or module) into one box")
    graph.add_argument("--out", default="graph.svg",
                       help="output file: .svg, .png, .pdf or .dot (default graph.svg)")

    flow = commands.add_parser(
        "gradflow", help="plot how the gradient vanishes back through time, per cell",
        description="Plot the norm of dL/dh<t> at every step t of RNN, GRU and LSTM layers "
                    "(L the sum of the last step's output), on a log axis. Needs matplotlib: "
                    'pip install -e ".[plot]" in the repository.')
    flow.add_argument("--cells", default=",".join(CELLS),
                      help=f"comma-separated cells (default {','.join(CELLS)})")
    flow.add_argument("--steps", type=positive(int), default=50, help="time steps (default 50)")
    flow.add_argument("--hidden", type=positive(int), default=32,
                      help="hidden units (default 32)")
    flow.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    flow.add_argument("--out", default="gradflow.png",
                      help="output file: .png, .svg or .pdf (default gradflow.png)")
    return parser


def main(argv=None):
    """Run the command; every user error is one line on stderr and exit status 2."""
    try:
        if _in_main_thread():  # (tinyseq/__init__.py exits on Ctrl-C while the command starts)
            signal.signal(signal.SIGINT, signal.default_int_handler)
        parser = build_parser()
        args = parser.parse_args(argv)
        return _refusing(parser, args)
    except KeyboardInterrupt:  # a second Ctrl-C, or one outside training: stop, no traceback
        print("tinyseq: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output went away (tinyseq sample | head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _refusing(parser, args):
    """``_run``, with what the user can fix turned into one line and exit status 2."""
    from . import commands
    from ..data import DataError
    from ..io import CheckpointError
    from .training import TooLarge, TrainingDiverged

    try:
        return _run(commands, args)
    except (commands.UsageError, DataError, CheckpointError, TooLarge,
            TrainingDiverged) as error:
        parser.error(str(error))
    except BrokenPipeError:
        raise
    except OSError as error:
        parser.error(_os_error(error))
    except MemoryError:
        parser.error(f"{args.command}: out of memory; use smaller sizes (see tinyseq "
                     f"{args.command} --help)")


def _os_error(error):
    """``path: cause`` of a failed read or write (disk full, read-only, no permission, ...)."""
    cause = error.strerror or str(error)
    return f"{str(error.filename)!r}: {cause}" if error.filename is not None else cause


def _in_main_thread():
    import threading

    return threading.current_thread() is threading.main_thread()


def _status(result):
    """0, or 128 + the signal that stopped training (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + result.signal if result.signal else 0


def _run(commands, args):
    from .training import LMConfig

    _check_not_empty(commands, args)
    if args.command == "demo":
        config = LMConfig(data="names", cell="lstm", hidden=128, layers=1, embedding=32,
                          batch=64, steps=args.steps, lr=4e-3, seed=args.seed,
                          time_limit=args.time_limit, save_every=500)
        result = commands.train(config, args.out, resume=None, overwrite=args.overwrite,
                                samples=args.samples)  # (None: demo has no --resume)
        return _status(result)
    if args.command == "train":
        config = LMConfig(**{k: getattr(args, k) for k in (
            "data", "level", "max_vocab", "cell", "hidden", "layers", "embedding", "dropout",
            "tie", "batching", "seq_len", "batch", "steps", "lr", "clip", "seed", "save_every",
            "time_limit")})
        _check_model_flags(config)
        result = commands.train(config, args.out, resume=args.resume, overwrite=args.overwrite,
                                samples=args.samples)
        return _status(result)
    if args.command == "sample":
        commands.sample(args.dir, args.n, args.temperature, args.prime, args.top_k, args.max_len,
                        args.seed)
    elif args.command == "score":
        commands.score(args.dir, args.text)
    elif args.command == "graph":
        _check_out("graph", args.out, ("svg", "png", "pdf", "dot"))
        commands.graph(args.cell, args.steps, args.layers, args.collapse, args.out)
    else:
        cells = [c.strip() for c in args.cells.split(",") if c.strip()]
        if not cells or any(c not in CELLS for c in cells):
            raise commands.UsageError(f"gradflow: --cells takes a comma-separated list of "
                                      f"{', '.join(CELLS)}; got {args.cells!r}")
        _check_out("gradflow", args.out, ("png", "svg", "pdf"))
        commands.gradflow(cells, args.steps, args.hidden, args.seed, args.out)
    return 0


def _check_not_empty(commands, args):
    """An empty (or blank) folder or file name would mean the current directory: refuse it."""
    for name, flag, what in (("dir", "DIR", "the folder tinyseq train wrote"),
                             ("data", "--data", "a text file or an embedded corpus")):
        value = getattr(args, name, None)
        if value is not None and not value.strip():
            raise commands.UsageError(f"{args.command}: {flag} is empty ({value!r}); give "
                                      f"{what}")


def _check_model_flags(config):
    from .commands import UsageError

    if config.embedding < 0:
        raise UsageError(f"--embedding must be 0 (one-hot) or positive, got {config.embedding}")
    if not 0 <= config.dropout < 1:
        raise UsageError(f"--dropout must be in [0, 1), got {config.dropout}")
    if config.tie and config.embedding != config.hidden:
        raise UsageError(f"--tie needs --embedding equal to --hidden, got {config.embedding} and "
                         f"{config.hidden}")


def _check_out(command, out, formats):
    """A user error before any work: a suffix we cannot write or a missing folder."""
    from .commands import UsageError

    path = Path(out)
    if path.suffix.lower().lstrip(".") not in formats:
        raise UsageError(f"{command}: --out {out!r}: the suffix must be one of "
                         + ", ".join("." + f for f in formats))
    if not path.parent.is_dir():
        raise UsageError(f"{command}: --out {out!r}: the folder {str(path.parent)!r} does not "
                         "exist")


if __name__ == "__main__":
    sys.exit(main())

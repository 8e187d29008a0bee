"""What both examples share: their command line (the ``tinyseq`` command's checked flags and
one-line errors) and their training loop (Adam, gradient clipping, a progress bar)."""
import contextlib
import sys

import numpy as np
from tqdm import tqdm

from ... import nn, optim
from ..cli import Parser, positive, seed


def command(prog, doc, steps, hidden, cells):
    """The parser of ``python -m tinyseq.app.examples.NAME``: ``--steps``, ``--seed``, ``--cell``
    (the first of ``cells`` by default), ``--hidden``, ``--batch`` and ``--lr``, each checked as
    the ``tinyseq`` command checks it (a bad value is one line and exit status 2)."""
    p = Parser(prog=prog, description=doc)
    p.add_argument("--steps", type=positive(int), default=steps,
                   help=f"training steps (default {steps})")
    p.add_argument("--seed", type=numpy_seed, default=0, help="random seed (default 0)")
    p.add_argument("--cell", choices=sorted(cells), default=cells[0],
                   help=f"recurrent cell (default {cells[0]})")
    p.add_argument("--hidden", type=positive(int), default=hidden,
                   help=f"hidden size (default {hidden})")
    p.add_argument("--batch", type=positive(int), default=64, help="batch size (default 64)")
    p.add_argument("--lr", type=positive(float), default=5e-3,
                   help="Adam's step size (default 5e-3)")
    return p


def numpy_seed(text):
    """``--seed`` as the tinyseq command takes it, made a seed numpy takes (>= 0) the way
    ``ts.manual_seed`` wraps a negative one."""
    return seed(text) % 2**64


numpy_seed.__name__ = "seed"  # (argparse names the type in its errors: "invalid seed value")


@contextlib.contextmanager
def refusals(parser):
    """Inside the block, a value the library refuses (a layer too large for memory, ...) is one
    line and exit status 2, and Ctrl-C is one line and exit status 130: never a traceback."""
    try:
        yield
    except (ValueError, MemoryError) as error:
        parser.error(str(error) or "out of memory: use smaller sizes")
    except KeyboardInterrupt:
        print("tinyseq: interrupted", file=sys.stderr)
        sys.exit(130)


def check_batch(where, batch_size, examples):
    """A batch is drawn from ``examples`` training examples: it must be 1 to that many."""
    if not 1 <= batch_size <= examples:
        raise ValueError(f"{where}: batch_size must be from 1 to the {examples:,} training "
                         f"examples, got {batch_size}")


def fit(model, batch_loss, steps, lr, clip, desc, progress=True):
    """``steps`` Adam steps on ``batch_loss()`` (a fresh batch's loss each call), gradients
    clipped to norm ``clip``; returns the loss of every step."""
    opt = optim.Adam(model.parameters(), lr=lr)
    losses = []
    bar = tqdm(range(steps), desc=desc, disable=not progress)
    for _ in bar:
        loss = batch_loss()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}", refresh=False)
    return losses

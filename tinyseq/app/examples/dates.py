"""Encoder-decoder on generated data: human-readable dates to ISO dates, character by character.

    python -m tinyseq.app.examples.dates [--steps 800] [--seed 0] [--beam 4]

The course's machine-translation exercise: "3 march 2019", "sunday, 3 mar 2019", "03/03/19" and
other ways of writing a date between 1950 and 2049 all become "2019-03-03". Source and target are
read one character at a time, with vocabularies built from the generated text. Day-first
numerals throughout, and two-digit years 50-99 are 19xx, 00-49 20xx, so every source has exactly
one answer. The ``Seq2Seq`` has no attention: the encoder's last state must carry the whole date.
"""
import datetime

import numpy as np

from ...autograd.rng import manual_seed
from ...data import Vocab
from ...models.seq2seq import Seq2Seq
from ..cli import positive
from .fit import check_batch, command, fit, refusals

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
FIRST, SPAN = datetime.date(1950, 1, 1), (datetime.date(2049, 12, 31) - datetime.date(1950, 1, 1))


def formats(d):
    """Ways to write the date ``d`` (all of them, one is picked at random)."""
    month, day = MONTHS[d.month - 1], DAYS[d.weekday()]
    return [f"{d.day} {month} {d.year}",
            f"{day}, {d.day} {month[:3]} {d.year}",
            f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}",
            f"{month} {d.day}, {d.year}",
            f"{d.day}.{d.month}.{d.year}",
            f"{day[:3]} {d.day:02d} {month[:3]} {d.year % 100:02d}",
            f"{d.day} {month[:3]} {d.year}",
            f"{d.year}/{d.month}/{d.day}"]


def generate(n, rng):
    """``n`` pairs ``(human, "YYYY-MM-DD")`` of uniformly random dates and formats."""
    pairs = []
    for offset in rng.integers(0, SPAN.days + 1, n):
        d = FIRST + datetime.timedelta(days=int(offset))
        options = formats(d)
        pairs.append((options[rng.integers(len(options))], d.isoformat()))
    return pairs


def datasets(seed, n_train=10000, n_test=500):
    """``(train, test)`` lists of pairs; no test source occurs in the training set."""
    rng = np.random.default_rng(seed)
    train = generate(n_train, rng)
    seen = {src for src, _ in train}
    return train, [p for p in generate(n_test, rng) if p[0] not in seen]


def evaluate(model, pairs, beam_size):
    """``(source, target, greedy output, beam-search output)`` for every pair."""
    sources = [src for src, _ in pairs]
    greedy = model.translate(sources, max_len=12)
    beam = model.translate(sources, beam_size=beam_size, max_len=12)
    return [(src, tgt, g, b) for (src, tgt), g, b in zip(pairs, greedy, beam)]


MAX_BEAM = 64  # wider beams only take longer: dates have few likely spellings


def train(steps=800, seed=0, batch_size=64, cell="lstm", hidden_size=128, lr=5e-3, clip=1.0,
          beam_size=4, progress=True):
    """Train a ``Seq2Seq`` on generated dates; returns ``(model, metrics)``.

    ``metrics``: ``losses`` (one per step), the held-out exact-match accuracies ``greedy`` and
    ``beam`` (beam search of width ``beam_size``), and ``outputs``, what ``evaluate`` returns.
    """
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    pairs, test = datasets(seed)
    check_batch("dates.train", batch_size, len(pairs))
    if not 1 <= beam_size <= MAX_BEAM:  # refused now, not after training
        raise ValueError(f"dates.train: beam_size must be from 1 to {MAX_BEAM} (each step decodes "
                         f"every kept hypothesis of every held-out date), got {beam_size}")
    src_vocab = Vocab.build("".join(src for src, _ in pairs))
    tgt_vocab = Vocab.build("".join(tgt for _, tgt in pairs))
    model = Seq2Seq(src_vocab, tgt_vocab, hidden_size=hidden_size, cell=cell)
    losses = fit(model, lambda: model.loss([pairs[i] for i in rng.integers(0, len(pairs),
                                                                             batch_size)]),
                 steps, lr, clip, "dates", progress)
    outputs = evaluate(model, test, beam_size)
    metrics = {"losses": losses, "outputs": outputs,
               "greedy": float(np.mean([g == tgt for _, tgt, g, _ in outputs])),
               "beam": float(np.mean([b == tgt for _, tgt, _, b in outputs]))}
    return model, metrics


def main(argv=None):
    p = command("python -m tinyseq.app.examples.dates", __doc__.splitlines()[0], steps=800,
                hidden=128, cells=("lstm", "gru"))
    p.add_argument("--beam", type=positive(int), default=4, help="beam width (default 4)")
    args = p.parse_args(argv)
    with refusals(p):
        _, metrics = train(args.steps, args.seed, args.batch, args.cell, args.hidden,
                           args.lr, beam_size=args.beam)
    outputs = metrics["outputs"]
    print(f"held-out exact match ({len(outputs)} dates): greedy {metrics['greedy']:.1%}, "
          f"beam search (width {args.beam}) {metrics['beam']:.1%}")
    differ = [out for out in outputs if out[2] != out[3]]
    agree = [out for out in outputs if out[2] == out[3]]
    print(f"  {'source':<28} {'answer':<11} {'greedy':<11} beam")
    for title, rows in ((f"greedy and beam search disagree on {len(differ)}:", differ[:4]),
                        ("they agree on the rest, e.g.:", agree[:4])):
        print(title)
        for row in rows:
            print("  {:<28} {:<11} {:<11} {}".format(*row))


if __name__ == "__main__":
    main()

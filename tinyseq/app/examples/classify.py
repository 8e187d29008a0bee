"""Many-to-one on generated data: does a sequence's first letter appear again later?

    python -m tinyseq.app.examples.classify [--steps 1000] [--seed 0] [--cell gru]

Sequences are 5 to 20 random letters from ``abcdef``. Half of them (label 1) repeat their first
letter somewhere later, once or twice; the other half never do. Apart from that the two classes
are drawn alike (same lengths, same other letters), so the majority baseline is 50% and nothing
but the rule helps: the RNN must carry the first letter in a⟨t⟩ across the whole sequence and
compare every later letter with it. A ``SequenceClassifier`` reads a⟨T_x⟩ and says yes or no.
The default cell is a GRU: it learns this rule in fewer steps than an LSTM (docs/seq2seq.md).
"""
import numpy as np

from ... import nn
from ...autograd.factories import from_numpy
from ...autograd.rng import manual_seed
from ...data import Vocab, pad_batch
from ...models.classifier import SequenceClassifier
from .fit import check_batch, command, fit, refusals

ALPHABET = "abcdef"
VOCAB = Vocab(ALPHABET)


def rule(text):
    """The hidden label: 1 if the first letter appears again later, else 0."""
    return int(text[0] in text[1:])


def generate(n, rng, min_len=5, max_len=20):
    """``n`` texts alternating label 0 and 1, and their labels ``(n,)`` int64."""
    texts = []
    for i in range(n):
        first = rng.choice(list(ALPHABET))
        others = [ch for ch in ALPHABET if ch != first]
        chars = [first, *rng.choice(others, rng.integers(min_len, max_len + 1) - 1)]
        if i % 2:  # label 1: the first letter again at one or two later positions
            for pos in rng.choice(np.arange(1, len(chars)), rng.integers(1, 3), replace=False):
                chars[pos] = first
        texts.append("".join(chars))
    return texts, np.array([rule(text) for text in texts], dtype=np.int64)


def datasets(seed, n_train=5000, n_test=1000):
    """``(train, test)``, each ``(texts, labels)``; test texts never occur in the training set."""
    rng = np.random.default_rng(seed)
    train = generate(n_train, rng)
    seen = set(train[0])
    texts, labels = generate(n_test, rng)
    keep = [i for i, text in enumerate(texts) if text not in seen]
    return train, ([texts[i] for i in keep], labels[keep])


def encode(texts):
    """Texts -> ids ``(T_max, B)`` int64 and lengths ``(B,)``."""
    return pad_batch([VOCAB.encode(text) for text in texts], VOCAB.pad_id)


def accuracy(model, texts, labels):
    return float((model.predict(*encode(texts)) == labels).mean())


def train(steps=1000, seed=0, batch_size=64, cell="gru", hidden_size=64, lr=5e-3, clip=1.0,
          progress=True):
    """Train a ``SequenceClassifier`` on the rule; returns ``(model, metrics)``.

    ``metrics``: ``losses`` (one per step), ``train_accuracy``, ``test_accuracy`` and
    ``baseline`` (the majority class's share of the held-out set).
    """
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    (texts, labels), test = datasets(seed)
    check_batch("classify.train", batch_size, len(texts))
    model = SequenceClassifier(len(VOCAB), 2, hidden_size=hidden_size, cell=cell,
                               pad_id=VOCAB.pad_id)

    def batch_loss():
        batch = rng.integers(0, len(texts), batch_size)
        logits = model(*encode([texts[i] for i in batch]))  # (B, 2)
        return nn.functional.cross_entropy(logits, from_numpy(labels[batch]))

    losses = fit(model, batch_loss, steps, lr, clip, "classify", progress)
    metrics = {"losses": losses, "train_accuracy": accuracy(model, texts[:1000], labels[:1000]),
               "test_accuracy": accuracy(model, *test),
               "baseline": float(max(test[1].mean(), 1 - test[1].mean()))}
    return model, metrics


def main(argv=None):
    p = command("python -m tinyseq.app.examples.classify", __doc__.splitlines()[0], steps=1000,
                hidden=64, cells=("gru", "rnn", "lstm"))
    args = p.parse_args(argv)
    with refusals(p):
        model, metrics = train(args.steps, args.seed, args.batch, args.cell, args.hidden,
                               args.lr)
    print(f"train accuracy    {metrics['train_accuracy']:.1%}")
    print(f"held-out accuracy {metrics['test_accuracy']:.1%} "
          f"(majority baseline {metrics['baseline']:.1%})")
    texts, labels = datasets(args.seed)[1]
    predicted = model.predict(*encode(texts[:6]))
    for text, label, guess in zip(texts, labels, predicted):
        print(f"  {text:<20} rule {label}  model {guess}")


if __name__ == "__main__":
    main()

"""The one random generator behind ``randn``, ``rand``, parameter init and dropout."""
import numpy as np

_generator = np.random.default_rng()

SEEDS = (-2 ** 63, 2 ** 64 - 1)  # what torch.manual_seed accepts; a negative seed wraps mod 2**64


def manual_seed(seed):
    """Make every later random draw reproducible (``ts.manual_seed(0)``).

    As ``torch.manual_seed``, ``seed`` is anything ``int()`` takes (``1.5`` is 1) in
    ``[-2**63, 2**64 - 1]``; a negative seed is the same as ``seed + 2**64``.
    """
    global _generator
    _generator = np.random.default_rng(_seed_value(seed))
    return _generator


def _seed_value(seed):
    """``seed`` as numpy takes it: an int in ``[0, 2**64)``; ValueError/TypeError otherwise."""
    try:
        value = int(seed)
    except (TypeError, ValueError, OverflowError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(f"manual_seed: the seed must be an integer, got {seed!r}") from None
    if not SEEDS[0] <= value <= SEEDS[1]:
        raise ValueError(f"manual_seed: the seed must be in [-2**63, 2**64 - 1] (as in "
                         f"torch.manual_seed), got {value}")
    return value % 2 ** 64


def generator():
    """The current ``numpy.random.Generator``."""
    return _generator

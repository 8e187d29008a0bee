"""The one random generator behind ``randn``, ``rand``, parameter init and dropout."""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Make every later random draw reproducible (``ts.manual_seed(0)``)."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator():
    """The current ``numpy.random.Generator``."""
    return _generator

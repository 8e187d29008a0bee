"""Random streams: ``ts.Generator``, and the default one behind ``randn``, ``rand``, parameter init
and dropout (``ts.manual_seed`` seeds it).

A Generator is a numpy ``PCG64`` stream with a seed; the draws are not torch's (another
generator), but one seed always gives the same draws, and a Generator of your own never moves the
default stream.
"""
import numpy as np

SEEDS = (-2 ** 63, 2 ** 64 - 1)  # what torch.manual_seed accepts; a negative seed wraps mod 2**64
_STATE_BYTES = 48  # a state: the seed, PCG64's state and increment, its buffered 32 bits


class Generator:
    """A random stream of its own, as ``torch.Generator``: ``g = ts.Generator().manual_seed(0)``,
    then ``ts.randn(3, generator=g)``.

    >>> import tinyseq as ts
    >>> g = ts.Generator().manual_seed(7)
    >>> a = ts.rand(2, generator=g)
    >>> a.tolist() == ts.rand(2, generator=ts.Generator().manual_seed(7)).tolist()
    True
    """

    def __init__(self, device="cpu"):
        from .device import device_arg  # (device.py imports nothing of the engine when it loads)

        device_arg("Generator", device)
        self.seed()

    def manual_seed(self, seed):
        """Restart the stream from ``seed`` (as ``ts.manual_seed``'s); returns this Generator."""
        self._seed = _seed_value(seed)
        self._numpy = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Restart the stream from a fresh random seed, and return that seed."""
        seed = int(np.random.SeedSequence().entropy % 2 ** 64)
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        """The seed the stream started from (``manual_seed``'s, or ``seed()``'s)."""
        return self._seed

    def get_state(self):
        """The stream's state as a uint8 Tensor, for ``set_state`` (not torch's format)."""
        from .tensor import Tensor  # (tensor.py imports this module's users)

        bits = self._numpy.bit_generator.state
        words = (self._seed, bits["state"]["state"], bits["state"]["inc"],
                 bits["has_uint32"] | bits["uinteger"] << 1)
        sizes = (8, 16, 16, 8)
        raw = b"".join(w.to_bytes(n, "little") for w, n in zip(words, sizes))
        return Tensor(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        """Go back to a state ``get_state`` gave; returns this Generator."""
        raw = _state_bytes(new_state)
        seed, state, inc, extra = (int.from_bytes(raw[a:b], "little")
                                   for a, b in ((0, 8), (8, 24), (24, 40), (40, 48)))
        numpy = np.random.Generator(np.random.PCG64())
        numpy.bit_generator.state = {"bit_generator": "PCG64",
                                     "state": {"state": state, "inc": inc},
                                     "has_uint32": extra & 1, "uinteger": extra >> 1}
        self._seed, self._numpy = seed, numpy
        return self

    device = property(lambda self: _cpu(), doc="Always ``ts.device('cpu')``.")

    def __repr__(self):
        return f"<tinyseq.Generator, initial seed {self._seed}>"


def _cpu():
    from .device import CPU

    return CPU


def _state_bytes(state):
    """The bytes of a state from ``get_state``, else a TypeError/RuntimeError as torch's."""
    from .tensor import Tensor

    if not isinstance(state, Tensor) or state._data.dtype != np.uint8:
        got = state._data.dtype if isinstance(state, Tensor) else type(state).__name__
        raise TypeError(f"set_state: expected a ts.ByteTensor (uint8) from get_state(), got {got}")
    if state._data.shape != (_STATE_BYTES,):
        raise RuntimeError(f"set_state: expected the {_STATE_BYTES} bytes that get_state() gives, "
                           f"got a tensor of shape {state.shape}")
    return state._data.tobytes()


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


default_generator = Generator()


def manual_seed(seed):
    """Make every later random draw reproducible (``ts.manual_seed(0)``); returns
    ``ts.default_generator``, as torch returns its default Generator.

    As ``torch.manual_seed``, ``seed`` is anything ``int()`` takes (``1.5`` is 1) in
    ``[-2**63, 2**64 - 1]``; a negative seed is the same as ``seed + 2**64``.
    """
    return default_generator.manual_seed(seed)


def generator():
    """The default stream's ``numpy.random.Generator``."""
    return default_generator._numpy


def numpy_generator(op, generator=None):
    """The ``numpy.random.Generator`` that ``generator=`` names: the default stream for None, a
    ``ts.Generator``'s own, or a numpy Generator as it is; anything else is a TypeError."""
    if generator is None:
        return default_generator._numpy
    if isinstance(generator, Generator):
        return generator._numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{op}: generator must be None or a numpy.random.Generator (or a "
                    f"ts.Generator), got {type(generator).__name__}; e.g. "
                    "ts.Generator().manual_seed(0)")

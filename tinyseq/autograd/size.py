"""``ts.Size``: what ``t.shape`` and ``t.size()`` return, a tuple of ints that prints as PyTorch's
(``tinyseq.Size([2, 3])``) and stays a Size when sliced or added to."""
import math
import operator


class Size(tuple):
    """The sizes of a tensor's dims: a tuple (``t.shape == (2, 3)``, ``n, m = t.shape``).

    >>> import tinyseq as ts
    >>> s = ts.zeros(2, 3, 4).shape
    >>> s, s[1:], s.numel()
    (tinyseq.Size([2, 3, 4]), tinyseq.Size([3, 4]), 24)
    >>> print(s), print(f"of shape {s}")
    tinyseq.Size([2, 3, 4])
    of shape (2, 3, 4)
    (None, None)
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for k, n in enumerate(sizes):
            try:  # ints and integer scalars (a 0-d int tensor, np.int64) as ``operator.index``
                operator.index(n)
            except TypeError:
                raise TypeError(f"ts.Size takes an iterable of ints (item {k} is "
                                f"{type(n).__name__})") from None
        return super().__new__(cls, [operator.index(n) for n in sizes])

    def __repr__(self):
        return f"tinyseq.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec):
        """In an f-string, a tuple: ``f"got shape {t.shape}"`` reads ``got shape (4, 3)``, in the
        notation of tinyseq's error messages (``expected (T, B, input_size)``). This differs from
        torch, whose f-strings show ``torch.Size([4, 3])``; ``print(t.shape)``, ``str`` and
        ``repr`` are torch's."""
        return format(tuple(self), spec)

    def __getitem__(self, key, _get=tuple.__getitem__):  # (``_get``: ``s[0]`` is a hot path)
        got = _get(self, key)
        return got if type(key) is not slice else tuple.__new__(Size, got)

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, other + tuple(self))

    def __mul__(self, n):
        return tuple.__new__(Size, tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return Size, (tuple(self),)

    def numel(self):
        """The number of elements of a tensor of these sizes (1 for ``Size([])``)."""
        return math.prod(self)


Size.__module__ = "tinyseq"

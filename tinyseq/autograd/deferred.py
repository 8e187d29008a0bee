"""A weight's gradient kept as a lazy sum of products until it is complete.

A weight used at every step of a sequence gets T gradients, each a thin product over the B rows of
one step: ``dW = Σₜ gₜᵀ xₜ`` (``Linear``: g ``(B, out)``, x ``(B, in)``). Computing them one by one
costs T products whose inner dimension is only B, and T passes that add a whole ``(out, in)``
matrix into the running sum. Hand-written BPTT instead keeps the g's and x's and makes one product
over all T·B rows at the end: ``concat(g)ᵀ concat(x)``. The engine does the same for every model:
an op's backward returns a ``Deferred`` instead of the product, the engine's ``_add`` joins
deferred gradients that meet, and the node's gradient is made an array once it is complete
(``engine._complete``), so hooks, ``retain_grad``, ``grad()`` and the ops see only arrays.

Not all T at once, though: the pairs keep each step's g alive (T·B·out floats, 8 MiB for W2's
``weight_hh``) and their concatenation needs as much again. A product of ``FOLD_ROWS`` rows is
already as fast per row as one of all T·B, so once the pairs reach that many rows they are summed
into an array (``dense``) and dropped. Measured on W2's ``weight_hh`` (T=64, B=32, (1024, 256),
float32, one OpenBLAS thread, best CPU time): the 64 thin products and their sums 12.9 ms, one
product of 2048 rows 9.6 ms, four of 512 rows 9.3 ms. A whole training step (CPU time, best of
4 interleaved runs of 12 steps): W2 97 -> 83 ms, W4 (GRU) 84 -> 80 ms.
"""
import numpy as np

FOLD_ROWS = 512  # rows of pairs kept per gradient before they are summed into an array


class Deferred:
    """``Σ leftᵀ @ right`` over its pairs (each 2-D, with the same number of rows within a pair),
    plus ``dense``, an array the engine owns (or ``None``). ``shape``, ``dtype``, ``size``: the
    result's. ``np.asarray(d)`` makes the array."""

    __slots__ = ("lefts", "rights", "dense", "shape", "dtype", "rows")

    def __init__(self, left, right):
        self.lefts, self.rights, self.dense = [left], [right], None
        self.shape = (left.shape[1], right.shape[1])
        self.dtype = np.result_type(left, right)
        self.rows = left.shape[0]

    @property
    def size(self):
        """The number of elements of the result, as an array's ``size``."""
        return self.shape[0] * self.shape[1]

    def extend(self, other):
        """Add ``other`` (a ``Deferred`` of the same shape that an op just returned: pairs only)
        to this one, in place."""
        self.lefts += other.lefts
        self.rights += other.rights
        self.rows += other.rows
        if self.rows >= FOLD_ROWS:
            self._add_dense(self._product())
            self.lefts, self.rights, self.rows = [], [], 0
        return self

    def materialize(self):
        """The sum as a new array (which no one else holds)."""
        if not self.lefts:
            return self.dense
        total = self._product()
        return total if self.dense is None else np.add(total, self.dense, out=total)

    def __array__(self, dtype=None, copy=None):
        if copy is False:  # (numpy 2's contract: no copy possible means an error)
            raise ValueError("a Deferred gradient is a sum still to compute: it has no array to "
                             "view without computing it")
        a = self.materialize()
        return a if dtype is None else a.astype(dtype, copy=False)

    def _product(self):
        """The pairs' sum: one product over all their rows (``concat(lefts)ᵀ concat(rights)``)."""
        lefts, rights = self.lefts, self.rights
        left = lefts[0] if len(lefts) == 1 else np.concatenate(lefts)
        right = rights[0] if len(rights) == 1 else np.concatenate(rights)
        if left.shape[0] == 1:  # one row: an outer product (OpenBLAS is slow at it as a matmul)
            return left.T * right
        return left.T @ right

    def _add_dense(self, a):
        if self.dense is None:
            self.dense = a
        else:
            np.add(self.dense, a, out=self.dense)


def join(a, b):
    """``a + b`` where one or both are ``Deferred`` (``b`` one an op just returned): still lazy if
    both are (``a`` grows), else an array that no one else holds."""
    if type(a) is Deferred and type(b) is Deferred:
        return a.extend(b)
    lazy, other = (a, b) if type(a) is Deferred else (b, a)
    total = lazy.materialize()
    return np.add(total, other, out=total)

"""Views and version counters: what makes an in-place change seen by the nodes it would fool.

Every tensor has a ``Version`` counter that each in-place change bumps. A result that shares
memory with an input (a view: ``reshape``, ``t[0]``, ``detach()``) shares that input's counter,
so a change through either is a change to both. A node records the counters (and their values)
of the arrays its forward saved; the backward walk refuses to run it if one has moved since.

A view also knows its base, as ``t._base = (root, root.grad_fn then)``: the tensor that owns
the memory, and its node when the view's own node was made; ``positions`` maps a view's elements
into its root's. How in-place ops use them is ``ops/inplace.py`` (and ``ops/view_writes.py``).
"""
import numpy as np

from .tensor import Tensor


class Version:
    """How many in-place changes a tensor's data has seen; ``detach()`` and views share one."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def wrap(out, args, fn, _new=object.__new__):
    """A forward's result as a Tensor (refusing what is not an array of numbers). A view shares
    the version counter of the input it looks into, and knows its root (``_base``)."""
    if type(out) is not np.ndarray:
        given, out = out, np.asarray(out)
        if out.dtype.kind not in "fiub":
            raise TypeError(f"{fn.__name__}.forward returned {type(given).__name__} (dtype "
                            f"{out.dtype}); return a numpy array of numbers (or a tuple of them)")
    base = out.base
    a = None if base is None else _viewed(out, base, args)
    # ``Tensor._wrap``, inlined: every op's every result comes here, and the call was a third of
    # the cost (a result 0.40 -> 0.22 us, a view 0.42 -> 0.37 us, with the lazy counter)
    t = _new(Tensor)
    t._data = out
    t._grad = t.grad_fn = t._name = t._accumulator = t._hooks = None
    t._requires_grad, t._output_nr = False, 0
    if a is None:
        t._counter = t._base = None
    else:
        t._counter = a._version
        root = a if a._base is None else a._base[0]
        t._base = (root, root.grad_fn)
    return t


def _viewed(out, base, args):
    """The Tensor argument whose memory ``out`` (whose numpy ``base`` is given) looks into, or
    None."""
    for a in args:  # the usual case first: a view of an argument's own array
        if isinstance(a, Tensor) and a._data is base:
            return a
    for a in args:
        if isinstance(a, Tensor) and np.may_share_memory(out, a._data):
            return a
    return None


def is_stale(t):
    """Whether ``t`` is a view whose root was rebased (changed in place in a graph) since the
    view's own node was made: then ``ops/view_writes.refresh`` gives it a node that reads the
    root's."""
    return t._base is not None and t._base[1] is not t._base[0].grad_fn


def versions_of(saved, args, outputs):
    """For the arrays forward saved for backward: ``(version counter, value now)`` of each
    tensor whose memory one is, and where each came from: ``i`` if it is argument ``i``'s own
    array, ``~k`` (negative) if it is output ``k``'s, ``None`` otherwise (an array forward
    computed). A backward run with ``create_graph=True`` (``higher.py``) gives the first two back
    as the tensors in the graph, so that the gradient it builds can be differentiated again."""
    versions, sources = [], []
    for a in saved:
        t, source = _owner(a, args, outputs)
        sources.append(source)
        if t is not None:
            version = t._version
            versions.append((version, version.value))
    return tuple(versions), tuple(sources)


def results_as_wrapped(saved, out, outputs):
    """``saved`` with each result forward returned as other than an array (a numpy scalar: what a
    ufunc gives for 0-d arrays) replaced by the 0-d array ``wrap`` made of it, the output's own:
    backward is then given the tensor's array, as for any other result. ``out`` is what forward
    returned (one result, or a tuple), ``outputs`` the Tensors made of it."""
    results = out if type(out) is tuple else (out,)
    made = {id(r): t._data for r, t in zip(results, outputs) if type(r) is not np.ndarray}
    if not made:
        return saved
    return tuple([made.get(id(a), a) if type(a) is not np.ndarray else a for a in saved])


def _owner(a, args, outputs):
    """``(tensor, source)``: the first tensor (of the Tensor ``args``, then the ``outputs``)
    whose array ``a`` is, with its place (``i``, or ``~k`` for output ``k``); else the first
    tensor whose memory the view ``a`` shares, with ``None``; else ``(None, None)``. (Two loops
    over the arguments rather than one list of all the tensors: forwards mostly save their
    arguments' own arrays, and this runs for every op.)"""
    i = 0
    for t in args:  # (counted by hand: with enumerate, versions_of took 0.72 us, not 0.59, for mul)
        if isinstance(t, Tensor) and t._data is a:
            return t, i
        i += 1
    k = -1
    for t in outputs:  # output j is ~j: -1, -2, ...
        if t._data is a:
            return t, k
        k -= 1
    if isinstance(a, np.ndarray):
        for t in (*args, *outputs):
            if isinstance(t, Tensor) and np.may_share_memory(a, t._data):
                return t, None
    return None, None


# ---- in-place ops through views ------------------------------------------------------------------
def positions(view, root):
    """The flat (C-order) index into ``root`` of each element of ``view``, an array sharing its
    memory: found by the elements' addresses, so it holds for any chain of view ops."""
    ra, va = _addresses(root).ravel(), _addresses(view)
    order = np.argsort(ra, kind="stable")
    at = np.minimum(np.searchsorted(ra[order], va), ra.size - 1)
    return order[at]


def _addresses(a):
    out = np.full(a.shape, a.__array_interface__["data"][0], dtype=np.int64)
    for k, (n, stride) in enumerate(zip(a.shape, a.strides)):
        out += (np.arange(n, dtype=np.int64) * stride).reshape((n,) + (1,) * (a.ndim - k - 1))
    return out


"""An in-place write through a view (``t[0].add_(1)``), as PyTorch records it:
the view's root is rebased onto a ``CopySlices`` node (the old root with the written region
replaced by the view's new value), and the root's other views, stale from then on, read their
gradient out of that node (``ViewOf``) when they are next used (``refresh``). ``ops/inplace.py``
calls ``write_through`` after rebasing the view; ``Function.apply`` and the backward walk call
``refresh`` on a stale view (``views.is_stale``).
"""
import numpy as np

from ..function import Context, Function
from ..node import Node, edge_of
from ..views import positions


class CopySlices(Function):
    """The root after an in-place op wrote the region ``pos`` through a view: the old root gets
    the gradient with the region zeroed, the op's node the region's gradient."""

    @staticmethod
    def backward(ctx, g):
        g = np.array(g)  # a copy, C-ordered (the engine may hand the same array on)
        flat = g.reshape(-1)
        region = flat[ctx.pos]
        flat[ctx.pos] = 0
        return g, region

    @staticmethod
    def graph_backward(ctx, g):
        from .selection import Where  # (a select, as torch's: no Inf or NaN of g in the region)
        keep = np.ones(g.shape, bool)  # False in the region
        keep.reshape(-1)[ctx.pos] = False
        return (Where.apply(keep, g, np.zeros((), g._data.dtype)),
                _indexing().GetItem.apply(g.reshape(-1), (ctx.pos,)))


class ViewOf(Function):
    """A view read out of its root's node: its gradient (root.size,) scattered into the root's
    shape, summed where the view repeats an element (an ``expand``)."""

    name = "as_strided"

    @staticmethod
    def backward(ctx, g):
        full = np.bincount(ctx.pos.ravel(), weights=g.ravel(), minlength=ctx.size)
        return full.astype(g.dtype, copy=False).reshape(ctx.shape)

    @staticmethod
    def graph_backward(ctx, g):
        flat = _indexing().index_put(g.reshape(-1), (ctx.size,), (ctx.pos.ravel(),))
        return flat.reshape(ctx.shape)


def _indexing():
    from . import index  # (index.py imports inplace.py, which imports this module)
    return index


def write_through(view, op):
    """After ``op`` rebased ``view``: rebase its root onto a ``CopySlices`` node (the old root and
    the view's new node), and make the view a view of that node."""
    root = view._base[0]
    pos = positions(view._data, root._data)
    if np.unique(pos).size != pos.size:
        raise RuntimeError(f"{op}: more than one element of this view refers to the same memory "
                           "(an expand?), so it cannot be written in place; .clone() it first")
    ctx = Context((root._requires_grad, True))
    ctx.pos = pos
    edges = (edge_of(root) if root._requires_grad else None, (view.grad_fn, view._output_nr))
    root.grad_fn = Node(CopySlices, ctx, edges, ((root.shape, root._data.dtype),))
    root._output_nr, root._requires_grad = 0, True
    refresh(view, pos)


def refresh(view, pos=None):
    """Give ``view``, stale since its root was rebased, a node that reads it out of the root's."""
    root = view._base[0]
    ctx = Context((True,))
    ctx.pos = positions(view._data, root._data) if pos is None else pos
    ctx.size, ctx.shape = root._data.size, root.shape
    view.grad_fn = Node(ViewOf, ctx, ((root.grad_fn, root._output_nr),),
                        ((view.shape, view._data.dtype),))
    view._output_nr, view._requires_grad, view._base = 0, True, (root, root.grad_fn)

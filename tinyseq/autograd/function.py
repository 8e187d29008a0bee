"""``Function``: one op, forward and backward side by side; ``Node``: its place in the graph.

A Function's ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` work on numpy arrays.
``Function.apply(*args)`` unwraps Tensor arguments, runs forward, wraps the results and, when grad
mode is on and an input requires a gradient, records a ``Node`` that the backward walk will visit.
"""
import numpy as np

from . import anomaly
from .mode import state
from .node import Node, edge_of
from .observers import observers
from .ops._util import quiet
from .tensor import Tensor


class Context:
    """What a forward leaves for its backward: ``save_for_backward(*arrays)``, any attributes.

    ``needs_input_grad[i]`` tells backward whether argument ``i`` wants a gradient at all.
    """

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


class Function:
    """Base class of every op. Subclass it with two static methods::

        class Cube(ts.autograd.Function):
            @staticmethod
            def forward(ctx, x):            # numpy in, numpy out
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):        # one gradient per output in, one per input out
                (x,) = ctx.saved_tensors
                return 3 * x ** 2 * grad

        y = Cube.apply(t)

    ``backward`` returns one gradient per argument of ``forward`` (``None`` for arguments that are
    not tensors or need none), each in that argument's shape. It must not change the arrays it
    receives in place (the engine may pass the same gradient to several nodes). Set ``materialize_grads = False`` to
    receive ``None`` instead of zeros for outputs that got no gradient (multi-output ops use it).
    """

    materialize_grads = True
    moves_data_only = False  # True for views and copies: no arithmetic, so no numpy warnings

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()

    @classmethod
    def apply(cls, *args):
        if not state.grad_enabled and not state.anomaly:
            return cls._apply_without_graph(args)
        grad_on, flags, arrays = state.grad_enabled, [], []
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                flags.append(grad_on and a._requires_grad)
            else:
                arrays.append(a)
                flags.append(False)
        ctx = Context(tuple(flags))
        out = cls.forward(ctx, *arrays) if cls.moves_data_only else _quiet(cls.forward, ctx, arrays)
        multi = type(out) is tuple
        tensors = [_wrap(o, args, cls) for o in out] if multi else [_wrap(out, args, cls)]
        if state.anomaly:
            anomaly.check_forward(cls.name, args, [t.data for t in tensors])
        if True in ctx.needs_input_grad:
            cls._record(ctx, args, flags, tensors)
        return tuple(tensors) if multi else tensors[0]

    @classmethod
    def _record(cls, ctx, args, flags, tensors):
        """Make the node that links ``tensors`` (the outputs) to the arguments that need a gradient."""
        edges = tuple([edge_of(a) if f else None for a, f in zip(args, flags)])
        node = Node(cls, ctx, edges, tuple([(t.data.shape, t.data.dtype) for t in tensors]))
        for k, t in enumerate(tensors):
            if t.data.dtype.kind == "f":  # integer results carry no gradient
                t.grad_fn, t._output_nr, t._requires_grad = node, k, True
        if ctx.saved_tensors:
            node.saved_versions = _versions_of(ctx.saved_tensors, args, tensors)
        for observer in observers:
            observer.recorded(node, args, flags)

    @classmethod
    def _apply_without_graph(cls, args):
        """``apply`` under ``no_grad``: the forward and the result, no bookkeeping at all."""
        ctx = Context((False,) * len(args))
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        out = cls.forward(ctx, *arrays) if cls.moves_data_only else _quiet(cls.forward, ctx, arrays)
        if type(out) is tuple:
            return tuple([_wrap(o, args, cls) for o in out])
        return _wrap(out, args, cls)


@quiet
def _quiet(forward, ctx, arrays):
    """``forward(ctx, *arrays)``; Inf and NaN are results, as in torch, not numpy warnings.
    (An op whose forward only moves data, ``moves_data_only``, cannot warn and skips this: the
    errstate costs about 0.5 us, a sixth of a small op's time.)"""
    return forward(ctx, *arrays)


def _wrap(out, args, fn):
    """A forward's result as a Tensor (refusing what is not an array of numbers). A view shares
    the version counter of the input it looks into, so that an in-place change through either is
    seen by the nodes that saved the other."""
    if type(out) is not np.ndarray:
        given, out = out, np.asarray(out)
        if out.dtype.kind not in "fiub":
            raise TypeError(f"{fn.__name__}.forward returned {type(given).__name__} (dtype "
                            f"{out.dtype}); return a numpy array of numbers (or a tuple of them)")
    base = out.base
    if base is None:
        return Tensor._wrap(out)
    for a in args:  # the usual case first: a view of an argument's own array
        if isinstance(a, Tensor) and a.data is base:
            return Tensor._wrap(out, a._version)
    for a in args:
        if isinstance(a, Tensor) and np.may_share_memory(out, a.data):
            return Tensor._wrap(out, a._version)
    return Tensor._wrap(out)


def _versions_of(saved, args, outputs):
    """``(version counter, value now)`` of each tensor whose memory forward saved for backward."""
    tensors = [t for t in args if isinstance(t, Tensor)] + outputs
    versions = []
    for a in saved:
        t = _owner(a, tensors)
        if t is not None:
            versions.append((t._version, t._version.value))
    return tuple(versions)


def _owner(a, tensors):
    """The first tensor whose array ``a`` is, else the first whose memory the view ``a`` shares."""
    for t in tensors:
        if t.data is a:
            return t
    if isinstance(a, np.ndarray):
        for t in tensors:
            if np.may_share_memory(a, t.data):
                return t
    return None

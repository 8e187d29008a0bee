"""``Function``: one op, forward and backward side by side, and how applying it records a ``Node``.

A Function's ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` work on numpy arrays.
``Function.apply(*args)`` unwraps Tensor arguments, runs forward, wraps the results and, when grad
mode is on and an input requires a gradient, records a ``Node`` (``node.py``) that the backward
walk will visit.
Which results are views of an input, and the version counters, are ``views.py``'s business.
"""

import numpy as np

from . import anomaly, forward_ad
from .mode import state
from .node import OpName, edge_of, node_class, torch_name
from .observers import observers
from .ops._util import quiet_call
from .tensor import Tensor
from .views import results_as_wrapped, versions_of, wrap


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
    receives in place (the engine may pass the same gradient to several nodes). Set
    ``materialize_grads = False`` to receive ``None`` instead of zeros for outputs that got no
    gradient (multi-output ops use it).
    """

    materialize_grads = True
    moves_data_only = False  # True for views and copies: no arithmetic, so no numpy warnings
    # The same gradient as ``backward``'s, written in tinyseq's ops on Tensors, so that it is a
    # graph that can be differentiated again (``backward(create_graph=True)``, ``higher.py``).
    # Where ``backward`` already uses only what Tensors also do (``g * (1 - out * out)``), an op
    # says ``graph_backward = backward``; ``None``: the op's gradient is not differentiable yet.
    graph_backward = None
    # Forward mode (``forward_ad.py``): ``jvp(ctx, *tangents)`` gives the tangent of each output
    # from the tangents of the arguments (zeros for a floating-point tensor without one; other
    # arguments as they are), with the ``ctx`` forward filled. An op that is ``linear`` in its
    # tensors (``a + b``, a sum, a reshape; views and copies are) needs none: the op applied to
    # the tangents is the tangent of its result.
    jvp = None
    linear = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        cls.node_class = node_class(torch_name(cls))  # (its nodes' class: ``MulBackward0``)
        cls.node_name = OpName(cls.name, cls.node_class.__name__)

    @classmethod
    def alias(cls, name, torch=None):
        """This op under another name, in the graph and in error messages: ``View =
        Reshape.alias("view")`` is a subclass that only renames it, so it runs Reshape's forward
        and backward in nodes named "view" (PyTorch's name of its nodes: ``torch``, if the name
        does not say it)."""
        title = "".join(word.title() for word in name.split("_"))  # "masked_fill": MaskedFill
        names = {"name": name} if torch is None else {"name": name, "torch_name": torch}
        return type(title, (cls,), {**names, "__module__": cls.__module__,
                                    "__doc__": f"``{name}``: ``{cls.__name__}`` by another name."})

    @classmethod
    def variant(cls, torch):
        """This op, under its own name, in nodes that PyTorch names ``torch``: ``t[0]`` and
        ``t[1:]`` are both ``index``, ``SelectBackward0`` and ``SliceBackward0`` in torch."""
        return type(cls.__name__, (cls,), {"name": cls.name, "torch_name": torch,
                                           "__module__": cls.__module__, "__doc__": cls.__doc__})

    @classmethod
    def apply(cls, *args):
        """The op on ``args`` (Tensors and plain values): unwrap the Tensors' arrays, run
        ``forward`` on them, wrap its results as Tensors and, if an argument needs a gradient,
        record the node that links them to it."""
        grad_on = state.grad_enabled
        if not grad_on and not state.anomaly and not _dual_levels[0]:
            return cls._apply_without_graph(args)
        flags, arrays = [], []
        for a in args:  # unwrap: each Tensor's array, and whether it needs a gradient
            if isinstance(a, Tensor):
                if a._base is not None and a._base[1] is not a._base[0].grad_fn:
                    _refresh(a)  # views.is_stale(a), inlined: this runs for every argument
                arrays.append(a._data)
                flags.append(grad_on and a._requires_grad)
            else:
                arrays.append(a)
                flags.append(False)
        ctx = Context(tuple(flags))
        out = cls.forward(ctx, *arrays) if cls.moves_data_only else _quiet(cls.forward, ctx, arrays)
        multi = type(out) is tuple
        tensors = [wrap(o, args, cls) for o in out] if multi else [wrap(out, args, cls)]
        if state.anomaly:
            anomaly.check_forward(cls.name, args, [t._data for t in tensors])
        if True in flags:
            cls._record(ctx, args, flags, tensors, out)
        if _dual_levels[0] and state.dual is not None:  # (a forward-mode level is open)
            forward_ad.propagate(cls, ctx, args, tensors)
        return tuple(tensors) if multi else tensors[0]

    @classmethod
    def _record(cls, ctx, args, flags, tensors, out):
        """Make the node that links ``tensors`` (the outputs; ``out``, what forward returned) to
        the arguments that need a gradient, and tell the observers."""
        edges = tuple([edge_of(a) if f else None for a, f in zip(args, flags)])
        meta = tuple([(t._data.shape, t._data.dtype) for t in tensors])
        node = cls.node_class(cls, ctx, edges, meta)
        for k, t in enumerate(tensors):
            if t._data.dtype.kind == "f":  # integer results carry no gradient
                t.grad_fn, t._output_nr, t._requires_grad = node, k, True
        if ctx.saved_tensors:
            if type(out) is not np.ndarray:  # a numpy scalar (a ufunc of 0-d arrays), or a tuple
                ctx.saved_tensors = results_as_wrapped(ctx.saved_tensors, out, tensors)
            node.saved_versions, node.saved_from = versions_of(ctx.saved_tensors, args, tensors)
        for observer in observers:
            observer.recorded(node, args, flags, tensors)

    @classmethod
    def _apply_without_graph(cls, args):
        """``apply`` under ``no_grad`` (outside forward mode): the forward and the result, no
        bookkeeping at all."""
        ctx = Context((False,) * len(args))
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        out = cls.forward(ctx, *arrays) if cls.moves_data_only else _quiet(cls.forward, ctx, arrays)
        if type(out) is tuple:
            return tuple([wrap(o, args, cls) for o in out])
        return wrap(out, args, cls)


def _refresh(view):
    from .ops.view_writes import refresh  # (ops/ imports this module)
    refresh(view)


# ``_quiet(forward, ctx, arrays)`` is ``forward(ctx, *arrays)`` with numpy's floating-point warnings
# off: Inf and NaN are results, as in torch, not warnings. (An op whose forward only moves data,
# ``moves_data_only``, cannot warn and skips even this.)
_quiet = quiet_call
_dual_levels = forward_ad.OPEN  # (how many are open, in any thread: forward_ad.py)

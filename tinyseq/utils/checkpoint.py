"""``ts.utils.checkpoint``: PyTorch's activation checkpointing, memory bought with a second forward.

``checkpoint(function, *args, use_reentrant=False)`` gives what ``function(*args)`` gives, but the
graph it leaves keeps none of the arrays that ``function``'s ops saved for their backward: only the
inputs. The ops run again, on the same inputs and from the same random state, when backward first
needs one of those arrays. ``checkpoint_sequential`` does it for consecutive segments of a list of
modules. A recurrent layer checkpoints over segments of its steps by running it segment by
segment, each under ``checkpoint`` (docs/nn.md, "Recomputing activations").

How (``use_reentrant=False``, PyTorch's recommended variant): ``function`` runs as usual, recording
its nodes, which an observer (``autograd/observers.py``) lists in order; then each node's
``Context`` (what its forward saved) is swapped for a ``_Recompute`` that stands in for it. The
graph keeps its edges to the inputs, to the parameters ``function`` uses and to its keyword
arguments, so ``backward``, ``grad``, hooks and drawings see the graph they would see without
checkpoint. The first backward that reads a stand-in runs ``function`` again; the rerun records
the same ops in the same order, and each node gets the ``Context`` of its counterpart in the rerun.

``use_reentrant=True`` (what PyTorch 2.13 still does when ``use_reentrant`` is not given, with a
warning) is PyTorch's older variant: one node whose forward runs ``function`` under ``no_grad`` and
whose backward runs it again and backpropagates through it (``_Reentrant``). Gradients reach only
the tensor arguments and, as a side effect, the ``.grad`` of the parameters used inside.
"""
import contextlib
import warnings
import weakref

from ..autograd import Tensor
from ..autograd.engine import backward as _backward
from ..autograd.function import Function
from ..autograd.mode import enable_grad, no_grad
from ..autograd.observers import Observer, observers
from ..autograd.rng import default_generator
from ..autograd.errors import flag

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "noop_context_fn"]

# PyTorch's own words (programs filter this warning by its text)
_USE_REENTRANT = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
    "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
    "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
    "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
    "the two variants.")
_CHECKS = ("default", "none")


class CheckpointError(RuntimeError):
    """The rerun of a checkpointed function did not record the ops its first run recorded."""


def noop_context_fn():
    """The default ``context_fn``: no context around the forward or around the rerun."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """``function(*args, **kwargs)``, keeping only its inputs for backward, which runs it again.

    ``use_reentrant``: pass ``False`` (see the module's docstring; ``None`` warns and means
    ``True``, as in PyTorch 2.13). ``preserve_rng_state=True`` (a keyword) replays the random
    stream, so that dropout drops the same elements in the rerun. ``context_fn()`` returns two
    context managers, entered around the forward and around the rerun. ``determinism_check``
    ``"default"`` compares each rerun op's name, output shapes and dtypes with the first run's;
    ``"none"`` compares only the number of ops. ``debug`` and ``early_stop`` are accepted as
    PyTorch's and change nothing here: the rerun is always whole, and an error names the op.
    """
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable (a function or a module), got "
                        f"{type(function).__name__}")
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT, stacklevel=2)
        use_reentrant = True
    use_reentrant = flag("checkpoint", "use_reentrant", use_reentrant)
    debug = flag("checkpoint", "debug", debug)
    flag("checkpoint", "early_stop", early_stop)
    preserve = flag("checkpoint", "preserve_rng_state", kwargs.pop("preserve_rng_state", True))
    if use_reentrant:
        if kwargs:
            raise ValueError(f"checkpoint: unexpected keyword arguments {', '.join(kwargs)} with "
                             "use_reentrant=True; pass use_reentrant=False to give them to the "
                             "function")
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("checkpoint: context_fn and debug are supported only with "
                             "use_reentrant=False")
        return _reentrant(function, preserve, args)
    if determinism_check not in _CHECKS:
        raise ValueError(f"checkpoint: determinism_check should be one of {list(_CHECKS)}, but "
                         f"got {determinism_check!r}")
    return _Frame.run(function, args, kwargs, preserve, context_fn, determinism_check)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """``functions`` (a list of modules or functions, or an ``nn.Sequential``) applied in turn to
    ``input``, in ``segments`` segments of ``len(functions) // segments``, each but the last
    under ``checkpoint`` (the last one's activations are needed at once by backward)."""
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT.replace("checkpoint:", "checkpoint.checkpoint_sequential:"),
                      stacklevel=2)
        use_reentrant = True
    use_reentrant = flag("checkpoint_sequential", "use_reentrant", use_reentrant)
    preserve = flag("checkpoint_sequential", "preserve_rng_state",
                    kwargs.pop("preserve_rng_state", True))
    if kwargs:
        raise ValueError(f"checkpoint_sequential: unexpected keyword arguments "
                         f"{', '.join(kwargs)}; only preserve_rng_state and use_reentrant")
    if hasattr(functions, "children") and callable(functions.children):  # an nn.Sequential
        functions = list(functions.children())
    functions = list(functions)
    if isinstance(segments, bool) or not isinstance(segments, int) or \
            not 1 <= segments <= len(functions):
        raise ValueError(f"checkpoint_sequential: segments must be an int from 1 to the number "
                         f"of functions ({len(functions)}), got {segments!r}")
    size = len(functions) // segments
    for start in range(0, size * (segments - 1), size):
        input = checkpoint(_run_segment(functions[start:start + size]), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return _run_segment(functions[size * (segments - 1):])(input)


def _run_segment(functions):
    def forward(input):
        for f in functions:
            input = f(input)
        return input
    return forward


# ---- use_reentrant=False: the graph as usual, its saved arrays dropped until backward ----------
class _Frame:
    """One checkpointed call: what it needs to run again (the function, its inputs, the random
    state, the rerun's context) and what its first run recorded: each node, weakly (the graph owns
    them), and its name and output metadata, to check the rerun against."""

    @classmethod
    def run(cls, function, args, kwargs, preserve, context_fn, check):
        """The call, its nodes' Contexts swapped for stand-ins; returns the function's result."""
        forward_context, rerun_context = context_fn()
        frame = cls(function, args, kwargs, preserve, rerun_context, check)
        with forward_context, _Recording() as nodes:
            out = function(*args, **kwargs)
        if nodes:
            frame.forget(nodes)
        return out

    def __init__(self, function, args, kwargs, preserve, rerun_context, check):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng = default_generator.get_state() if preserve else None
        self.rerun_context, self.check = rerun_context, check
        self.nodes = self.metas = self.contexts = None

    def forget(self, nodes):
        """Swap each node's Context for a stand-in: what it saved can now be freed."""
        self.nodes = [weakref.ref(node) for node in nodes]
        self.metas = [(node.name, node.out_meta) for node in nodes]
        for i, node in enumerate(nodes):
            node.ctx = _Recompute(self, i)

    def context(self, i):
        """The Context of node ``i`` (by recording order), from the rerun (made on first use)."""
        if self.contexts is None:
            self._rerun()
        return self.contexts[i]

    def _rerun(self):
        """Run the function again on (detached) inputs, with grad and the first run's random
        state, and give each live node of the first run its counterpart's Context."""
        args = [_detached(a) for a in self.args]
        kwargs = {k: _detached(v) for k, v in self.kwargs.items()}
        with _random_state(self.rng), enable_grad(), self.rerun_context, _Recording() as nodes:
            self.function(*args, **kwargs)
        self._compare(nodes)
        self.contexts = [node.ctx for node in nodes]
        for ref, ctx in zip(self.nodes, self.contexts):
            node = ref()
            if node is not None and type(node.ctx) is _Recompute and node.ctx.frame is self:
                node.ctx = ctx
        self.function = self.args = self.kwargs = None  # (one rerun: the graph has it all now)

    def _compare(self, nodes):
        """Refuse a rerun that recorded other ops than the first run: its Contexts would give
        wrong gradients."""
        if len(nodes) != len(self.metas):
            raise CheckpointError(
                f"checkpoint: the function recorded {len(self.metas)} ops when it ran first and "
                f"{len(nodes)} when run again for backward; it must run the same ops on the same "
                "inputs (does it depend on a global, a counter or the grad mode?)")
        if self.check == "none":
            return
        for k, (node, (name, meta)) in enumerate(zip(nodes, self.metas)):
            if node.name != name or node.out_meta != meta:
                raise CheckpointError(
                    f"checkpoint: op {k} of the function was '{name}' with outputs (shape, dtype) "
                    f"{_shapes(meta)} when it ran first and '{node.name}' with "
                    f"{_shapes(node.out_meta)} when run again for backward; it must run the same "
                    "ops on the same inputs")


class _Recompute:
    """A node's ``Context`` until backward reads it: reading any attribute (``saved_tensors``,
    ``needs_input_grad``, ...) reruns the frame's function, once for all its nodes, and reads the
    rerun's Context."""

    __slots__ = ("frame", "index")

    def __init__(self, frame, index):
        self.frame, self.index = frame, index

    def __getattr__(self, name):
        return getattr(self.frame.context(self.index), name)


class _Recording(Observer):
    """``with _Recording() as nodes``: ``nodes`` lists, in order, the nodes that ops record
    inside the block (in-place ops' own nodes are not listed: they keep what they saved)."""

    def __enter__(self):
        self.nodes = []
        observers.append(self)
        return self.nodes

    def __exit__(self, *exc):
        observers.remove(self)

    def recorded(self, node, args, flags, outputs):
        self.nodes.append(node)


def _detached(value):
    """A tensor argument cut from the graph, wanting a gradient as the original does (the rerun
    then records the same ops); anything else as it is."""
    if not isinstance(value, Tensor):
        return value
    return value.detach().requires_grad_(value.requires_grad)


def _shapes(meta):
    return ", ".join(f"({tuple(shape)}, {dtype})" for shape, dtype in meta)


@contextlib.contextmanager
def _random_state(saved):
    """The default random stream at ``saved`` inside the block (if not None), as it was after."""
    if saved is None:
        yield
        return
    now = default_generator.get_state()
    default_generator.set_state(saved)
    try:
        yield
    finally:
        default_generator.set_state(now)


# ---- use_reentrant=True: one node that runs the function again in its backward -------------------
def _reentrant(function, preserve, args):
    """PyTorch's ``CheckpointFunction``: its outputs are those of ``function``, non-tensor ones
    handed back as they are."""
    if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=3)
    call = _Call(function, preserve, args)
    arrays = _Reentrant.apply(call, *[a for a in args if isinstance(a, Tensor)])
    return call.assemble(arrays)


class _Call:
    """A reentrant checkpoint's call: the function, its non-tensor arguments in place, the random
    state; and, after the forward, ``template``: its output with each tensor replaced by ``_SLOT``
    (a Tensor, a tuple, or any other value, which is handed back as it is, as PyTorch does)."""

    def __init__(self, function, preserve, args):
        self.function = function
        self.args = [_SLOT if isinstance(a, Tensor) else a for a in args]
        self.rng = default_generator.get_state() if preserve else None
        self.template = None

    def __call__(self, tensors):
        """The function on the tensors (in argument order) and the other arguments; the output's
        tensors as a list."""
        tensors = iter(tensors)
        out = self.function(*[next(tensors) if a is _SLOT else a for a in self.args])
        if isinstance(out, Tensor):
            self.template = _SLOT
            return [out]
        if isinstance(out, tuple):
            self.template = tuple(_SLOT if isinstance(o, Tensor) else o for o in out)
            return [o for o in out if isinstance(o, Tensor)]
        self.template = out
        return []

    def assemble(self, tensors):
        """The function's output again, its tensors now those of the checkpoint's node."""
        if self.template is _SLOT:
            return tensors
        if not isinstance(self.template, tuple):
            return self.template
        tensors = iter(tensors)
        return tuple(next(tensors) if o is _SLOT else o for o in self.template)


_SLOT = object()  # where a tensor goes, among a reentrant checkpoint's arguments or outputs


class _Reentrant(Function):
    """The node of ``checkpoint(..., use_reentrant=True)``: forward runs the function under
    ``no_grad``; backward runs it again with grad and backpropagates the output gradients through
    it into fresh leaves standing for the inputs (and into the parameters' ``.grad``)."""

    name = "checkpoint"
    torch_name = "CheckpointFunctionBackward"

    @staticmethod
    def forward(ctx, call, *arrays):
        ctx.call = call
        ctx.save_for_backward(*arrays)
        with no_grad():
            outputs = call([Tensor._wrap(a) for a in arrays])
        out = tuple(o._data for o in outputs)
        return out[0] if call.template is _SLOT else out

    @staticmethod
    def backward(ctx, *grads):
        call, wants = ctx.call, ctx.needs_input_grad[1:]
        inputs = [Tensor._wrap(a).requires_grad_(w) for a, w in zip(ctx.saved_tensors, wants)]
        with _random_state(call.rng), enable_grad():
            outputs = call(inputs)
        pairs = [(o, g) for o, g in zip(outputs, grads) if o.requires_grad]
        if not pairs:
            raise RuntimeError("checkpoint: none of the function's outputs requires grad, so this "
                               "checkpoint() is not necessary")
        _backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, *[None if t.grad is None else t.grad._data for t in inputs])


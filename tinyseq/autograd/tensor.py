"""The Tensor: a numpy array (``._data``, which ``.numpy()`` gives), the node that made it
(``.grad_fn``), and the gradient that ``backward()`` leaves in it (``.grad``). ``.data`` is
PyTorch's: a Tensor on the same memory, outside the graph.

This file holds the data, the gradient and the autograd API. The ops are functions next to their
Functions in ``ops/`` (``def exp`` in ``ops/activations.py``), and each is also a method:
``t.exp()`` is ``exp(t)``, attached at the bottom of this file. How values are typed is
``dtypes.py``; in-place ops (``add_``, ``+=``, ``t[i] = v``), recorded in the graph as in
PyTorch, are ``ops/inplace.py``, and the version counters that catch a saved array changed in
place ``views.py``; the backward walk is ``engine.py``.
"""
import weakref

import numpy as np

from .device import CPU, device_arg
from . import printing
from .observers import observers
from .size import Size


class RemovableHandle:
    """What ``register_hook`` (and a module's ``register_forward_hook``) returns:
    ``handle.remove()`` takes the hook away again, as does leaving ``with handle:``."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Tensor:
    """An n-dimensional array that can record the ops applied to it and differentiate through them.

    Make one with ``ts.tensor(data, requires_grad=True)`` or a factory (``ts.randn(3, 4)``);
    ``Tensor(ndarray)`` wraps an array without changing its dtype; ``Tensor([0])`` (a list) is
    float32, as in torch, and ``Tensor(2, 3)`` (sizes) a float32 tensor of that shape (torch's is
    uninitialised, tinyseq's zeros). ``name`` labels it in
    ``ts.viz`` (drawings label a module's parameters by its path: ``lstm.weight_hh_l0``). Its ops
    (``t.exp()``, ``a + b``, ``t[0]``) are the functions of ``ops/``, attached at the bottom of
    this file.
    """

    __slots__ = ("_data", "_grad", "grad_fn", "_name", "_requires_grad", "_output_nr", "_counter",
                 "_accumulator", "_hooks", "_base", "__weakref__")
    __array_ufunc__ = None  # ``ndarray + tensor`` calls ``Tensor.__radd__``, not numpy's loop

    def __init__(self, *data, requires_grad=False, dtype=None):
        data = _data_arg(data)
        numeric = type(data) is np.ndarray and data.dtype.kind in "fiub"
        if numeric and dtype is None:
            self._data = data
        else:  # ``Tensor([0])`` is float32, as ``torch.Tensor([0])``; ``ts.tensor`` types data
            float_list = dtype is None and isinstance(data, (list, tuple))
            self._data = as_array(data, DEFAULT_FLOAT if float_list else dtype)
        self._grad = self.grad_fn = self._name = self._accumulator = self._hooks = None
        self._base = None  # a view's (root, root's node then): ``views.py``
        self._requires_grad, self._output_nr, self._counter = False, 0, None
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data, version=None):
        """A new tensor around ``data`` (an ndarray), skipping ``__init__``'s checks; a view
        passes the ``version`` counter it shares."""
        t = object.__new__(cls)
        t._data = data
        t._grad = t.grad_fn = t._name = t._accumulator = t._hooks = t._base = None
        t._requires_grad, t._output_nr, t._counter = False, 0, version
        return t

    @property
    def _version(self):
        """The ``Version`` counter of this tensor's data (``views.py``), made the first time
        something asks: an in-place op bumps it, a view shares it, a node records the value of
        a saved array's. Most results are never changed in place, looked into or saved, and
        making a counter for each was a third of wrapping a result (0.31 -> 0.20 us).
        (A property, not ``__getattr__`` on a missing slot: defining ``__getattr__`` makes
        every attribute read of a Tensor four times slower in CPython 3.11.)"""
        counter = self._counter
        if counter is None:
            self._counter = counter = Version()
        return counter

    # ---- attributes ------------------------------------------------------------------------
    @property
    def data(self):
        """As in torch, a Tensor sharing this one's memory, outside the graph (no ``grad_fn``, no
        gradient) and with its own version counter: ``p.data.add_(g, alpha=-lr)`` changes ``p``
        unseen by autograd. ``t.numpy()`` is the array."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        """``t.data = other``: ``t`` takes ``other``'s memory (its shape and dtype too); its
        ``grad`` is kept, as in torch."""
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}; wrap it "
                            "with ts.tensor(...)")
        if self._requires_grad and value._data.dtype.kind != "f":
            raise RuntimeError(f"data set to a tensor that requires gradients must be "
                               f"floating point, got {value._data.dtype}; convert it with .float()")
        self._data = value._data

    @property
    def grad(self):
        """What ``backward()`` accumulated for this tensor: a Tensor of its shape, or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        """As in torch, an assigned gradient must be None or a Tensor of this shape and dtype
        (an optimiser would otherwise fail later, or broadcast it silently)."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, got "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape or value._data.dtype != self._data.dtype:
                raise RuntimeError(f"cannot assign a gradient of shape {value._data.shape} and "
                                   f"dtype {value._data.dtype} to a tensor of shape "
                                   f"{self._data.shape} and dtype {self._data.dtype}")
        self._grad = value

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if not isinstance(flag, (bool, np.bool_)):  # (as torch: 1 or "yes" is not a flag)
            raise TypeError(f"requires_grad must be True or False, got {type(flag).__name__} "
                            f"{flag!r}")
        if flag and self._data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, and this one is "
                            f"{self._data.dtype}; make it with dtype=ts.float32 or call .float()")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("requires_grad can only be switched off on a leaf tensor; "
                               "use .detach() to get a copy outside the graph")
        self._requires_grad = bool(flag)

    @property
    def name(self):
        """A label (``None`` unless set): ``ts.viz`` draws it on the tensor's box, or on the box
        of the op that made it."""
        return self._name

    @name.setter
    def name(self, name):
        self._name = name
        if self.grad_fn is not None:  # (ts.viz's recorder remembers the names of ops' results)
            for observer in observers:
                observer.named(self, name)

    def named(self, name):
        """Set ``name`` and return this tensor: ``f = gates.sigmoid().named("Γ_f")``."""
        self.name = name
        return self

    ndim = property(lambda self: self._data.ndim)
    is_leaf = property(lambda self: self.grad_fn is None)

    @property
    def shape(self, _size=tuple.__new__):  # (a Size without ``Size()``'s checks: a hot path)
        """The sizes as a ``ts.Size`` (a tuple: ``t.shape == (2, 3)``)."""
        return _size(Size, self._data.shape)

    @property
    def dtype(self):
        """The element type as a ``ts`` dtype (``tinyseq.float32``), which numpy also takes and
        which equals numpy's (``t.dtype == np.float32``)."""
        found = DTYPES.get(self._data.dtype.type)
        return found if found is not None else dtype_of(self._data.dtype)

    def size(self, dim=None):
        """``t.size()`` is ``t.shape``; ``t.size(d)`` the size of dim ``d`` (an int)."""
        if dim is None:
            return tuple.__new__(Size, self._data.shape)
        n = self._data.ndim
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"size: dim must be an int, got {type(dim).__name__} {dim!r}")
        if n == 0:
            raise IndexError(f"size: dimension specified as {dim} but the tensor has no dimensions")
        if not -n <= dim < n:
            raise IndexError(f"size: dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got {dim})")
        return self._data.shape[dim]

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def numpy(self):
        """The underlying ``numpy.ndarray`` (shared, not copied)."""
        return self._data

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._data, dtype=dtype)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted to a "
                             f"Python number, and this one has shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                               "use .any() or .all(), or compare a single element")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        """An integer tensor of one element as an index (in a slice, ``range``, a list)."""
        if self._data.size != 1 or self._data.dtype.kind not in "iu":
            raise TypeError(f"only an integer tensor of one element can be an index, not one of "
                            f"dtype {self._data.dtype} and shape {self.shape}")
        return int(self._data.reshape(()))

    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        """As torch's: a graph leaf is copied (its values, ``requires_grad`` and ``.grad``); a
        tensor an op made refuses, since its graph cannot be copied."""
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only tensors created explicitly by the user (graph "
                               "leaves) can be deep-copied, as in torch; copy t.detach() instead")
        if id(self) not in memo:
            new = Tensor(self._data.copy(), requires_grad=self._requires_grad)
            if self._grad is not None:
                new._grad = Tensor(self._grad._data.copy())
            memo[id(self)] = new
        return memo[id(self)]

    def __format__(self, spec):
        """``f"{loss:.4f}"``: a 0-d tensor formats as its number, as in torch."""
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self):
        """PyTorch's print (``autograd/printing.py``): the elements, then the dtype where it is not
        the default, then the node that made the tensor or ``requires_grad=True``."""
        a, suffixes = self._data, []
        if a.size == 0 and a.ndim != 1:  # no elements to show the shape by
            suffixes.append(f"size={tuple(a.shape)}")
        shown_by_elements = (np.int64, np.bool_) if a.size else ()  # (1 vs 1. vs True)
        if a.dtype.type not in (DEFAULT_FLOAT, *shown_by_elements):
            suffixes.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:  # torch's name of the node (``MulBackward0``)
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return printing.with_suffixes("tensor(" + printing.array_str(a, 7), suffixes, 7)

    # ---- autograd ----------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Add d(self)/d(leaf) into ``.grad`` of every leaf that requires grad (of only the
        tensors ``inputs``, if given).

        ``gradient`` (the upstream dL/dself, in self's shape) may be left out for a one-element
        tensor. The graph's saved arrays are freed unless ``retain_graph=True``.
        ``create_graph=True``: each ``.grad`` is a tensor in a graph of its own, which can be
        differentiated again (and the graph is kept, unless ``retain_graph=False``).
        """
        engine.backward([self], [gradient], retain_graph, create_graph, inputs)

    def detach(self):
        """The same data, cut from the graph: no ``grad_fn``, no gradient."""
        return Tensor._wrap(self._data, self._version)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward (leaves always do)."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad(): this tensor does not require grad")
        node = self.grad_fn
        if node is not None:
            node.retained = node.retained or {}
            node.retained[self._output_nr] = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is ready; a returned Tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook(): cannot hook a tensor that does not require grad")
        if self.grad_fn is not None:
            return self.grad_fn.register_hook(hook, self._output_nr)
        self._hooks = self._hooks if self._hooks is not None else []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    # ---- dtypes and the device ------------------------------------------------------------------
    device = property(lambda self: CPU, doc="Always ``ts.device('cpu')``: tinyseq's one device.")
    is_cuda = property(lambda self: False)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def type(self, dtype=None, non_blocking=False):
        """With no dtype, the type's name (``'tinyseq.FloatTensor'``); else ``t.to(dtype)``, the
        dtype given as ``ts.int64`` or by name (``'torch.LongTensor'``,
        ``'tinyseq.LongTensor'``)."""
        if dtype is None:
            return f"tinyseq.{_TYPE_NAMES.get(self._data.dtype.type, self._data.dtype.name)}"
        if isinstance(dtype, str):
            name = dtype.rpartition(".")[2]
            if name not in _TYPE_DTYPES:
                raise TypeError(f"type(): unknown tensor type {dtype!r}; give a dtype "
                                f"(ts.int64) or one of {', '.join(_TYPE_DTYPES)}")
            dtype = _TYPE_DTYPES[name]
        return self.to(dtype)

    def cpu(self):
        """Itself: tinyseq's tensors are on the CPU."""
        return self

    def cuda(self, *args, **kwargs):
        device_arg("cuda", "cuda")

    # ---- operators with the tensor on the right: ``2 * t`` is ``t.__rmul__(2)`` ----------------
    def __radd__(self, other):
        return elementwise.add(other, self)

    def __rsub__(self, other):
        return elementwise.sub(other, self)

    def __rmul__(self, other):
        return elementwise.mul(other, self)

    def __rtruediv__(self, other):
        return elementwise.true_divide(other, self)

    def __rpow__(self, other):
        return elementwise.pow(other, self)

    def __rmatmul__(self, other):
        return linalg.matmul(other, self)

    def __pos__(self):
        return self


def _data_arg(args):
    """``Tensor(*args)``'s data: the one argument given, or for sizes (``Tensor(2, 3)``,
    ``Tensor(ts.Size([2, 3]))``, ``Tensor()``) zeros of that shape, float32, as torch's legacy
    constructor makes (uninitialised there)."""
    if len(args) == 1 and type(args[0]) is not Size and not isinstance(args[0], int):
        return args[0]
    sizes = args[0] if len(args) == 1 and type(args[0]) is Size else args
    if not all(isinstance(n, int) for n in sizes):  # (True is 1, as in torch)
        raise TypeError(f"Tensor(): give one sequence of data or the sizes as ints, got "
                        f"{', '.join(type(a).__name__ for a in args)}")
    from .factories import empty  # (factories imports this module)

    return empty(*[int(n) for n in sizes or (0,)])._data


_TYPE_NAMES = {np.float32: "FloatTensor", np.float64: "DoubleTensor", np.float16: "HalfTensor",
               np.int64: "LongTensor", np.int32: "IntTensor", np.int16: "ShortTensor",
               np.int8: "CharTensor", np.uint8: "ByteTensor", np.bool_: "BoolTensor"}
_TYPE_DTYPES = {name: dtype for dtype, name in _TYPE_NAMES.items()}


# ---- what this file uses from modules that import Tensor, and the ops as methods ----------------
# The modules below import Tensor (ops/ through Function), so they are imported here, once Tensor
# exists, and the ops' functions become methods in this one place: each ops module lists its own
# in ``TENSOR_METHODS`` (``"exp": exp``, ``"__add__": add``).
from . import engine  # noqa: E402
from .dtypes import DEFAULT_FLOAT, DTYPES, as_array, dtype_of  # noqa: E402
from .ops import create, elementwise, index, inplace, joins, linalg, order, reduce, shape  # noqa: E402
from .ops import diagonal, gather, layout, logic, norms, rounding, sample, scan, special  # noqa: E402
from .ops import activations, extrema, selection, stats, unary  # noqa: E402
from .views import Version  # noqa: E402

for _ops in (create, elementwise, activations, selection, index, inplace, joins, linalg, extrema,
             order, reduce, shape, logic, norms, rounding, sample, scan, stats, unary, diagonal,
             gather, layout, special):
    for _name, _method in _ops.TENSOR_METHODS.items():
        setattr(Tensor, _name, _method)
del _ops, _name, _method

"""The Tensor: a numpy array (``.data``), the node that made it (``.grad_fn``), and the gradient
that ``backward()`` leaves in it (``.grad``).

Every differentiable method here is one line that applies an op from ``ops/``; the engine that walks
the graph is ``engine.py``. Operators and dtypes behave as in PyTorch: a Python scalar never changes
a tensor's dtype, and an integer tensor meeting a float one takes the float dtype.
"""
import itertools
import math
import operator
import weakref

import numpy as np

from . import rng
from .mode import state
from .observers import observers
from .ops._util import quiet

DEFAULT_FLOAT = np.float32


class Version:
    """How many in-place changes a tensor's data has seen; ``detach()`` and views share one."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook away again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


@quiet
def as_array(data, dtype=None):
    """``data`` as a numpy array by ``ts.tensor``'s rules: floats become float32 unless ``dtype``;
    a value that ``dtype`` cannot hold is refused, never wrapped round."""
    if isinstance(data, Tensor):
        data = data.data
    target = None if dtype is None else _dtype("ts.tensor", dtype)
    try:
        a = np.array(data)
        if a.dtype.kind == "O" and target is not None:  # ints past int64: fine as floats
            a = np.array(data, dtype=target)
    except ValueError as e:
        if "inhomogeneous" not in str(e):
            raise ValueError(f"ts.tensor: {e}") from None
        raise ValueError("ts.tensor: the nested lists are ragged (rows of different lengths); "
                         "give lists of equal lengths at every level, or pad them") from None
    except OverflowError:
        raise OverflowError(f"ts.tensor: a value does not fit in {target}; use a wider "
                            "dtype") from None
    if a.dtype.kind not in "fiub":
        raise TypeError(f"ts.tensor: cannot make a tensor from {type(data).__name__} "
                        f"(numpy sees dtype {a.dtype}); give numbers, nested lists or an array")
    if target is None:
        return a.astype(DEFAULT_FLOAT) if a.dtype.kind == "f" and a.dtype != DEFAULT_FLOAT else a
    if target.kind in "iu" and a.size and not np.can_cast(a.dtype, target):
        _check_fits(a, target)  # a cast that would wrap round: refused, as torch does
    return a.astype(target, copy=False)


def _check_fits(a, target):
    info = np.iinfo(target)
    low, high = a.min(), a.max()
    if not (info.min <= low and high <= info.max):  # (NaN fails both)
        bad = low if not info.min <= low else high
        raise OverflowError(f"ts.tensor: {bad} does not fit in {target} (from {info.min} to "
                            f"{info.max}); use a wider dtype")


def _dtype(op, dtype):
    """``dtype`` as a numpy dtype that a tensor can have (float, int or bool), else a TypeError."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype; use ts.float32, ts.float64, ts.int64 "
                        "or ts.bool_") from None
    if dtype.kind not in "fiub":
        raise TypeError(f"{op}: tensors hold floats, ints or bools, not {dtype}")
    return dtype


class Tensor:
    """An n-dimensional array that can record the ops applied to it and differentiate through them.

    Make one with ``ts.tensor(data, requires_grad=True)`` or a factory (``ts.randn(3, 4)``);
    ``Tensor(ndarray)`` wraps an array without changing its dtype. ``name`` labels it in
    ``ts.viz`` (a module names its parameters by its path: ``lstm.weight_hh_l0``).
    """

    __slots__ = ("data", "_grad", "grad_fn", "_name", "_requires_grad", "_output_nr", "_version",
                 "_accumulator", "_hooks", "__weakref__")
    __array_ufunc__ = None  # ``ndarray + tensor`` calls ``Tensor.__radd__``, not numpy's loop

    def __init__(self, data, requires_grad=False, dtype=None):
        numeric = type(data) is np.ndarray and data.dtype.kind in "fiub"
        self.data = data if numeric and dtype is None else as_array(data, dtype)
        self._grad = self.grad_fn = self._name = self._accumulator = self._hooks = None
        self._requires_grad, self._output_nr, self._version = False, 0, Version()
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data, version=None):
        """A new tensor around ``data`` (an ndarray), skipping ``__init__``'s checks."""
        t = object.__new__(cls)
        t.data = data
        t._grad = t.grad_fn = t._name = t._accumulator = t._hooks = None
        t._requires_grad, t._output_nr = False, 0
        t._version = version if version is not None else Version()
        return t

    # ---- attributes ------------------------------------------------------------------------
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
            if value.data.shape != self.data.shape or value.data.dtype != self.data.dtype:
                raise RuntimeError(f"cannot assign a gradient of shape {value.data.shape} and "
                                   f"dtype {value.data.dtype} to a tensor of shape "
                                   f"{self.data.shape} and dtype {self.data.dtype}")
        self._grad = value

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, and this one is "
                            f"{self.data.dtype}; make it with dtype=ts.float32 or call .float()")
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
        for observer in observers:  # (ts.viz remembers the name of an op's result)
            observer.named(self, name)

    def named(self, name):
        """Set ``name`` and return this tensor: ``f = gates.sigmoid().named("Γ_f")``."""
        self.name = name
        return self

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype.type)
    is_leaf = property(lambda self: self.grad_fn is None)

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return self.data.size

    def numpy(self):
        """The underlying ``numpy.ndarray`` (shared, not copied)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self.data, dtype=dtype)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted to a "
                             f"Python number, and this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                               "use .any() or .all() on .data, or compare a single element")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        """An integer tensor of one element as an index (in a slice, ``range``, a list)."""
        if self.data.size != 1 or self.data.dtype.kind not in "iu":
            raise TypeError(f"only an integer tensor of one element can be an index, not one of "
                            f"dtype {self.data.dtype} and shape {self.shape}")
        return int(self.data.reshape(()))

    __hash__ = object.__hash__

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = "" if self.data.dtype.type in (DEFAULT_FLOAT, np.int64, np.bool_) else (
            f", dtype=ts.{self.data.dtype}")
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- autograd ----------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False):
        """Add d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``gradient`` (the upstream dL/dself, in self's shape) may be left out for a one-element
        tensor. The graph's saved arrays are freed unless ``retain_graph=True``.
        """
        engine.backward([self], [gradient], retain_graph=retain_graph)

    def detach(self):
        """The same data, cut from the graph: no ``grad_fn``, no gradient."""
        return Tensor._wrap(self.data, self._version)

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

    # ---- in-place changes (never recorded in the graph) --------------------------------------
    def _inplace(self, op):
        if state.grad_enabled and self._requires_grad:
            where = "a leaf" if self.grad_fn is None else "part of a graph"
            raise RuntimeError(
                f"{op}: this tensor requires grad ({where}) and grad mode is on, so it cannot be "
                f"changed in place; wrap the update in `with ts.no_grad():` (as optimisers do), "
                f"or use the out-of-place op")
        self._version.value += 1
        return self.data

    @quiet
    def __setitem__(self, index, value):
        """``t[index] = value``, outside the graph; the index means what ``t[index]`` means."""
        index, value = _index(index), np.asarray(_data(value))
        I.check_masks(self.shape, index)
        if value.dtype.kind not in "fiub":
            raise TypeError(f"__setitem__: cannot write {value.dtype} values into a tensor")
        target = self._inplace("__setitem__")
        try:
            basic, advanced = I.torch_steps(index, self.ndim)
            if basic is not None:
                target = target[basic]  # no arrays: a view, written through
            target[advanced] = value
        except IndexError as e:
            raise I.index_error(e, self.shape, index) from None
        except ValueError:
            raise ShapeError(f"__setitem__: a value of shape {value.shape} cannot be "
                             f"broadcast to the shape {target[advanced].shape} it is written "
                             "into") from None

    @quiet
    def _update(self, op, ufunc, other):
        """``self = ufunc(self, other)`` in place; an ``other`` that does not fit is named."""
        other = _data(other)
        try:
            ufunc(self.data, other, out=self._inplace(op))
        except TypeError:  # numpy's casting error, e.g. a float result for an int tensor
            kind = np.result_type(self.data, other)
            raise TypeError(f"{op}: the result is {kind}, which cannot be written into this "
                            f"{self.data.dtype} tensor; use the out-of-place op") from None
        except ValueError:
            raise ShapeError(f"{op}: a value of shape {np.shape(other)} cannot be broadcast to "
                             f"this tensor's shape {self.shape}") from None
        return self

    def add_(self, other, alpha=1):
        return self._update("add_", np.add, _data(other) * alpha if alpha != 1 else other)

    def sub_(self, other, alpha=1):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        return self._update("mul_", np.multiply, other)

    def div_(self, other):
        return self._update("div_", np.divide, other)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def clamp_(self, min=None, max=None):
        """``clamp`` in place; the result must keep self's shape and fit in its dtype."""
        _check_bounds("clamp_", min, max)
        try:
            out = E.clamp_values(self.data, _data(min), _data(max))
        except ValueError:
            raise broadcast_error("clamp_", self.shape, *_bound_shapes(min, max)) from None
        if out.shape != self.shape or not np.can_cast(out.dtype, self.data.dtype, "same_kind"):
            raise RuntimeError(f"clamp_: the result, of shape {out.shape} and dtype {out.dtype}, "
                               f"cannot be written into this tensor of shape {self.shape} and "
                               f"dtype {self.data.dtype}; use the out-of-place clamp")
        self._inplace("clamp_")[...] = out
        return self

    @quiet
    def fill_(self, value):
        self._inplace("fill_").fill(value)
        return self

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src):
        return self._update("copy_", _copy, src)

    def normal_(self, mean=0.0, std=1.0):
        return self.copy_(rng.generator().normal(mean, std, self.shape))

    def uniform_(self, a=0.0, b=1.0):
        return self.copy_(rng.generator().uniform(a, b, self.shape))

    # ---- operators ---------------------------------------------------------------------------
    def __add__(self, other):
        return binary(E.Add, self, other)

    def __radd__(self, other):
        return binary(E.Add, other, self)

    def __sub__(self, other):
        return binary(E.Sub, self, other)

    def __rsub__(self, other):
        return binary(E.Sub, other, self)

    def __mul__(self, other):
        return binary(E.Mul, self, other)

    def __rmul__(self, other):
        return binary(E.Mul, other, self)

    def __truediv__(self, other):
        return binary(E.Div, self, other)

    def __rtruediv__(self, other):
        return binary(E.Div, other, self)

    def __pow__(self, other):
        """``self ** other``; a number exponent takes torch's kernels for it (``E.PowScalar``)."""
        scalar = isinstance(other, (int, float, np.number))
        return binary(E.PowScalar if scalar else E.Pow, self, other)

    def __rpow__(self, other):
        return binary(E.Pow, other, self)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        return E.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return E.Abs.apply(self)

    def __lt__(self, other):
        return compare(np.less, self, other)

    def __le__(self, other):
        return compare(np.less_equal, self, other)

    def __gt__(self, other):
        return compare(np.greater, self, other)

    def __ge__(self, other):
        return compare(np.greater_equal, self, other)

    def __eq__(self, other):
        return compare(np.equal, self, other)

    def __ne__(self, other):
        return compare(np.not_equal, self, other)

    def __getitem__(self, index):
        """``t[index]`` as in PyTorch: ints, slices, None, ..., int or bool Tensors/arrays/lists."""
        index = _index(index)
        I.check_masks(self.shape, index)
        try:
            basic, advanced = I.torch_steps(index, self.ndim)
            if basic is not None:
                return I.GetItem.apply(I.GetItem.apply(self, basic), advanced)
            return I.GetItem.apply(self, index)
        except IndexError as e:
            raise I.index_error(e, self.shape, index) from None

    # ---- elementwise ---------------------------------------------------------------------------
    def exp(self):
        return E.Exp.apply(_floating(self))

    def log(self):
        return E.Log.apply(_floating(self))

    def sqrt(self):
        return E.Sqrt.apply(_floating(self))

    def abs(self):
        return E.Abs.apply(self)

    def tanh(self):
        return E.Tanh.apply(_floating(self))

    def sigmoid(self):
        return E.Sigmoid.apply(_floating(self))

    def relu(self):
        return E.Relu.apply(self)

    def pow(self, exponent):
        return self ** exponent

    def clamp(self, min=None, max=None):
        """Values below ``min`` become ``min``, above ``max`` become ``max`` (numbers, or Tensors
        that broadcast with self and get their gradient where they win, as in torch)."""
        _check_bounds("clamp", min, max)
        x = self
        if x.data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
            x = x.to(DEFAULT_FLOAT)  # integers and a float bound: float32, as in torch
        try:
            return E.Clamp.apply(x, min, max)
        except ValueError:
            raise broadcast_error("clamp", self.shape, *_bound_shapes(min, max)) from None

    def masked_fill(self, mask, value):
        """``value`` (a number, or a 0-d tensor, which gets its gradient) where ``mask`` (bool,
        broadcastable with self) is True, else self; the result keeps self's dtype."""
        mask = bool_tensor(mask, "masked_fill")
        if isinstance(value, Tensor):
            if value.ndim:
                raise RuntimeError(f"masked_fill: value must be a number or a 0-d tensor, got a "
                                   f"tensor of shape {value.shape}; use ts.where(mask, value, x)")
            value = value.to(self.data.dtype)
        elif not isinstance(value, (int, float, np.number)):
            raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                            f"{type(value).__name__}")
        elif self.data.dtype.kind != "f" and not math.isfinite(value):
            raise ValueError(f"masked_fill: {value} cannot be put in a {self.data.dtype} tensor")
        else:
            value = np.asarray(value, dtype=self.data.dtype)
        try:
            return E.MaskedFill.apply(mask, value, self)
        except ValueError:
            raise broadcast_error("masked_fill", mask.shape, self.shape) from None

    def to(self, dtype):
        dtype = _dtype("to", dtype)
        return self if dtype == self.data.dtype else E.Cast.apply(self, dtype)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def clone(self):
        return E.Clone.apply(self)

    # ---- reductions ------------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return R.Sum.apply(self, _axes(dim, self.ndim, "sum"), keepdim)

    def mean(self, dim=None, keepdim=False):
        return R.Mean.apply(_floating(self), _axes(dim, self.ndim, "mean"), keepdim)

    def max(self, dim=None, keepdim=False):
        """The largest value (over ``dim``); with an int ``dim``, the values only (see argmax)."""
        return _extreme(R.Max, self, dim, keepdim, 1)

    def min(self, dim=None, keepdim=False):
        return _extreme(R.Min, self, dim, keepdim, -1)

    def argmax(self, dim=None, keepdim=False):
        """int64 indices of the largest values along ``dim`` (of the flattened tensor if None)."""
        return _arg(np.argmax, self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _arg(np.argmin, self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return R.LogSumExp.apply(_floating(self), _axes(dim, self.ndim, "logsumexp"), keepdim)

    def softmax(self, dim):
        return R.Softmax.apply(_floating(self), norm_dim(dim, self.ndim, "softmax"))

    def log_softmax(self, dim):
        return R.LogSoftmax.apply(_floating(self), norm_dim(dim, self.ndim, "log_softmax"))

    # ---- shapes -------------------------------------------------------------------------------
    def reshape(self, *shape):
        return _reshape(S.Reshape, self, _shape_arg(shape))

    def view(self, *shape):
        return _reshape(S.View, self, _shape_arg(shape))

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return _reshape(S.Flatten, self, (1,))
        lo, hi = norm_dim(start_dim, self.ndim, "flatten"), norm_dim(end_dim, self.ndim, "flatten")
        if lo > hi:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                             f"tensor of shape {self.shape}")
        shape = self.shape[:lo] + (math.prod(self.shape[lo:hi + 1]),) + self.shape[hi + 1:]
        return _reshape(S.Flatten, self, shape)

    def unsqueeze(self, dim):
        d = norm_dim(dim, self.ndim + 1, "unsqueeze")
        return S.Unsqueeze.apply(self, self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim=None):
        """Remove the size-1 dims (all of them, or those of ``dim`` that have size 1)."""
        axes = range(self.ndim) if dim is None else _axes(dim, self.ndim, "squeeze")
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return S.Squeeze.apply(self, shape)

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        a, b = norm_dim(dim0, self.ndim, "transpose"), norm_dim(dim1, self.ndim, "transpose")
        if dims:  # a 0-d tensor has nothing to swap
            dims[a], dims[b] = dims[b], dims[a]
        return S.Transpose.apply(self, tuple(dims))

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor with at most 2 dims, got shape {self.shape}; "
                             "use transpose(d0, d1) or permute(...)")
        return self if self.ndim < 2 else self.transpose(0, 1)

    T = property(t)

    def permute(self, *dims):
        dims = tuple(norm_dim(d, self.ndim, "permute") for d in _shape_arg(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the {self.ndim} dims of a "
                             f"tensor of shape {self.shape}")
        return S.Permute.apply(self, dims)

    def expand(self, *shape):
        """A broadcast view; ``-1`` keeps a dim, new dims may be added on the left."""
        shape = check_shape("expand", _shape_arg(shape), lowest=-1)
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ShapeError(f"expand: {len(shape)} sizes {shape} for a tensor of shape "
                             f"{self.shape}; give at least one size per dim")
        if -1 in shape[:lead]:
            raise ShapeError(f"expand: -1 (keep the size) in a new leading dim of {shape}; "
                             "new dims need a size")
        full = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        try:
            return S.Expand.apply(self, full)
        except ValueError:
            raise ShapeError(f"expand: cannot expand shape {self.shape} to {shape}; "
                             "only dims of size 1 can grow, and new dims go on the left") from None

    def split(self, split_size_or_sections, dim=0):
        """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
        ax = norm_dim(dim, self.ndim, "split")
        n = self.shape[ax]
        if isinstance(split_size_or_sections, (int, np.integer)):
            step = split_size_or_sections
            if step <= 0:
                raise ValueError(f"split: split_size must be positive, got {step}")
            bounds = tuple((lo, min(lo + step, n)) for lo in range(0, max(n, 1), step))
        elif isinstance(split_size_or_sections, (list, tuple)):
            sizes = list(check_shape("split", split_size_or_sections))
            if sum(sizes) != n:
                raise ShapeError(f"split: sizes {sizes} add up to {sum(sizes)}, but dim {dim} of "
                                 f"shape {self.shape} has size {n}")
            ends = list(itertools.accumulate(sizes))
            bounds = tuple(zip([0] + ends[:-1], ends))
        else:
            raise TypeError(f"split: split_size_or_sections must be an int or a list of ints, "
                            f"got {type(split_size_or_sections).__name__}")
        return S.Split.apply(self, bounds, ax)

    def chunk(self, chunks, dim=0):
        """``chunks`` pieces of size ceil(n / chunks) along ``dim`` (fewer if they run out)."""
        if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
        n = self.shape[norm_dim(dim, self.ndim, "chunk")]
        if n == 0:  # as torch: that many empty pieces
            return self.split([0] * chunks, dim)
        return self.split(-(-n // chunks), dim)

    def unbind(self, dim=0):
        """The slices along ``dim``, each without it: one node however many slices."""
        if self.ndim == 0:
            raise IndexError("unbind: a 0-d tensor has no dim to unbind along")
        ax = norm_dim(dim, self.ndim, "unbind")
        if self.shape[ax] == 1:  # one slice is a view
            return (S.Squeeze.apply(self, self.shape[:ax] + self.shape[ax + 1:]),)
        return S.Unbind.apply(self, ax)


# ---- helpers used by the methods and the module-level functions -----------------------------------
def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _copy(_, src, out):
    """``copy_`` as the ufunc-like call ``Tensor._update`` makes: ``src`` into ``out``."""
    np.copyto(out, src, casting="unsafe")  # any dtype into any, as torch.Tensor.copy_ casts


def _floating(t):
    """``t`` itself if floating, else its values as float32 (``exp`` of an int tensor is float32)."""
    return t if t.data.dtype.kind == "f" else Tensor._wrap(t.data.astype(DEFAULT_FLOAT))


def bool_tensor(x, op):
    """``x`` as a bool Tensor, the same object when it is one (so its version counter is kept).
    A mask of another dtype is refused, as torch does: 1.0 or 2 is not obviously True."""
    if isinstance(x, Tensor) and x.data.dtype == np.bool_:
        return x
    a = np.asarray(_data(x))
    if a.dtype != np.bool_:
        raise RuntimeError(f"{op}: the mask must be bool, got dtype {a.dtype}; compare to make "
                           "one (e.g. x > 0) or convert with .to(ts.bool_)")
    return Tensor._wrap(a)


def _check_bounds(op, lo, hi):
    """``clamp``'s bounds: at least one, each None, a number or a Tensor."""
    if lo is None and hi is None:
        raise ValueError(f"{op}: give at least one of min and max")
    for name, bound in (("min", lo), ("max", hi)):
        if not isinstance(bound, (type(None), int, float, np.number, Tensor)):
            raise TypeError(f"{op}: {name} must be a number or a Tensor, got "
                            f"{type(bound).__name__}")


def _bound_shapes(lo, hi):
    return [np.shape(_data(b)) for b in (lo, hi) if b is not None]


def _index(index):
    """A tuple index for numpy: Tensors and lists become arrays (``[]`` an empty int array), a 0-d
    int Tensor an int (PyTorch indexes with it as with an int)."""
    if type(index) is not tuple:
        return (_index_item(index),)
    return tuple([_index_item(i) for i in index])


def _index_item(i):
    if type(i) is int:  # the usual case, first
        return i
    if type(i) is slice:
        if i.step is not None and not (type(i.step) is int and i.step > 0):
            _check_step(i.step)
        return i
    if isinstance(i, Tensor):
        i = i.data
    elif isinstance(i, list):
        i = np.asarray(i) if i else np.zeros(0, dtype=np.intp)
    if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iub":
        return i.item()
    return bool(i) if isinstance(i, np.bool_) else i


def _check_step(step):
    """Refuse a slice step that is not a positive integer, as torch does."""
    try:
        step = operator.index(step)
    except TypeError:
        raise TypeError(f"index: a slice step must be an integer, got {type(step).__name__} "
                        f"{step!r}") from None
    if step <= 0:
        fix = " (to reverse a dim of size n, index it with ts.arange(n - 1, -1, -1))"
        raise ValueError(f"index: a slice step must be greater than zero, got {step}"
                         + (fix if step < 0 else ""))


def _shape_arg(shape):
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape ``(2, 3)``."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _axes(dim, ndim, op):
    """The axes a reduction over ``dim`` covers; ``None`` or ``()`` mean all of them."""
    if dim is None or (isinstance(dim, tuple) and not dim):
        return tuple(range(ndim))
    axes = tuple(norm_dim(d, ndim, op) for d in dim) if isinstance(dim, (tuple, list)) else (
        norm_dim(dim, ndim, op),)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dim} names a dim more than once")
    return axes if ndim else ()  # dim 0 or -1 of a 0-d tensor is the tensor itself


def _extreme(op, t, dim, keepdim, sign):
    """``max``/``min`` over ``dim``, refusing to reduce nothing (there is no largest of nothing).

    The gradient follows PyTorch's for the form called (see ``Max``): one int dim, no dim, a tuple.
    """
    axes = _axes(dim, t.ndim, op.name)
    empty = [ax for ax in axes if t.shape[ax] == 0]
    if dim is None and t.data.size == 0:
        raise RuntimeError(f"{op.name}: a tensor of shape {t.shape} has no elements, so it has no "
                           f"{op.name}imum; give dim= to reduce a dim that is not empty")
    if empty:
        raise IndexError(f"{op.name}: dim {empty[0]} of a tensor of shape {t.shape} has size 0, so "
                         f"it has no {op.name}imum; reduce a dim that is not empty")
    how = ("all" if dim is None or t.ndim == 0
           else "dim" if isinstance(dim, (int, np.integer)) else "dims")
    return op.apply(t, axes, keepdim, how, sign)


def check_shape(op, shape, lowest=0):
    """``shape`` as a tuple of ints, refusing other types and sizes below ``lowest`` (-1 where
    -1 means "work this size out", as in ``reshape`` and ``expand``)."""
    for k, n in enumerate(shape):
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{op}: sizes must be ints, got {type(n).__name__} {n!r} at position "
                            f"{k} of {tuple(shape)}")
        if n < lowest:
            raise ShapeError(f"{op}: size {n} at position {k} of {tuple(shape)} is negative" +
                             ("; only -1 is allowed" if lowest else ""))
    return tuple(int(n) for n in shape)


def _reshape(op, t, shape):
    try:
        if shape and min(shape) < -1:  # numpy would take any negative size for -1
            raise ValueError
        return op.apply(t, shape)
    except (ValueError, TypeError):
        if list(check_shape(op.name, shape, lowest=-1)).count(-1) > 1:
            raise ShapeError(f"{op.name}: only one size can be -1 (inferred), got "
                             f"{tuple(shape)}") from None
        raise ShapeError(f"{op.name}: cannot reshape a tensor of shape {t.shape} ({t.numel()} "
                         f"elements) into shape {tuple(shape)}") from None


def _operand(x, dtype):
    """A non-tensor operand next to a tensor of ``dtype``, typed as PyTorch would type it.

    A Python scalar (or a 0-d array of the same kind) never changes the tensor's dtype, unless it is
    of a higher kind: a float next to integers gives float32, an int next to bools int64.
    """
    kind = np.dtype(dtype).kind
    if isinstance(x, np.ndarray):
        if x.ndim or x.dtype.kind != kind:
            return x
        x = x.item()
    if not isinstance(x, (bool, int, float)):
        return as_array(x)
    if not (kind == "f" or (kind in "iu" and not isinstance(x, float)) or isinstance(x, bool)):
        dtype = DEFAULT_FLOAT if isinstance(x, float) else np.int64
    if isinstance(x, float) and not abs(x) < 3e38:  # inf in float32 (or 16), as in torch
        with np.errstate(over="ignore"):
            return np.asarray(x, dtype=dtype)
    return np.asarray(x, dtype=dtype)


def _operands(a, b):
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else Tensor(as_array(a))
    a = a if isinstance(a, Tensor) else _operand(a, like.data.dtype)
    b = b if isinstance(b, Tensor) else _operand(b, like.data.dtype)
    fa, fb = _data(a).dtype.kind == "f", _data(b).dtype.kind == "f"
    if fa != fb:  # integer or bool next to float: the float dtype wins, as in PyTorch
        if fa:
            b = _data(b).astype(_data(a).dtype)
        else:
            a = _data(a).astype(_data(b).dtype)
    return a, b


def _arg(fn, t, dim, keepdim):
    """``argmax``/``argmin`` as int64 indices, outside the graph."""
    if dim is None:
        return Tensor._wrap(np.asarray(fn(t.data), dtype=np.int64))
    ax = norm_dim(dim, t.ndim, fn.__name__)
    return Tensor._wrap(fn(t.data, axis=ax, keepdims=keepdim).astype(np.int64, copy=False))


def binary(op, a, b):
    """Apply the binary elementwise ``op``, naming it and both shapes if they do not broadcast."""
    a, b = _operands(a, b)
    try:
        return op.apply(a, b)
    except ValueError:
        sa, sb = np.shape(_data(a)), np.shape(_data(b))
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise broadcast_error(op.name, sa, sb) from None
        raise


def compare(ufunc, a, b):
    """A comparison: a bool tensor, outside the graph."""
    a, b = _operands(a, b)
    try:
        return Tensor._wrap(ufunc(_data(a), _data(b)))
    except ValueError:
        raise broadcast_error(ufunc.__name__, np.shape(_data(a)), np.shape(_data(b))) from None


def matmul(a, b):
    """``a @ b`` with numpy's rules (1-D operands, broadcast batch dims)."""
    a, b = _operands(a, b)
    try:
        return L.MatMul.apply(a, b)
    except ValueError:
        sa, sb = np.shape(_data(a)), np.shape(_data(b))
        if not sa or not sb:
            raise ShapeError(f"matmul: both operands need at least 1 dim, got shapes {sa} and {sb}; "
                             "use * to multiply by a scalar") from None
        inner = sb[0] if len(sb) == 1 else sb[-2]
        raise ShapeError(f"matmul: shapes {sa} and {sb} do not match: the last dim of the first "
                         f"({sa[-1]}) must equal the {'only' if len(sb) == 1 else 'second-to-last'}"
                         f" dim of the second ({inner})") from None


# The ops import Tensor, so they are imported after it is defined.
from . import engine  # noqa: E402
from .ops import elementwise as E, index as I, linalg as L, reduce as R, shape as S  # noqa: E402
from .errors import ShapeError
from .ops._util import broadcast_error, norm_dim  # noqa: E402

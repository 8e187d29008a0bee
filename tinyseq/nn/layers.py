"""The basic layers, with PyTorch's parameter names, shapes and default initialisation."""
import math
import warnings

import numpy as np

from ..autograd import rng
from ..autograd.errors import ShapeError
from . import _checks, functional as F
from .module import Module, Parameter


def _uniform(shape, bound, dtype=np.float32):
    """A parameter ~ U(-bound, bound), drawn in float64 and stored as ``dtype``."""
    return Parameter(rng.generator().uniform(-bound, bound, shape).astype(dtype))


class Linear(Module):
    """``y = x Wᵀ + b``: x ``(*, in_features)`` -> ``(*, out_features)``.

    ``weight`` ``(out, in)`` and ``bias`` ``(out,)`` ~ U(-1/√in, 1/√in), as PyTorch initialises them,
    in ``dtype`` (float32 by default).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        dtype = _checks.factory_dtype("Linear", device, dtype)
        in_features = _checks.size("Linear", "in_features", in_features)
        out_features = _checks.size("Linear", "out_features", out_features)
        bias = bool(bias)  # (any truthy value, as in torch)
        _checks.affordable("Linear", (in_features + 1) * out_features)
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features) if in_features > 0 else 0
        self.weight = _uniform((out_features, in_features), bound, dtype)
        self.bias = _uniform((out_features,), bound, dtype) if bias else None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Embedding(Module):
    """A lookup table: int64 ``(*)`` -> ``(*, embedding_dim)``; ``weight`` ~ N(0, 1) (of
    ``dtype``, float32 by default), the ``padding_idx`` row zero and never updated. ``max_norm``, ``norm_type`` and
    ``scale_grad_by_freq`` as in ``F.embedding`` (``max_norm`` renormalises the weight's rows in
    place at lookup); ``sparse=True`` is refused (tinyseq has no sparse gradients)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        dtype = _checks.factory_dtype("Embedding", device, dtype)
        num_embeddings = _checks.size("Embedding", "num_embeddings", num_embeddings)
        embedding_dim = _checks.size("Embedding", "embedding_dim", embedding_dim)
        _checks.affordable("Embedding", num_embeddings * embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _checks.padding_index("Embedding", padding_idx, num_embeddings)
        self._options(max_norm, norm_type, scale_grad_by_freq, sparse)
        if _weight is None:
            # float32 keeps its own stream; other dtypes are drawn in float64 (numpy has no
            # float16 normal) and cast
            draw = np.float32 if dtype == np.float32 else np.float64
            w = rng.generator().standard_normal((num_embeddings, embedding_dim), dtype=draw)
            w = w.astype(dtype, copy=False)
            if self.padding_idx is not None:
                w[self.padding_idx] = 0
            self.weight = Parameter(w)
        else:
            _checks.tensor("Embedding", "_weight", _weight)
            if _weight.shape != (num_embeddings, embedding_dim):
                raise ShapeError(f"Embedding: _weight of shape {_weight.shape} does not match "
                                 f"(num_embeddings, embedding_dim) = "
                                 f"{(num_embeddings, embedding_dim)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def _options(self, max_norm, norm_type, scale_grad_by_freq, sparse):
        """Check and keep the lookup's options (as the attributes torch has)."""
        self.max_norm = None if max_norm is None else _checks.number("Embedding", "max_norm",
                                                                     max_norm)
        self.norm_type = _checks.number("Embedding", "norm_type", norm_type)
        self.scale_grad_by_freq = _checks.flag("Embedding", "scale_grad_by_freq",
                                               scale_grad_by_freq)
        if _checks.flag("Embedding", "sparse", sparse):
            raise ValueError("Embedding: sparse=True needs sparse gradients, which tinyseq does "
                             "not have; use sparse=False (a dense gradient, the same values)")
        self.sparse = False

    def forward(self, input):
        return F._embedding(input, self.weight, self.padding_idx, "Embedding", self.max_norm,
                            self.norm_type, self.scale_grad_by_freq)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is ``embeddings`` ``(num_embeddings, embedding_dim)``
        (sharing its memory, as in torch), trained only if ``freeze`` is False; the
        ``padding_idx`` row keeps its values but gets no gradient. The other options as in
        ``Embedding``."""
        _checks.tensor("Embedding.from_pretrained", "embeddings", embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-dimensional "
                             f"(num_embeddings, embedding_dim), got shape {embeddings.shape}")
        freeze = _checks.flag("Embedding.from_pretrained", "freeze", freeze)
        rows, dim = embeddings.shape
        return cls(rows, dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s + (", scale_grad_by_freq=True" if self.scale_grad_by_freq else "")


class Dropout(Module):
    """Zero elements with probability ``p`` in training mode; the identity in eval mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = _checks.number("Dropout", "p", p, 0, 1)
        self.inplace = _checks.flag("Dropout", "inplace", inplace)  # (the result is the same)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Identity(Module):
    """Its input, unchanged (any arguments are accepted and ignored, as in torch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """``input.flatten(start_dim, end_dim)``; by default every dim but the batch's."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = _checks.size("Flatten", "start_dim", start_dim, -math.inf)
        self.end_dim = _checks.size("Flatten", "end_dim", end_dim, -math.inf)

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """``input.unflatten(dim, unflattened_size)``: dim ``dim`` split into the given sizes."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = _checks.size("Unflatten", "dim", dim, -math.inf)
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{type(unflattened_size).__name__}")
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Tanh(Module):
    def forward(self, x):
        return x.tanh()


class Sigmoid(Module):
    def forward(self, x):
        return x.sigmoid()


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Softmax(Module):
    """``x.softmax(dim)``: along ``dim``, positive values summing to 1."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, _implicit_dim(self, x))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """``x.log_softmax(dim)``: the log of ``Softmax(dim)``, computed stably (for ``NLLLoss``)."""

    def forward(self, x):
        return F.log_softmax(x, _implicit_dim(self, x))


def _implicit_dim(module, x):
    """``module.dim``, or PyTorch's old choice when it is None (0 for 0-, 1- and 3-d inputs, else
    1) with PyTorch's warning."""
    if module.dim is not None:
        return module.dim
    _checks.tensor(type(module).__name__, "input", x)
    dim = 0 if x.ndim in (0, 1, 3) else 1
    warnings.warn(f"{type(module).__name__}: implicit dimension choice (dim={dim}) has been "
                  f"deprecated in PyTorch; give the dim, {type(module).__name__}(dim={dim})",
                  UserWarning, stacklevel=4)  # (the line calling the module)
    return dim


class LayerNorm(Module):
    """``(x - mean) / √(var + eps) · weight + bias`` over the last ``len(normalized_shape)`` dims."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        dtype = _checks.factory_dtype("LayerNorm", device, dtype)
        self.normalized_shape = _normalized_shape(normalized_shape)
        _checks.affordable("LayerNorm", 2 * math.prod(self.normalized_shape))
        self.eps = _checks.number("LayerNorm", "eps", eps, 0)
        shape = self.normalized_shape
        elementwise_affine = bool(elementwise_affine)  # (any truthy value, as in torch)
        self.elementwise_affine = elementwise_affine
        self.weight = Parameter(np.ones(shape, dtype)) if elementwise_affine else None
        with_bias = elementwise_affine and bool(bias)  # (bias=False: a weight alone, torch 2.1+)
        self.bias = Parameter(np.zeros(shape, dtype)) if with_bias else None

    def forward(self, x):
        self._check_input(x)
        dims = tuple(range(-len(self.normalized_shape), 0))
        centred = x - x.mean(dims, keepdim=True)
        out = centred / ((centred * centred).mean(dims, keepdim=True) + self.eps).sqrt()
        if self.weight is not None:
            out = out * self.weight
        return out if self.bias is None else out + self.bias

    def _check_input(self, x):
        shape = self.normalized_shape
        _checks.tensor("LayerNorm", "input", x)
        if x.ndim < len(shape) or x.shape[x.ndim - len(shape):] != shape:
            raise ShapeError(f"LayerNorm: normalized_shape={shape} expects an input of shape "
                             f"(*, {', '.join(map(str, shape))}), got {x.shape}")
        _checks.floating("LayerNorm", x)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


def _normalized_shape(value):
    """``LayerNorm``'s ``normalized_shape``, an int or a sequence of ints, as a tuple."""
    if isinstance(value, (list, tuple)):
        return tuple(_checks.size("LayerNorm", "normalized_shape", n) for n in value)
    return (_checks.size("LayerNorm", "normalized_shape", value),)

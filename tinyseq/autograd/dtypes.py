"""The dtypes (``ts.float32``), which dtype a value becomes and which dtype a result takes, as in
PyTorch.

Floats are float32 unless asked otherwise (``DEFAULT_FLOAT``); a Python scalar never changes a
tensor's dtype; an integer or bool tensor meeting a float one takes the float dtype; a value that a
dtype cannot hold is refused, never wrapped round. Inside the engine dtypes are numpy's; ``DType``
is what users see (``t.dtype``, ``ts.float32``).
"""
import numpy as np

from .ops._util import quiet
from .tensor import Tensor

DEFAULT_FLOAT = np.float32


class DType:
    """A tensor's element type, as ``torch.dtype``: ``ts.float32`` prints ``tinyseq.float32``.

    It stands for the numpy dtype in its ``.dtype`` attribute, so numpy takes it wherever it takes
    a dtype (``np.zeros(3, dtype=ts.float32)``, ``a.astype(t.dtype)``), and it equals that dtype
    in any spelling numpy understands (``t.dtype == np.float32``, ``== "float32"``).

    >>> import tinyseq as ts
    >>> ts.tensor([1.5]).dtype, ts.long, ts.float64.itemsize
    (tinyseq.float32, tinyseq.int64, 8)
    """

    __slots__ = ("dtype",)

    def __init__(self, np_dtype):
        self.dtype = np.dtype(np_dtype)

    def __repr__(self):
        return f"tinyseq.{self.dtype.name}"

    __str__ = __repr__

    def __eq__(self, other):
        if isinstance(other, DType):
            return self.dtype == other.dtype
        if other is None or isinstance(other, (int, float)):  # (np.dtype(None) is float64)
            return False
        try:
            return self.dtype == np.dtype(other)
        except (TypeError, ValueError):  # not a dtype at all: "torch.float32", a list, ...
            return False

    def __hash__(self):
        return hash(self.dtype)

    def __reduce__(self):  # pickled as its name: ``ts.float32`` comes back as ``ts.float32``
        return dtype_of, (self.dtype.name,)

    is_floating_point = property(lambda self: self.dtype.kind == "f")
    is_complex = property(lambda self: self.dtype.kind == "c")
    is_signed = property(lambda self: self.dtype.kind in "fic")
    itemsize = property(lambda self: self.dtype.itemsize)


DType.__name__ = DType.__qualname__ = "dtype"  # ``type(ts.float32)`` is ``tinyseq.dtype``
DType.__module__ = "tinyseq"

# One DType per numpy scalar type a tensor can hold, so ``t.dtype is ts.float32`` holds.
DTYPES = {t: DType(t) for t in (np.float32, np.float64, np.float16, np.int64, np.int32,
                                 np.int16, np.int8, np.uint8, np.uint16, np.uint32, np.uint64,
                                 np.bool_)}
# PyTorch's names, besides the numpy ones (``ts.float32``): ``ts.float`` is float32, as in torch
TORCH_NAMES = {"float": np.float32, "double": np.float64, "half": np.float16, "long": np.int64,
               "int": np.int32, "short": np.int16}


def dtype_of(np_dtype):
    """The ``DType`` of a numpy dtype (or its name): ``dtype_of(a.dtype)`` is what ``t.dtype``
    gives."""
    np_dtype = np.dtype(np_dtype)
    found = DTYPES.get(np_dtype.type)
    return found if found is not None else DType(np_dtype)


@quiet
def as_array(data, dtype=None):
    """``data`` as a numpy array by ``ts.tensor``'s rules: floats become float32 unless ``dtype``;
    a value that ``dtype`` cannot hold is refused, never wrapped round."""
    if isinstance(data, Tensor):
        data = data._data
    target = None if dtype is None else dtype_arg("ts.tensor", dtype)
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


def dtype_arg(op, dtype):
    """``dtype`` as a numpy dtype that a tensor can have (float, int or bool), else a TypeError.

    ``dtype`` is a ``ts`` dtype, anything numpy takes as a dtype (``np.float32``, ``"int64"``),
    or PyTorch's and tinyseq's names of one (``"torch.long"``, ``"tinyseq.float32"``)."""
    given = dtype
    if type(dtype) is DType:
        dtype = dtype.dtype
    elif isinstance(dtype, str) and dtype.startswith(("torch.", "tinyseq.")):
        name = dtype.partition(".")[2]
        dtype = TORCH_NAMES.get(name, name)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {given!r} is not a dtype; use ts.float32, ts.float64, ts.int64 "
                        "or ts.bool") from None
    if dtype.kind not in "fiub":
        raise TypeError(f"{op}: tensors hold floats, ints or bools, not {dtype}")
    return dtype


def data_of(x):
    """The array of a Tensor, anything else as it is."""
    return x._data if isinstance(x, Tensor) else x


def tensor_of(x):
    """``x`` itself if it is a Tensor, else a new one by ``ts.tensor``'s rules (``ts.exp`` & co.
    take lists and arrays too)."""
    return x if isinstance(x, Tensor) else Tensor(as_array(x))


def floating(x):
    """``x`` as a floating Tensor: itself if it is one, else its values as float32 (``exp`` of an
    int tensor is float32)."""
    t = x if isinstance(x, Tensor) else Tensor(as_array(x))
    return t if t._data.dtype.kind == "f" else Tensor._wrap(t._data.astype(DEFAULT_FLOAT))


def joined_dtype(*dtypes):
    """The dtype of tensors joined or compared element by element (``cat``, ``stack``, tensor
    bounds of ``clamp``), as PyTorch types it: the widest float if any is a float (int64 and
    float32 give float32, where numpy gives float64), else numpy's common integer type."""
    dtypes = [np.dtype(d) for d in dtypes]
    floats = [d for d in dtypes if d.kind == "f"]
    return np.result_type(*(floats or dtypes))

def operand(x, dtype):
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


_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2}


def _zero_dim_follows(a, b):
    """A 0-d tensor next to a dimensioned one is typed like a number, as in PyTorch: it takes the
    other's dtype unless it is of a higher category (bool < integer < float); ``loss * scale``
    with a float64 ``scale`` stays float32. The cast is recorded, so the 0-d one gets its
    gradient."""
    zero, full = (a, b) if a._data.ndim == 0 else (b, a)
    dtype = full._data.dtype
    if zero._data.dtype == dtype or _CATEGORY[zero._data.dtype.kind] > _CATEGORY[dtype.kind]:
        return a, b
    cast = zero.to(dtype)
    return (cast, b) if zero is a else (a, cast)


def operands(a, b):
    """The two operands of a binary op, typed as PyTorch types them: a Tensor stays as it is, a
    number or an array is typed next to the Tensor (``operand``), and integers or bools next to
    floats take that float dtype."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):  # the usual case, first: 0.3 -> 0.15 us
        da, db = a._data, b._data
        if da.dtype == db.dtype and (da.ndim == 0) == (db.ndim == 0):
            return a, b
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else Tensor(as_array(a))
    a = a if isinstance(a, Tensor) else operand(a, like._data.dtype)
    b = b if isinstance(b, Tensor) else operand(b, like._data.dtype)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and (
            (a._data.ndim == 0) != (b._data.ndim == 0)):
        a, b = _zero_dim_follows(a, b)
    fa, fb = data_of(a).dtype.kind == "f", data_of(b).dtype.kind == "f"
    if fa != fb:  # integer or bool next to float: the float dtype wins, as in PyTorch
        if fa:
            b = data_of(b).astype(data_of(a).dtype)
        else:
            a = data_of(a).astype(data_of(b).dtype)
    return a, b

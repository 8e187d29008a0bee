"""What ``ts.save`` writes besides arrays: an object of dicts, lists and tuples holding Tensors,
numpy arrays and plain values, as safetensors entries plus a JSON description of the rest.

``encode(obj)`` walks ``obj`` and gives ``(arrays, description)``: every Tensor or numpy array is
an entry named by its key path (``model/encoder.weight``, ``optimizer/state/0/exp_avg``; a dict of
names at the top keeps its names), and the description says where each entry goes and what
everything else is. ``decode(description, arrays, place)`` builds the object again. Nothing is
pickled: the description is JSON, a tree of these nodes:

========================================  ====================================================
``null``, ``true``, a string, a number    that plain value (``1`` stays an int, ``1.0`` a float)
``{"float": "nan"}`` (``inf``, ``-inf``)  a float that JSON cannot write
``{"list": [node, ...]}``                 a list (``"tuple"``: a tuple)
``{"dict": [[key, value], ...]}``         a dict in its order, keys being nodes: int keys stay
                                          ints (``"odict"``: an ``OrderedDict``)
``{"tensor": entry}``                     a Tensor, plus ``"requires_grad": true`` if it did
``{"ndarray": entry}``                    a numpy array (``"numpy"``: a numpy scalar, 0-d entry)
========================================  ====================================================

The same Tensor reached twice is written twice and loads as two equal Tensors (PyTorch keeps one),
so that every entry stays an ordinary safetensors entry that any reader loads under its name.
"""
import json
import math
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ..autograd.tensor import Tensor

# The numpy dtypes that both safetensors and tinyseq's tensors hold (safetensors also knows
# bfloat16 and float8, which numpy lacks, and complex64, which tinyseq's tensors lack).
DTYPES = frozenset(np.dtype(t) for t in (
    np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
    np.float16, np.float32, np.float64))

# Containers deeper than this are refused (on save and load) before Python's recursion limit,
# which the JSON codec and the walks below share, could fail somewhere less clear.
MAX_DEPTH = 100
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_HELD = ("Tensors, numpy arrays, numbers, strings, bools, None, and dicts, lists and tuples of "
         "them")


def where(path):
    """``('model', 0)`` -> ``"obj['model'][0]"``: a key path as the code that reaches it."""
    return "obj" + "".join(f"[{key!r}]" for key in path)


def as_array(value, who):
    """``value`` (an ndarray, a Tensor or a numpy scalar) as a C-contiguous array of a dtype a
    checkpoint stores; ``who`` names it in the error."""
    arr = np.asarray(value)  # a Tensor gives its array (``__array__``)
    if arr.dtype.newbyteorder("=") not in DTYPES:
        kept = ", ".join(sorted(str(d) for d in DTYPES))
        raise TypeError(f"ts.save: {who} has dtype {arr.dtype}, which a checkpoint cannot "
                        f"store; use one of: {kept}")
    # Not np.ascontiguousarray: it turns a 0-d array into shape (1,).
    return arr if arr.flags.c_contiguous else np.array(arr, order="C")


def encode(obj):
    """``(arrays, description)``: the entries (name -> array) and the JSON text of ``obj``."""
    encoder = _Encoder()
    root = encoder.node(obj, ())
    return encoder.arrays, json.dumps(root, allow_nan=False, separators=(",", ":"))


class _Encoder:
    def __init__(self):
        self.arrays = {}
        self.walking = set()  # ids of the containers on the current path: one inside itself

    def node(self, value, path):
        """The description of ``value``, found at key ``path`` from the top."""
        if isinstance(value, Tensor):
            node = {"tensor": self.entry(value, path)}
            return {**node, "requires_grad": True} if value.requires_grad else node
        if isinstance(value, np.ndarray):
            return {"ndarray": self.entry(value, path)}
        if isinstance(value, np.generic) and value.dtype in DTYPES:
            return {"numpy": self.entry(value, path)}
        if value is None or isinstance(value, (bool, int, str, float)):
            return _plain(value)
        if hasattr(value, "state_dict") and hasattr(value, "parameters"):
            raise TypeError(f"ts.save: {where(path)} is a whole {type(value).__name__} module, "
                            f"which cannot be saved (tinyseq never pickles code); save its "
                            f"weights, {where(path)}.state_dict(), instead")
        if isinstance(value, (Mapping, list, tuple)):
            return self.container(value, path)
        raise TypeError(f"ts.save: {where(path)} is of type {type(value).__name__}, which a "
                        f"checkpoint cannot hold (tinyseq never pickles): it holds {_HELD}")

    def container(self, value, path):
        if id(value) in self.walking:
            raise ValueError(f"ts.save: {where(path)} contains itself; a checkpoint holds "
                             f"trees, not cycles")
        if len(path) >= MAX_DEPTH:
            raise ValueError(f"ts.save: the object is nested more than {MAX_DEPTH} containers "
                             f"deep (at {where(path[:3])}...); flatten it")
        self.walking.add(id(value))
        try:
            if isinstance(value, Mapping):
                tag = "odict" if isinstance(value, OrderedDict) else "dict"
                return {tag: [[_key(k, path), self.node(v, (*path, k))]
                              for k, v in value.items()]}
            tag = "tuple" if isinstance(value, tuple) else "list"
            return {tag: [self.node(v, (*path, i)) for i, v in enumerate(value)]}
        finally:
            self.walking.discard(id(value))

    def entry(self, value, path):
        """Store ``value``'s array under a new entry named by ``path``; return the name."""
        name = "/".join(map(str, path)) if path else "root"
        base, n = name, 1
        while name in self.arrays or name == "__metadata__":  # (safetensors' header key)
            n += 1
            name = f"{base}~{n}"
        self.arrays[name] = as_array(value, where(path))
        return name


def _plain(value):
    """The node of None, a bool, int, str or float (or a subclass's value: ``np.str_``, an
    ``IntEnum``, as the plain type)."""
    if value is None:
        return None
    kind = next(k for k in (bool, int, str, float) if isinstance(value, k))
    if kind is float and not math.isfinite(value):
        return {"float": str(float(value))}
    return kind(value)


def _key(key, path):
    """The description of a dict key: a plain value or a tuple of them (kept hashable)."""
    if key is None or isinstance(key, (bool, int, str, float)):
        return _plain(key)
    if isinstance(key, tuple):
        return {"tuple": [_key(k, path) for k in key]}
    raise TypeError(f"ts.save: {where(path)} has the key {key!r:.60}, a "
                    f"{type(key).__name__}; checkpoint keys are str, int, float, bool, None or "
                    f"tuples of them")


def decode(text, arrays, place):
    """The object that ``text`` (``encode``'s description) describes, its entries taken from
    ``arrays`` (name -> array); ``place(tensor)`` gives the Tensor to put in (``map_location``).
    A description that ``encode`` cannot have written raises ``ValueError`` saying what."""
    try:
        root = json.loads(text)
    except RecursionError:
        raise ValueError(f"it is nested more than {MAX_DEPTH} containers deep") from None
    except ValueError as e:
        raise ValueError(f"it is not JSON ({e})") from None
    return _Decoder(arrays, place).node(root, 0)


class _Decoder:
    def __init__(self, arrays, place):
        self.arrays, self.place, self.used = arrays, place, set()

    def node(self, node, depth):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        tag, body = _tagged(node)
        if tag in ("list", "tuple", "dict", "odict"):
            if depth >= MAX_DEPTH:
                raise ValueError(f"it is nested more than {MAX_DEPTH} containers deep")
            if not isinstance(body, list):
                raise ValueError(f"a {tag} holds {body!r:.40}, not a JSON list")
            if tag in ("list", "tuple"):
                items = [self.node(item, depth + 1) for item in body]
                return items if tag == "list" else tuple(items)
            pairs = [self.pair(item, depth + 1) for item in body]
            return dict(pairs) if tag == "dict" else OrderedDict(pairs)
        if tag == "float":
            return _non_finite(body)
        array = self.array(body)
        if tag == "ndarray":
            return array
        if tag == "numpy":
            if array.ndim:
                raise ValueError(f"entry {body!r} holds a numpy scalar but has shape "
                                 f"{array.shape}")
            return array[()]
        grad = node.get("requires_grad", False)
        if not isinstance(grad, bool) or set(node) - {"tensor", "requires_grad"}:
            raise ValueError(f"the node of tensor {body!r} is {node!r:.60}")
        if grad and array.dtype.kind != "f":
            raise ValueError(f"entry {body!r} is {array.dtype} but requires grad, which only "
                             f"floating tensors can")
        return self.place(Tensor(array, requires_grad=grad))

    def pair(self, item, depth):
        if not (isinstance(item, list) and len(item) == 2):
            raise ValueError(f"a dict item is {item!r:.40}, not a [key, value] pair")
        return _key_value(item[0]), self.node(item[1], depth)

    def array(self, name):
        """Entry ``name``; a copy if an earlier node took it (a forged file: no shared memory)."""
        if not isinstance(name, str) or name not in self.arrays:
            raise ValueError(f"it names the entry {name!r:.60}, which the file does not hold")
        first = name not in self.used
        self.used.add(name)
        return self.arrays[name] if first else self.arrays[name].copy()


def _tagged(node):
    """``(tag, body)`` of a container or leaf node, checked."""
    tags = ("list", "tuple", "dict", "odict", "float", "tensor", "ndarray", "numpy")
    found = [t for t in tags if isinstance(node, dict) and t in node]
    if len(found) != 1 or (found[0] != "tensor" and len(node) != 1):
        raise ValueError(f"it holds the node {node!r:.60}, which is none of "
                         f"{', '.join(tags)}")
    return found[0], node[found[0]]


def _non_finite(body):
    if body not in _NON_FINITE:
        raise ValueError(f"a float node holds {body!r:.40}; it must be 'nan', 'inf' or '-inf'")
    return _NON_FINITE[body]


def _key_value(node):
    """A dict key from its node: a plain value or a tuple of them."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if not isinstance(node, dict):
        raise ValueError(f"a dict key is {node!r:.60}; keys are plain values or tuples of them")
    tag, body = _tagged(node)
    if tag == "float":
        return _non_finite(body)
    if tag == "tuple" and isinstance(body, list):
        return tuple(_key_value(k) for k in body)
    raise ValueError(f"a dict key is {node!r:.60}; keys are plain values or tuples of them")

"""``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList`` and ``ParameterDict``:
containers whose entries their parent module registers by the attribute mechanism of ``Module``
(``module.py``): an entry named ``"enc"`` (a ModuleDict) or ``"0"`` (a ParameterList) is an
attribute, so ``state_dict()`` names its parameters ``heads.enc.weight``, ``params.0``.
"""
from collections import OrderedDict
from collections.abc import Mapping

from ..autograd.tensor import Tensor
from .module import Module, Parameter


def _module(container, i, value):
    """``value`` if it is a Module (a container silently skipping anything else would lose it)."""
    if not isinstance(value, Module):
        raise TypeError(f"{container}: item {i} is a {type(value).__name__}, not a Module; wrap "
                        "a function in a Module subclass (or use ts.nn.ReLU(), ...)")
    return value


class _Container(Module):
    """Submodules kept in order under the names "0", "1", ...: indexing (a slice is a container of
    the same kind), assignment, deletion (the rest renumbered, as in torch), ``len``, iteration."""

    def _index(self, i):
        """The key of position ``i`` (negative counts from the end), or torch's IndexError."""
        n = len(self._modules)
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"{type(self).__name__}: indices must be ints or slices, got "
                            f"{type(i).__name__}")
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}: index {i} is out of range for {n} modules")
        return list(self._modules)[i % n]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._sliced(list(self._modules.items())[i])
        return self._modules[self._index(i)]

    def __setitem__(self, i, module):
        setattr(self, self._index(i), _module(type(self).__name__, i, module))

    def __delitem__(self, i):
        keys = list(self._modules)[i] if isinstance(i, slice) else [self._index(i)]
        for key in keys:
            delattr(self, key)
        self._renumber(list(self._modules.values()))

    def _renumber(self, modules):
        """Hold ``modules`` under "0", "1", ... (after a deletion or insertion, as torch does)."""
        self._modules.clear()
        for i, m in enumerate(modules):
            setattr(self, str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        setattr(self, str(len(self._modules)), _module(type(self).__name__, len(self), module))
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """``module`` before position ``index``, the ones after it renumbered."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"{type(self).__name__}.insert: index must be an int, got "
                            f"{type(index).__name__} {index!r}")
        modules = list(self._modules.values())
        modules.insert(index, _module(type(self).__name__, index, module))
        self._renumber(modules)

    def pop(self, i=-1):
        module = self[i]
        del self[i]
        return module


class Sequential(_Container):
    """Modules applied one after the other: ``Sequential(a, b)`` names them "0", "1";
    ``Sequential(OrderedDict(fc=..., act=...))`` by the keys, as in torch."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for key, m in modules[0].items():
                setattr(self, _key("Sequential", key), _module("Sequential", key, m))
        else:
            for i, m in enumerate(modules):
                setattr(self, str(i), _module("Sequential", i, m))

    def _sliced(self, items):
        return Sequential(OrderedDict(items))

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_Container):
    """A list of modules whose parent registers their parameters (``layers.0.weight``, ...)."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def _sliced(self, items):
        return ModuleList([m for _, m in items])

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList([*self, *other])


def _key(owner, key):
    """A key that can be an attribute name in a state_dict's dotted path."""
    if not isinstance(key, str):
        raise TypeError(f"{owner}: keys must be strings, got {type(key).__name__} {key!r}")
    if "." in key or key == "":
        raise KeyError(f"{owner}: key {key!r} must be a non-empty string without '.' (it becomes "
                       "part of the dotted parameter names)")
    return key


def _items(owner, entries):
    """The ``(key, value)`` pairs of a mapping (a ModuleDict too) or of an iterable of pairs."""
    if isinstance(entries, (Mapping, _Dict)):
        return list(entries.items())
    pairs = []
    for i, pair in enumerate(entries):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{owner}.update: item {i} must be a (key, value) pair, got "
                            f"{pair!r:.60}")
        pairs.append(tuple(pair))
    return pairs


class _Dict(Module):
    """What ModuleDict and ParameterDict share: a dict's methods over the registered entries
    (``_store``: the module's own ``_modules`` or ``_parameters``), in insertion order."""

    _store_name = ""

    def _store(self):
        return getattr(self, self._store_name)

    def __getitem__(self, key):
        return self._store()[key]

    def __setitem__(self, key, value):
        key = _key(type(self).__name__, key)
        if key not in self._store() and (hasattr(type(self), key) or key in self.__dict__):
            raise KeyError(f"{type(self).__name__}: key {key!r} is already an attribute of the "
                           "container; choose another name")
        setattr(self, key, self._entry(key, value))

    def __delitem__(self, key):
        del self._store()[key]

    def __len__(self):
        return len(self._store())

    def __iter__(self):
        return iter(self._store())

    def __contains__(self, key):
        return key in self._store()

    def keys(self):
        return self._store().keys()

    def items(self):
        return self._store().items()

    def values(self):
        return self._store().values()

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def get(self, key, default=None):
        return self[key] if key in self else default

    def clear(self):
        self._store().clear()

    def update(self, entries):
        for key, value in _items(type(self).__name__, entries):
            self[key] = value


class ModuleDict(_Dict):
    """Modules by name: ``heads["pos"](x)``; their parameters are ``<name>.<key>.weight``."""

    _store_name = "_modules"

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _entry(self, key, value):
        if not isinstance(value, Module):
            raise TypeError(f"ModuleDict: the value of {key!r} is a {type(value).__name__}, not a "
                            "Module")
        return value


def _parameter(owner, where, value):
    """``value`` as a Parameter: a Tensor becomes one (as in torch), anything else is refused."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{owner}: {where} is a {type(value).__name__}, not a Parameter or a Tensor")


def _parameters_repr(owner, named, kind):
    """torch's repr of a parameter container: one line per entry with its dtype (ParameterList)
    or tensor type (ParameterDict) and size, on the container's line when there is one entry."""
    lines = [f"  ({k}): Parameter containing: [{kind(p)} of size {'x'.join(map(str, p.shape))}]"
             for k, p in named]
    if len(lines) <= 1:
        return f"{owner}({''.join(lines)})"
    return f"{owner}(\n" + "".join(f"  {line}\n" for line in lines) + ")"


class ParameterDict(_Dict):
    """Parameters by name (Tensors become Parameters): ``state_dict()`` names them
    ``<name>.<key>``."""

    _store_name = "_parameters"

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def _entry(self, key, value):
        return _parameter("ParameterDict", f"the value of {key!r}", value)

    def __repr__(self):
        return _parameters_repr("ParameterDict", self.items(), lambda p: p.type())


class ParameterList(Module):
    """Parameters in order (Tensors become Parameters), registered as ``"0"``, ``"1"``, ...:
    ``plist[i]``, ``len``, iteration, ``append`` and ``extend``."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ParameterList(list(self._parameters.values())[i])
        return self._parameters[str(self._index(i))]

    def __setitem__(self, i, value):
        setattr(self, str(self._index(i)), _parameter("ParameterList", f"item {i}", value))

    def _index(self, i):
        n = len(self)
        if not isinstance(i, int) or not -n <= i < n:
            raise IndexError(f"ParameterList: index {i!r} is out of range for {n} parameters")
        return i % n

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        i = len(self)
        setattr(self, str(i), _parameter("ParameterList", f"item {i}", value))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def __repr__(self):
        return _parameters_repr("ParameterList", self._parameters.items(),
                                lambda p: f"ts.{p.numpy().dtype}")


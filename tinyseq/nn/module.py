"""``Module``: parameters, buffers and submodules registered by attribute, as in PyTorch;
``Parameter``. (The containers, ``Sequential``, ``ModuleList``, ... are in ``containers.py``.)

A module's ``state_dict()`` maps dotted names (``head.2.bias``) to Tensors on the parameters'
memory, as PyTorch's does, so a model moves to and from PyTorch by its state_dict. A parameter
shared by two modules (tied weights) is one parameter under two keys, as in PyTorch.

When a module is called, it pushes its attribute name (or, with no parent, its class name in lower
case) as an autograd scope that carries the module itself, so that ``ts.viz`` can draw each module
as a cluster and name the parameters it finds there by their module's path (``lstm.weight_hh_l0``).
"""
import contextlib
from collections import OrderedDict, deque

import numpy as np

from ..autograd.device import device_arg, to_args
from ..autograd.dtypes import as_array, dtype_arg
from ..autograd.mode import Scope, state
from ..autograd.tensor import Tensor
from . import _checks, hooks
from .state import load_into


class Parameter(Tensor):
    """A Tensor that a Module registers as one of its parameters (``requires_grad=True``).

    ``data`` is a Tensor or a numpy array (whose dtype it keeps, as ``Tensor(ndarray)``), or
    anything ``ts.tensor`` takes (floats become float32). Like any tensor it has no ``name``
    unless you give it one; ``ts.viz`` names it by the path of the module that holds it
    (``lstm.weight_hh_l0``), found from the module scopes it is used in.
    """

    def __init__(self, data, requires_grad=True):
        numeric = type(data) is np.ndarray and data.dtype.kind in "fiub"
        array = data.numpy() if isinstance(data, Tensor) else data if numeric else as_array(data)
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        """As PyTorch's: fresh memory, the same ``requires_grad``, no gradient, no graph."""
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.numpy().copy(), requires_grad=self.requires_grad)
        return memo[id(self)]

    def __getstate__(self):
        """For copy and pickle, without the weak link to its gradient accumulator."""
        slots = {k: getattr(self, k) for k in Tensor.__slots__
                 if k not in ("__weakref__", "_accumulator") and hasattr(self, k)}
        return dict(self.__dict__), slots


class Module:
    """Base class of every layer and model: subclass it, set parameters and submodules as
    attributes in ``__init__``, and write ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", deque())  # (RemovableHandle takes them
        object.__setattr__(self, "_forward_hooks", deque())      # off with .remove(hook))
        object.__setattr__(self, "_scope_name", None)
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes (assigning {name!r})")
        # A parameter (module) assigned again keeps its place in the order, as in torch: tying
        # decoder.weight lists it before decoder.bias still.
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):  # the last parent to take it names it
            if name in self._parameters:
                raise TypeError(f"{type(self).__name__}: cannot assign '{type(value).__name__}' "
                                f"as parameter {name!r} (ts.nn.Parameter or None expected); "
                                f"del the parameter first")
            self._forget(name, keep=self._modules)
            object.__setattr__(value, "_scope_name", name)
            self._modules[name] = value
        elif name in self._buffers:  # a buffer takes a new value: a Tensor or None
            self._buffers[name] = _buffer_value(self, name, value)
        else:
            # Silently turning ``lin.weight = tensor`` into a plain attribute would drop the
            # weight from parameters() and state_dict(): refused, as in torch.
            for kind, owned, wanted in (("parameter", self._parameters, "ts.nn.Parameter"),
                                        ("child module", self._modules, "ts.nn.Module")):
                if name in owned and value is not None:
                    raise TypeError(f"{type(self).__name__}: cannot assign "
                                    f"'{type(value).__name__}' as {kind} {name!r} ({wanted} or "
                                    f"None expected); wrap a tensor as ts.nn.Parameter(t)")
            self._forget(name)
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def _forget(self, name, keep=None):
        """Unregister ``name`` from every registry but ``keep``."""
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        if keep is not self._buffers:
            self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        # (``self.weight`` in a forward comes here, once per parameter per call: parameters are
        # looked up first, directly)
        d = self.__dict__
        parameters = d.get("_parameters", ())
        if name in parameters:
            return parameters[name]
        for registry in ("_buffers", "_modules"):
            if name in d.get(registry, ()):
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def __delattr__(self, name):
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_buffer(self, name, tensor, persistent=True):
        """Keep ``tensor`` as state that is not a parameter (a mask, positional encodings, running
        statistics): ``self.name``, in ``buffers()``, moved by ``.to()``, and, if ``persistent``,
        saved in ``state_dict()``, as in PyTorch. ``tensor`` may be None (no value yet).

        >>> import tinyseq as ts
        >>> class Causal(ts.nn.Module):
        ...     def __init__(self, n):
        ...         super().__init__()
        ...         self.register_buffer("mask", ts.tril(ts.ones(n, n)).bool())
        >>> m = Causal(3)
        >>> list(m.state_dict()), list(m.parameters()), m.mask.shape
        (['mask'], [], tinyseq.Size([3, 3]))
        """
        owner = f"{type(self).__name__}.register_buffer"
        if "_buffers" not in self.__dict__:
            raise AttributeError(f"{owner}: call super().__init__() before registering buffers")
        if not isinstance(name, str):
            raise TypeError(f"{owner}: the buffer name must be a string, got "
                            f"{type(name).__name__} {name!r}")
        if "." in name or name == "":
            raise KeyError(f"{owner}: the buffer name {name!r} must be a non-empty string "
                           "without '.' (it becomes part of the dotted state_dict keys)")
        if name not in self._buffers and hasattr(self, name):
            raise KeyError(f"{owner}: attribute {name!r} already exists; choose another name")
        value = _buffer_value(self, name, tensor)
        self._forget(name)
        self.__dict__.pop(name, None)
        self._buffers[name] = value
        if not persistent:
            self._non_persistent_buffers_set.add(name)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        """``forward(*args, **kwargs)`` between the forward hooks, inside this module's scope
        (under ``no_grad`` no node is made to carry one, so none is opened: a forward that turns
        grad back on is drawn without this module's box)."""
        outer = state.scope if state.grad_enabled else None
        if outer is not None:  # ``with scope(name, self):`` written out, 0.7 us a call less
            state.scope = outer + (Scope(self._own_name(), self),)
        try:
            if self._forward_pre_hooks or self._forward_hooks:
                return hooks.call(self, args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            if outer is not None:
                state.scope = outer

    def register_forward_pre_hook(self, hook):
        """``hook(module, args)`` before each ``forward``; what it returns (if not None) becomes
        the args. Returns a handle: ``handle.remove()``."""
        owner = f"{type(self).__name__}.register_forward_pre_hook"
        return hooks.add(self._forward_pre_hooks, hook, owner)

    def register_forward_hook(self, hook):
        """``hook(module, args, output)`` after each ``forward``; what it returns (if not None)
        becomes the output. Returns a handle: ``handle.remove()``."""
        owner = f"{type(self).__name__}.register_forward_hook"
        return hooks.add(self._forward_hooks, hook, owner)

    def _own_name(self):
        """Its attribute name in its parent; a module with no parent is named after its class."""
        return self._scope_name or type(self).__name__.lower()

    # ---- walking the tree ------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(dotted name, module)`` for this module and every submodule (depth first, in
        registration order); a module reached twice is yielded once unless ``remove_duplicate``
        is False. ``memo`` (a set of modules already seen) is PyTorch's."""
        seen = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in seen:
                    continue
                seen.add(module)
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, parameter)`` pairs in registration order. A parameter held by two
        modules (tied weights) comes once, under its first name, unless ``remove_duplicate`` is
        False (then under every name, as ``state_dict`` lists it)."""
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for name, module in modules:
            for k, p in module._parameters.items():
                if remove_duplicate and id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{name}.{k}" if name else k), p

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, buffer)`` pairs in registration order, as ``named_parameters``."""
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for name, module in modules:
            for k, b in module._buffers.items():
                if b is None or (remove_duplicate and id(b) in seen):
                    continue
                seen.add(id(b))
                yield (f"{name}.{k}" if name else k), b

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule, then on this one, as torch orders it (each
        child's subtree in registration order, the module after its children); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def add_module(self, name, module):
        """``self.name = module`` by a name made at run time (``f"layer{i}"``); None is allowed."""
        owner = f"{type(self).__name__}.add_module"
        _registrable(self, owner, name, self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{owner}: {type(module).__name__} is not a Module subclass")
        setattr(self, name, module)

    register_module = add_module

    def register_parameter(self, name, param):
        """``self.name = param``: a Parameter, or None (no parameter of that name, as torch's
        ``register_parameter("bias", None)``)."""
        owner = f"{type(self).__name__}.register_parameter"
        _registrable(self, owner, name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{owner}: cannot assign '{type(param).__name__}' as parameter "
                            f"{name!r} (ts.nn.Parameter or None required)")
        self._forget(name)
        setattr(self, name, param)

    def get_submodule(self, target):
        """The module at the dotted path ``target`` ("" is this one):
        ``model.get_submodule("encoder.rnn")``."""
        module = self
        for part in target.split(".") if target else ():
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} (in "
                                     f"{target!r})")
            module = module._modules[part]
        return module

    def get_parameter(self, target):
        """The parameter at the dotted path ``target`` (``"encoder.rnn.weight_ih_l0"``)."""
        return self._get_registered(target, "_parameters", "parameter")

    def get_buffer(self, target):
        """The buffer at the dotted path ``target``."""
        return self._get_registered(target, "_buffers", "buffer")

    def _get_registered(self, target, registry, kind):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in getattr(module, registry):
            raise AttributeError(f"{type(module).__name__} has no {kind} {name!r} (in {target!r})")
        return getattr(module, registry)[name]

    # ---- state -----------------------------------------------------------------------------------
    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """An ``OrderedDict`` of dotted name -> Tensor, as PyTorch's: every parameter (then every
        persistent buffer) under every name it has (tied weights give two keys for one
        parameter), each a detached Tensor on the parameter's memory (a write to it writes the
        parameter; ``keep_vars=True`` gives the Parameters themselves). ``prefix`` goes before
        every name; ``destination`` is a dict to fill instead of a new one.

        >>> import tinyseq as ts
        >>> lin = ts.nn.Linear(2, 1)
        >>> sd = lin.state_dict()
        >>> list(sd), type(sd["weight"]).__name__, sd["weight"].requires_grad
        (['weight', 'bias'], 'Tensor', False)
        >>> list(lin.state_dict(prefix="head."))
        ['head.weight', 'head.bias']
        """
        out = OrderedDict() if destination is None else destination
        # Not named_parameters(): as in torch, a module or parameter reached twice is listed twice.
        for k, p in self._parameters.items():
            out[prefix + k] = p if keep_vars else p.detach()
        for k, b in self._buffers.items():
            if b is not None and k not in self._non_persistent_buffers_set:
                out[prefix + k] = b if keep_vars else b.detach()
        for k, module in self._modules.items():
            module.state_dict(destination=out, prefix=f"{prefix}{k}.", keep_vars=keep_vars)
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into the parameters (in place: optimisers keep working), all or nothing:
        every key, shape and dtype is checked before the first copy.

        The keys are ``state_dict()``'s: a tied parameter is loaded from each of its names.
        Values may be Tensors, numpy arrays, or anything ``np.asarray`` takes (torch tensors);
        they are cast to the parameter's dtype as PyTorch's ``copy_`` does (float64 -> float32,
        floats into an int buffer, bools; NaN loads as in PyTorch), but a value that is not a
        number (complex, text, objects) is refused. With ``strict``, missing and unexpected keys
        are errors; a shape mismatch always is. Every problem is named in one line. Returns
        PyTorch's ``_IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        return load_into(self, state_dict, strict)

    def train(self, mode=True):
        mode = _checks.flag(f"{type(self).__name__}.train", "mode", mode)
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradients on or off for every parameter (freezing a part); returns self."""
        requires_grad = _checks.flag(f"{type(self).__name__}.requires_grad_", "requires_grad",
                                     requires_grad)
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # ---- dtype and device ------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        """``model.to(device)``, ``.to(dtype)``, ``.to(device, dtype)``, ``.to(tensor)``, as in
        PyTorch: floating parameters (and their gradients) take a floating ``dtype`` in place (the
        same Parameter objects), floating buffers too; the device is the CPU. Returns self."""
        op = f"{type(self).__name__}.to"
        dtype, _ = to_args(op, args, kwargs, copy=False)
        if dtype is None:
            return self
        dtype = dtype_arg(op, dtype)
        if dtype.kind != "f":
            raise TypeError(f"{op}: only floating dtypes can be given to a module, got {dtype}; "
                            "convert the inputs instead")
        for p in self.parameters():
            if p.numpy().dtype.kind == "f" and p.numpy().dtype != dtype:
                p.data = p.data.to(dtype)
                if p.grad is not None:
                    p.grad = p.grad.to(dtype)
        for module in self.modules():  # floating buffers too; masks and counts keep theirs
            for k, b in module._buffers.items():
                if b is not None and b.numpy().dtype.kind == "f":
                    module._buffers[k] = b.to(dtype)
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def cpu(self):
        """Itself: tinyseq's modules are on the CPU."""
        return self

    def cuda(self, device=None):
        device_arg(f"{type(self).__name__}.cuda", "cuda")

    def zero_grad(self, set_to_none=True):
        """Forget the gradients that backward accumulated (``None``, or zeros in place)."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.detach().zero_()

    # ---- printing ---------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ")" if not lines else head + "\n  " + "\n  ".join(lines) + "\n)"


def _registrable(module, owner, name, registry):
    """``name`` as a name a module can register under: a string, not empty, no '.', and not an
    attribute of another kind."""
    if not isinstance(name, str):
        raise TypeError(f"{owner}: the name must be a string, got {type(name).__name__} {name!r}")
    if "." in name or name == "":
        raise KeyError(f"{owner}: the name {name!r} must be a non-empty string without '.' (it "
                       "becomes part of the dotted state_dict keys)")
    if name not in registry and hasattr(module, name) and getattr(module, name) is not None:
        raise KeyError(f"{owner}: attribute {name!r} already exists; choose another name")


def _buffer_value(module, name, value):
    """``value`` if a buffer can hold it: a Tensor (not a Parameter, which is a parameter), or
    None."""
    if value is not None and (not isinstance(value, Tensor) or isinstance(value, Parameter)):
        raise TypeError(f"{type(module).__name__}: cannot assign '{type(value).__name__}' to "
                        f"buffer {name!r} (a ts.Tensor or None is required)")
    return value


@contextlib.contextmanager
def evaluating(module):
    """``with ts.nn.evaluating(model):`` evaluation mode (no dropout) for the block, then the
    module's mode as it was."""
    was = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was)

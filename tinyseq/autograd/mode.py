"""Thread-local switches of the engine: grad mode, the scope path, anomaly detection.

``no_grad``/``enable_grad`` decide whether ops record a graph; ``scope`` names the nodes created
inside it (modules push their attribute name and themselves, recurrent layers ``t=<step>``) so that
``ts.viz`` can draw clusters (a module called twice gives two distinct ``Scope`` entries of one name);
``detect_anomaly`` makes every op check its results for NaN/Inf.
"""
import contextlib
import functools
import threading


class _State(threading.local):
    grad_enabled = True
    scope = ()  # the current scope path, e.g. ("lstm", "t=3")
    anomaly = False
    dual = None  # the open forward-mode level (``forward_ad.dual_level``), if any


state = _State()


def is_grad_enabled():
    """True when ops record the graph that ``backward()`` walks."""
    return state.grad_enabled


class _GradMode:
    """Context manager and decorator that sets grad mode, restoring the old one on exit;
    ``@no_grad()`` and, as in torch, ``@no_grad`` without parentheses both decorate."""

    enabled = True

    def __new__(cls, fn=None):
        if callable(fn):  # @ts.no_grad, without parentheses
            return cls()(fn)
        return super().__new__(cls)

    def __init__(self, fn=None):
        pass

    def __enter__(self):
        self._prev = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc):
        state.grad_enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        """A new manager of the same mode (each call of a decorated function enters its own)."""
        return type(self)()


class no_grad(_GradMode):
    """``with ts.no_grad():`` records no graph at all (sampling and evaluation pay nothing for it)."""

    enabled = False


class enable_grad(_GradMode):
    """``with ts.enable_grad():`` records the graph again inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradMode):
    """Grad mode on or off by a flag, as torch's: ``with ts.set_grad_enabled(training):`` for the
    block; called alone (``ts.set_grad_enabled(False)``) it sets the mode from then on; also a
    decorator (``@ts.set_grad_enabled(False)``).

    >>> import tinyseq as ts
    >>> x = ts.ones(2, requires_grad=True)
    >>> with ts.set_grad_enabled(False):
    ...     (x * 2).requires_grad
    False
    >>> (x * 2).requires_grad
    True
    """

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        if not isinstance(mode, (bool, int)):  # (torch takes 0 and 1 too)
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__} "
                            f"{mode!r}")
        self.enabled, self._prev = bool(mode), state.grad_enabled
        state.grad_enabled = self.enabled  # at once: a plain call is a setting

    def __enter__(self):
        state.grad_enabled = self.enabled  # (the previous mode was kept at construction)

    def __call__(self, fn):
        state.grad_enabled = self._prev  # as a decorator it sets nothing until the call
        return super().__call__(fn)

    def clone(self):
        prev = state.grad_enabled
        twin = type(self)(self.enabled)
        twin._prev = state.grad_enabled = prev
        return twin

    def __repr__(self):
        return f"set_grad_enabled(mode={self.enabled})"


class Scope(str):
    """One entry of a scope path: a name that is also an identity. A module called twice pushes two
    entries equal as strings but not the same object, which ``ts.viz`` draws as two boxes.
    ``owner`` is what opened the scope, if it said (a module: ``ts.viz`` finds its parameters)."""

    owner = None

    def __new__(cls, name, owner=None):
        entry = str.__new__(cls, name)
        if owner is not None:  # (a recurrent step's entry has none: the class's None is read)
            entry.owner = owner
        return entry


class scope(contextlib.ContextDecorator):
    """Record ``name`` in the scope path of every node created inside the block (or the decorated
    function).

    >>> import tinyseq as ts
    >>> x = ts.ones(2, requires_grad=True)
    >>> with ts.autograd.scope("layer"), ts.autograd.scope("t=0"):
    ...     y = x * 2
    >>> y.grad_fn.scope
    ('layer', 't=0')
    """

    def __init__(self, name, owner=None):  # a class, not a generator: modules enter one per call
        self.name, self.owner, self._outer = name, owner, []

    def __enter__(self):
        outer = state.scope
        self._outer.append(outer)
        state.scope = outer + (Scope(self.name, self.owner),)

    def __exit__(self, *exc):
        state.scope = self._outer.pop()


NO_SCOPE = contextlib.nullcontext()


def recording_scope(name, owner=None):
    """``scope(name, owner)`` when grad is on, else nothing: under ``no_grad`` no node is made to
    carry a scope (sampling, evaluation), so modules and recurrent steps skip the cost."""
    return scope(name, owner) if state.grad_enabled else NO_SCOPE


@contextlib.contextmanager
def detect_anomaly():
    """Raise ``AnomalyError`` at the first op whose forward or backward produces NaN or Inf.

    The error names the op and the line of user code that created it. Checking every result costs
    time, so use it to hunt a NaN, not in training runs.
    """
    prev = state.anomaly
    state.anomaly = True
    try:
        yield
    finally:
        state.anomaly = prev


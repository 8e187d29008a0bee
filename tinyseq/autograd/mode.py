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


state = _State()


def is_grad_enabled():
    """True when ops record the graph that ``backward()`` walks."""
    return state.grad_enabled


class _GradMode:
    """Context manager and decorator that sets grad mode, restoring the old one on exit."""

    enabled = True

    def __enter__(self):
        self._prev = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc):
        state.grad_enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """``with ts.no_grad():`` records no graph at all (sampling and evaluation pay nothing for it)."""

    enabled = False


class enable_grad(_GradMode):
    """``with ts.enable_grad():`` records the graph again inside a ``no_grad`` block."""

    enabled = True


class Scope(str):
    """One entry of a scope path: a name that is also an identity. A module called twice pushes two
    entries equal as strings but not the same object, which ``ts.viz`` draws as two boxes.
    ``owner`` is what opened the scope, if it said (a module: ``ts.viz`` finds its parameters)."""

    def __new__(cls, name, owner=None):
        entry = super().__new__(cls, name)
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
        self._outer.append(state.scope)
        state.scope = state.scope + (Scope(self.name, self.owner),)

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


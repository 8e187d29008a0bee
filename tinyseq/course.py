"""The course's functions in the course's notation, on the tinyseq engine.

Shapes as in the notes: ``x`` ``(n_x, m, T_x)``, ``a`` ``(n_a, m)`` per step, weights act from the
left (``W_ax x⟨t⟩``). Arrays keep their dtype (the course's are float64) and every function returns
Tensors. There is no cache and no hand-written backward: ``(a * da).sum().backward()`` computes what
the course's ``rnn_backward(da, caches)`` derives by hand.
"""
import numpy as np

from .autograd.factories import from_numpy, tensor, zeros
from .autograd.namespace import cat, stack
from .autograd.errors import ShapeError
from .autograd.tensor import Tensor

RNN = {"Wax": ("n_a", "n_x"), "Waa": ("n_a", "n_a"), "Wya": ("n_y", "n_a"), "ba": ("n_a", 1),
       "by": ("n_y", 1)}
LSTM = {**{f"W{g}": ("n_a", "n_a + n_x") for g in "fico"}, **{f"b{g}": ("n_a", 1) for g in "fico"},
        "Wy": ("n_y", "n_a"), "by": ("n_y", 1)}
GRU = {**{f"W{g}": ("n_c", "n_c + n_x") for g in "urc"}, **{f"b{g}": ("n_c", 1) for g in "urc"}}


def _t(v):
    """A Tensor as given, an ndarray without changing its dtype, anything else as ``ts.tensor``."""
    return v if isinstance(v, Tensor) else from_numpy(v) if isinstance(v, np.ndarray) else tensor(v)


class _Shapes:
    """Arrays checked against the course's shapes, in the course's words: the sizes (n_x, m,
    n_a, ...) are read from the first array that has them, and every later one must agree.

    Errors name the course function, the argument or ``parameters[key]``, the expected shape
    in the notation and in numbers, and where each size was read from.
    """

    def __init__(self, fn):
        self.fn, self.sizes = fn, {}  # size name -> (value, the argument it was read from)

    def input(self, name, value, dims):
        """``value`` as a Tensor of shape ``dims`` (e.g. ``("n_x", "m")``)."""
        if isinstance(value, np.ndarray) and value.dtype.kind not in "fiub":
            raise TypeError(f"{self.fn}: {name} must hold real numbers, got dtype {value.dtype}")
        try:
            t = _t(value)
        except TypeError:
            raise TypeError(f"{self.fn}: {name} must be an array or Tensor of numbers, got "
                            f"{type(value).__name__}") from None
        if t.ndim != len(dims):
            raise ShapeError(f"{self.fn}: {name} must be {_dims(dims)} ({len(dims)}-d), got "
                             f"shape {t.shape}" + _hint(name, dims, t.shape))
        for dim, size in zip(dims, t.shape):
            if isinstance(dim, str) and "+" not in dim and dim not in self.sizes:
                self.sizes[dim] = (size, name)
        expected = tuple(self._size(dim) for dim in dims)
        if t.shape != expected:
            raise ShapeError(f"{self.fn}: {name} must be {_dims(dims)} = {expected}, got shape "
                             f"{t.shape} ({self._read()})")
        return t

    def parameters(self, parameters, shapes):
        """The Tensors of ``parameters`` named in ``shapes`` (a dict key -> dims), checked."""
        if not hasattr(parameters, "keys"):
            raise TypeError(f"{self.fn}: parameters must be a dict of arrays with keys "
                            f"{', '.join(shapes)}, got {type(parameters).__name__}")
        missing = [key for key in shapes if key not in parameters]
        if missing:
            lacking = ", ".join(f"{key} {_dims(shapes[key])}" for key in missing)
            raise KeyError(f"{self.fn}: parameters has no {lacking}; it needs "
                           f"{', '.join(shapes)}")
        # in the order of ``shapes``: a size is read from the first key that has it (n_y: Wya)
        return {k: self.input(f"parameters[{k!r}]", parameters[k], dims)
                for k, dims in shapes.items()}

    def _read(self):
        """``n_x=3, m=4 from xt; n_a=5 from a_prev``: the sizes and where they were read."""
        sources = {}
        for name, (size, source) in self.sizes.items():
            sources.setdefault(source, []).append(f"{name}={size}")
        return "; ".join(f"{', '.join(sizes)} from {source}" for source, sizes in sources.items())

    def _size(self, dim):
        if isinstance(dim, int):
            return dim
        return sum(self.sizes[name][0] for name in dim.split(" + "))


def _dims(dims):
    return "(" + ", ".join(map(str, dims)) + ")"


def _hint(name, dims, shape):
    """What to do with one example or one step too few or too many dimensions."""
    if len(shape) == len(dims) - 1 and dims[-1] == "m":
        return f"; for one example use m = 1: {name}.reshape(-1, 1)"
    if len(shape) == len(dims) + 1 and dims[-1] == "m":
        return "; one time step of x (n_x, m, T_x) is x[:, :, t]"
    return ""


def _check_steps(fn, x):
    if x.shape[2] == 0:
        raise ValueError(f"{fn}: x has T_x = 0 time steps (shape {x.shape}); it needs at least one")


def rnn_cell_forward(xt, a_prev, parameters):
    """One RNN step: ``a⟨t⟩ = tanh(W_ax x⟨t⟩ + W_aa a⟨t-1⟩ + b_a)``,
    ``ŷ⟨t⟩ = softmax(W_ya a⟨t⟩ + b_y)``.

    xt ``(n_x, m)``, a_prev ``(n_a, m)`` -> ``(a_next (n_a, m), yt_pred (n_y, m))``.
    """
    shapes = _Shapes("rnn_cell_forward")
    xt, a_prev = shapes.input("xt", xt, ("n_x", "m")), shapes.input("a_prev", a_prev, ("n_a", "m"))
    return _rnn_cell(xt, a_prev, shapes.parameters(parameters, RNN))


def _rnn_cell(xt, a_prev, p):
    a_next = (p["Wax"] @ xt + p["Waa"] @ a_prev + p["ba"]).tanh()
    return a_next, (p["Wya"] @ a_next + p["by"]).softmax(0)


def rnn_forward(x, a0, parameters):
    """The RNN over all T_x steps: x ``(n_x, m, T_x)``, a0 ``(n_a, m)`` ->
    ``(a (n_a, m, T_x), y_pred (n_y, m, T_x))``."""
    shapes = _Shapes("rnn_forward")
    x, a_next = shapes.input("x", x, ("n_x", "m", "T_x")), shapes.input("a0", a0, ("n_a", "m"))
    p = shapes.parameters(parameters, RNN)
    _check_steps("rnn_forward", x)
    a, y = [], []
    for xt in x.unbind(2):
        a_next, yt = _rnn_cell(xt, a_next, p)
        a.append(a_next)
        y.append(yt)
    return stack(a, 2), stack(y, 2)


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """One LSTM step on ``concat = [a⟨t-1⟩; x⟨t⟩]``:

    Γ_f = σ(W_f concat + b_f), Γ_u = σ(W_i concat + b_i), c̃ = tanh(W_c concat + b_c),
    c⟨t⟩ = Γ_f * c⟨t-1⟩ + Γ_u * c̃, Γ_o = σ(W_o concat + b_o), a⟨t⟩ = Γ_o * tanh(c⟨t⟩).
    Returns ``(a_next, c_next, yt_pred)``.
    """
    shapes = _Shapes("lstm_cell_forward")
    xt, a_prev = shapes.input("xt", xt, ("n_x", "m")), shapes.input("a_prev", a_prev, ("n_a", "m"))
    c_prev = shapes.input("c_prev", c_prev, ("n_a", "m"))
    return _lstm_cell(xt, a_prev, c_prev, shapes.parameters(parameters, LSTM))


def _lstm_cell(xt, a_prev, c_prev, p):
    concat = cat([a_prev, xt], 0)
    ft = (p["Wf"] @ concat + p["bf"]).sigmoid()   # Γ_f
    it = (p["Wi"] @ concat + p["bi"]).sigmoid()   # Γ_u
    cct = (p["Wc"] @ concat + p["bc"]).tanh()     # c̃⟨t⟩
    c_next = ft * c_prev + it * cct
    ot = (p["Wo"] @ concat + p["bo"]).sigmoid()   # Γ_o
    a_next = ot * c_next.tanh()
    return a_next, c_next, (p["Wy"] @ a_next + p["by"]).softmax(0)


def lstm_forward(x, a0, parameters):
    """The LSTM over all steps, from ``c⟨0⟩ = 0``: -> ``(a, y, c)``, each ``(n, m, T_x)``."""
    shapes = _Shapes("lstm_forward")
    x, a_next = shapes.input("x", x, ("n_x", "m", "T_x")), shapes.input("a0", a0, ("n_a", "m"))
    p = shapes.parameters(parameters, LSTM)
    _check_steps("lstm_forward", x)
    c_next = zeros(*a_next.shape, dtype=a_next.dtype)
    a, y, c = [], [], []
    for xt in x.unbind(2):
        a_next, c_next, yt = _lstm_cell(xt, a_next, c_next, p)
        a.append(a_next)
        y.append(yt)
        c.append(c_next)
    return stack(a, 2), stack(y, 2), stack(c, 2)


def gru_cell_forward(xt, c_prev, parameters):
    """The full GRU of the notes on ``[c⟨t-1⟩; x⟨t⟩]``:

    Γ_u = σ(W_u [c⟨t-1⟩, x⟨t⟩] + b_u), Γ_r = σ(W_r [c⟨t-1⟩, x⟨t⟩] + b_r),
    c̃ = tanh(W_c [Γ_r * c⟨t-1⟩, x⟨t⟩] + b_c), c⟨t⟩ = Γ_u * c̃ + (1 - Γ_u) * c⟨t-1⟩.

    xt ``(n_x, m)``, c_prev ``(n_c, m)`` -> c_next ``(n_c, m)``.
    """
    shapes = _Shapes("gru_cell_forward")
    xt, c_prev = shapes.input("xt", xt, ("n_x", "m")), shapes.input("c_prev", c_prev, ("n_c", "m"))
    p = shapes.parameters(parameters, GRU)
    concat = cat([c_prev, xt], 0)
    gamma_u = (p["Wu"] @ concat + p["bu"]).sigmoid()
    gamma_r = (p["Wr"] @ concat + p["br"]).sigmoid()
    c_tilde = (p["Wc"] @ cat([gamma_r * c_prev, xt], 0) + p["bc"]).tanh()
    return gamma_u * c_tilde + (1 - gamma_u) * c_prev

"""Gradient flow through time: how much of ∂L/∂h⟨t⟩ reaches each step of a recurrent layer.

``gradient_flow`` runs a layer once, asking it for its hidden state at each step
(``layer.unroll``), and lets the engine carry the loss's gradient back through time; a hook on
each step's hidden state reads its norm. ``plot_gradient_flow`` draws such curves
on a log axis, where the vanishing gradient of a plain tanh RNN shows as a straight slope.
"""
import functools
import io
from pathlib import Path

import numpy as np

from ..autograd.engine import grad
from ..autograd.mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..io import write_atomic
from .render import target

PLOT_FORMATS = ("png", "svg", "pdf")


def gradient_flow(layer, x, loss_fn=None):
    """The norm of ∂L/∂h⟨t⟩ of the last layer's hidden state at every time step t: ``(T,)``.

    ``layer`` is a ``ts.nn.RNN``, ``GRU`` or ``LSTM`` (any ``num_layers``, bidirectional or not),
    or anything whose ``unroll(x)`` gives ``(output, state, steps)`` as theirs does; ``x`` is its
    input ``(T, B, input_size)`` (``(B, T, input_size)`` with ``batch_first``).
    ``L = loss_fn(output, state)``, a one-element Tensor; by default the sum of the last step's
    output, ``output[-1].sum()`` (``output[:, -1].sum()`` with ``batch_first``).

    ∂L/∂h⟨t⟩ is the total derivative, through ``output[t]`` and through step t+1 alike: the
    gradient that backpropagation through time carries back to step t. Its norm is taken over the
    batch and the hidden units (both directions for a bidirectional layer); a step the loss does
    not depend on gives 0. The layer's parameters keep their ``.grad``. Dropout between layers
    makes the curve random in training mode: call ``layer.eval()`` first for a repeatable one.

    >>> import tinyseq as ts
    >>> curve = ts.viz.gradient_flow(ts.nn.RNN(3, 8), ts.randn(12, 2, 3))
    >>> curve.shape, bool((curve > 0).all())
    ((12,), True)
    """
    batch_first = getattr(layer, "batch_first", False)
    _check_input(x, batch_first)
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"gradient_flow: loss_fn must be None or a function (output, state) -> "
                        f"a one-element Tensor, got {type(loss_fn).__name__}")
    output, state, steps = _run(layer, x)
    loss = _loss(loss_fn, output, state, batch_first)
    # The course's a⟨t⟩ is h⟨t⟩ here; each hook sees ∂L/∂a⟨t⟩ once the engine has summed what
    # came back from ŷ⟨t⟩ and from a⟨t+1⟩, the sum BPTT computes by hand.
    squares = np.zeros(len(steps[0]))
    handles = [a.register_hook(_adder(squares, t))
               for direction in steps for t, a in enumerate(direction)]
    try:
        grad(loss, _graph_inputs(layer, x), allow_unused=True)
    finally:
        for handle in handles:
            handle.remove()
    return np.sqrt(squares)


def _check_input(x, batch_first):
    if not isinstance(x, Tensor) or x.ndim != 3:
        raise ValueError(
            "gradient_flow: x must be a 3-d Tensor (T, B, input_size), or (B, T, input_size) "
            f"for a batch_first layer; got {type(x).__name__} of shape {getattr(x, 'shape', None)}")
    T, B = (x.shape[1], x.shape[0]) if batch_first else x.shape[:2]
    if T == 0 or B == 0:
        raise ValueError(f"gradient_flow: x of shape {x.shape} has T={T} steps and B={B} "
                         "sequences; a gradient flows only with at least one of each")
    if not is_grad_enabled():
        raise RuntimeError("gradient_flow: grad mode is off (inside ts.no_grad()), so no graph "
                           "would be recorded; call it outside no_grad() or in ts.enable_grad()")


def _run(layer, x):
    """``layer.unroll(x)`` -> ``(output, state, steps)``: the layer gives the hidden states a⟨t⟩
    of its last layer as they feed step t+1, ``steps[direction][t]``."""
    if hasattr(layer, "weight_ih") and not hasattr(layer, "num_layers"):
        raise TypeError(f"gradient_flow: expected a recurrent layer (ts.nn.RNN, GRU or LSTM), got "
                        f"the cell {type(layer).__name__}, which runs one step: use the layer "
                        "that runs it over time")
    if isinstance(layer, type) or not callable(getattr(layer, "unroll", None)):
        what = f"the class {layer.__name__}" if isinstance(layer, type) else (
            f"{type(layer).__name__}, which has no unroll() giving the hidden states of each step; "
            "pass the recurrent layer itself, not a model around it")
        raise TypeError(f"gradient_flow: expected a recurrent layer (ts.nn.RNN, GRU or LSTM), "
                        f"got {what}")
    output, state, steps = layer.unroll(x)
    if output.grad_fn is None:
        raise RuntimeError("gradient_flow: the layer's output has no graph: neither x nor the "
                           "layer's parameters require grad")
    return output, state, steps


def _loss(loss_fn, output, state, batch_first):
    if loss_fn is None:
        return (output[:, -1] if batch_first else output[-1]).sum()
    loss = loss_fn(output, state)
    if not (isinstance(loss, Tensor) and loss.numel() == 1 and loss.requires_grad):
        what = (f"a Tensor of shape {loss.shape} (requires_grad={loss.requires_grad})"
                if isinstance(loss, Tensor) else type(loss).__name__)
        raise ValueError("gradient_flow: loss_fn(output, state) must return a one-element Tensor "
                         f"computed from them, e.g. output[-1].sum(); got {what}")
    return loss


def _adder(squares, t):
    def hook(g):
        squares[t] += float(np.sum(np.square(g.numpy(), dtype=np.float64)))
    return hook


def _graph_inputs(layer, x):
    """The leaves that ``grad`` differentiates for: the walk reaches every h⟨t⟩ on its way to
    them, and ``grad`` (unlike ``backward``) leaves their ``.grad`` alone."""
    leaves = [p for p in layer.parameters() if p.requires_grad]
    return leaves + [x] if x.requires_grad else leaves


def plot_gradient_flow(curves, path=None, title=None):
    """Draw each curve of ``curves`` (label -> 1-d array of ‖∂L/∂h⟨t⟩‖, as ``gradient_flow``
    returns) against the time step t on a log axis.

    With ``path`` (``.png``, ``.svg`` or ``.pdf``, chosen by the suffix), write it there and
    return the path as a ``Path``; without, return the matplotlib ``Figure``, which a notebook
    shows inline (``fig.savefig(...)`` writes it later). The figure is not one of pyplot's: it
    needs no ``plt.close`` and goes when its last reference goes.

    Zeros (steps the loss does not reach) cannot sit on a log axis: they are left out of the line.
    Needs matplotlib (the ``plot`` extra: ``pip install -e ".[plot]"``); draws off-screen,
    whatever the user's pyplot backend.

    >>> import numpy as np, tempfile, os, tinyseq as ts
    >>> curves = {"rnn": 0.5 ** np.arange(10)[::-1]}
    >>> fig = ts.viz.plot_gradient_flow(curves)
    >>> fig.axes[0].get_yscale(), fig.axes[0].get_xlabel()
    ('log', 'time step t')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = ts.viz.plot_gradient_flow(curves, os.path.join(d, "g.svg"))
    ...     path.stat().st_size > 0
    True
    """
    curves = _check_curves(curves)
    if path is None:
        return _figure(curves, title)
    path, fmt = target(path, PLOT_FORMATS, "plot_gradient_flow")
    image = io.BytesIO()
    _figure(curves, title).savefig(image, format=fmt)
    return Path(write_atomic(path, image.getvalue(), who="plot_gradient_flow"))


def _check_curves(curves):
    """``curves`` as ``{label: 1-d float array}``, or a ValueError naming what is wrong."""
    if not isinstance(curves, dict) or not curves:
        raise ValueError("plot_gradient_flow: curves must be a non-empty dict label -> 1-d array, "
                         "e.g. {'rnn': ts.viz.gradient_flow(rnn, x)}")
    checked = {}
    for label, curve in curves.items():
        try:
            curve = np.asarray(curve, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"plot_gradient_flow: curve {label!r} must be an array of real "
                            f"numbers, got {curve!r:.40}") from None
        if curve.ndim != 1 or curve.size == 0:
            raise ValueError(f"plot_gradient_flow: curve {label!r} must be a non-empty 1-d array "
                             f"(one norm per time step), got shape {curve.shape}")
        bad = np.flatnonzero(~(curve >= 0) | np.isinf(curve))  # NaN, Inf or negative
        if bad.size:
            more = f" and {bad.size - 1} more steps" if bad.size > 1 else ""
            raise ValueError(f"plot_gradient_flow: curve {label!r} has {curve[bad[0]]} at step "
                             f"{bad[0]}{more}: a gradient norm is finite and >= 0; NaN or Inf "
                             "means the gradients diverged (look at the loss and the inputs, e.g. "
                             "with ts.autograd.detect_anomaly())")
        checked[label] = curve
    return checked


def _figure(curves, title):
    """A matplotlib Figure on its own Agg canvas: pyplot and its global backend stay untouched."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise ImportError('plot_gradient_flow needs matplotlib: pip install -e ".[plot]" in the '
                          "repository") from None
    fig = _shown_figure()(figsize=(6.4, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    lines = [ax.plot(np.arange(curve.size), np.ma.masked_less_equal(curve, 0), marker=".")[0]
             for curve in curves.values()]
    ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel(r"$\Vert\partial L / \partial h^{\langle t \rangle}\Vert$")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(lines, [str(label) for label in curves])  # given, so "_x" is shown too
    if title is not None:
        ax.set_title(title)
    return fig


@functools.cache
def _shown_figure():
    """A ``Figure`` class that a notebook shows as a PNG by itself: IPython shows a plain Figure
    only once pyplot has set up its inline backend, and this one is not pyplot's."""
    from matplotlib.figure import Figure

    class GradientFlowFigure(Figure):
        """A matplotlib ``Figure`` that shows itself in Jupyter (``_repr_png_``)."""

        def _repr_png_(self):
            image = io.BytesIO()
            self.savefig(image, format="png")
            return image.getvalue()

    return GradientFlowFigure

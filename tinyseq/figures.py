"""The figures that ``tinyseq graph``, ``tinyseq gradflow`` and ``docs/make_visualization.py`` draw:
a recurrent layer unrolled over time, and the gradient flowing back through it.
"""
from . import nn
from .autograd.factories import randn
from .autograd.mode import record_grad_norms
from .autograd.rng import manual_seed
from .viz.draw import draw_graph
from .viz.flow import gradient_flow

CELLS = nn.recurrent.LAYERS


def layer(cell, input_size, hidden_size, num_layers=1, seed=0):
    """A fresh ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` (PyTorch's initialisation, seeded)."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}: choose one of {', '.join(CELLS)}")
    manual_seed(seed)
    return CELLS[cell](input_size, hidden_size, num_layers=num_layers)


def unrolled_graph(cell="lstm", steps=4, num_layers=1, collapse=None, show_grads=True,
                   input_size=3, hidden_size=4, batch=2, seed=0):
    """The drawing of ``cell`` unrolled over ``steps`` steps, with L = the sum of the last
    step's output; with ``show_grads`` the backward has run and every box shows ‖∂L/∂·‖."""
    rnn = layer(cell, input_size, hidden_size, num_layers, seed)
    x = randn(steps, batch, input_size).named("x")
    out, _ = rnn(x)
    loss = out[-1].sum().named("L")
    if show_grads:
        with record_grad_norms():
            loss.backward()
    return draw_graph(loss, collapse=collapse, show_grads=show_grads)


def gradient_flows(cells=("rnn", "gru", "lstm"), steps=50, input_size=8, hidden_size=32,
                   batch=16, seed=0):
    """``{cell: ‖∂L/∂h⟨t⟩‖ for t = 0 .. steps-1}`` for the same random inputs, L the sum of the
    last step's output: how much of the loss's gradient reaches each step back in time."""
    manual_seed(seed)
    x = randn(steps, batch, input_size)
    return {cell: gradient_flow(layer(cell, input_size, hidden_size, seed=seed), x)
            for cell in cells}

"""The figures that ``tinyseq graph``, ``tinyseq gradflow`` and ``docs/make_visualization.py`` draw:
a recurrent layer unrolled over time, and the gradient flowing back through it.
"""
from .autograd.factories import randn
from .autograd.mode import record_grad_norms
from .autograd.rng import manual_seed
from .models.charlm import CELLS
from .viz.draw import draw_graph
from .viz.flow import gradient_flow
from .viz.graph import fold, trace


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


def unrolled_graph_size(cell="lstm", steps=4, num_layers=1, collapse=None):
    """``(boxes, ops)``: how many boxes the drawing of ``unrolled_graph`` has, and how many ops
    it builds, known before building it. Both grow as a + b·layers + c·layers·(steps - 1):
    a, b and c are counted on three tiny unrolled layers."""
    def counts(t, n):
        rnn = layer(cell, 3, 4, n)
        out, _ = rnn(randn(t, 2, 3))
        graph = trace(out[-1].sum())
        return len(fold(graph, collapse).items), len(graph.items)

    (b1, o1), (b2, o2), (b3, o3) = counts(1, 1), counts(1, 2), counts(2, 1)
    return tuple(one - (two - one) + (two - one) * num_layers + (three - one) * num_layers
                 * (steps - 1) for one, two, three in ((b1, b2, b3), (o1, o2, o3)))


def gradient_flows_memory(steps, hidden_size=32, input_size=8, batch=16):
    """Bytes that ``gradient_flows`` needs at most, roughly: one layer's graph over ``steps``
    steps (about 40 float64 arrays of (batch, hidden) per step) and its weights, at a time."""
    per_step = 40 * 8 * batch * max(hidden_size, input_size) + 20 * 1024  # arrays, Python nodes
    weights = 4 * 8 * 4 * hidden_size * (hidden_size + input_size + 2)
    return steps * per_step + 3 * weights


def gradient_flows(cells=("rnn", "gru", "lstm"), steps=50, input_size=8, hidden_size=32,
                   batch=16, seed=0):
    """``{cell: ‖∂L/∂h⟨t⟩‖ for t = 0 .. steps-1}`` for the same random inputs, L the sum of the
    last step's output: how much of the loss's gradient reaches each step back in time."""
    manual_seed(seed)
    x = randn(steps, batch, input_size)
    return {cell: gradient_flow(layer(cell, input_size, hidden_size, seed=seed), x)
            for cell in cells}

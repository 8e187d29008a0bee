"""``RNN``, ``GRU`` and ``LSTM`` layers: cells unrolled over time, stacked (the notes' deep RNNs)
and optionally bidirectional (the notes' BRNN), with PyTorch's shapes and parameter names.

For each layer and direction the input projection of all T steps is one matmul; only the hidden
matmul runs inside the time loop, each step under the scope ``t=<k>`` (inside ``layer <k>`` or
``layer <k> reverse`` when there are several). Padded batches of different lengths mask the state
update (``h = where(t < length, h_new, h)``), which gives exactly what PyTorch returns for a packed
sequence.
"""

import numpy as np

from ..autograd.functional import cat, stack, where
from ..autograd.mode import NO_SCOPE, recording_scope, scope
from ..autograd.errors import ShapeError
from ..autograd.tensor import Tensor
from . import _checks, functional as F
from .cells import DEFAULTS, GRUCell, LSTMCell, RNNCell, _check_hidden
from .module import Module


class _RNNBase(Module):
    cell_class = None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, **cell_options):
        super().__init__()
        name = type(self).__name__
        input_size = _checks.size(name, "input_size", input_size, 1)
        hidden_size = _checks.size(name, "hidden_size", hidden_size, 1)
        num_layers = _checks.size(name, "num_layers", num_layers, 1)
        bias, batch_first, bidirectional = (_checks.flag(name, k, v) for k, v in (
            ("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)))
        dropout = _checks.number(name, "dropout", dropout, 0, 1)
        D, gates = 1 + bidirectional, self.cell_class.gates
        _checks.affordable(name, num_layers * D * gates * hidden_size * (
            max(input_size, D * hidden_size) + hidden_size + 2))
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first, self.dropout, self.bidirectional = batch_first, dropout, bidirectional
        self.bias = bias
        cells = []  # the cells compute; their parameters are registered here under PyTorch's names
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[: 2 if bidirectional else 1]:
                n_in = input_size if layer == 0 else hidden_size * (2 if bidirectional else 1)
                cell = self.cell_class(n_in, hidden_size, bias, **cell_options)
                for name, p in cell.named_parameters():
                    setattr(self, f"{name}_l{layer}{suffix}", p)
                cells.append(cell)
        object.__setattr__(self, "_cells", cells)
        self.cell_options = cell_options

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def forward(self, input, hx=None, lengths=None):
        """input ``(T, B, I)`` (``(B, T, I)`` with ``batch_first``) -> ``output, h_n``.

        ``output`` is ``(T, B, D·H)``, ``h_n`` ``(num_layers·D, B, H)`` (LSTM: ``(h_n, c_n)``);
        ``lengths`` (B ints) are the true lengths of a padded batch.
        """
        x = self._check_input(input)
        T, B = x.shape[:2]
        mask = self._masks(lengths, T, B)
        first = self._initial_states(hx, B)
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for d in range(self._directions):
                k = layer * self._directions + d
                with self._layer_scope(layer, d):
                    out, final = self._run(self._cells[k], x, first[k], mask, reverse=d == 1)
                outputs.append(out)
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else cat(outputs, 2)
            if layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, self.training)
        output = x.transpose(0, 1) if self.batch_first else x
        return output, self._stack_states(finals)

    def _layer_scope(self, layer, d):
        """``layer <k>`` (``layer <k> reverse``) when there is more than one layer or direction."""
        if self.num_layers == 1 and not self.bidirectional:
            return NO_SCOPE
        return scope(f"layer {layer}" + (" reverse" if d else ""))

    def _run(self, cell, x, state, mask, reverse):
        """Unroll ``cell`` over the T steps of ``x``; returns ``(T, B, H)`` outputs and the state."""
        T, B, n_in = x.shape
        flat = x.reshape(T * B, n_in)
        if not flat.requires_grad:
            flat.name = x.name  # a named input keeps its name in ts.viz's drawings
        # W_ih x⟨t⟩ + b_ih for every t, in one matmul
        projected = cell.project(flat)
        inputs = projected.reshape(T, B, projected.shape[-1]).unbind(0)
        if state is None:
            state = self._zero_state(cell, inputs[0])
        outs = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            with recording_scope(f"t={t}"):
                new = cell.step(inputs[t], state)
                if mask is not None:  # past a sequence's end: keep its state, output zeros
                    new = self._where(mask[t], new, state)
                    outs[t] = where(mask[t], self._hidden(new), 0.0)
                else:
                    outs[t] = self._hidden(new)
                state = new
        return stack(outs), state

    # ---- what differs between the RNN/GRU state and the LSTM's (h, c) -------------------------
    def _hidden(self, state):
        return state

    def _zero_state(self, cell, like):
        return cell._zeros(like).named("a⟨0⟩")

    def _where(self, m, new, old):
        return where(m, new, old)

    def _initial_states(self, hx, B):
        n = self.num_layers * self._directions
        if hx is None:
            return [None] * n
        self._check_state(hx, "hx", n, B)
        return list(hx.unbind(0))

    def _stack_states(self, finals):
        return stack(finals)

    # ---- checks -------------------------------------------------------------------------------------
    def _check_input(self, input):
        name = type(self).__name__
        _checks.tensor(name, "input", input)
        layout = "(B, T, input_size)" if self.batch_first else "(T, B, input_size)"
        if input.ndim != 3:
            hint = "; for one unbatched sequence add a batch dim with .unsqueeze(" + (
                "0)" if self.batch_first else "1)") if input.ndim == 2 else ""
            raise ShapeError(f"{name}: expected a 3-d input {layout}, got shape {input.shape}"
                             + hint)
        if input.shape[2] != self.input_size:
            raise ShapeError(f"{name}: input has {input.shape[2]} features (shape {input.shape}), "
                             f"but the layer was built with input_size={self.input_size}")
        if input.shape[1 if self.batch_first else 0] == 0:
            raise ShapeError(f"{name}: the input {layout} has no time steps (shape "
                             f"{input.shape}); a sequence needs at least one step")
        F._float_like(name, input, self.weight_ih_l0)
        if not self.batch_first:
            return input
        x = input.transpose(0, 1)
        if not x.requires_grad:
            x.name = input.name  # a named input keeps its name in ts.viz's drawings
        return x

    def _check_state(self, h, what, n, B):
        _check_hidden(type(self).__name__, what, h, (n, B, self.hidden_size),
                      "(num_layers * directions, batch, hidden_size)")

    def _masks(self, lengths, T, B):
        if lengths is None:
            return None
        lengths = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
        name = type(self).__name__
        if lengths.shape != (B,) or lengths.dtype.kind not in "iu":
            raise ValueError(f"{name}: lengths must be {B} integers (one per sequence), got "
                             f"shape {lengths.shape} of dtype {lengths.dtype}")
        if B and (lengths.min() < 1 or lengths.max() > T):
            raise ValueError(f"{name}: lengths must be between 1 and T={T}, got "
                             f"{lengths.min()}..{lengths.max()}")
        steps = np.arange(T)[:, None, None] < lengths[None, :, None]  # (T, B, 1)
        return [Tensor._wrap(m) for m in steps]

    def extra_repr(self):
        options = [f"{self.input_size}, {self.hidden_size}"]
        options += [f"num_layers={self.num_layers}"] * (self.num_layers != 1)
        options += ["bias=False"] * (not self.bias)
        options += ["batch_first=True"] * self.batch_first
        options += [f"dropout={self.dropout}"] * bool(self.dropout)
        options += ["bidirectional=True"] * self.bidirectional
        options += [f"{k}={v!r}" for k, v in self.cell_options.items() if v != DEFAULTS[k]]
        return ", ".join(options)


class RNN(_RNNBase):
    """The course's RNN, a⟨t⟩ = tanh(W_aa a⟨t-1⟩ + W_ax x⟨t⟩ + b_a), unrolled over T steps."""

    cell_class = RNNCell

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, nonlinearity=nonlinearity)


class GRU(_RNNBase):
    """A GRU layer; ``reset_after`` as in ``GRUCell``."""

    cell_class = GRUCell

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, reset_after=True):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, reset_after=reset_after)


class LSTM(_RNNBase):
    """An LSTM layer; ``forward(input, (h_0, c_0)=None)`` -> ``output, (h_n, c_n)``."""

    cell_class = LSTMCell

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, peephole=False):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, peephole=peephole)

    def _hidden(self, state):
        return state[0]

    def _zero_state(self, cell, like):
        return cell._zeros(like).named("a⟨0⟩"), cell._zeros(like).named("c⟨0⟩")

    def _where(self, m, new, old):
        return tuple(where(m, a, b) for a, b in zip(new, old))

    def _initial_states(self, hx, B):
        n = self.num_layers * self._directions
        if hx is None:
            return [None] * n
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0) of two Tensors, got "
                            f"{type(hx).__name__}")
        self._check_state(hx[0], "h_0", n, B)
        self._check_state(hx[1], "c_0", n, B)
        return list(zip(hx[0].unbind(0), hx[1].unbind(0)))

    def _stack_states(self, finals):
        return stack([h for h, _ in finals]), stack([c for _, c in finals])


LAYERS = {"rnn": RNN, "gru": GRU, "lstm": LSTM}  # by the name a command-line flag gives

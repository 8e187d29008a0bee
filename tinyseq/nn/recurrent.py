"""``RNN``, ``GRU`` and ``LSTM`` layers: a cell's step unrolled over time, stacked (the notes' deep
RNNs) and optionally bidirectional (the notes' BRNN), with PyTorch's shapes and parameter names.

A layer owns the parameters of every layer k and direction (``weight_ih_l{k}``, ...
``bias_hh_l{k}_reverse``) and calls the step function of ``cells.py`` with them. For each layer
and direction the input projection of all T steps is one matmul; only the hidden matmul runs
inside the time loop, each step under the scope ``t=<k>`` (inside ``layer <k>`` or
``layer <k> reverse`` when there are several). Padded batches of different lengths mask the state
update (``h = where(t < length, h_new, h)``), which gives exactly what PyTorch returns for a packed
sequence; a ``PackedSequence`` input is padded, run that way, and its output packed again.
"""

import numpy as np

from ..autograd.factories import zeros
from ..autograd.namespace import cat, stack, where
from ..autograd.mode import NO_SCOPE, is_grad_enabled, recording_scope, scope
from ..autograd.errors import ShapeError
from ..autograd.tensor import Tensor
from . import _checks, functional as F
from .cells import GRUCell, LSTMCell, RNNCell, add_parameters, project, projected
from .module import Module
from .utils.packing import PackedSequence, pack_like, pad_packed_sequence


class _RNNBase(Module):
    """The layer of ``cell_class``'s step: it owns every layer's and direction's parameters under
    PyTorch's names (``weight_ih_l0``, ``bias_hh_l1_reverse``) and calls the step with them.
    PyTorch's keywords ``proj_size`` (LSTM), ``device`` and ``dtype`` (of the parameters) are
    taken too, with the cell's variant option (``peephole=``, ``reset_after=``)."""

    cell_class = None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, **options):
        super().__init__()
        name = type(self).__name__
        # PyTorch's keyword options proj_size, device and dtype come out of ``options``
        dtype = _checks.factory_dtype(name, options.pop("device", None), options.pop("dtype", None))
        input_size = _checks.size(name, "input_size", input_size, 1)
        hidden_size = _checks.size(name, "hidden_size", hidden_size, 1)
        num_layers = _checks.size(name, "num_layers", num_layers, 1)
        bias, batch_first, bidirectional = (_checks.flag(name, k, v) for k, v in (
            ("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)))
        dropout = _checks.number(name, "dropout", dropout, 0, 1)
        proj_size = self._check_proj_size(options, hidden_size)
        unknown = sorted(options.keys() - self.cell_class.defaults.keys())
        if unknown:
            raise TypeError(f"{name}: unexpected keyword argument {unknown[0]!r} (its cell's "
                            f"option is {', '.join(self.cell_class.defaults)})")
        options = {**self.cell_class.defaults, **options}
        self._step, step_weights = self.cell_class.variant(name, **options)  # chosen once
        self.proj_size = proj_size
        if proj_size:
            self._step, step_weights = projected(self._step), step_weights + ("weight_hr",)
        self._step_weights = step_weights
        D, gates = 1 + bidirectional, self.cell_class.gates
        _checks.affordable(name, num_layers * D * gates * hidden_size * (
            max(input_size, D * hidden_size) + hidden_size + 2))
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first, self.dropout, self.bidirectional = batch_first, dropout, bidirectional
        self.bias = bias
        for option, value in options.items():  # (a numpy bool kept as a bool)
            setattr(self, option, bool(value) if isinstance(value, np.bool_) else value)
        for layer in range(num_layers):
            for suffix in self._suffixes(layer):
                n_in = input_size if layer == 0 else D * self._state_size
                add_parameters(self, suffix, n_in, hidden_size, gates, bias,
                               step_weights, self.proj_size, dtype)

    def _check_proj_size(self, options, hidden_size):
        """The ``proj_size`` taken out of ``options`` (keyword only, as torch's programs pass it):
        0 (no projection) or, for an LSTM, a size below ``hidden_size``; RNN and GRU refuse it,
        as torch does."""
        name = type(self).__name__
        if "proj_size" in options and self.cell_class is not LSTMCell:
            raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or "
                             "GRU; leave it out")
        proj_size = _checks.size(name, "proj_size", options.pop("proj_size", 0))
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got "
                             f"proj_size={proj_size}, hidden_size={hidden_size}")
        return proj_size

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    @property
    def _state_size(self):
        """The size of h: ``proj_size`` if the LSTM projects, else ``hidden_size``."""
        return self.proj_size or self.hidden_size

    def _suffixes(self, layer):
        """The names' endings of ``layer``'s directions: ``_l1`` (and ``_l1_reverse``)."""
        return [f"_l{layer}", f"_l{layer}_reverse"][: self._directions]

    def options(self):
        """The cell's variant option and its value: ``{"peephole": True}``."""
        return {k: getattr(self, k) for k in self.cell_class.defaults}

    def flatten_parameters(self):
        """Nothing to do (PyTorch packs the weights for cuDNN; on the CPU it does nothing too)."""

    def forward(self, input, hx=None, lengths=None):
        """input ``(T, B, I)`` (``(B, T, I)`` with ``batch_first``) -> ``output, h_n``.

        ``output`` is ``(T, B, D·H)``, ``h_n`` ``(num_layers·D, B, H)`` (LSTM: ``(h_n, c_n)``;
        with ``proj_size`` P, output and h_n have P where they had H, c_n keeps H);
        ``lengths`` (B ints) are the true lengths of a padded batch. A ``PackedSequence`` input
        (``data`` ``(N, I)``, whatever ``batch_first``) gives a ``PackedSequence`` output of the
        same layout (``data`` ``(N, D·H)``) and ``h_n`` in the batch's original order, as
        PyTorch does.
        """
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx, lengths)
        output, h_n, _ = self.unroll(input, hx, lengths)
        return output, h_n

    def _forward_packed(self, sequence, hx, lengths):
        """A packed batch runs padded, with its lengths: ``_unroll``'s masks give each
        sequence's own last state, which is what PyTorch's packed loop computes."""
        if lengths is not None:
            raise TypeError(f"{type(self).__name__}: lengths= is for a padded input; a "
                            "PackedSequence carries its lengths (its batch_sizes), so leave "
                            "lengths out")
        self._check_features(sequence.data, 2, "(N, input_size)", "PackedSequence data")
        x, lengths = pad_packed_sequence(sequence)  # (T, B, I), the original order
        output, h_n, _ = self._unroll(x, hx, lengths)
        return pack_like(output, sequence), h_n

    def unroll(self, input, hx=None, lengths=None):
        """``forward``, that also returns the last layer's hidden states as each step hands them
        to the next: ``output, h_n, steps``, ``steps[d][t]`` ``(B, H)`` the a⟨t⟩ of direction d
        (0 forward, 1 reverse) in time order. ``ts.viz.gradient_flow`` reads ∂L/∂a⟨t⟩ on them."""
        output, h_n, steps = self._unroll(self._check_input(input), hx, lengths)
        return (output.transpose(0, 1) if self.batch_first else output), h_n, steps

    def _unroll(self, x, hx, lengths):
        """``unroll`` of a time-major ``x`` ``(T, B, I)``; the output is time-major too."""
        T, B = x._data.shape[:2]  # (numpy's shape: a ts.Size costs more to make)
        mask = self._masks(lengths, T, B)
        first = self._initial_states(hx, B)
        finals = []
        for layer in range(self.num_layers):
            outputs, steps = [], []
            for d, suffix in enumerate(self._suffixes(layer)):
                with self._layer_scope(layer, d):
                    out, hidden, final = self._run(suffix, x,
                                                   first[layer * self._directions + d], mask,
                                                   reverse=d == 1)
                outputs.append(out)
                steps.append(hidden)
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else cat(outputs, 2)
            if layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, self.training)
        return x, self._stack_states(finals), steps

    def _layer_scope(self, layer, d):
        """``layer <k>`` (``layer <k> reverse``) when there is more than one layer or direction."""
        if self.num_layers == 1 and not self.bidirectional:
            return NO_SCOPE
        return scope(f"layer {layer}" + (" reverse" if d else ""))

    def _run(self, suffix, x, state, mask, reverse):
        """Unroll the step with the parameters ending in ``suffix`` over the T steps of ``x``;
        returns the ``(T, B, H)`` outputs, the hidden states a⟨t⟩ in time order and the last
        state."""
        T, B, n_in = x._data.shape
        flat = x.reshape(T * B, n_in)
        if not flat.requires_grad:
            flat.name = x.name  # a named input keeps its name in ts.viz's drawings
        step, step_weights, parameters = self._step, self._step_weights, self._parameters
        weight_ih, bias_ih, bias_hh, *weights = [parameters.get(name + suffix) for name in (
            "weight_ih", "bias_ih", "bias_hh", *step_weights)]  # (None: no biases)
        # W_ih x⟨t⟩ + b_ih + b_hh for every t, in one matmul (b_hh stays out if the step takes it)
        bias_hh = None if "bias_hh" in step_weights else bias_hh
        projected = project(flat, weight_ih, bias_ih, bias_hh)
        inputs = projected.reshape(T, B, projected._data.shape[-1]).unbind(0)
        if state is None:
            state = self._zero_state(inputs[0])
        outs, hidden = [None] * T, [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            with recording_scope(f"t={t}"):
                new = step(inputs[t], state, *weights)
                if mask is not None:  # past a sequence's end: keep its state, output zeros
                    new = self._where(mask[t], new, state)
                    hidden[t] = self._hidden(new)
                    outs[t] = where(mask[t], hidden[t], 0.0)
                else:
                    outs[t] = hidden[t] = self._hidden(new)
                state = new
        return stack(outs), hidden, state

    # ---- what differs between the RNN/GRU state and the LSTM's (h, c) -------------------------
    def _hidden(self, state):
        return state

    def _zero_state(self, like):
        return self._zeros(like).named("a⟨0⟩")

    def _zeros(self, like, size=None):
        return zeros(like.shape[0], size or self._state_size, dtype=like.dtype)

    def _where(self, m, new, old):
        return where(m, new, old)

    def _initial_states(self, hx, B):
        n = self.num_layers * self._directions
        if hx is None:
            return [None] * n
        self._check_state(hx, "hx", n, B)
        return list(hx.unbind(0))

    def _stack_states(self, finals):
        return _joined(finals)

    # ---- checks -------------------------------------------------------------------------------------
    def _check_input(self, input):
        """A padded input, time-major (``batch_first`` transposed away)."""
        if not self._plain_input(input):
            self._refuse_input(input)
        if not self.batch_first:
            return input
        x = input.transpose(0, 1)
        if not x.requires_grad:
            x.name = input.name  # a named input keeps its name in ts.viz's drawings
        return x

    def _plain_input(self, input):
        """Whether ``input`` is plainly right: a floating-point Tensor ``(T, B, input_size)``
        (``batch_first``: ``(B, T, ·)``) with steps. The quick test runs at every call (at every
        step of a sampling loop); the checks that name what is wrong, only when it fails."""
        if not isinstance(input, Tensor):
            return False
        data = input._data
        return (data.ndim == 3 and data.shape[2] == self.input_size and data.dtype.kind == "f"
                and data.shape[1 if self.batch_first else 0] > 0)

    def _refuse_input(self, input):
        """The checks that name what is wrong with an ``input`` that failed the quick test."""
        name = type(self).__name__
        layout = "(B, T, input_size)" if self.batch_first else "(T, B, input_size)"
        if _checks.tensor(name, "input", input).ndim == 2:
            raise ShapeError(f"{name}: expected a 3-d input {layout}, got shape {input.shape}; "
                             "for one unbatched sequence add a batch dim with .unsqueeze("
                             + ("0)" if self.batch_first else "1)"))
        self._check_features(input, 3, layout)
        if input.shape[1 if self.batch_first else 0] == 0:
            raise ShapeError(f"{name}: the input {layout} has no time steps (shape "
                             f"{input.shape}); a sequence needs at least one step")

    def _check_features(self, input, ndim, layout, what="input"):
        """A Tensor of ``ndim`` dims ending in ``input_size`` features, of a float dtype."""
        name = type(self).__name__
        _checks.tensor(name, what, input)
        if input.ndim != ndim:
            raise ShapeError(f"{name}: expected a {ndim}-d {what} {layout}, got shape "
                             f"{input.shape}")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: {what} has {input.shape[-1]} features (shape "
                             f"{input.shape}), but the layer was built with "
                             f"input_size={self.input_size}")
        _checks.float_like(name, input, self.weight_ih_l0)

    def _check_state(self, h, what, n, B, size="proj_size"):
        """A state ``(n, B, ·)``: its last dim the size of h (``proj_size`` if the LSTM projects,
        else ``hidden_size``), or ``hidden_size`` for the LSTM's c."""
        if size == "hidden_size" or not self.proj_size:
            size = "hidden_size"
        expected = (n, B, getattr(self, size))
        if isinstance(h, Tensor) and h._data.shape == expected and h._data.dtype.kind == "f":
            return  # (the quick test, at every call; ``_checks.state`` names what is wrong)
        _checks.state(type(self).__name__, what, h, expected,
                      f"(num_layers * directions, batch, {size})")

    def _masks(self, lengths, T, B):
        if lengths is None:
            return None
        lengths = np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths)
        name = type(self).__name__
        if lengths.shape != (B,) or lengths.dtype.kind not in "iu":
            raise ValueError(f"{name}: lengths must be {B} integers (one per sequence), got "
                             f"shape {lengths.shape} of dtype {lengths.dtype}")
        if B and (lengths.min() < 1 or lengths.max() > T):
            raise ValueError(f"{name}: lengths must be between 1 and T={T}, got "
                             f"{lengths.min()}..{lengths.max()}")
        steps = np.arange(T)[:, None, None] < lengths[None, :, None]  # (T, B, 1)
        return [Tensor(m) for m in steps]

    def extra_repr(self):
        options = [f"{self.input_size}, {self.hidden_size}"]
        options += [f"proj_size={self.proj_size}"] * bool(self.proj_size)
        options += [f"num_layers={self.num_layers}"] * (self.num_layers != 1)
        options += ["bias=False"] * (not self.bias)
        options += ["batch_first=True"] * self.batch_first
        options += [f"dropout={self.dropout}"] * bool(self.dropout)
        options += ["bidirectional=True"] * self.bidirectional
        options += [f"{k}={v!r}" for k, v in self.options().items()
                    if v != self.cell_class.defaults[k]]
        return ", ".join(options)


class RNN(_RNNBase):
    """The course's RNN, a⟨t⟩ = tanh(W_aa a⟨t-1⟩ + W_ax x⟨t⟩ + b_a), unrolled over T steps."""

    cell_class = RNNCell

    def __init__(self, input_size, hidden_size, num_layers=1, *args, **options):
        """The layers' arguments; as in PyTorch, a fourth positional argument is
        ``nonlinearity``: ``RNN(10, 20, 2, "relu")``."""
        fourth = {"nonlinearity": args[0]} if args else {}
        super().__init__(input_size, hidden_size, num_layers, *args[len(fourth):], **fourth,
                         **options)


class GRU(_RNNBase):
    """A GRU layer; ``reset_after`` as in ``GRUCell``."""

    cell_class = GRUCell


class LSTM(_RNNBase):
    """An LSTM layer; ``forward(input, (h_0, c_0)=None)`` -> ``output, (h_n, c_n)``."""

    cell_class = LSTMCell

    def _hidden(self, state):
        return state[0]

    def _zero_state(self, like):
        return (self._zeros(like).named("a⟨0⟩"),
                self._zeros(like, self.hidden_size).named("c⟨0⟩"))

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
        self._check_state(hx[1], "c_0", n, B, "hidden_size")
        return list(zip(hx[0].unbind(0), hx[1].unbind(0)))

    def _stack_states(self, finals):
        return _joined([h for h, _ in finals]), _joined([c for _, c in finals])


def _joined(states):
    """The last states of the layers and directions as one ``(n, B, H)`` tensor: their ``stack``.
    Under ``no_grad`` a single state is viewed with the new dim rather than copied (a sampling
    loop hands one layer's state back at every step); in a graph the copy keeps ``h_n``'s
    in-place changes away from a⟨T⟩, which the step's nodes may have saved, as in PyTorch."""
    if len(states) == 1 and not is_grad_enabled():
        return states[0].reshape(1, *states[0]._data.shape)
    return stack(states)


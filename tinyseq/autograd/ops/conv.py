"""1-d convolutions: ``conv1d`` and ``conv_transpose1d`` (``ts.conv1d``, ``F.conv1d``, ...), each
one Function with its forward and backward side by side.

Shapes: ``N`` batch, ``C`` input channels, ``O`` output channels, ``G`` groups, ``L`` length,
``K`` taps (the kernel size), ``s`` stride, ``d`` dilation. Output ``j`` of a convolution reads
the input at ``j s + k d`` for ``k < K``, so ``L_out = (L_padded - d (K - 1) - 1) // s + 1``.

Why an op and not a composition of ``t[index]`` and ``matmul``: composed, the windows would be a
gathered copy ``K`` times the input, recorded in the graph, whose backward scatters with
``np.add.at`` (slow on repeated indices). As one op, the windows are a strided view
(``sliding_window_view``: ``windows``), copied once into the columns that one batched matmul per
group multiplies by the weight (im2col); the backward is the two other products and
``overlap_add``, which sums the columns' gradient back onto the input with one strided slice per
tap (col2im, a loop of ``K`` additions, not ``np.add.at``). The transposed convolution is the same
pieces in the other order: its forward is conv1d's input gradient and its input gradient is
conv1d's forward.
"""
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..function import Context, Function
from ..tensor import Tensor
from .einsum import einsum
from .pad import pad
from .shape import squeeze, unsqueeze


# ---- the pieces: windows, columns, and their adjoints -------------------------------------------
def windows(x, taps, stride, dilation, count):
    """A view ``(*, count, taps)`` of ``x`` ``(*, L)``: window ``j`` holds ``x[..., j s + k d]``."""
    span = dilation * (taps - 1) + 1
    return sliding_window_view(x, span, axis=-1)[..., :count * stride:stride, ::dilation]


def overlap_add(cols, length, stride, dilation):
    """The adjoint of ``windows``: ``cols`` ``(*, count, taps)`` summed back into ``(*, length)``
    (each tap's column is one strided slice; the windows overlap, one tap's entries do not)."""
    count, taps = cols.shape[-2:]
    out = np.zeros(cols.shape[:-2] + (length,), cols.dtype)
    for k in range(taps):
        start = k * dilation
        out[..., start:start + stride * (count - 1) + 1:stride] += cols[..., k]
    return out


def columns(x, groups, taps, stride, dilation, count):
    """im2col: ``x`` ``(N, C, L)`` as ``(N, G, count, C/G · K)``, a row per window and group."""
    n, c = x.shape[:2]
    win = windows(x, taps, stride, dilation, count).reshape(n, groups, c // groups, count, taps)
    return win.transpose(0, 1, 3, 2, 4).reshape(n, groups, count, c // groups * taps)


def uncolumns(cols, channels, taps):
    """``columns``' layout undone: ``(N, G, count, C/G · K)`` -> ``(N, C, count, K)``."""
    n, groups, count = cols.shape[:3]
    split = cols.reshape(n, groups, count, channels // groups, taps).transpose(0, 1, 3, 2, 4)
    return split.reshape(n, channels, count, taps)


def _per_group_sum(a, b):
    """``Σ_n a[n, g] @ b[n, g]`` for ``a`` ``(N, G, P, M)`` and ``b`` ``(N, G, M, Q)``:
    ``(G, P, Q)``, as one matmul over ``N · M``."""
    n, groups, p, m = a.shape
    a2 = a.transpose(1, 2, 0, 3).reshape(groups, p, n * m)
    return a2 @ b.transpose(1, 0, 2, 3).reshape(groups, n * m, b.shape[-1])


# ---- the ops -------------------------------------------------------------------------------------
class Conv1d(Function):
    """``out[n, o, j] = b[o] + Σ_{c in o's group, k} w[o, c, k] · x_padded[n, c, j s + k d]``:
    x ``(N, C, L)``, w ``(O, C/G, K)``, b ``(O,)`` or None -> ``(N, O, L_out)``; ``pads`` is
    ``(left, right)`` zeros."""
    name = "conv1d"
    torch_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups):
        xp = np.pad(x, ((0, 0), (0, 0), pads)) if any(pads) else x
        (o, _, taps), n = w.shape, x.shape[0]
        count = (xp.shape[2] - dilation * (taps - 1) - 1) // stride + 1
        cols = columns(xp, groups, taps, stride, dilation, count)  # (N, G, count, C/G · K)
        out = cols @ w.reshape(groups, o // groups, -1).transpose(0, 2, 1)[None]
        out = out.transpose(0, 1, 3, 2).reshape(n, o, count)
        ctx.save_for_backward(x, w)
        ctx.geometry = (stride, pads, dilation, groups, xp.shape[2])
        ctx.cols = cols if ctx.needs_input_grad[1] else None
        return out if b is None else out + b[:, None]

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, (lo, hi), dilation, groups, padded = ctx.geometry
        (n, o, count), taps = g.shape, w.shape[2]
        gg = g.reshape(n, groups, o // groups, count)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:  # dcols = dY @ W, summed back onto the windows' positions
            dcols = gg.transpose(0, 1, 3, 2) @ w.reshape(groups, o // groups, -1)[None]
            gx = overlap_add(uncolumns(dcols, x.shape[1], taps), padded, stride, dilation)
            gx = gx[..., lo:padded - hi]
        if ctx.needs_input_grad[1]:  # dW = Σ_n dY @ cols
            gw = _per_group_sum(gg, ctx.cols).reshape(w.shape)
        if ctx.needs_input_grad[2]:
            gb = g.sum((0, 2))
        return gx, gw, gb, None, None, None, None

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` as a graph: the input's gradient is the transposed convolution of ``g``,
        the weight's the products of ``g`` with the padded input's windows."""
        x, w = ctx.saved_tensors
        stride, (lo, hi), dilation, groups, _ = ctx.geometry
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = ConvTranspose1d.apply(g, w, None, stride, lo, x.shape[2], dilation, groups)
        if ctx.needs_input_grad[1]:
            xp = pad(x, (lo, hi)) if lo or hi else x
            gw = _weight_grad(g, xp, stride, dilation, groups, w.shape[2])
        if ctx.needs_input_grad[2]:
            gb = g.sum((0, 2))
        return gx, gw, gb, None, None, None, None

    @staticmethod
    def jvp(ctx, tx, tw, tb, stride, pads, dilation, groups):
        """Bilinear in ``(x, w)``: ``conv(tx, w) + conv(x, tw) + tb``."""
        x, w = ctx.saved_tensors
        fresh = Context((False,) * 7)
        return (Conv1d.forward(fresh, tx, w, None, stride, pads, dilation, groups)
                + Conv1d.forward(fresh, x, tw, tb, stride, pads, dilation, groups))


def _weight_grad(a, b, stride, dilation, groups, taps):
    """``dW[p, q, k] = Σ_{n, j} a[n, p, j] · b[n, q, j s + k d]`` within each group, as a graph:
    ``a`` ``(N, P, J)``, ``b`` ``(N, Q, *)`` -> ``(P, Q/G, K)``, the weight's gradient of a
    convolution (``a`` the output's gradient, ``b`` the padded input) and of a transposed one
    (``a`` the input, ``b`` the padded output's gradient)."""
    (n, p, count), q = a.shape, b.shape[1]
    at = np.arange(count)[:, None] * stride + np.arange(taps)[None] * dilation
    win = b[:, :, at].reshape(n, groups, q // groups, count, taps)
    grad = einsum("ngqjk,ngpj->gpqk", win, a.reshape(n, groups, p // groups, count))
    return grad.reshape(p, q // groups, taps)


class ConvTranspose1d(Function):
    """The adjoint of ``Conv1d`` in ``x``: each input position ``i`` adds ``w[c, o, k] x[n, c, i]``
    at output ``i s + k d - padding``. x ``(N, C, L)``, w ``(C, O/G, K)`` -> ``(N, O, length)``."""
    name = "conv_transpose1d"
    torch_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, length, dilation, groups):
        (n, c, size), (_, per_group, taps) = x.shape, w.shape
        xg = x.reshape(n, groups, c // groups, size).transpose(0, 1, 3, 2)  # (N, G, L, C/G)
        cols = xg @ w.reshape(groups, c // groups, -1)[None]  # (N, G, L, O/G · K)
        full = max(stride * (size - 1) + dilation * (taps - 1) + 1, padding + length)
        out = overlap_add(uncolumns(cols, groups * per_group, taps), full, stride, dilation)
        out = out[..., padding:padding + length]
        ctx.save_for_backward(x, w)
        ctx.geometry = (stride, padding, dilation, groups, full)
        return out if b is None else out + b[:, None]

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups, full = ctx.geometry
        (n, c, size), taps = x.shape, w.shape[2]
        wide = np.zeros(g.shape[:2] + (full,), g.dtype)
        wide[..., padding:padding + g.shape[2]] = g
        gcols = columns(wide, groups, taps, stride, dilation, size)  # (N, G, L, O/G · K)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:  # a conv1d of the gradient
            gx = gcols @ w.reshape(groups, c // groups, -1).transpose(0, 2, 1)[None]
            gx = gx.transpose(0, 1, 3, 2).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            xg = x.reshape(n, groups, c // groups, size)
            gw = _per_group_sum(xg, gcols).reshape(w.shape)
        if ctx.needs_input_grad[2]:
            gb = g.sum((0, 2))
        return gx, gw, gb, None, None, None, None, None

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` as a graph: the input's gradient is the convolution of ``g`` (cut to the
        input's length), the weight's the products of the input with ``g``'s windows."""
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups, full = ctx.geometry
        size, pads = x.shape[2], (padding, full - padding - g.shape[2])
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = Conv1d.apply(g, w, None, stride, pads, dilation, groups)[..., :size]
        if ctx.needs_input_grad[1]:
            gw = _weight_grad(x, pad(g, pads), stride, dilation, groups, w.shape[2])
        if ctx.needs_input_grad[2]:
            gb = g.sum((0, 2))
        return gx, gw, gb, None, None, None, None, None

    @staticmethod
    def jvp(ctx, tx, tw, tb, stride, padding, length, dilation, groups):
        """Bilinear in ``(x, w)``: ``conv_transpose(tx, w) + conv_transpose(x, tw) + tb``."""
        x, w = ctx.saved_tensors
        fresh = Context((False,) * 8)
        return (ConvTranspose1d.forward(fresh, tx, w, None, stride, padding, length, dilation,
                                        groups)
                + ConvTranspose1d.forward(fresh, x, tw, tb, stride, padding, length, dilation,
                                          groups))


# ---- what users call -----------------------------------------------------------------------------
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """A 1-d convolution (a cross-correlation, as in torch) of ``input`` ``(N, C, L)`` or ``(C, L)``
    with ``weight`` ``(O, C/groups, K)``, plus ``bias`` ``(O,)``: ``(N, O, L_out)`` or
    ``(O, L_out)``. ``padding`` is an int (zeros at both ends), ``"valid"`` (none) or ``"same"``
    (``L_out = L``, stride 1; an odd total puts the extra zero on the right)."""
    op = "conv1d"
    input, weight = _tensor(op, "input", input), _tensor(op, "weight", weight)
    stride, dilation = _single(op, "stride", stride), _single(op, "dilation", dilation)
    groups = _int(op, "groups", groups)
    _check_arguments(op, input, weight, stride, dilation, groups)
    if weight.shape[0] % groups:
        raise RuntimeError(f"{op}: groups={groups} must divide the weight's out_channels, got "
                           f"weight of shape {weight.shape}")
    channels = weight.shape[1] * groups
    if input.shape[-2] != channels:
        raise RuntimeError(f"{op}: weight of shape {weight.shape} with groups={groups} expects "
                           f"{channels} input channels, got input of shape {input.shape} "
                           f"({input.shape[-2]} channels)")
    _check_bias(op, bias, weight.shape[0], input)
    pads = _pads(op, padding, stride, dilation, weight.shape[2])
    reach = dilation * (weight.shape[2] - 1) + 1
    if input.shape[-1] + sum(pads) < reach:
        raise RuntimeError(f"{op}: the padded input is {input.shape[-1] + sum(pads)} long, "
                           f"shorter than the kernel's reach {reach} (kernel_size "
                           f"{weight.shape[2]}, dilation {dilation}); pad the input or use a "
                           "smaller kernel")
    return _batched(input, lambda x: Conv1d.apply(x, weight, bias, stride, pads, dilation,
                                                  groups))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The transposed 1-d convolution (the gradient of ``conv1d`` in its input) of ``input``
    ``(N, C, L)`` or ``(C, L)`` with ``weight`` ``(C, O/groups, K)``: ``(N, O, L_out)`` with
    ``L_out = (L - 1) s - 2 padding + d (K - 1) + output_padding + 1``."""
    op = "conv_transpose1d"
    input, weight = _tensor(op, "input", input), _tensor(op, "weight", weight)
    stride, dilation = _single(op, "stride", stride), _single(op, "dilation", dilation)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int, got {padding!r} (only conv1d takes "
                        "'same' and 'valid')")
    padding, extra = _single(op, "padding", padding), _single(op, "output_padding", output_padding)
    groups = _int(op, "groups", groups)
    _check_arguments(op, input, weight, stride, dilation, groups)
    if padding < 0 or extra < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding}, "
                           f"output_padding={extra}")
    if extra >= max(stride, dilation):
        raise RuntimeError(f"{op}: output_padding must be smaller than either stride or dilation, "
                           f"got output_padding={extra}, stride={stride}, dilation={dilation}")
    c, per_group, taps = weight.shape
    if c % groups or input.shape[-2] != c:
        raise RuntimeError(f"{op}: weight of shape {weight.shape} expects {c} input channels "
                           f"divisible by groups={groups}, got input of shape {input.shape}")
    _check_bias(op, bias, per_group * groups, input)
    length = (input.shape[-1] - 1) * stride - 2 * padding + dilation * (taps - 1) + extra + 1
    if length <= 0:
        raise RuntimeError(f"{op}: the output would be {length} long (input {input.shape}, "
                           f"kernel_size {taps}, stride {stride}, padding {padding}); use less "
                           "padding")
    return _batched(input, lambda x: ConvTranspose1d.apply(x, weight, bias, stride, padding,
                                                           length, dilation, groups))


def _batched(input, fn):
    """``fn`` of a batched ``(N, C, L)`` input; an unbatched ``(C, L)`` one goes through as a
    batch of one."""
    return fn(input) if input.ndim == 3 else squeeze(fn(unsqueeze(input, 0)), 0)


def _tensor(op, name, value):
    """``value``, which must be a Tensor (as in torch, a list or an array is refused)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}; convert it "
                        "with ts.tensor(...)")
    return value


def _int(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {value!r} ({type(value).__name__})")
    return int(value)


def _single(op, name, value):
    """An int, or a list or tuple of one int (torch's 1-d form), as an int."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"{op}: {name} must be an int or a tuple of 1 int for a 1-d op, "
                               f"got {name}={tuple(value)}")
        value = value[0]
    return _int(op, name, value)


def _check_arguments(op, input, weight, stride, dilation, groups):
    """The checks conv1d and conv_transpose1d share: the ranks, the dtypes, the positive sizes."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: expected a 2-D (unbatched: C, L) or 3-D (batched: N, C, L) "
                           f"input, got input of shape {input.shape}")
    if weight.ndim != 3:
        raise RuntimeError(f"{op}: weight must be 3-D (out_channels, in_channels / groups, "
                           f"kernel_size), got shape {weight.shape}")
    kinds = (input.numpy().dtype, weight.numpy().dtype)
    if kinds[0].kind != "f" or kinds[0] != kinds[1]:
        raise RuntimeError(f"{op}: input ({kinds[0]}) and weight ({kinds[1]}) must have the same "
                           f"floating-point dtype; convert with .to(ts.{kinds[1]})")
    for name, value in (("stride", stride), ("dilation", dilation), ("groups", groups)):
        if value <= 0:
            raise RuntimeError(f"{op}: non-positive {name} is not supported, got {name}={value}")
    if weight.shape[2] == 0:
        raise RuntimeError(f"{op}: the kernel is empty (weight of shape {weight.shape}); "
                           "kernel_size must be at least 1")


def _check_bias(op, bias, out_channels, input):
    if bias is None:
        return
    _tensor(op, "bias", bias)
    if bias.shape != (out_channels,):
        raise RuntimeError(f"{op}: bias must be 1-D with {out_channels} elements (one per output "
                           f"channel), got shape {bias.shape}")
    if bias.numpy().dtype != input.numpy().dtype:
        raise RuntimeError(f"{op}: bias ({bias.numpy().dtype}) must have the input's dtype "
                           f"({input.numpy().dtype})")


def _pads(op, padding, stride, dilation, taps):
    """``padding`` (an int, a 1-tuple, ``"valid"`` or ``"same"``) as ``(left, right)``."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        if padding != "same":
            raise RuntimeError(f"{op}: invalid padding string {padding!r}; use 'same', 'valid' "
                               "or an int")
        if stride != 1:
            raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions "
                               f"(stride={stride}); give the padding as an int")
        total = dilation * (taps - 1)
        return (total // 2, total - total // 2)
    padding = _single(op, "padding", padding)
    if padding < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding}")
    return (padding, padding)

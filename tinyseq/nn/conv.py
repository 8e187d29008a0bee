"""Temporal convolutions: ``nn.Conv1d`` and ``nn.ConvTranspose1d``, with PyTorch's attributes,
parameter names and shapes, default initialisation and ``repr``. The arithmetic is the autograd
ops ``conv1d`` and ``conv_transpose1d`` (``tinyseq/autograd/ops/conv.py``).

Shapes: input ``(N, C_in, L)`` or unbatched ``(C_in, L)``; ``Conv1d.weight`` is
``(C_out, C_in / groups, K)``, ``ConvTranspose1d.weight`` ``(C_in, C_out / groups, K)``, ``bias``
``(C_out,)``; both drawn from U(-1/√fan_in, 1/√fan_in) as torch draws them
(``kaiming_uniform_(a=√5)``, fan_in = ``weight.shape[1] · K``).
"""
import math
import numbers

from ..autograd.factories import zeros
from . import _checks, functional as F, init
from .module import Module, Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _Conv1dBase(Module):
    """What both convolutions keep: the sizes as torch's 1-tuples, the parameters and their
    initialisation, the ``repr``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device, dtype):
        super().__init__()
        name = type(self).__name__
        self.in_channels = _checks.size(name, "in_channels", in_channels)
        self.out_channels = _checks.size(name, "out_channels", out_channels)
        self.groups = _groups(name, groups, self.in_channels, self.out_channels)
        self.kernel_size = _single(name, "kernel_size", kernel_size)
        self.stride = _single(name, "stride", stride)
        self.padding = padding if isinstance(padding, str) else _single(name, "padding", padding)
        self.dilation = _single(name, "dilation", dilation)
        self.transposed = transposed
        self.output_padding = _single(name, "output_padding", output_padding)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, got "
                             f"padding_mode={padding_mode!r}")
        self.padding_mode = padding_mode
        kind = _checks.factory_dtype(name, device, dtype)
        k = self.kernel_size[0]
        if k < 0:
            raise RuntimeError(f"{name}: kernel_size must be >= 0, got {k}")
        ins, outs = (in_channels, out_channels // self.groups) if transposed else (
            out_channels, in_channels // self.groups)
        _checks.affordable(name, ins * outs * k + out_channels)
        self.weight = Parameter(zeros((ins, outs, k), dtype=kind))  # (filled below)
        self.bias = Parameter(zeros(out_channels, dtype=kind)) if bool(bias) else None
        self.reset_parameters()

    def reset_parameters(self):
        """Weight ~ U(-1/√fan_in, 1/√fan_in) (``kaiming_uniform_(a=√5)``), bias the same."""
        if self.weight.numel():
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.weight.shape[2]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,):
            s += f", padding={self.padding}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s + (f", padding_mode={self.padding_mode}" if self.padding_mode != "zeros" else "")


class Conv1d(_Conv1dBase):
    """A 1-d convolution over ``(N, in_channels, L)``: ``(N, out_channels, L_out)``, with
    ``L_out = (L + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1``.

    ``padding`` is an int, ``"valid"`` (none) or ``"same"`` (``L_out = L``; stride 1);
    ``padding_mode`` says what it pads with: ``"zeros"``, or copies of the input
    (``"reflect"``, ``"replicate"``, ``"circular"``, by ``F.pad``). ``groups`` splits the
    channels into that many independent convolutions (``groups = in_channels``: depthwise).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        _check_padding_string("Conv1d", padding, stride)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)
        # the (left, right) widths F.pad takes for the padding modes that copy the input
        if self.padding == "same":
            total = self.dilation[0] * (self.kernel_size[0] - 1)
            self._reversed_padding_repeated_twice = [total // 2, total - total // 2]
        elif self.padding == "valid":
            self._reversed_padding_repeated_twice = [0, 0]
        else:
            self._reversed_padding_repeated_twice = [self.padding[0]] * 2

    def forward(self, input):
        if self.padding_mode == "zeros":
            return F.conv1d(input, self.weight, self.bias, self.stride, self.padding,
                            self.dilation, self.groups)
        padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
        return F.conv1d(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                        self.groups)


class ConvTranspose1d(_Conv1dBase):
    """The transposed 1-d convolution (the gradient of ``Conv1d`` in its input; an upsampling
    by ``stride``): ``(N, in_channels, L)`` -> ``(N, out_channels, L_out)`` with
    ``L_out = (L - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1``.
    ``forward(input, output_size=None)``: ``output_size`` picks ``output_padding`` for the
    wanted length (one of ``stride`` lengths that a strided ``Conv1d`` maps to ``L``)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'ConvTranspose1d: only "zeros" padding mode is supported, got '
                             f"padding_mode={padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose1d: padding must be an int, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        extra = self.output_padding if output_size is None else self._output_padding(
            input, output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  extra, self.groups, self.dilation)

    def _output_padding(self, input, output_size):
        """The ``output_padding`` that makes the output ``output_size`` long (a sequence: the
        length, or the whole output shape)."""
        if not isinstance(output_size, (tuple, list)):
            raise TypeError(f"ConvTranspose1d: output_size must be a list of ints (the length, "
                            f"or the whole shape), got {output_size!r}")
        sizes = list(output_size)
        if len(sizes) not in (1, input.ndim):
            raise ValueError(f"ConvTranspose1d: output_size must have 1 or {input.ndim} "
                             f"elements, got {sizes}")
        (s,), (p,), (d,), (k,) = self.stride, self.padding, self.dilation, self.kernel_size
        smallest = (input.shape[-1] - 1) * s - 2 * p + d * (k - 1) + 1
        if not smallest <= sizes[-1] <= smallest + s - 1:
            raise ValueError(f"ConvTranspose1d: requested an output size of {sizes[-1]}, but "
                             f"valid sizes range from {smallest} to {smallest + s - 1} (for an "
                             f"input of length {input.shape[-1]})")
        return sizes[-1] - smallest


def _single(owner, name, value):
    """An int or a 1-sequence of ints as torch's 1-tuple ``(n,)``."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(items) != 1 or isinstance(items[0], bool) or not isinstance(items[0],
                                                                         numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int or a tuple of 1 int, got {value!r}")
    return (int(items[0]),)


def _groups(owner, groups, in_channels, out_channels):
    """``groups`` checked as torch checks it: positive, dividing both channel counts."""
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
        raise ValueError(f"{owner}: groups must be a positive integer, got {groups!r}")
    for name, n in (("in_channels", in_channels), ("out_channels", out_channels)):
        if n % groups:
            raise ValueError(f"{owner}: {name} must be divisible by groups, got {name}={n} and "
                             f"groups={groups}")
    return int(groups)


def _check_padding_string(owner, padding, stride):
    if not isinstance(padding, str):
        return
    if padding not in ("same", "valid"):
        raise ValueError(f"{owner}: invalid padding string {padding!r}, should be one of 'same', "
                         "'valid' (or give an int)")
    if padding == "same" and _single(owner, "stride", stride) != (1,):
        raise ValueError(f"{owner}: padding='same' is not supported for strided convolutions "
                         f"(stride={stride}); give the padding as an int")

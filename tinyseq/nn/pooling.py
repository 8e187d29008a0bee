"""1-d pooling layers over ``(N, C, L)`` or ``(C, L)``, with PyTorch's attributes and ``repr``:
``MaxPool1d``, ``AvgPool1d``, ``AdaptiveMaxPool1d``, ``AdaptiveAvgPool1d``. Each calls the
function of the same name in ``ts.nn.functional`` (``tinyseq/autograd/ops/pool.py``), which checks
the arguments when the layer runs, as torch's do."""
from . import functional as F
from .conv import _single
from .module import Module


class MaxPool1d(Module):
    """The largest element of each window (``F.max_pool1d``): ``kernel_size`` positions
    ``dilation`` apart, the windows ``stride`` (default ``kernel_size``) apart; ``return_indices``
    also returns where each maximum is (int64 positions along L)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """The mean of each window of ``kernel_size`` positions (``F.avg_pool1d``); the zero padding
    counts in the mean with ``count_include_pad``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _single("AvgPool1d", "kernel_size", kernel_size)
        self.stride = _single("AvgPool1d", "stride",
                              stride if stride is not None else kernel_size)
        self.padding = _single("AvgPool1d", "padding", padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveMaxPool1d(Module):
    """The largest element of each of ``output_size`` windows that cover the input evenly,
    whatever its length (``F.adaptive_max_pool1d``)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(Module):
    """The mean of each of ``output_size`` windows that cover the input evenly
    (``F.adaptive_avg_pool1d``): ``AdaptiveAvgPool1d(1)`` averages over the whole sequence."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"

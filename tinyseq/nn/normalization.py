"""Batch normalisation (``nn.BatchNorm1d``): each channel normalised by the batch's statistics in
training, by running averages of them in evaluation, as PyTorch does. Composed from autograd ops."""
import numpy as np

from ..autograd.errors import ShapeError
from ..autograd.factories import tensor
from ..autograd.tensor import Tensor
from ..autograd.mode import no_grad
from . import _checks
from .module import Module, Parameter


class BatchNorm1d(Module):
    """``(x - mean) / √(var + eps) · weight + bias`` per channel C of an input ``(N, C)`` or
    ``(N, C, L)``, the statistics taken over N (and L).

    In training (or with ``track_running_stats=False``) ``mean`` and ``var`` (biased) are the
    batch's, and the buffers ``running_mean`` / ``running_var`` (C,) move towards them:
    ``running = (1 - momentum) running + momentum · batch`` with the unbiased variance
    (``momentum=None``: the plain average of every batch so far, counted in
    ``num_batches_tracked``). In evaluation they are used instead. ``affine`` adds the learnt
    ``weight`` (ones) and ``bias`` (zeros) (C,); ``bias=False`` leaves the bias out.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        dtype = _checks.factory_dtype(name, device, dtype)
        self.num_features = _checks.size(name, "num_features", num_features, 1)
        self.eps = _checks.number(name, "eps", eps, 0)
        self.momentum = None if momentum is None else _checks.number(name, "momentum", momentum)
        self.affine = _checks.flag(name, "affine", affine)
        self.track_running_stats = _checks.flag(name, "track_running_stats",
                                                track_running_stats)
        C = self.num_features
        self.weight = Parameter(np.ones(C, dtype)) if affine else None
        self.bias = Parameter(np.zeros(C, dtype)) if affine and bias else None
        tracked = track_running_stats
        self.register_buffer("running_mean", Tensor(np.zeros(C, dtype)) if tracked else None)
        self.register_buffer("running_var", Tensor(np.ones(C, dtype)) if tracked else None)
        self.register_buffer("num_batches_tracked",
                             tensor(0, dtype=np.int64) if tracked else None)

    def forward(self, input):
        dims = self._check_input(input)
        shape = (1, self.num_features) + (1,) * (input.ndim - 2)  # broadcast over N (and L)
        if self.training or not self.track_running_stats:
            mean = input.mean(dims, keepdim=True)
            centred = input - mean
            var = (centred * centred).mean(dims, keepdim=True)
            if self.training and self.track_running_stats:
                self._track(mean, var, input.numel() // self.num_features)
        else:
            centred = input - self.running_mean.reshape(*shape)
            var = self.running_var.reshape(*shape)
        out = centred / (var + self.eps).sqrt()
        if self.weight is not None:
            out = out * self.weight.reshape(*shape)
        return out if self.bias is None else out + self.bias.reshape(*shape)

    def _track(self, mean, var, n):
        """Move the running statistics towards the batch's ``mean`` and ``var`` (biased, over
        ``n`` values per channel; the running variance takes the unbiased one)."""
        with no_grad():
            self.num_batches_tracked.add_(1)
            m = (1 / self.num_batches_tracked.item() if self.momentum is None
                 else self.momentum)
            dtype = self.running_mean.dtype
            batch_mean = mean.detach().reshape(self.num_features).to(dtype)
            unbiased = (var.detach() * (n / (n - 1))).reshape(self.num_features).to(dtype)
            self.running_mean.mul_(1 - m).add_(batch_mean * m)
            self.running_var.mul_(1 - m).add_(unbiased * m)

    def _check_input(self, input):
        """The dims the statistics are taken over: ``(0,)`` for ``(N, C)``, ``(0, 2)`` for
        ``(N, C, L)``."""
        name = type(self).__name__
        _checks.floating(name, input)
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected 2D or 3D input (N, C) or (N, C, L) (got "
                             f"{input.ndim}D input of shape {input.shape})")
        if input.shape[1] != self.num_features:
            raise ShapeError(f"{name}: input has {input.shape[1]} channels (shape "
                             f"{input.shape}), but the layer was built with "
                             f"num_features={self.num_features}")
        if self.training and input.numel() // self.num_features <= 1:
            raise ValueError(f"{name}: Expected more than 1 value per channel when training, "
                             f"got input size {input.shape}; use a larger batch or .eval()")
        return (0,) if input.ndim == 2 else (0, 2)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

"""Normalisation layers: subtract a mean, divide by a standard deviation, then scale and shift.

They differ only in which values share a mean and a variance:

    LayerNorm    each sample's features (the last axis)            -- transformers
    BatchNorm    each channel, over the batch (and the pixels)      -- CNNs; keeps running stats for eval
    GroupNorm    each sample's groups of channels (and the pixels)  -- small batches, diffusion U-Nets
"""
from minigen import functional as F
from minigen.nn import init
from minigen.nn.linear import new_parameter
from minigen.nn.module import Module
from minigen.tensor import ones, zeros


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis.  x (..., dim) -> (..., dim).

    ``normalized_shape`` is an int (or a 1-tuple): minigen normalises over the last axis only.
    weight starts at 1 and bias at 0, so the layer starts as a plain standardisation.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        if len(shape) != 1:
            raise ValueError(f"LayerNorm: minigen normalises over the last axis only; "
                             f"normalized_shape must be an int, got {normalized_shape!r}")
        self.normalized_shape, self.eps = shape, eps
        self.weight = init.ones_(new_parameter(*shape, device=device, dtype=dtype)) if elementwise_affine else None
        self.bias = init.zeros_(new_parameter(*shape, device=device, dtype=dtype)) if elementwise_affine else None

    def forward(self, x):
        if x.shape[-1:] != self.normalized_shape:
            raise ValueError(f"LayerNorm{self.normalized_shape}: input of shape {x.shape} does not end in "
                             f"{self.normalized_shape[0]}")
        return F.layer_norm(x, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}"


class _BatchNorm(Module):
    """Per-channel statistics over every axis but the channel axis (1).

    Training: normalise with the batch's mean and (biased) variance, and fold them into the
    running estimates:  running = (1 - momentum) * running + momentum * batch, where the
    variance folded in is the unbiased one (n / (n - 1) times the batch's), as PyTorch does.
    momentum=None gives the plain average of all batches seen. Eval: normalise with the
    running estimates, so the output of one sample no longer depends on the rest of the batch.
    """

    expected_ndim = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = init.ones_(new_parameter(num_features, device=device, dtype=dtype)) if affine else None
        self.bias = init.zeros_(new_parameter(num_features, device=device, dtype=dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", zeros((), device=device, dtype="int64"))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x):
        if x.ndim not in self.expected_ndim or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected an input with "
                             f"{' or '.join(map(str, self.expected_ndim))} dims and {self.num_features} "
                             f"channels on axis 1, got shape {x.shape}")
        c = self.num_features
        axes = (0,) + tuple(range(2, x.ndim))                          # all but the channel axis
        shape = (1, c) + (1,) * (x.ndim - 2)                            # per-channel, broadcastable
        if self.training or self.running_mean is None:
            n = x.data.size // c                                        # values per channel
            if self.training and n < 2:
                raise ValueError(f"{type(self).__name__}: training needs more than one value per channel "
                                 f"to estimate a variance, got input shape {x.shape}")
            mean = x.mean(axis=axes, keepdims=True)                     # (1, C, 1...)
            var = x.var(axis=axes, keepdims=True)                       # biased, (1, C, 1...)
            if self.training and self.running_mean is not None:
                self._update_running_stats(mean, var, n)
        else:
            mean = self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
        y = (x - mean) / (var + self.eps).sqrt()
        if self.weight is not None:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y

    def _update_running_stats(self, mean, var, n):
        # bookkeeping on the raw arrays, in place: nothing here enters the graph
        self.num_batches_tracked.data += 1
        m = 1.0 / float(self.num_batches_tracked.item()) if self.momentum is None else self.momentum
        self.running_mean.data[...] = (1 - m) * self.running_mean.data + m * mean.data.reshape(-1)
        self.running_var.data[...] = (1 - m) * self.running_var.data + m * var.data.reshape(-1) * n / (n - 1)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.weight is not None}, track_running_stats={self.running_mean is not None}")


class BatchNorm1d(_BatchNorm):
    """BatchNorm over (N, C) or (N, C, L) inputs: statistics per feature C."""

    expected_ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over images (N, C, H, W): statistics per channel, over the batch and the pixels."""

    expected_ndim = (4,)


class GroupNorm(Module):
    """Split the C channels into num_groups groups; standardise each sample's group (channels
    and pixels together), then scale and shift per channel.  x (N, C, ...) -> same shape.

    num_groups=1 is LayerNorm over (C, H, W); num_groups=C is InstanceNorm. Unlike BatchNorm,
    no statistic crosses the batch, so it behaves the same in training and eval.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels {num_channels} is not divisible by num_groups {num_groups}")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.weight = init.ones_(new_parameter(num_channels, device=device, dtype=dtype)) if affine else None
        self.bias = init.zeros_(new_parameter(num_channels, device=device, dtype=dtype)) if affine else None

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected (N, {self.num_channels}, ...), got shape {x.shape}")
        n, c = x.shape[:2]
        g = x.reshape(n, self.num_groups, -1)                           # (N, G, C/G * H * W)
        mean = g.mean(axis=-1, keepdims=True)                           # (N, G, 1)
        var = g.var(axis=-1, keepdims=True)                             # (N, G, 1), biased
        y = ((g - mean) / (var + self.eps).sqrt()).reshape(x.shape)     # (N, C, ...)
        if self.weight is not None:
            shape = (1, c) + (1,) * (x.ndim - 2)
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.weight is not None}"

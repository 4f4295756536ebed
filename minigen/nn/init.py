"""Weight initialisers: fill a tensor in place, drawing from minigen's seeded generator.

Every layer starts from PyTorch's defaults, so that a model written here trains like the
same model written in PyTorch. The one to know is Linear's and Conv2d's:

    kaiming_uniform_(w, a=sqrt(5))  ==  uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))

because gain = sqrt(2 / (1 + a^2)) = sqrt(1/3) and bound = sqrt(3) * gain / sqrt(fan_in).
Random numbers come from ``backend.generator(device)`` (reset by ``mg.manual_seed``), drawn
in float64 and then cast, so a float32 and a float64 layer made after the same seed hold
the same values (up to rounding). Each function returns the tensor it filled.
"""
import math

from minigen import backend


DRAW_BLOCK = 1 << 16  # float64 samples drawn at a time (512 KiB)


def _fill(tensor, values):
    tensor.data[...] = values  # in place, cast to the tensor's dtype
    return tensor


def _fill_drawn(tensor, method, scale, shift):
    """tensor = shift + scale * samples, the float64 samples from its device's generator
    (method 'random' or 'standard_normal'), cast into the tensor in place.

    The samples are drawn a block of leading rows at a time, in order: they are the values one
    draw of the whole shape would give, without a float64 copy of the whole layer (8 bytes an
    element, 3 MiB for a 784x512 weight, memory a process keeps once it has touched it).
    """
    gen, shape = backend.generator(tensor.device), tensor.shape
    with backend.device_context(tensor.device):
        if not shape:
            return _fill(tensor, shift + scale * getattr(gen, method)(shape))
        step = max(1, DRAW_BLOCK // max(math.prod(shape[1:]), 1))
        for i in range(0, shape[0], step):
            block = getattr(gen, method)((min(step, shape[0] - i),) + shape[1:])
            block *= scale
            block += shift
            tensor.data[i:i + step] = block
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples of U(a, b)."""
    return _fill_drawn(tensor, "random", b - a, a)


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples of N(mean, std^2)."""
    return _fill_drawn(tensor, "standard_normal", std, mean)


def zeros_(tensor):
    return _fill(tensor, 0)


def ones_(tensor):
    return _fill(tensor, 1)


def calculate_fan_in_and_fan_out(tensor):
    """fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field (PyTorch's rule).

    Linear (out, in): fan_in = in. Conv2d (C_out, C_in, kh, kw): fan_in = C_in * kh * kw.
    ConvTranspose2d (C_in, C_out, kh, kw): by the same rule fan_in = C_out * kh * kw, as in PyTorch.
    """
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dims, got shape {tensor.shape}")
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through a nonlinearity (PyTorch's table)."""
    if nonlinearity in ("linear", "conv2d", "conv_transpose2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """Fill with U(-bound, bound), bound = gain * sqrt(3 / fan) (He et al., 2015).

    ``a`` is the negative slope of the leaky_relu that follows; mode 'fan_in' keeps the
    forward pass's variance, 'fan_out' the backward pass's.
    """
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming_uniform_: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:  # a tensor with no elements: nothing to fill
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound)

"""Composite functions, built from the primitives in minigen.ops.

Each is a few lines of tensor algebra, so its gradient (and second derivative) comes from
the primitives' backward methods; nothing here has a backward of its own. Where a fused
primitive is used instead (softmax, log_softmax, logsumexp, softplus, gelu, linear,
cross_entropy, layer_norm's normalize, scaled_dot_product_attention), its docstring in ops/
says why.
"""
from minigen import backend, ops
from minigen.autograd import OpError, check_same_device, describe
from minigen.ops import gelu, log_softmax, logsumexp, pad, relu, sigmoid, softmax, softplus, tanh
from minigen.ops.conv import output_size
from minigen.tensor import Tensor

__all__ = ["relu", "leaky_relu", "gelu", "silu", "sigmoid", "tanh", "softplus", "softmax",
           "log_softmax", "logsumexp", "linear", "conv2d", "conv_transpose2d", "max_pool2d",
           "avg_pool2d", "embedding", "dropout", "layer_norm", "pad", "cross_entropy",
           "binary_cross_entropy_with_logits", "mse_loss", "scaled_dot_product_attention"]


# ----- activations -----
def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise: x times a constant slope mask (1 or slope),
    so backward is one product (a `where` costs twice as much in a GAN step)."""
    one, slope = x.dtype.type(1), x.dtype.type(negative_slope)       # in x's dtype: no float64 pass
    slope = x.xp.where(x.data > 0, one, slope)
    return x * Tensor._make(slope, False)


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return x * sigmoid(x)


# ----- layers as functions -----
def linear(x, weight, bias=None):
    """x @ weight.T + bias, with weight (out, in) as in PyTorch.  x (..., in) -> (..., out)."""
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise OpError(f"linear: x has shape {x.shape} but weight (out, in) has shape {weight.shape}; "
                      f"x's last dim must equal in = {weight.shape[-1]}")
    if x.ndim != 2:  # one 2-D product (a 1-D x is one row), not a batch of them: no sum over a batch
        return linear(x.reshape(-1, x.shape[-1]), weight, bias).reshape(*x.shape[:-1], weight.shape[0])
    return x @ weight.T if bias is None else ops.linear(x, weight, bias)


def _check_image(name, x, w, channel_axis):
    if x.ndim != 4 or w.ndim != 4:
        raise OpError(f"{name}: x must be (N, C, H, W) and the weight 4-D; got {describe((x, w))}")
    if x.shape[1] != w.shape[channel_axis]:
        raise OpError(f"{name}: x has {x.shape[1]} channels but the weight {w.shape} expects "
                      f"{w.shape[channel_axis]} (x {x.shape})")


def _window_rows(w):
    """A conv weight (A, B, kh, kw) as a matrix (A, kh*kw*B): each row in im2col's window order."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


def conv2d(x, w, b=None, stride=1, padding=0):
    """x (N, C, H, W), w (C_out, C, kh, kw), b (C_out,) -> (N, C_out, OH, OW).

    Windows become rows (im2col) and the convolution is one matrix product:
    (N*OH*OW, kh*kw*C) @ (kh*kw*C, C_out). Its result is channels-last in memory; the
    (N, C_out, OH, OW) tensor returned is a view of it, which the next layer reads as is.
    """
    _check_image("conv2d", x, w, channel_axis=1)
    c_out, c_in, kh, kw = w.shape
    if x.shape[2] + 2 * padding < kh or x.shape[3] + 2 * padding < kw:
        raise OpError(f"conv2d: kernel {(kh, kw)} is larger than the padded input {x.shape}, padding {padding}")
    if padding:
        x = pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n = x.shape[0]
    cols = ops.im2col(x, kh, kw, stride)                               # (N, OH, OW, kh, kw, C)
    oh, ow = cols.shape[1:3]
    out = linear(cols.reshape(n * oh * ow, kh * kw * c_in), _window_rows(w), b)  # (N*OH*OW, C_out)
    return out.reshape(n, oh, ow, c_out).transpose(0, 3, 1, 2)


def conv_transpose2d(x, w, b=None, stride=1, padding=0):
    """x (N, C_in, H, W), w (C_in, C_out, kh, kw) -> (N, C_out, (H-1)*stride - 2*padding + kh, ...).

    The adjoint of conv2d: each input pixel paints a kh x kw patch, weighted by w,
    into the output (a product, then col2im), and ``padding`` is cropped off.
    """
    _check_image("conv_transpose2d", x, w, channel_axis=0)
    n, c_in, h, wd = x.shape
    c_out, kh, kw = w.shape[1:]
    hp, wp = (h - 1) * stride + kh, (wd - 1) * stride + kw
    if hp <= 2 * padding or wp <= 2 * padding:
        raise OpError(f"conv_transpose2d: padding {padding} crops away the whole output ({hp}x{wp})")
    rows = x.transpose(0, 2, 3, 1).reshape(n * h * wd, c_in)
    cols = (rows @ _window_rows(w)).reshape(n, h, wd, kh, kw, c_out)
    out = ops.col2im(cols, (n, c_out, hp, wp), kh, kw, stride)
    if padding:
        out = out[:, :, padding:hp - padding, padding:wp - padding]
    return out if b is None else out + b.reshape(1, c_out, 1, 1)


def _pool(name, reduce, x, kernel_size, stride):
    if x.ndim != 4:
        raise OpError(f"{name}: x must be (N, C, H, W), got shape {x.shape}")
    stride = kernel_size if stride is None else stride
    if output_size(x.shape[2], kernel_size, stride) < 1 or output_size(x.shape[3], kernel_size, stride) < 1:
        raise OpError(f"{name}: kernel {kernel_size} is larger than the input {x.shape}")
    cols = ops.im2col(x, kernel_size, kernel_size, stride)             # (N, OH, OW, k, k, C)
    return reduce(cols, axis=(3, 4)).transpose(0, 3, 1, 2)


def max_pool2d(x, kernel_size, stride=None):
    """The max of each kernel_size window (stride defaults to kernel_size)."""
    return _pool("max_pool2d", ops.max, x, kernel_size, stride)


def avg_pool2d(x, kernel_size, stride=None):
    """The mean of each kernel_size window (stride defaults to kernel_size)."""
    return _pool("avg_pool2d", ops.mean, x, kernel_size, stride)


def _class_indices(name, indices, count, like):
    """Integer indices as an array on like's device, checked to lie in [0, count).

    Checked explicitly because CuPy wraps out-of-range indices around instead of raising; on
    the GPU the check waits there until the next read (backend.check), not to stall every call.
    """
    if isinstance(indices, Tensor):         # a Tensor stays where it is; a host array is copied over
        check_same_device(name, (like, indices))
    array = backend.to_device(indices.data if isinstance(indices, Tensor) else indices, like.device)
    if array.dtype.kind not in "iu":
        raise OpError(f"{name}: indices must be integers, got {array.dtype} (shape {array.shape})")

    def complain(low_high):
        low, high = (int(v) for v in low_high)
        if low < 0 or high >= count:
            raise OpError(f"{name}: indices must lie in [0, {count}), got min {low}, max {high}")
    if array.size:
        backend.check(backend.array_module(array).stack([array.min(), array.max()]), complain)
    return array


def embedding(indices, weight):
    """Rows of weight (num, dim) picked by integer indices (...) -> (..., dim)."""
    return weight[_class_indices("embedding", indices, weight.shape[0], weight)]


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1 / (1 - p)."""
    if not 0 <= p <= 1:
        raise OpError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    keep = backend.generator(x.device).random(x.shape, dtype=x.dtype) >= p
    return x * Tensor._const(keep.astype(x.dtype) / (1 - p) if p < 1 else keep.astype(x.dtype))


def layer_norm(x, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) over the last axis, then * weight + bias."""
    y = ops.normalize(x, eps)                                           # fused: see ops/reduce.py
    if weight is not None:
        y = y * weight
    return y if bias is None else y + bias


# ----- losses (mean over the batch; reduction="none" or "sum" as in PyTorch) -----
REDUCTIONS = ("mean", "sum", "none")


def _reduce(name, losses, reduction):
    if reduction not in REDUCTIONS:
        raise OpError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses


def cross_entropy(logits, targets, reduction="mean"):
    """-log softmax(logits_i)[targets_i], one per row, then their mean (or sum, or none: (N,)).
    logits (N, C), targets (N,) integer classes."""
    if logits.ndim != 2:
        raise OpError(f"cross_entropy: logits must be (N, C), got shape {logits.shape}")
    targets = _class_indices("cross_entropy", targets, logits.shape[1], logits)
    if targets.shape != logits.shape[:1]:
        raise OpError(f"cross_entropy: targets must have shape ({logits.shape[0]},), got {targets.shape}")
    if reduction == "mean":
        return ops.cross_entropy(logits, targets)            # fused: one node (see ops/reduce.py)
    rows = logits.xp.arange(logits.shape[0])
    return _reduce("cross_entropy", -log_softmax(logits, axis=1)[rows, targets], reduction)


def binary_cross_entropy_with_logits(logits, targets, reduction="mean"):
    """-z log sigmoid(x) - (1 - z) log(1 - sigmoid(x)) = softplus(x) - z x elementwise (stable
    for any |x|), then its mean (or sum, or none: the shape of x)."""
    targets = ops.lift(targets, logits)
    if targets.shape != logits.shape:
        raise OpError(f"binary_cross_entropy_with_logits: logits and targets differ in shape: "
                      f"{describe((logits, targets))}")
    return _reduce("binary_cross_entropy_with_logits", softplus(logits) - targets * logits, reduction)


def mse_loss(a, b):
    """mean((a - b)^2)."""
    b = ops.lift(b, a)
    if a.shape != b.shape:
        raise OpError(f"mse_loss: shapes differ: {describe((a, b))}")
    diff = a - b
    return (diff * diff).mean()


def scaled_dot_product_attention(q, k, v, causal=False):
    """softmax(q k^T / sqrt(d)) v.  q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) -> (..., Tq, dv).

    With ``causal``, query t attends only to keys 0..t (the upper triangle is masked out).
    """
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise OpError(f"scaled_dot_product_attention: q, k, v do not fit: {describe((q, k, v))}")
    return ops.attention(q, k, v, causal)                               # fused: see ops/linalg.py

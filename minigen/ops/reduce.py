"""Reductions. Backward puts the reduced axes back (as size 1) and lets broadcasting
spread the gradient over them."""
from minigen.autograd import Function
from minigen.ops.shape import broadcast_to, normalize_axes, reshape
from minigen.tensor import Tensor


def _kept_shape(shape, axes):
    """The shape a reduction over ``axes`` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    def forward(self, x, axes, keepdims):
        self.axes = axes
        return x.sum(axis=axes, keepdims=keepdims)

    def backward(self, gy):
        """d sum(x)/dx = 1 for every summed element: broadcast gy back over the axes."""
        x = self.inputs[0]
        return broadcast_to(reshape(gy, _kept_shape(x.shape, self.axes)), x.shape)


class Extremum(Function):
    """max or min over axes. Ties share the gradient equally (as torch.amax does)."""

    def forward(self, x, axes, keepdims, kind):
        self.axes = axes
        y = getattr(x, kind)(axis=axes, keepdims=True)
        hits = (x == y).astype(x.dtype)
        self.weight = hits / hits.sum(axis=axes, keepdims=True)
        return y if keepdims else y.reshape([n for i, n in enumerate(y.shape) if i not in axes])

    def backward(self, gy):
        """d max(x)/dx_i = [x_i is the max] / (number of maxima)."""
        x = self.inputs[0]
        return reshape(gy, _kept_shape(x.shape, self.axes)) * Tensor._make(self.weight, False)


class LogSumExp(Function):
    """log(sum(exp(x))), fused for stability: computed as m + log(sum(exp(x - m))), m = max(x)."""

    def forward(self, x, axes, keepdims):
        self.axes = axes
        m = x.max(axis=axes, keepdims=True)
        m = self.xp.where(self.xp.isfinite(m), m, 0)
        out = self.xp.log(self.xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        return out if keepdims else out.reshape([n for i, n in enumerate(out.shape) if i not in axes])

    def backward(self, gy):
        """d lse(x)/dx = exp(x - lse(x)) = softmax(x)."""
        x = self.inputs[0]
        kept = _kept_shape(x.shape, self.axes)
        return reshape(gy, kept) * (x - reshape(self.output, kept)).exp()


class Softmax(Function):
    """exp(x) / sum(exp(x)) along one axis, fused for stability and speed."""

    def forward(self, x, axis):
        self.axis = axis
        e = self.xp.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def backward(self, gy):
        """dy/dx^T gy = y * (gy - sum(gy * y)) along the axis."""
        y = self.output
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


def sum(x, axis=None, keepdims=False):  # noqa: A001 -- the method's name
    return Sum.apply(x, axes=normalize_axes(axis, x.ndim, "sum"), keepdims=keepdims)


def _count(x, axes):
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def mean(x, axis=None, keepdims=False):
    """sum / n."""
    axes = normalize_axes(axis, x.ndim, "mean")
    return sum(x, axes, keepdims) / _count(x, axes)


def var(x, axis=None, keepdims=False, ddof=0):
    """mean of squared deviations, divided by n - ddof instead of n."""
    axes = normalize_axes(axis, x.ndim, "var")
    centered = x - mean(x, axes, keepdims=True)
    return sum(centered * centered, axes, keepdims) / (_count(x, axes) - ddof)


def max(x, axis=None, keepdims=False):  # noqa: A001 -- the method's name
    return Extremum.apply(x, axes=normalize_axes(axis, x.ndim, "max"), keepdims=keepdims, kind="max")


def min(x, axis=None, keepdims=False):  # noqa: A001 -- the method's name
    return Extremum.apply(x, axes=normalize_axes(axis, x.ndim, "min"), keepdims=keepdims, kind="min")


def logsumexp(x, axis=None, keepdims=False):
    return LogSumExp.apply(x, axes=normalize_axes(axis, x.ndim, "logsumexp"), keepdims=keepdims)


def softmax(x, axis=-1):
    return Softmax.apply(x, axis=normalize_axes(axis, x.ndim, "softmax")[0])

"""Reductions. Backward puts the reduced axes back (as size 1) and lets broadcasting
spread the gradient over them."""
from minigen.autograd import Function, is_grad_enabled
from minigen.ops.shape import broadcast_to, normalize_axes, reshape
from minigen.tensor import Tensor


def _kept_shape(shape, axes):
    """The shape a reduction over ``axes`` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    saves_inputs = False

    def forward(self, x, axes, keepdims):
        self.axes = axes
        return x.sum(axis=axes, keepdims=keepdims)

    def backward(self, gy):
        """d sum(x)/dx = 1 for every summed element: broadcast gy back over the axes."""
        shape = self.shapes[0]
        return broadcast_to(reshape(gy, _kept_shape(shape, self.axes)), shape)


class Extremum(Function):
    """max or min over axes. Ties share the gradient equally (as torch.amax does)."""

    saves_inputs = False

    def forward(self, x, axes, keepdims, kind):
        self.axes = axes
        y = getattr(x, kind)(axis=axes, keepdims=True)
        hits = (x == y).astype(x.dtype)
        self.weight = hits / hits.sum(axis=axes, keepdims=True)
        return y if keepdims else y.reshape([n for i, n in enumerate(y.shape) if i not in axes])

    def backward(self, gy):
        """d max(x)/dx_i = [x_i is the max] / (number of maxima)."""
        return reshape(gy, _kept_shape(self.shapes[0], self.axes)) * Tensor._const(self.weight)


class LogSumExp(Function):
    """log(sum(exp(x))), fused for stability: computed as m + log(sum(exp(x - m))), m = max(x).

    exp(x - m) and its sum are kept for backward: the gradient exp(x - lse(x)) recomputed from
    the rounded output would be off by |x| * eps (5e-4 relative at x = 1e4 in float32)."""

    def forward(self, x, axes, keepdims):
        self.axes = axes
        m = x.max(axis=axes, keepdims=True)
        m = self.xp.where(self.xp.isfinite(m), m, 0)
        self.e = self.xp.exp(x - m)
        self.total = self.e.sum(axis=axes, keepdims=True)
        out = self.xp.log(self.total) + m
        return out if keepdims else out.reshape([n for i, n in enumerate(out.shape) if i not in axes])

    def backward(self, gy):
        """d lse(x)/dx = exp(x - lse(x)) = softmax(x)."""
        kept = _kept_shape(self.shapes[0], self.axes)
        return reshape(gy, kept) * _softmax_for_backward(self)


class LogSoftmax(Function):
    """x - logsumexp(x) along axes, fused for accuracy and speed: (x - m) - log(sum(exp(x - m)))
    is exact to a few ulps for logits of any size, where x - lse(x) would lose |x| * eps to
    the rounding of lse(x); and it is one node instead of three."""

    def forward(self, x, axes):
        self.axes = axes
        shifted = x - x.max(axis=axes, keepdims=True)
        self.e = self.xp.exp(shifted)
        self.total = self.e.sum(axis=axes, keepdims=True)
        return shifted - self.xp.log(self.total)

    def backward(self, gy):
        """d log_softmax(x)/dx^T gy = gy - softmax(x) * sum(gy) along the axes."""
        return gy - _softmax_for_backward(self) * gy.sum(axis=self.axes, keepdims=True)


class CrossEntropy(Function):
    """-mean_i log_softmax(z_i)[t_i] for logits z (N, C) and integer classes t (N,), fused.

    The composite (log_softmax, pick, mean, negate) is ten nodes forward and backward; a
    classifier's loss is then a tenth of a small MLP's step. Fused, it is one node whose
    backward is the textbook (softmax - onehot) / N.
    """

    def forward(self, z, targets):
        self.axes, self.targets = (1,), targets
        shifted = z - z.max(axis=1, keepdims=True)
        self.e = self.xp.exp(shifted)
        self.total = self.e.sum(axis=1, keepdims=True)
        picked = shifted[self.xp.arange(len(z)), targets]                # (N,) z_it - max_i
        return (self.xp.log(self.total).sum() - picked.sum()) / len(z)

    def backward(self, gy):
        """dL/dz = (softmax(z) - onehot(t)) / N, times gy (a scalar)."""
        z = self.inputs[0]
        onehot = z.xp.zeros(z.shape, dtype=z.dtype)
        onehot[z.xp.arange(len(z)), self.targets] = 1
        return (_softmax_for_backward(self) - Tensor._const(onehot)) * (gy * (1.0 / len(z)))


def _softmax_for_backward(fn):
    """softmax(x) for a fused node that kept exp(x - m) and its sum: a constant for first-order
    backward; when the backward is itself recorded (create_graph), a Softmax node of x, so
    that its own derivative is known."""
    if is_grad_enabled():
        return Softmax.apply(fn.inputs[0], axis=fn.axes)
    return Tensor._const(fn.e / fn.total)


class Softmax(Function):
    """exp(x) / sum(exp(x)) along one axis (or a tuple of axes), fused for stability and speed."""

    saves_inputs = False
    saves_output = True

    def forward(self, x, axis):
        self.axis = axis
        e = self.xp.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def backward(self, gy):
        """dy/dx^T gy = y * (gy - sum(gy * y)) along the axis."""
        y = self.output
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class Normalize(Function):
    """(x - mean(x)) / sqrt(var(x) + eps) over the last axis: layer norm without its affine
    part, fused. The composite is seven nodes and as many arrays forward, twice that backward;
    fused, forward updates one array in place and keeps it (the output x_hat) and the (..., 1)
    standard deviations s for backward:

        dx = (gy - mean(gy) - x_hat * mean(gy * x_hat)) / s        (means over the last axis)

    Under create_graph x_hat and s are nodes of x (the composite), so the second derivative
    is known."""

    saves_output = True

    def forward(self, x, eps):
        self.eps, n = eps, x.shape[-1]
        centered = x - x.sum(axis=-1, keepdims=True) / n
        var = (centered * centered).sum(axis=-1, keepdims=True) / n
        var += eps
        self.std = self.xp.sqrt(var, out=var)
        centered /= self.std
        return centered

    def backward(self, gy):
        """See the class docstring."""
        if is_grad_enabled():
            x = self.inputs[0]
            centered = x - x.mean(axis=-1, keepdims=True)
            std = ((centered * centered).mean(axis=-1, keepdims=True) + self.eps).sqrt()
            x_hat = centered / std
        else:
            x_hat, std = self.output, Tensor._const(self.std)
        return (gy - gy.mean(axis=-1, keepdims=True) - x_hat * (gy * x_hat).mean(axis=-1, keepdims=True)) / std


def normalize(x, eps=1e-5):
    """(x - mean) / sqrt(var + eps) over the last axis (var with n, not n - 1)."""
    return Normalize.apply(x, eps=eps)


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


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``: log-probabilities, exact for logits of any size."""
    return LogSoftmax.apply(x, axes=normalize_axes(axis, x.ndim, "log_softmax"))


def cross_entropy(logits, targets):
    """Mean cross-entropy of logits (N, C) against integer classes ``targets``, an (N,) array
    on the logits' device (functional.cross_entropy checks them)."""
    return CrossEntropy.apply(logits, targets=targets)

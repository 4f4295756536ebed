"""Elementwise arithmetic with NumPy broadcasting.

Broadcasting copies an input along some axes in the forward pass, so in the backward pass
the gradient is summed back over those axes: ``sum_to(g, input.shape)``.
"""
from minigen import backend
from minigen.autograd import Function, OpError, check_same_device, describe
from minigen.ops.shape import sum_to
from minigen.tensor import Tensor


def lift(x, like):
    """A Tensor for ``x``: Tensors pass through; numbers and arrays take ``like``'s device
    and, when ``like`` is floating, its dtype (so that ``t * 2.0`` stays float32, and
    ``t64 * 0.1`` is rounded once, to float64, never through float32 on the way)."""
    if isinstance(x, Tensor):
        return x
    if like.dtype.kind == "f" and isinstance(x, (int, float)):   # t * 0.5: the common case, made direct
        return Tensor._make(backend.scalar(x, like.data), False)
    return Tensor(x, dtype=like.dtype if like.dtype.kind == "f" else None, device=like.device)


def binary(a, b, name):
    """Lift both operands to Tensors; refuse to mix two different float dtypes silently.

    An integer operand meeting a floating one takes its dtype (as in PyTorch): NumPy would
    make int64 with float32 a float64, a silent upcast. A boolean one (a mask) is left as it
    is: float32 * bool is float32 already, without a pass to convert the mask.
    """
    if not isinstance(a, Tensor):
        a = lift(a, b)
    elif not isinstance(b, Tensor):
        b = lift(b, a)
    if a.dtype != b.dtype:
        a_float, b_float = a.dtype.kind == "f", b.dtype.kind == "f"
        if a_float and b_float:
            raise OpError(f"{name}: dtypes differ ({describe((a, b))}); convert one with .astype()")
        if a_float and b.dtype.kind != "b":
            b = Tensor._make(b.data.astype(a.dtype), False)
        elif b_float and a.dtype.kind != "b":
            a = Tensor._make(a.data.astype(b.dtype), False)
    return a, b


class Add(Function):
    saves_inputs = False

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        """d(a + b)/da = 1, d/db = 1; each summed back to its input's shape."""
        a_shape, b_shape = self.shapes
        return (sum_to(gy, a_shape) if self.needs[0] else None,
                sum_to(gy, b_shape) if self.needs[1] else None)


class Sub(Function):
    saves_inputs = False

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        """d(a - b)/da = 1, d/db = -1."""
        a_shape, b_shape = self.shapes
        return (sum_to(gy, a_shape) if self.needs[0] else None,
                sum_to(-gy, b_shape) if self.needs[1] else None)


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        """d(a * b)/da = b, d/db = a."""
        a, b = self.inputs
        return (sum_to(gy * b, a.shape) if self.needs[0] else None,
                sum_to(gy * a, b.shape) if self.needs[1] else None)


class Div(Function):
    saves_output = True

    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        """d(a / b)/da = 1 / b, d/db = -a / b**2 = -(a / b) / b."""
        a, b = self.inputs
        return (sum_to(gy / b, a.shape) if self.needs[0] else None,
                sum_to(-gy * self.output / b, b.shape) if self.needs[1] else None)


class Pow(Function):
    saves_output = True

    def forward(self, a, b):
        return a ** b

    def backward(self, gy):
        """d(a ** b)/da = b * a ** (b - 1), d/db = a ** b * log(a) (a > 0)."""
        a, b = self.inputs
        return (sum_to(gy * b * a ** (b - 1), a.shape) if self.needs[0] else None,
                sum_to(gy * self.output * a.log(), b.shape) if self.needs[1] else None)


class Neg(Function):
    saves_inputs = False

    def forward(self, x):
        return -x

    def backward(self, gy):
        """d(-x)/dx = -1."""
        return -gy


class Maximum(Function):
    """Elementwise max (kind='maximum') or min (kind='minimum'); ties share the gradient."""

    saves_inputs = False

    def forward(self, a, b, kind):
        wins = (a > b) if kind == "maximum" else (a < b)
        self.weight_a = wins.astype(a.dtype) + 0.5 * (a == b).astype(a.dtype)
        return getattr(self.xp, kind)(a, b)

    def backward(self, gy):
        """d max(a, b)/da = [a > b] + [a == b] / 2, d/db = 1 - that (likewise for min)."""
        a_shape, b_shape = self.shapes
        w = Tensor._const(self.weight_a)
        return (sum_to(gy * w, a_shape) if self.needs[0] else None,
                sum_to(gy * (1 - w), b_shape) if self.needs[1] else None)


class Where(Function):
    saves_inputs = False

    def forward(self, a, b, cond):
        self.cond = cond
        return self.xp.where(cond, a, b)

    def backward(self, gy):
        """d where(c, a, b)/da = [c], d/db = [not c]."""
        a_shape, b_shape = self.shapes
        zero = gy.xp.zeros((), gy.dtype)
        return (sum_to(where(self.cond, gy, zero), a_shape) if self.needs[0] else None,
                sum_to(where(self.cond, zero, gy), b_shape) if self.needs[1] else None)


def add(a, b):
    return Add.apply(*binary(a, b, "add"))


def sub(a, b):
    return Sub.apply(*binary(a, b, "sub"))


def mul(a, b):
    return Mul.apply(*binary(a, b, "mul"))


def div(a, b):
    return Div.apply(*binary(a, b, "div"))


def pow(a, b):  # noqa: A001 -- the operator's name
    return Pow.apply(*binary(a, b, "pow"))


def neg(x):
    return Neg.apply(x)


def maximum(a, b):
    return Maximum.apply(*binary(a, b, "maximum"), kind="maximum")


def minimum(a, b):
    return Maximum.apply(*binary(a, b, "minimum"), kind="minimum")


def where(cond, a, b):
    """a where cond is true, else b (broadcasting all three); cond is not differentiated."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        a, b = binary(a, b, "where")
    else:
        raise TypeError("where: at least one of a, b must be a Tensor")
    if isinstance(cond, Tensor):
        check_same_device("where", (a, cond))
        cond = cond.data
    else:   # a host mask (array or list) is copied to the values' device, as class indices are
        cond = backend.to_device(cond, a.device)
    if cond.dtype.kind != "b":
        cond = cond.astype(bool)
    return Where.apply(a, b, cond=cond)


def compare(a, b, kind):
    """A boolean Tensor (no gradient): kind is 'less', 'greater_equal', 'equal', ..."""
    a, b = binary(a, b, kind)
    check_same_device(kind, (a, b))
    return Tensor._make(backend.as_array(getattr(a.xp, kind)(a.data, b.data)), False)

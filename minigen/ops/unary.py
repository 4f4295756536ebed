"""Elementwise functions of one tensor. Where the derivative is a function of the output
(exp, tanh, sigmoid, sqrt, relu) the node keeps its output, not its input, and backward
reuses it instead of recomputing anything."""
import math

from minigen import backend
from minigen.autograd import Function, is_grad_enabled
from minigen.tensor import Tensor


class Exp(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        return self.xp.exp(x)

    def backward(self, gy):
        """d exp(x)/dx = exp(x) = y."""
        return gy * self.output


class Log(Function):
    def forward(self, x):
        return self.xp.log(x)

    def backward(self, gy):
        """d log(x)/dx = 1 / x."""
        return gy / self.inputs[0]


class Sqrt(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        return self.xp.sqrt(x)

    def backward(self, gy):
        """d sqrt(x)/dx = 1 / (2 sqrt(x)) = 1 / (2 y)."""
        return gy / (2 * self.output)


class Tanh(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, gy):
        """d tanh(x)/dx = 1 - tanh(x)**2 = 1 - y**2."""
        y = self.output
        return gy * (1 - y * y)


class Sin(Function):
    def forward(self, x):
        return self.xp.sin(x)

    def backward(self, gy):
        """d sin(x)/dx = cos(x) (a Cos node: twice differentiable)."""
        return gy * Cos.apply(self.inputs[0])


class Cos(Function):
    def forward(self, x):
        return self.xp.cos(x)

    def backward(self, gy):
        """d cos(x)/dx = -sin(x)."""
        return -(gy * Sin.apply(self.inputs[0]))


class Sigmoid(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        z = self.xp.exp(-self.xp.abs(x))  # in (0, 1]: never overflows
        return self.xp.where(x >= 0, 1 / (1 + z), z / (1 + z))

    def backward(self, gy):
        """d sigmoid(x)/dx = y (1 - y)."""
        y = self.output
        return gy * y * (1 - y)


class Relu(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        return self.xp.maximum(x, 0)

    def backward(self, gy):
        """d relu(x)/dx = [x > 0] (0 at the kink)."""
        return gy * Tensor._const(self.output.data > 0)


class Abs(Function):
    saves_inputs = False

    def forward(self, x):
        self.sign = self.xp.sign(x)
        return self.xp.abs(x)

    def backward(self, gy):
        """d |x|/dx = sign(x) (0 at the kink)."""
        return gy * Tensor._const(self.sign)


class Softplus(Function):
    """log(1 + exp(x)), fused so that it is exact for |x| up to 1e4 and its gradient is
    exactly sigmoid(x) everywhere (a composite with relu/abs would be wrong at x = 0)."""

    def forward(self, x):
        return self.xp.logaddexp(0, x)

    def backward(self, gy):
        """d softplus(x)/dx = sigmoid(x)."""
        return gy * sigmoid(self.inputs[0])


GELU_C = math.sqrt(2 / math.pi)  # the tanh approximation's constants (GPT-2)
GELU_A = 0.044715


class Gelu(Function):
    """0.5 x (1 + tanh(c (x + a x^3))), fused for speed: the composite of ~9 elementwise
    ops costs ~2x more on a transformer's MLP activations (forward and backward).

    Forward keeps t = tanh(c (x + a x^3)) for backward, which then needs no tanh of its own
    (a transcendental over the widest activations of a transformer, a fifth of its MLP's
    backward). Its temporaries are updated in place: two arrays instead of nine."""

    def forward(self, x):
        self.t = _gelu_tanh(self.xp, x)
        y = self.t + 1
        y *= x
        y *= 0.5                                         # 0.5 x (1 + t)
        return y

    def backward(self, gy):
        """d gelu/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2), t = tanh(c (x + a x^3)).

        First order: from the kept t, as a constant. When the backward is itself recorded
        (create_graph): a GeluGrad node of x, so that its own derivative is known."""
        if is_grad_enabled():
            return gy * GeluGrad.apply(self.inputs[0])
        return gy * Tensor._const(_gelu_slope(self.xp, self.inputs[0].data, self.t))


def _gelu_tanh(xp, x):
    """t = tanh(c (x + a x^3)), on one temporary updated in place."""
    u = backend.as_array(GELU_A * x)                     # an array even for a 0-d x (tanh writes into it)
    u *= x
    u *= x
    u += x
    u *= GELU_C                                          # c (x + a x^3)
    return xp.tanh(u, out=u)


def _gelu_slope(xp, x, t):
    """gelu'(x) given t = tanh(c (x + a x^3)), on three temporaries updated in place."""
    slope = t * t
    slope -= 1                                           # -(1 - t^2)
    x2 = x * x
    x2 *= 3 * GELU_A
    x2 += 1                                              # 1 + 3 a x^2
    slope *= x2
    slope *= x
    slope *= -0.5 * GELU_C                               # 0.5 x (1 - t^2) c (1 + 3 a x^2)
    out = t + 1
    out *= 0.5                                           # 0.5 (1 + t)
    out += slope
    return out


class GeluGrad(Function):
    """gelu'(x) as a primitive of its own, so that gelu is twice differentiable."""

    def forward(self, x):
        return _gelu_slope(self.xp, x, _gelu_tanh(self.xp, x))

    def backward(self, gy):
        """gelu''(x) = t' + 0.5 x (-2 t t' u' + (1 - t^2) u''),  u = c (x + a x^3), t = tanh(u),
        u' = c (1 + 3 a x^2), u'' = 6 a c x, t' = (1 - t^2) u'."""
        x = self.inputs[0]
        u1 = GELU_C * (1 + 3 * GELU_A * x * x)
        t = tanh(GELU_C * (x + GELU_A * x * x * x))
        dt = (1 - t * t) * u1
        return gy * (dt + 0.5 * x * (-2 * t * dt * u1 + (1 - t * t) * (6 * GELU_A * GELU_C) * x))


class Cast(Function):
    saves_inputs = False

    def forward(self, x, dtype):
        self.dtype_in = x.dtype
        return x.astype(dtype)

    def backward(self, gy):
        """The gradient of a cast is the gradient cast back."""
        return cast(gy, self.dtype_in)


class ToDevice(Function):
    saves_inputs = False

    def forward(self, x, device):
        self.device_in = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, gy):
        """Moving is the identity: the gradient moves back."""
        return to_device(gy, self.device_in)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return Relu.apply(x)


def abs(x):  # noqa: A001 -- the method's name
    return Abs.apply(x)


def softplus(x):
    return Softplus.apply(x)


def gelu(x):
    return Gelu.apply(x)


def cast(x, dtype):
    return x if x.dtype == dtype else Cast.apply(x, dtype=dtype)


def to_device(x, device):
    return x if x.device == device else ToDevice.apply(x, device=device)

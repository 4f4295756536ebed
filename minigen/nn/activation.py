"""Elementwise layers with no weights: activations and Dropout, each a Module around minigen.functional."""
from minigen import functional as F
from minigen.nn.module import Module


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise (a small gradient where ReLU has none)."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """x * Phi(x), in GPT-2's tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    PyTorch's nn.GELU() defaults to the exact erf form; this one equals
    nn.GELU(approximate='tanh') (the two differ by less than 1e-3). minigen has no erf
    primitive, so approximate='none' is refused rather than silently approximated.
    """

    def __init__(self, approximate="tanh"):
        super().__init__()
        if approximate != "tanh":
            raise ValueError(f"GELU: minigen implements approximate='tanh' only, got {approximate!r}")

    def forward(self, x):
        return F.gelu(x)

    def extra_repr(self):
        return "approximate='tanh'"


class SiLU(Module):
    """x * sigmoid(x) (swish)."""

    def forward(self, x):
        return F.silu(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Dropout(Module):
    """In training, zero each element with probability p and scale the survivors by 1 / (1 - p)
    (so the expected value is unchanged); in eval, the identity. Masks come from minigen's
    seeded generator."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"

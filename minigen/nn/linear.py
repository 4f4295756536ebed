"""Linear and Embedding: a matrix applied to vectors, and a table of vectors looked up by index."""
import math

from minigen import functional as F
from minigen.nn import init
from minigen.nn.module import Module, Parameter
from minigen.tensor import zeros


def new_parameter(*shape, device=None, dtype=None):
    """A zero Parameter of ``shape`` on ``device`` (default device) and ``dtype`` (float32),
    to be filled by an initialiser."""
    return Parameter(zeros(*shape, device=device, dtype=dtype))


class Linear(Module):
    """y = x W^T + b.  x (..., in_features) -> (..., out_features); W (out, in), b (out,).

    Initialised as PyTorch does: W and b ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = new_parameter(out_features, in_features, device=device, dtype=dtype)
        self.bias = new_parameter(out_features, device=device, dtype=dtype) if bias else None
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))              # = U(-1/sqrt(in), 1/sqrt(in))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_features) if in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)                      # (..., in) -> (..., out)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """Row i of a (num_embeddings, embedding_dim) table for each integer index i.

    indices (...) int array or Tensor -> (..., embedding_dim). Initialised N(0, 1), as PyTorch.
    """

    def __init__(self, num_embeddings, embedding_dim, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = new_parameter(num_embeddings, embedding_dim, device=device, dtype=dtype)
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)                        # (...) -> (..., dim)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"

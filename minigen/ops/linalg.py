"""Matrix multiplication, batched, with NumPy's rules for 1-D operands; and the affine map of
a Linear layer, x @ w^T + b, as one primitive."""
from minigen.autograd import Function, OpError, describe
from minigen.ops.arith import binary
from minigen.ops.shape import Transpose, reshape, sum_to, transpose


def _mT(t):
    """Swap the last two axes (the matrix transpose of a batch of matrices)."""
    axes = list(range(t.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return transpose(t, *axes)


class MatMul(Function):
    """a @ b for a (..., n, k) and b (..., k, m), batch axes broadcast."""

    def forward(self, a, b):
        return self.xp.matmul(a, b)

    def backward(self, gy):
        """d(a @ b)/da^T gy = gy @ b^T  (..., n, k);  d/db^T gy = a^T @ gy  (..., k, m)."""
        a, b = self.inputs
        return (sum_to(_product_like(a, gy, _mT(b)), a.shape) if self.needs[0] else None,
                sum_to(_product_like(b, _mT(a), gy), b.shape) if self.needs[1] else None)


def _product_like(like, left, right):
    """left @ right, in the memory order of ``like``.

    A weight used as ``w.T`` (F.linear) is a transposed view; computing its gradient as
    (right^T @ left^T)^T gives, after the transpose back to w, a C-ordered gradient, so the
    optimizer's update runs over contiguous memory (2x faster for an MLP step here).
    """
    if like.ndim == 2 and like.data.flags.f_contiguous and not like.data.flags.c_contiguous:
        return _mT(_mT(right) @ _mT(left))
    return left @ right


def matmul(a, b):
    """NumPy's matmul: 1-D operands are treated as a row (left) or column (right) vector
    and that axis is removed from the result."""
    a, b = binary(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise OpError(f"matmul: both operands need at least one dim, got {describe((a, b))}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise OpError(f"matmul: inner dimensions differ: a is {a.shape}, b is {b.shape} "
                      f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
    if a.ndim > 1 and b.ndim > 1:
        return MatMul.apply(a, b)
    a2 = reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    out = MatMul.apply(a2, b2)
    if a.ndim == 1:
        out = reshape(out, out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        out = reshape(out, out.shape[:-1])
    return out


class Linear(Function):
    """x @ w^T + b for x (N, in), w (out, in), b (out,): a matmul and a bias add, fused.

    The bias is added in place into the product, so the layer costs one array and one pass
    over it fewer than ``x @ w.T + b`` as two ops (a fifth of an MLP step's non-BLAS time),
    and w's gradient is computed directly in w's (out, in) layout.
    """

    def forward(self, x, w, b):
        y = x @ w.T
        y += b
        return y

    def backward(self, gy):
        """dL/dx = gy @ w  (N, in);  dL/dw = gy^T @ x  (out, in);  dL/db = sum over N of gy  (out,)."""
        x, w, _ = self.inputs          # shapes known to fit: straight to the primitives
        return (MatMul.apply(gy, w) if self.needs[0] else None,
                MatMul.apply(Transpose.apply(gy, axes=(1, 0)), x) if self.needs[1] else None,
                gy.sum(axis=0) if self.needs[2] else None)


def linear(x, w, b):
    """x (N, in) @ w (out, in)^T + b (out,), checked: see functional.linear for the general form."""
    x, w = binary(x, w, "linear")
    if b.dtype != w.dtype or b.shape != w.shape[:1]:
        raise OpError(f"linear: the bias must be ({w.shape[0]},) {w.dtype}, like the weight's rows; "
                      f"got {describe((x, w, b))}")
    return Linear.apply(x, w, b)

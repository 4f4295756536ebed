"""Matrix multiplication, batched, with NumPy's rules for 1-D operands; the affine map of a
Linear layer, x @ w^T + b, as one primitive; and attention, softmax(q k^T / sqrt(d)) v, as one."""
import math

from minigen.autograd import Function, OpError, describe, is_grad_enabled
from minigen.ops.arith import binary
from minigen.ops.reduce import softmax
from minigen.ops.shape import Transpose, reshape, sum_to, transpose
from minigen.tensor import Tensor


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


class Attention(Function):
    """softmax(q k^T / sqrt(d), with a causal mask) v for q (..., Tq, d), k (..., Tk, d),
    v (..., Tk, dv), fused. The composite makes five (..., Tq, Tk) arrays forward (scores,
    scaled, masked, shifted, probabilities) and a `where` backward; fused, the scores are one
    array updated in place into the probabilities P, which backward keeps:

        dv = P^T gy,   dP = gy v^T,   dS = P * (dP - sum(dP * P)) / sqrt(d),
        dq = dS k,     dk = (q^T dS)^T                         (sums over the last axis)

    Under create_graph P is a node of q and k (attention_weights), so the second derivative
    is known."""

    def forward(self, q, k, v, causal):
        xp = self.xp
        self.causal, self.scale = causal, 1.0 / math.sqrt(q.shape[-1])
        s = xp.matmul(q, xp.swapaxes(k, -1, -2))                      # (..., Tq, Tk)
        s *= self.scale
        if causal:
            s += causal_bias(xp, s.shape[-2:], s.dtype)
        s -= s.max(axis=-1, keepdims=True)
        self.p = xp.exp(s, out=s)
        self.p /= self.p.sum(axis=-1, keepdims=True)
        return xp.matmul(self.p, v)

    def backward(self, gy):
        """See the class docstring."""
        q, k, v = self.inputs
        p = attention_weights(q, k, self.causal) if is_grad_enabled() else Tensor._const(self.p)
        dp = gy @ _mT(v)
        ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) * self.scale
        return (sum_to(ds @ k, q.shape) if self.needs[0] else None,
                sum_to(_mT(_mT(q) @ ds), k.shape) if self.needs[1] else None,
                sum_to(_mT(p) @ gy, v.shape) if self.needs[2] else None)


def causal_bias(xp, shape, dtype):
    """(Tq, Tk): 0 where query i may see key j (j <= i), -inf above the diagonal."""
    return xp.where(xp.tril(xp.ones(shape, dtype=bool)), 0, -math.inf).astype(dtype)


def attention_weights(q, k, causal=False):
    """softmax(q k^T / sqrt(d)) with the causal mask, as differentiable ops: (..., Tq, Tk)."""
    scores = (q @ _mT(k)) * (1.0 / math.sqrt(q.shape[-1]))
    if causal:
        scores = scores + Tensor._const(causal_bias(q.xp, scores.shape[-2:], scores.dtype))
    return softmax(scores, axis=-1)


def attention(q, k, v, causal=False):
    """softmax(q k^T / sqrt(d)) v; q, k, v must already fit (F.scaled_dot_product_attention checks)."""
    return Attention.apply(q, k, v, causal=causal)

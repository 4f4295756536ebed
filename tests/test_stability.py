"""Logits up to +-1e4: every loss and log-probability stays finite, and its gradient is the
analytic one (computed here the stable way, in float64 NumPy).

pyproject.toml turns RuntimeWarning into an error, so an overflow inside exp (even one whose
inf is later masked away) fails these tests too.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import minigen.functional as F
import strategies as S

HUGE = [1e4, -1e4, 5e3, -5e3, 1e3, -1e3, 710.0, -710.0, 100.0, -100.0, 0.0]


def logits(shape):
    """Logits mixing extreme magnitudes (where exp overflows float64 past ~709) with ordinary ones."""
    return S.arrays(shape, st.one_of(st.sampled_from(HUGE), S.floats(-1e4, 1e4), S.floats(-3, 3)))


def logit_matrices():
    return st.tuples(st.integers(1, 4), st.integers(1, 5)).flatmap(lambda s: logits(s))


# ----- analytic references, written the stable way -----
def np_logsumexp(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def np_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)  # exact; x - logsumexp(x) would not be
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_sigmoid(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def np_softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def close(actual, expected, dtype, scale):
    """Equal up to a few ulps of the input's dtype; ``scale`` is the size of the largest term
    that a sum inside the op cancels (1 where nothing cancels)."""
    assert actual.dtype == np.dtype(dtype)
    assert np.isfinite(actual).all(), actual
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(actual, expected, rtol=8 * eps, atol=8 * eps * max(1.0, scale))


def leaf(x, dtype):
    return mg.tensor(x, dtype=dtype, requires_grad=True)


DTYPES = pytest.mark.parametrize("dtype", ["float32", "float64"])


@DTYPES
@given(x=logit_matrices(), data=st.data())
def test_log_softmax_of_huge_logits_is_finite_with_the_analytic_gradient(dtype, x, data):
    x = x.astype(dtype).astype(np.float64)
    w = data.draw(S.arrays(x.shape), label="upstream gradient")
    t = leaf(x, dtype)
    y = F.log_softmax(t, axis=1)
    (y * mg.tensor(w, dtype=dtype)).sum().backward()
    close(y.numpy(), np_log_softmax(x, 1), dtype, 1.0)
    w = w.astype(dtype).astype(np.float64)
    close(t.grad.numpy(), w - np_softmax(x, 1) * w.sum(axis=1, keepdims=True), dtype, np.abs(w).sum())


@DTYPES
@given(x=logit_matrices())
def test_softmax_of_huge_logits_is_finite_and_sums_to_one(dtype, x):
    x = x.astype(dtype).astype(np.float64)
    t = leaf(x, dtype)
    y = F.softmax(t, axis=1)
    (y[:, 0]).sum().backward()  # d y_0 / dx = y_0 (e_0 - y)
    p = np_softmax(x, 1)
    close(y.numpy(), p, dtype, 1.0)
    onehot = np.zeros_like(p)
    onehot[:, 0] = 1
    close(t.grad.numpy(), p[:, :1] * (onehot - p), dtype, 1.0)


@DTYPES
@given(x=logit_matrices(), keepdims=st.booleans())
def test_logsumexp_of_huge_logits_is_finite_with_softmax_as_gradient(dtype, x, keepdims):
    x = x.astype(dtype).astype(np.float64)
    t = leaf(x, dtype)
    y = F.logsumexp(t, axis=1, keepdims=keepdims)
    y.sum().backward()
    expected = np_logsumexp(x, 1)
    close(y.numpy(), expected if keepdims else expected[:, 0], dtype, 1.0)
    close(t.grad.numpy(), np_softmax(x, 1), dtype, 1.0)
    t.grad = None
    F.logsumexp(t).backward()  # over everything
    close(t.grad.numpy(), np_softmax(x.reshape(-1), 0).reshape(x.shape), dtype, 1.0)


@DTYPES
@given(x=st.integers(1, 12).flatmap(lambda n: logits((n,))))
def test_softplus_of_huge_logits_is_finite_with_sigmoid_as_gradient(dtype, x):
    x = x.astype(dtype).astype(np.float64)
    t = leaf(x, dtype)
    y = F.softplus(t)
    y.sum().backward()
    close(y.numpy(), np_softplus(x), dtype, 1.0)
    close(t.grad.numpy(), np_sigmoid(x), dtype, 1.0)


@DTYPES
@given(x=st.integers(1, 12).flatmap(lambda n: logits((n,))))
def test_sigmoid_of_huge_logits_is_finite_with_the_analytic_gradient(dtype, x):
    x = x.astype(dtype).astype(np.float64)
    t = leaf(x, dtype)
    y = F.sigmoid(t)
    y.sum().backward()
    s = np_sigmoid(x)
    close(y.numpy(), s, dtype, 1.0)
    close(t.grad.numpy(), s * (1 - s), dtype, 1.0)
    assert (y.numpy() >= 0).all() and (y.numpy() <= 1).all()


@DTYPES
@given(x=st.integers(1, 12).flatmap(lambda n: logits((n,))), data=st.data())
def test_bce_with_huge_logits_is_finite_with_the_analytic_gradient(dtype, x, data):
    x = x.astype(dtype).astype(np.float64)
    z = data.draw(S.arrays(x.shape, st.sampled_from([0.0, 1.0, 0.5])), label="targets")
    t, target = leaf(x, dtype), leaf(z, dtype)
    loss = F.binary_cross_entropy_with_logits(t, target)
    loss.backward()
    n = x.size
    close(loss.numpy(), np.mean(np_softplus(x) - z * x), dtype, np.abs(x).max())
    close(t.grad.numpy(), (np_sigmoid(x) - z) / n, dtype, 1.0)
    close(target.grad.numpy(), -x / n, dtype, np.abs(x).max())


@DTYPES
@given(x=logit_matrices(), data=st.data())
def test_cross_entropy_with_huge_logits_is_finite_with_the_analytic_gradient(dtype, x, data):
    x = x.astype(dtype).astype(np.float64)
    n, c = x.shape
    targets = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    t = leaf(x, dtype)
    loss = F.cross_entropy(t, targets)
    loss.backward()
    log_p = np_log_softmax(x, 1)
    close(loss.numpy(), -log_p[np.arange(n), targets].mean(), dtype, 1.0)
    onehot = np.eye(c)[targets]
    close(t.grad.numpy(), (np_softmax(x, 1) - onehot) / n, dtype, 1.0)


@DTYPES
def test_attention_with_a_causal_mask_has_no_nan_even_for_huge_scores(dtype):
    """-inf masked scores with huge unmasked ones: exp(-inf - max) is 0, never nan."""
    q = mg.tensor(np.full((1, 3, 2), 100.0), dtype=dtype, requires_grad=True)
    k = mg.tensor(np.array([[[100.0, 100.0], [-100.0, -100.0], [100.0, -100.0]]]), dtype=dtype,
                  requires_grad=True)
    v = mg.tensor(np.arange(6.0).reshape(1, 3, 2), dtype=dtype, requires_grad=True)
    out = F.scaled_dot_product_attention(q, k, v, causal=True)
    out.sum().backward()
    for a in (out, q.grad, k.grad, v.grad):
        assert np.isfinite(a.numpy()).all()
    np.testing.assert_allclose(out.numpy()[0, 0], [0.0, 1.0])  # the first query sees only key 0

"""The autoregressive objective (minigen/objectives/autoregressive.py): derivatives, closed forms,
stability, and what temperature and top-k do to the distribution.

- every differentiable function gradchecked (first and second order) in float64 against
  central differences, batch, length and vocabulary sizes including 1;
- values equal -sum log softmax / the binary cross-entropy written with NumPy;
- in float32 at |logit| = 1000 values and gradients are finite and equal to their limits;
- temperature: p_T proportional to p^(1/T), T -> 0 the argmax; top-k: exactly k tokens kept,
  renormalised, k = 1 the argmax.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
from minigen.objectives import autoregressive as A
from strategies import arrays, distinct_arrays, floats


def leaf(values, dtype="float64"):
    return mg.tensor(values, dtype=dtype, requires_grad=True)


def logits_values(bound=1000.0):
    """Moderate logits, and now and then a huge one of either sign."""
    huge = st.floats(100, bound, allow_nan=False).flatmap(lambda v: st.sampled_from([v, -v]))
    return st.one_of(floats(-20, 20), floats(-20, 20), huge)


@st.composite
def sequence_case(draw, max_b=3, max_t=4, max_v=5):
    """logits (B, T, V) float64, targets (B, T), a mask (B, T) with some positions kept."""
    b, t, v = draw(st.integers(1, max_b)), draw(st.integers(1, max_t)), draw(st.integers(1, max_v))
    logits = draw(arrays((b, t, v), logits_values()))
    targets = np.array(draw(st.lists(st.integers(0, v - 1), min_size=b * t, max_size=b * t))).reshape(b, t)
    mask = np.array(draw(st.lists(st.booleans(), min_size=b * t, max_size=b * t))).reshape(b, t)
    return logits, targets, mask


def numpy_sequence_nll(logits, targets, mask):
    log_p = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    return -(picked * mask).sum(axis=1)


# ----- sequence_nll -----
@given(case=sequence_case())
def test_sequence_nll_matches_central_differences_first_and_second_order(case):
    logits, targets, mask = case
    fn = lambda x: A.sequence_nll(x, targets, mask)                             # noqa: E731
    assert mg.gradcheck(fn, [leaf(logits)])
    assert mg.gradgradcheck(fn, [leaf(logits)])


@given(case=sequence_case())
def test_sequence_nll_is_minus_the_sum_of_log_softmax_at_the_kept_targets(case):
    logits, targets, mask = case
    got = A.sequence_nll(leaf(logits), targets, mask).numpy()
    np.testing.assert_allclose(got, numpy_sequence_nll(logits, targets, mask), rtol=1e-12, atol=1e-9)
    every = A.sequence_nll(leaf(logits), targets).numpy()                       # no mask: all positions
    np.testing.assert_allclose(every, numpy_sequence_nll(logits, targets, np.ones_like(mask)), rtol=1e-12,
                               atol=1e-9)


def test_sequence_nll_at_huge_logits_in_float32_is_finite_and_exact():
    logits = mg.tensor([[[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]]], dtype="float32",
                       requires_grad=True)
    nll = A.sequence_nll(logits, np.array([[0, 2]]))
    # -log softmax: position 0 picks the winner (0 nats), position 1 a logit 1 below the winner
    assert nll.item() == pytest.approx(math.log1p(math.exp(-1)) + 1, rel=1e-6)
    nll.backward()
    grad = logits.grad.numpy()
    assert np.all(np.isfinite(grad))
    # d/dl = softmax - onehot
    p = 1 / (1 + math.exp(-1))
    np.testing.assert_allclose(grad[0], [[0, 0, 0], [0, p, -p]], atol=1e-6)


def test_sequence_nll_refuses_targets_of_another_shape():
    with pytest.raises(ValueError, match=r"targets must have shape \(2, 3\)"):
        A.sequence_nll(mg.zeros(2, 3, 4), np.zeros((2, 4), dtype=np.int64))


# ----- bernoulli_nll -----
@st.composite
def pixel_case(draw):
    shape = (draw(st.integers(1, 3)), 1, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    logits = draw(arrays(shape, logits_values()))
    x = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=logits.size,
                               max_size=logits.size))).reshape(shape)
    return logits, x


@given(case=pixel_case())
def test_bernoulli_nll_matches_central_differences_first_and_second_order(case):
    logits, x = case
    fn = lambda lg: A.bernoulli_nll(lg, x)                                      # noqa: E731
    assert mg.gradcheck(fn, [leaf(logits)])
    assert mg.gradgradcheck(fn, [leaf(logits)])


@given(case=pixel_case())
def test_bernoulli_nll_is_the_summed_binary_cross_entropy_per_image(case):
    logits, x = case
    # -x log sigmoid(l) - (1 - x) log sigmoid(-l), log sigmoid(l) = -logaddexp(0, -l)
    expected = (x * np.logaddexp(0, -logits) + (1 - x) * np.logaddexp(0, logits)).reshape(len(x), -1).sum(1)
    np.testing.assert_allclose(A.bernoulli_nll(leaf(logits), x).numpy(), expected, rtol=1e-12, atol=1e-9)


def test_bernoulli_nll_at_huge_logits_in_float32_is_finite_and_exact():
    logits = mg.tensor([[1000.0, -1000.0, 1000.0, -1000.0]], dtype="float32", requires_grad=True)
    nll = A.bernoulli_nll(logits, np.array([[1.0, 0.0, 0.0, 1.0]], dtype=np.float32))
    assert nll.item() == pytest.approx(2000.0)                                  # two sure mistakes
    nll.backward()
    np.testing.assert_allclose(logits.grad.numpy(), [[0, 0, 1, -1]], atol=1e-7)   # sigmoid(l) - x


# ----- force_end -----
@given(b=st.integers(1, 2), t=st.integers(1, 5), v=st.integers(1, 4), max_len=st.integers(0, 5),
       start=st.integers(0, 3))
def test_force_end_leaves_only_the_boundary_token_from_max_len_on(b, t, v, max_len, start):
    logits = mg.tensor(np.arange(b * t * v, dtype=np.float64).reshape(b, t, v))
    out = A.force_end(logits, max_len, start).numpy()
    for pos in range(t):
        if start + pos < max_len:
            np.testing.assert_array_equal(out[:, pos], logits.numpy()[:, pos])
        else:
            assert np.all(out[:, pos, A.BOUNDARY] == logits.numpy()[:, pos, A.BOUNDARY])
            assert np.all(out[:, pos, 1:] == -np.inf)


@given(case=sequence_case(), max_len=st.integers(0, 4))
def test_the_nll_after_force_end_matches_central_differences(case, max_len):
    logits, targets, mask = case
    targets = np.where(np.arange(targets.shape[1]) >= max_len, A.BOUNDARY, targets)   # the end, when forced
    fn = lambda x: A.sequence_nll(A.force_end(x, max_len), targets, mask)            # noqa: E731
    assert np.all(np.isfinite(fn(leaf(logits)).numpy()))
    assert mg.gradcheck(fn, [leaf(logits)])
    assert mg.gradgradcheck(fn, [leaf(logits)])


# ----- shift and prediction_mask -----
@given(lengths=st.lists(st.integers(0, 5), min_size=1, max_size=4))
def test_shifted_targets_are_the_next_tokens_and_the_mask_counts_each_name_plus_its_end(lengths):
    width = max(lengths) + 2
    tokens = np.zeros((len(lengths), width), dtype=np.int64)
    for row, n in enumerate(lengths):
        tokens[row, 1:n + 1] = np.arange(1, n + 1)
    inputs, targets = A.shift(tokens)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    assert np.all(inputs[:, 0] == A.BOUNDARY)
    mask = A.prediction_mask(np.array(lengths), width - 1, np)
    assert mask.sum(axis=1).tolist() == [n + 1 for n in lengths]
    assert all(targets[row, n] == A.BOUNDARY for row, n in enumerate(lengths))   # the last scored is the end


# ----- sampling_distribution -----
@st.composite
def sampling_case(draw):
    """Distinct logits (no ties at the k-th value, by construction), a temperature, a k."""
    rows, v = draw(st.integers(1, 3)), draw(st.integers(1, 6))
    logits = draw(distinct_arrays((rows, v)))
    return logits, draw(floats(0.2, 3.0)), draw(st.one_of(st.none(), st.integers(1, v + 1)))


@given(case=sampling_case())
def test_sampling_distribution_matches_central_differences_first_and_second_order(case):
    logits, temperature, k = case
    fn = lambda x: A.sampling_distribution(x, temperature, k)                    # noqa: E731
    assert mg.gradcheck(fn, [leaf(logits)])
    assert mg.gradgradcheck(fn, [leaf(logits)])


@given(case=sampling_case())
def test_temperature_raises_p_to_the_power_one_over_t_and_top_k_keeps_k_renormalised(case):
    logits, temperature, k = case
    p = np.exp(logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True))
    q = p ** (1 / temperature)
    if k is not None:
        kth = -np.sort(-logits, axis=-1)[:, min(k, logits.shape[1]) - 1:min(k, logits.shape[1])]
        q = np.where(logits >= kth, q, 0)
    expected = q / q.sum(-1, keepdims=True)
    got = A.sampling_distribution(leaf(logits), temperature, k).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)
    kept = logits.shape[1] if k is None else min(k, logits.shape[1])
    assert np.all((got > 0).sum(-1) == kept)


def test_temperature_to_zero_and_top_1_put_all_the_mass_on_the_argmax():
    logits = mg.tensor([[0.3, 2.0, 1.9, -1.0], [5.0, 4.0, -2.0, 4.99]])
    argmax = np.eye(4)[[1, 0]]
    np.testing.assert_allclose(A.sampling_distribution(logits, temperature=1e-4).numpy(), argmax, atol=1e-6)
    np.testing.assert_array_equal(A.sampling_distribution(logits, top_k=1).numpy(), argmax)
    # T -> inf flattens it toward uniform
    np.testing.assert_allclose(A.sampling_distribution(logits, temperature=1e6).numpy(), 0.25, atol=1e-5)


def test_top_k_breaks_ties_by_position_and_keeps_exactly_k():
    p = A.sampling_distribution(mg.tensor([[1.0, 1.0, 1.0, 0.0]]), top_k=2).numpy()
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0, 0.0]])


def test_sampling_distribution_at_huge_logits_in_float32_is_finite():
    logits = mg.tensor([[1000.0, -1000.0, 999.0]], dtype="float32")
    for kwargs in ({}, {"temperature": 0.01}, {"top_k": 2}, {"temperature": 100.0}):
        p = A.sampling_distribution(logits, **kwargs).numpy()
        assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0, abs=1e-6), kwargs


@pytest.mark.parametrize("kwargs, message", [({"temperature": 0.0}, "--temperature: must be > 0"),
                                             ({"temperature": -1.0}, "--temperature: must be > 0"),
                                             ({"top_k": 0}, "--top-k: must be an integer >= 1"),
                                             ({"top_k": 1.5}, "--top-k: must be an integer >= 1")])
def test_bad_temperature_or_top_k_is_refused_naming_the_flag(kwargs, message):
    with pytest.raises(ValueError, match=message):
        A.sampling_distribution(mg.zeros(1, 3), **kwargs)


class Uniforms:
    """A stand-in for the host generator: ``random`` returns the given uniforms, in order."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=np.float64)

    def random(self, shape):
        return self.values.reshape(shape)


def test_draw_inverts_the_cumulative_distribution_at_each_uniform():
    probs = mg.tensor([[0.2, 0.5, 0.3]] * 6, dtype="float64")       # cumulative 0.2, 0.7, 1.0
    drawn = A.draw(probs, Uniforms([0.0, 0.2, 0.2001, 0.7, 0.7001, 0.9999]))   # category k: u in (c_k-1, c_k]
    np.testing.assert_array_equal(drawn, [0, 0, 1, 1, 2, 2])
    rounded = mg.tensor([[0.5, 0.49999]], dtype="float64")         # sums to just under 1
    assert A.draw(rounded, Uniforms([0.999999])).tolist() == [1]   # the top edge stays a category


def test_draw_samples_each_category_at_its_probability():
    probs = mg.tensor(np.tile([0.1, 0.6, 0.0, 0.3], (20000, 1)), dtype="float64")
    counts = np.bincount(A.draw(probs, np.random.default_rng(0)), minlength=4) / 20000
    np.testing.assert_allclose(counts, [0.1, 0.6, 0.0, 0.3], atol=0.01)


# ----- Bayes' rule over class-conditional likelihoods -----
@st.composite
def bayes_case(draw):
    """log p(x | y) (N, C) (moderate, and now and then hundreds of nats below 0, as image
    likelihoods are) and a log prior (C,) (any finite values: the functions do not need it normalised)."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    likelihood = st.one_of(floats(-20, 5), floats(-20, 5), floats(-600, -300))
    return draw(arrays((n, c), likelihood)), draw(arrays((c,), floats(-4, 0)))


@given(case=bayes_case())
def test_bayes_posterior_and_marginal_match_central_differences_first_and_second_order(case):
    log_lik, log_prior = case
    for fn in (A.bayes_posterior, A.log_marginal):
        assert mg.gradcheck(fn, [leaf(log_lik), leaf(log_prior)])
        assert mg.gradgradcheck(fn, [leaf(log_lik), leaf(log_prior)])


@given(case=bayes_case())
def test_bayes_posterior_is_a_distribution_over_labels_equal_to_the_joint_over_the_marginal(case):
    log_lik, log_prior = case
    posterior = A.bayes_posterior(leaf(log_lik), leaf(log_prior)).numpy()            # (N, C)
    marginal = A.log_marginal(leaf(log_lik), leaf(log_prior)).numpy()                 # (N,)
    np.testing.assert_allclose(np.exp(posterior).sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(marginal, np.logaddexp.reduce(log_lik + log_prior, axis=1), rtol=1e-12, atol=1e-12)
    # Bayes' rule as written: log p(y | x) = log p(x | y) + log p(y) - log p(x)
    np.testing.assert_allclose(posterior, log_lik + log_prior - marginal[:, None], rtol=1e-10, atol=1e-10)


def test_bayes_posterior_of_likelihoods_hundreds_of_nats_down_in_float32_is_finite_and_exact():
    log_lik = mg.tensor([[-500.0, -501.0, -900.0]], dtype="float32", requires_grad=True)
    prior = mg.tensor(np.log([0.5, 0.25, 0.25]), dtype="float32")
    posterior = A.bayes_posterior(log_lik, prior)
    # p(y | x) proportional to p(y) e^{log p(x | y)}: 0.5 : 0.25 e^{-1} : ~0
    expected = np.array([0.5, 0.25 * math.exp(-1), 0.0])
    np.testing.assert_allclose(np.exp(posterior.numpy()[0]), expected / expected.sum(), rtol=1e-5, atol=1e-30)
    assert A.log_marginal(log_lik, prior).item() == pytest.approx(-500 + math.log(0.5 + 0.25 * math.exp(-1)),
                                                                  rel=1e-6)
    posterior[:, 0].sum().backward()
    assert np.all(np.isfinite(log_lik.grad.numpy()))

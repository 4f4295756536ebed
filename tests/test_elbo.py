"""The VAE objectives (minigen/objectives/elbo.py): derivatives, closed forms, and the theory.

- every function gradchecked to first and second order in float64 against central differences,
  on broadcasting shapes with size-1 sides, Bernoulli logits anywhere in [-1000, 1000];
- the analytic KL against a Monte-Carlo estimate, and the general KL against the standard one;
- reparameterised draws have the right mean and variance, and gradients reach mu and log-variance;
- the IWAE bound: k = 1 is the ELBO in expectation, it does not decrease with k, stays below log p(x);
- a linear-Gaussian VAE, whose marginal p(x) = N(b, W W^T + s^2 I) is known: with the exact
  posterior as q, the ELBO equals log p(x) (every importance weight does); with another q the
  IWAE estimate converges to log p(x) as k grows; completions (``impute``) are draws from the
  exact Gaussian conditional of the hidden values given the kept ones, even with a poor encoder.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import strategies as S
from minigen.objectives import elbo as E


def leaf(values):
    return mg.tensor(values, dtype="float64", requires_grad=True)


def const(values):
    return mg.tensor(values, dtype="float64")


@st.composite
def latent_shapes(draw, count):
    """``count`` shapes that broadcast together, each with at least one (the latent) axis."""
    shapes = draw(S.broadcastable_shapes(count=count, min_dims=1, max_dims=3))
    return tuple(s if s else (1,) for s in shapes)


def check_both_orders(fn, tensors):
    assert mg.gradcheck(fn, tensors)
    assert mg.gradgradcheck(fn, tensors)


# ----- gradients, first and second order -----
@given(data=st.data())
def test_reparameterize_matches_central_differences_first_and_second_order(data):
    shapes = data.draw(latent_shapes(3))
    mu, log_var, eps = (leaf(data.draw(S.arrays(s))) for s in shapes)
    check_both_orders(E.reparameterize, [mu, log_var, eps])


@given(data=st.data())
def test_gaussian_kl_matches_central_differences_first_and_second_order(data):
    shapes = data.draw(latent_shapes(4))
    tensors = [leaf(data.draw(S.arrays(s))) for s in shapes]
    check_both_orders(E.gaussian_kl, tensors)


@given(data=st.data())
def test_kl_standard_normal_matches_central_differences_first_and_second_order(data):
    shapes = data.draw(latent_shapes(2))
    mu, log_var = (leaf(data.draw(S.arrays(s))) for s in shapes)
    check_both_orders(E.kl_standard_normal, [mu, log_var])


@given(data=st.data())
def test_gaussian_log_density_matches_central_differences_first_and_second_order(data):
    shapes = data.draw(latent_shapes(3))
    z, mu, log_var = (leaf(data.draw(S.arrays(s))) for s in shapes)
    check_both_orders(E.gaussian_log_density, [z, mu, log_var])
    check_both_orders(E.standard_normal_log_density, [z])


def logits(shape, bound=1000.0):
    """float64 logits of ``shape``: moderate ones and huge ones up to |bound|, both signs."""
    moderate = S.floats(-30, 30)
    huge = st.floats(100, bound, allow_nan=False).flatmap(lambda v: st.sampled_from([v, -v]))
    return S.arrays(shape, st.one_of(moderate, huge))


def binary(shape):
    return S.arrays(shape, st.sampled_from([0.0, 1.0]))


@given(data=st.data())
def test_bernoulli_log_likelihood_matches_central_differences_with_logits_up_to_1e3(data):
    shape = data.draw(S.shapes(min_dims=1, max_dims=4))
    l, x = leaf(data.draw(logits(shape))), const(data.draw(binary(shape)))
    check_both_orders(lambda l: E.bernoulli_log_likelihood(l, x), [l])


@given(data=st.data())
def test_bernoulli_log_likelihood_is_the_sum_of_log_sigmoid_terms_and_finite_at_1e3(data):
    shape = data.draw(S.shapes(min_dims=1, max_dims=4))
    l, x = data.draw(logits(shape)), data.draw(binary(shape))
    log_sigmoid = -np.logaddexp(0, -l)                     # log sigmoid(l); log(1 - sigmoid(l)) = log sigmoid(-l)
    expected = (x * log_sigmoid + (1 - x) * (-np.logaddexp(0, l))).reshape(shape[0], -1).sum(1)
    got = E.bernoulli_log_likelihood(const(l), const(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)
    confident = mg.tensor([[1000.0, -1000.0]], requires_grad=True)       # float32, sure and right
    right = E.bernoulli_log_likelihood(confident, mg.tensor([[1.0, 0.0]]))
    wrong = E.bernoulli_log_likelihood(confident, mg.tensor([[0.0, 1.0]]))
    (g,) = mg.grad(wrong.sum(), confident)
    assert right.item() == 0.0 and wrong.item() == -2000.0
    np.testing.assert_array_equal(g.numpy(), [[-1.0, 1.0]])


@given(data=st.data(), floored=st.booleans())
def test_gaussian_log_likelihood_matches_central_differences_with_a_learned_floored_variance(data, floored):
    shape = data.draw(S.shapes(min_dims=1, max_dims=3))
    lv_shape = shape[data.draw(st.integers(0, len(shape))):]        # broadcasts: per pixel, per image...
    x, mean = leaf(data.draw(S.arrays(shape))), leaf(data.draw(S.arrays(shape)))
    floor = 0.3
    # log-variances on both sides of the floor, never within 0.1 of it (the kink of the max)
    log_var = leaf(floor + data.draw(S.nonzero_arrays(lv_shape)))
    fn = (lambda x, m, lv: E.gaussian_log_likelihood(x, m, lv, min_log_var=floor)) if floored \
        else E.gaussian_log_likelihood
    check_both_orders(fn, [x, mean, log_var])


@given(data=st.data())
def test_gaussian_log_likelihood_closed_form_fixed_variance_and_floor(data):
    shape = data.draw(S.shapes(min_dims=1, max_dims=3))
    x, m = data.draw(S.arrays(shape)), data.draw(S.arrays(shape))
    lv = data.draw(S.floats(-3, 2))
    per_pixel = -0.5 * (math.log(2 * math.pi) + lv + (x - m) ** 2 / math.exp(lv))
    expected = per_pixel.reshape(shape[0], -1).sum(1)
    np.testing.assert_allclose(E.gaussian_log_likelihood(const(x), const(m), lv).numpy(), expected, rtol=1e-12)
    floored = E.gaussian_log_likelihood(const(x), const(m), lv, min_log_var=lv + 1.0).numpy()
    at_floor = E.gaussian_log_likelihood(const(x), const(m), lv + 1.0).numpy()
    np.testing.assert_allclose(floored, at_floor, rtol=1e-12)


@given(data=st.data(), beta=S.floats(0.0, 2.0))
def test_elbo_matches_central_differences_and_is_loglik_minus_beta_kl(data, beta):
    n = data.draw(st.integers(1, 6))
    ll, kl = leaf(data.draw(S.arrays((n,)))), leaf(data.draw(S.arrays((n,))))
    check_both_orders(lambda a, b: E.elbo(a, b, beta), [ll, kl])
    np.testing.assert_allclose(E.elbo(ll, kl, beta).numpy(), ll.numpy() - beta * kl.numpy(), rtol=1e-12, atol=1e-15)


@given(data=st.data(), beta=S.floats(0.0, 2.0))
def test_log_importance_weights_match_central_differences_first_and_second_order(data, beta):
    k, n, d = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    ll = leaf(data.draw(S.arrays((k, n))))
    z = leaf(data.draw(S.arrays((k, n, d))))
    mu, log_var = leaf(data.draw(S.arrays((n, d)))), leaf(data.draw(S.arrays((n, d))))
    check_both_orders(lambda *t: E.log_importance_weights(*t, beta=beta), [ll, z, mu, log_var])


@given(data=st.data())
def test_iwae_bound_matches_central_differences_with_log_weights_up_to_1e3(data):
    shape = data.draw(S.shapes(min_dims=1, max_dims=2))
    log_w = leaf(data.draw(logits(shape)))
    check_both_orders(E.iwae_bound, [log_w])
    expected = np.logaddexp.reduce(log_w.numpy(), axis=0) - math.log(shape[0])
    # the bound is a difference of two terms of size |log w| and log k: when they cancel (log w = 0,
    # the bound 0) a relative tolerance alone would ask for exactness; allow an ulp-level error of the terms
    scale = np.abs(log_w.numpy()).max(axis=0) + math.log(shape[0]) + 1
    np.testing.assert_array_less(np.abs(E.iwae_bound(log_w).numpy() - expected), 1e-12 * scale)


def test_kl_weight_warms_up_linearly_to_beta_and_stays():
    assert [E.kl_weight(s, 1.0, 4) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert E.kl_weight(0, 0.5, 0) == E.kl_weight(10**6, 0.5, 0) == 0.5
    assert E.kl_weight(1, 2.0, 4) == 1.0


# ----- closed forms and Monte Carlo -----
@given(data=st.data())
def test_general_kl_against_the_standard_normal_is_the_standard_kl(data):
    shape = data.draw(S.shapes(min_dims=1, max_dims=3))
    mu, lv = const(data.draw(S.arrays(shape))), const(data.draw(S.arrays(shape)))
    zeros = const(np.zeros(shape[-1:]))
    np.testing.assert_allclose(E.gaussian_kl(mu, lv, zeros, zeros).numpy(),
                               E.kl_standard_normal(mu, lv).numpy(), rtol=1e-12, atol=1e-14)


def test_analytic_kl_agrees_with_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    mu_q, lv_q = np.array([0.5, -1.0, 0.0]), np.array([-0.5, 0.3, -1.2])
    mu_p, lv_p = np.array([0.0, 0.5, -0.3]), np.array([0.2, -0.4, 0.0])
    n = 200_000
    z = const(mu_q + np.exp(0.5 * lv_q) * rng.standard_normal((n, 3)))
    # KL = E_q[log q(z) - log p(z)]: the sample mean, within 4 standard errors
    diff = (E.gaussian_log_density(z, const(mu_q), const(lv_q)) -
            E.gaussian_log_density(z, const(mu_p), const(lv_p))).numpy()
    kl = E.gaussian_kl(const(mu_q), const(lv_q), const(mu_p), const(lv_p)).item()
    assert abs(diff.mean() - kl) < 4 * diff.std() / math.sqrt(n)
    prior = (E.gaussian_log_density(z, const(mu_q), const(lv_q)) - E.standard_normal_log_density(z)).numpy()
    standard = E.kl_standard_normal(const(mu_q), const(lv_q)).item()
    assert abs(prior.mean() - standard) < 4 * prior.std() / math.sqrt(n)


def test_standard_normal_log_density_is_the_density_with_mean_0_and_variance_1():
    z = const(np.random.default_rng(1).normal(size=(5, 4)))
    np.testing.assert_allclose(E.standard_normal_log_density(z).numpy(),
                               E.gaussian_log_density(z, const(np.zeros(4)), const(np.zeros(4))).numpy(), rtol=1e-14)


def test_reparameterised_draws_have_the_right_mean_and_variance_and_gradients_reach_mu_and_log_var():
    n = 100_000
    mu, log_var = leaf([1.5, -2.0]), leaf([0.4, -1.0])
    eps = const(np.random.default_rng(2).standard_normal((n, 2)))
    z = E.reparameterize(mu, log_var, eps)                          # (n, 2)
    draws, sigma = z.numpy(), np.exp(0.5 * log_var.numpy())
    np.testing.assert_allclose(draws.mean(0), mu.numpy(), atol=4 * sigma.max() / math.sqrt(n))
    np.testing.assert_allclose(draws.var(0), sigma ** 2, rtol=4 * math.sqrt(2 / n))
    g_mu, g_lv = mg.grad(z.sum(), [mu, log_var])
    np.testing.assert_allclose(g_mu.numpy(), [n, n])                  # dz/dmu = 1 per draw
    np.testing.assert_allclose(g_lv.numpy(), 0.5 * sigma * eps.numpy().sum(0), rtol=1e-12)   # dz/dlv = sigma eps / 2


# ----- a linear-Gaussian VAE, whose p(x) is known -----
D, LATENT, NOISE_STD = 5, 2, 0.6


def linear_gaussian():
    """p(z) = N(0, I_2), p(x | z) = N(W z + b, s^2 I_5), W with orthogonal columns (so that the
    exact posterior is a diagonal Gaussian, which q can equal), and one observed x."""
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(D, LATENT)))
    w = q * np.array([2.0, 0.7])                                    # W^T W = diag(4, 0.49)
    b = rng.normal(size=D)
    x = b + w @ np.array([0.8, -1.3]) + NOISE_STD * rng.normal(size=D)
    return w, b, x


def exact_log_marginal(w, b, x):
    """log N(x; b, W W^T + s^2 I)."""
    cov = w @ w.T + NOISE_STD ** 2 * np.eye(D)
    diff = x - b
    _, logdet = np.linalg.slogdet(cov)
    return -0.5 * (D * math.log(2 * math.pi) + logdet + diff @ np.linalg.solve(cov, diff))


def exact_posterior(w, b, x):
    """p(z | x) = N(S W^T (x - b) / s^2, S), S = (I + W^T W / s^2)^-1 (diagonal here): (mu, log_var)."""
    s2 = NOISE_STD ** 2
    precision = 1.0 + (w * w).sum(0) / s2                           # the diagonal of I + W^T W / s^2
    mu = (w.T @ (x - b)) / s2 / precision
    return mu, -np.log(precision)


def log_weights(w, b, x, mu, log_var, k, reps, seed):
    """log w for k draws from q = N(mu, e^log_var), ``reps`` independent sets: (k, reps)."""
    eps = const(np.random.default_rng(seed).standard_normal((k, reps, LATENT)))
    mu_t, lv_t = const(np.tile(mu, (reps, 1))), const(np.tile(log_var, (reps, 1)))   # (reps, 2)
    z = E.reparameterize(mu_t, lv_t, eps)                           # (k, reps, 2)
    mean = z @ const(w.T) + const(b)                                # (k, reps, 5)
    ll = E.gaussian_log_likelihood(mean.reshape(k * reps, D), const(np.tile(x, (k * reps, 1))),
                                   2 * math.log(NOISE_STD)).reshape(k, reps)
    return E.log_importance_weights(ll, z, mu_t, lv_t)


def test_with_the_exact_posterior_every_weight_and_the_elbo_equal_log_p_x():
    w, b, x = linear_gaussian()
    truth = exact_log_marginal(w, b, x)
    mu, lv = exact_posterior(w, b, x)
    # p(x, z) / p(z | x) = p(x) for every z: each log weight is log p(x), so is their mean, the ELBO
    np.testing.assert_allclose(log_weights(w, b, x, mu, lv, k=7, reps=3, seed=0).numpy(), truth, rtol=1e-12)
    # and the ELBO in closed form: E_q log N(x; Wz + b, s^2 I) - KL(q || N(0, I)), with
    # E_q ||x - W z - b||^2 = ||x - W mu - b||^2 + tr(W diag(e^lv) W^T)
    s2 = NOISE_STD ** 2
    expected_sq = ((x - w @ mu - b) ** 2).sum() + ((w * w).sum(0) * np.exp(lv)).sum()
    expected_ll = -0.5 * (D * math.log(2 * math.pi * s2) + expected_sq / s2)
    bound = E.elbo(const([expected_ll]), E.kl_standard_normal(const([mu]), const([lv]))).item()
    assert bound == pytest.approx(truth, rel=1e-12)


def test_with_another_q_the_iwae_estimate_rises_towards_log_p_x_as_k_grows():
    w, b, x = linear_gaussian()
    truth = exact_log_marginal(w, b, x)
    mu, lv = exact_posterior(w, b, x)
    mu, lv = mu + np.array([0.6, -0.4]), lv + np.array([0.8, -0.5])   # a worse sketcher, wider and off-centre
    reps = 400
    gaps = []
    for k in (1, 4, 32, 256, 4096):
        bounds = E.iwae_bound(log_weights(w, b, x, mu, lv, k, reps, seed=k)).numpy()   # (reps,)
        gaps.append(truth - bounds.mean())
        assert gaps[-1] > -3 * bounds.std() / math.sqrt(reps)      # below log p(x), up to the noise
    # L_1 is the ELBO: its mean is the closed form E_q log p(x | z) - KL
    s2 = NOISE_STD ** 2
    expected_sq = ((x - w @ mu - b) ** 2).sum() + ((w * w).sum(0) * np.exp(lv)).sum()
    closed_elbo = -0.5 * (D * math.log(2 * math.pi * s2) + expected_sq / s2) - \
        E.kl_standard_normal(const([mu]), const([lv])).item()
    l1 = E.iwae_bound(log_weights(w, b, x, mu, lv, 1, 100_000, seed=9)).numpy()
    assert abs(l1.mean() - closed_elbo) < 4 * l1.std() / math.sqrt(len(l1))
    assert gaps[0] > 0.5                                            # a loose ELBO to start from
    assert all(a > abs(c) for a, c in zip(gaps, gaps[1:]))         # the gap shrinks with every k
    assert abs(gaps[-1]) < 0.01                                     # k = 4096: log p(x) to 0.01 nats


def test_the_iwae_bound_does_not_decrease_with_k_on_a_fixed_model():
    # One model, one x: the mean of L_k over many sets of draws for k = 1, 2, 3, 5, 8.
    w, b, x = linear_gaussian()
    mu, lv = exact_posterior(w, b, x)
    mu, lv = mu + 1.0, lv + 1.0
    reps = 20_000
    bounds = [E.iwae_bound(log_weights(w, b, x, mu, lv, k, reps, seed=100 + k)).numpy() for k in (1, 2, 3, 5, 8)]
    for small, large in zip(bounds, bounds[1:]):
        se = math.sqrt(small.var() / reps + large.var() / reps)
        assert large.mean() - small.mean() > 3 * se                  # clearly larger, beyond the noise


def impute_linear_gaussian(w, b, x, keep, chains, steps, proposals, seed, ignore_x=False):
    """E.impute on the linear-Gaussian VAE: ``chains`` chains from the given values of x where keep.
    The encoder is a poor one on purpose (a fixed map of x, too wide): the chain must correct it.
    ``ignore_x``: a broken likelihood (0 for every z), to prove the test can tell."""
    rng = np.random.default_rng(seed)
    normal = lambda shape: const(rng.standard_normal(shape))                 # noqa: E731
    uniform = lambda shape: const(rng.random(shape))                         # noqa: E731
    encode = lambda v: (v[:, :LATENT] * 0.3, mg.zeros(v.shape[0], LATENT, dtype="float64"))   # noqa: E731
    decode = lambda z: z @ const(w.T) + const(b)                             # noqa: E731: the means (N, D)
    s2 = NOISE_STD ** 2
    log_likelihood = (lambda out, v: mg.zeros(v.shape[0], dtype="float64")) if ignore_x else \
        (lambda out, v: E.gaussian_log_likelihood(out, v, math.log(s2)))    # noqa: E731
    draw = lambda out: out + NOISE_STD * normal(out.shape)                   # noqa: E731
    mask = np.broadcast_to(keep, (chains, D))
    start = const(np.where(mask, x, 0.0))
    filled, _ = E.impute(start, mask, encode, decode, log_likelihood, draw, steps, normal, uniform, proposals)
    return filled.numpy()[:, ~keep]


def test_impute_draws_from_the_exact_conditional_of_a_linear_gaussian_vae():
    # p(x) = N(b, C), C = W W^T + s^2 I: the hidden values given the kept ones are Gaussian with
    # mean b_h + C_hk C_kk^-1 (x_k - b_k) and covariance C_hh - C_hk C_kk^-1 C_kh.
    w, b, x = linear_gaussian()
    keep = np.array([True, False, True, False, True])
    cov = w @ w.T + NOISE_STD ** 2 * np.eye(D)
    h, k = ~keep, keep
    gain = cov[np.ix_(h, k)] @ np.linalg.inv(cov[np.ix_(k, k)])
    mean = b[h] + gain @ (x[k] - b[k])
    covariance = cov[np.ix_(h, h)] - gain @ cov[np.ix_(k, h)]
    chains = 4000
    for proposals in (2, 8):                                          # Barker's MH step, and more tries
        draws = impute_linear_gaussian(w, b, x, keep, chains, steps=60, proposals=proposals, seed=proposals)
        se = np.sqrt(np.diag(covariance) / chains)
        np.testing.assert_array_less(np.abs(draws.mean(0) - mean), 5 * se)
        np.testing.assert_allclose(np.cov(draws.T), covariance, rtol=0.15, atol=0.15 * np.abs(covariance).max())
    # a chain that ignores how well a code explains x draws from the marginal instead: caught
    wrong = impute_linear_gaussian(w, b, x, keep, chains, steps=60, proposals=8, seed=3, ignore_x=True)
    assert np.abs(wrong.mean(0) - mean).max() > 10 * se.max()

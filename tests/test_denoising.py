"""The denoising objective (minigen/objectives/denoising.py): derivatives and exact identities.

- every function of the file gradchecked (first and second order) in float64 against central
  differences, x of 1-4 dims and the levels abar broadcasting against it (size-1 dims, 0-d);
- the schedules: the closed form q(x_t | x_0) equals iterating q(x_t | x_{t-1}) (mean and
  variance computed exactly), for the linear and the cosine schedule and any pair of levels;
- the posterior q(x_s | x_t, x_0) is Bayes' rule: its log-density differs from
  log q(x_t | x_s) + log q(x_s | x_0) by a constant in x_s;
- the variational bound's term is vlb_weight * ||eps - eps_theta||^2;
- DDIM with eta = 1 is DDPM's step (variance and draw), with eta = 0 it needs no noise;
  clipping keeps x^_0 in range and leaves an in-range prediction alone;
- classifier-free guidance: the mixing formula on fixed numbers, W = 0 the conditional eps
  exactly, gradchecked (first and second order, W a tensor too); it is the score of
  p(x | y) p(y | x)^W for Gaussian classes; the label's dropout happens at the rate asked;
- reconstruction guidance: its loss and its moved x^_0 gradchecked (first and second order, any
  keep pattern, abar and w broadcasting); the loss is half the squared error on the kept pixels
  only; x~_0 is the x_0 that the guided noise eps + w abar / sqrt(1 - abar) grad L implies;
- the reverse process (``reverse``), with the exact noise predictor of Gaussian data: DDPM and
  DDIM reproduce the data; DDIM is deterministic; inpainting keeps the given values, resampling
  takes each step U times; reconstruction guidance moves a hidden coordinate toward its
  conditional mean and leaves sampling without known values alone.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import strategies as S
from minigen.objectives import denoising as D


def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), dtype="float64", requires_grad=True)


@st.composite
def noised(draw):
    """(x0, eps, x_t, abar_t, abar_s) as float64 arrays: x of 1-4 dims, the levels of a shape
    that broadcasts against it, 0.05 <= abar_t < abar_s <= 0.97 elementwise."""
    x_shape, a_shape = draw(S.broadcastable_shapes(count=2, min_dims=1, max_dims=4))
    x_shape = np.broadcast_shapes(x_shape, a_shape)       # x holds the full shape
    x0, eps, x_t = (draw(S.arrays(x_shape)) for _ in range(3))
    abar_t = draw(S.arrays(a_shape, S.floats(0.05, 0.9)))
    abar_s = abar_t + (0.97 - abar_t) * draw(S.arrays(a_shape, S.floats(0.1, 1.0)))
    return x0, eps, x_t, abar_t, abar_s


# ----- gradients -----
FUNCTIONS = {  # name: (fn of the drawn tensors x0, eps, x_t, abar_t, abar_s)
    "q_sample": lambda x0, eps, x_t, a, b: D.q_sample(x0, eps, a),
    "posterior_mean": lambda x0, eps, x_t, a, b: D.posterior(x0, x_t, a, b)[0],
    "posterior_variance": lambda x0, eps, x_t, a, b: D.posterior(x0, x_t, a, b)[1],
    "predict_x0": lambda x0, eps, x_t, a, b: D.predict_x0(x_t, eps, a),
    "predict_eps": lambda x0, eps, x_t, a, b: D.predict_eps(x_t, x0, a),
    "score": lambda x0, eps, x_t, a, b: D.score(eps, a),
    "simple_loss": lambda x0, eps, x_t, a, b: D.simple_loss(x_t, eps),
    "vlb_weight": lambda x0, eps, x_t, a, b: D.vlb_weight(a, b, D.posterior(x0, x_t, a, b)[1]),
    "ddim_sigma": lambda x0, eps, x_t, a, b: D.ddim_sigma(a, b, 0.7),
    "ddpm_step": lambda x0, eps, x_t, a, b: D.ddpm_step(x_t, eps, a, b, noise=x0),
    "ddim_step_eta_0": lambda x0, eps, x_t, a, b: D.ddim_step(x_t, eps, a, b),
    "ddim_step_eta_0.5": lambda x0, eps, x_t, a, b: D.ddim_step(x_t, eps, a, b, noise=x0, eta=0.5),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@given(drawn=noised())
def test_every_function_matches_central_differences_first_and_second_order(name, drawn):
    tensors = [leaf(a) for a in drawn]
    assert mg.gradcheck(FUNCTIONS[name], tensors)
    assert mg.gradgradcheck(FUNCTIONS[name], tensors)


@st.composite
def clipped_case(draw):
    """x0 with every entry clear of the clip bounds +-1 (|x0| in [0.1, 0.9] or [1.1, 2]),
    eps, and levels: the noise prediction that made x_t is exact, so x^_0 = x0."""
    shape = draw(S.shapes(min_dims=1, max_dims=3))
    magnitude = draw(S.arrays(shape, st.one_of(S.floats(0.1, 0.9), S.floats(1.1, 2.0))))
    sign = np.where(draw(S.arrays(shape, S.floats(-1, 1))) < 0, -1.0, 1.0)
    eps = draw(S.arrays(shape))
    abar_t = draw(S.floats(0.05, 0.9))
    return sign * magnitude, eps, np.array(abar_t), np.array(abar_t + (0.97 - abar_t) * 0.5)


@pytest.mark.parametrize("step", ["ddpm", "ddim"])
@given(drawn=clipped_case())
def test_clipped_steps_match_central_differences_away_from_the_bounds(step, drawn):
    def fn(x0, eps, a, b):
        x_t = D.q_sample(x0, eps, a)
        if step == "ddpm":
            return D.ddpm_step(x_t, eps, a, b, noise=eps, clip=(-1.0, 1.0))
        return D.ddim_step(x_t, eps, a, b, clip=(-1.0, 1.0))

    tensors = [leaf(a) for a in drawn]
    assert mg.gradcheck(fn, tensors)
    assert mg.gradgradcheck(fn, tensors)


# ----- the schedules -----
SCHEDULES = {"linear T=1000": D.schedule("linear", 1000), "linear T=100 1e-3..0.2": D.schedule("linear", 100, 1e-3, 0.2),
             "cosine T=1000": D.schedule("cosine", 1000), "cosine T=50": D.schedule("cosine", 50)}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_closed_form_of_q_xt_given_x0_equals_iterating_the_chain(name):
    bars = SCHEDULES[name]
    x0 = 1.7
    mean, var = x0, 0.0                      # x_0 is known: a point mass
    for t in range(1, len(bars)):
        beta = 1 - bars[t] / bars[t - 1]     # the step's beta_t
        mean, var = math.sqrt(1 - beta) * mean, (1 - beta) * var + beta   # one step of q(x_t | x_{t-1})
        closed_mean = D.q_sample(mg.tensor(x0, dtype="float64"), mg.tensor(0.0, dtype="float64"),
                                 mg.tensor(bars[t], dtype="float64")).item()
        assert closed_mean == pytest.approx(mean, rel=1e-12, abs=1e-300)
        assert 1 - bars[t] == pytest.approx(var, rel=1e-12)    # the closed form's variance


def test_linear_betas_run_from_start_to_end_and_cosine_starts_clean_and_ends_in_noise():
    betas = D.linear_betas(1000)
    assert betas[0] == 1e-4 and betas[-1] == pytest.approx(0.02, rel=1e-15) and len(betas) == 1000
    assert np.all(np.diff(betas) > 0)
    bars = D.cosine_alpha_bars(1000)
    assert bars[0] == 1.0 and len(bars) == 1001 and np.all(np.diff(bars) < 0)
    assert bars[-1] < 1e-6 and bars[1] > 0.9999                 # the cosine: gentle at the start
    assert 1 - bars[-1] / bars[-2] == pytest.approx(0.999)      # its last beta is capped
    assert D.schedule("linear", 1000) == D.alpha_bars_from_betas(betas)
    with pytest.raises(ValueError, match="unknown kind"):
        D.schedule("quadratic", 10)
    with pytest.raises(ValueError, match="beta_start"):
        D.linear_betas(10, 0.5, 0.1)


@pytest.mark.parametrize("T, K", [(1000, 50), (100, 100), (100, 7), (10, 1)])
def test_timesteps_start_at_T_decrease_strictly_and_have_K_levels(T, K):
    levels = D.timesteps(T, K)
    assert levels[0] == T and len(levels) == K and levels[-1] >= 1
    assert all(a > b for a, b in zip(levels, levels[1:]))
    if K == T:
        assert levels == list(range(T, 0, -1))
    with pytest.raises(ValueError, match="--sample-steps"):
        D.timesteps(T, T + 1)


# ----- the posterior is Bayes' rule -----
def log_normal(x, mean, var):
    return -0.5 * np.log(2 * np.pi * var) - (x - mean) ** 2 / (2 * var)


@given(x0=S.floats(-2, 2), x_t=S.floats(-2, 2), abar_t=S.floats(0.05, 0.9), u=S.floats(0.1, 1.0))
def test_posterior_is_bayes_rule(x0, x_t, abar_t, u):
    abar_s = abar_t + (0.97 - abar_t) * u
    t64 = lambda v: mg.tensor(v, dtype="float64")                       # noqa: E731
    mean, var = (v.item() for v in D.posterior(t64(x0), t64(x_t), t64(abar_t), t64(abar_s)))
    # q(x_s | x_t, x_0) is proportional in x_s to q(x_t | x_s) q(x_s | x_0):
    #   q(x_t | x_s) = N(sqrt(abar_t / abar_s) x_s, 1 - abar_t / abar_s),  q(x_s | x_0) = N(sqrt(abar_s) x_0, 1 - abar_s)
    grid = np.linspace(-3, 3, 13)
    joint = (log_normal(x_t, np.sqrt(abar_t / abar_s) * grid, 1 - abar_t / abar_s)
             + log_normal(grid, np.sqrt(abar_s) * x0, 1 - abar_s))
    gap = joint - log_normal(grid, mean, var)                           # the log-evidence: constant in x_s
    np.testing.assert_allclose(gap, gap[0], rtol=0, atol=1e-9 * max(1.0, abs(gap[0])))
    # and the constant is log q(x_t | x_0) = log N(x_t; sqrt(abar_t) x_0, 1 - abar_t)
    assert gap[0] == pytest.approx(log_normal(x_t, np.sqrt(abar_t) * x0, 1 - abar_t), rel=1e-9, abs=1e-9)


@given(drawn=noised())
def test_the_bounds_term_is_vlb_weight_times_the_squared_noise_error(drawn):
    x0, eps, eps_theta, abar_t, abar_s = (mg.tensor(a, dtype="float64") for a in drawn)
    x_t = D.q_sample(x0, eps, abar_t)
    true_mean, var = D.posterior(x0, x_t, abar_t, abar_s)
    model_mean, _ = D.posterior(D.predict_x0(x_t, eps_theta, abar_t), x_t, abar_t, abar_s)
    kl = ((true_mean - model_mean) ** 2 / (2 * var)).numpy()          # KL of equal-variance Gaussians
    weighted = (D.vlb_weight(abar_t, abar_s, var) * (eps - eps_theta) ** 2).numpy()
    np.testing.assert_allclose(kl, weighted, rtol=1e-9, atol=1e-12)


def test_the_simple_loss_is_the_mean_squared_error_and_refuses_other_shapes():
    a, b = mg.tensor([[1.0, 2.0], [3.0, 4.0]]), mg.tensor([[0.0, 2.0], [1.0, 8.0]])
    assert D.simple_loss(a, b).item() == pytest.approx((1 + 0 + 4 + 16) / 4)
    with pytest.raises(ValueError, match=r"simple_loss: the prediction has shape \(2, 2\), the noise \(4,\)"):
        D.simple_loss(a, b.reshape(4))


def test_the_optimal_predictor_gives_the_score_of_the_noised_gaussian():
    # data N(mu, s^2): q_t = N(sqrt(abar) mu, abar s^2 + 1 - abar), whose score is -(x - m) / v
    mu, s2, abar = 0.7, 0.3, 0.4
    x = np.linspace(-2, 2, 9)
    v = abar * s2 + 1 - abar
    eps_star = (x - math.sqrt(abar) * mu) * math.sqrt(1 - abar) / v
    got = D.score(mg.tensor(eps_star, dtype="float64"), mg.tensor(abar, dtype="float64")).numpy()
    np.testing.assert_allclose(got, -(x - math.sqrt(abar) * mu) / v, rtol=1e-12)


# ----- DDIM against DDPM -----
@given(drawn=noised())
def test_ddim_with_eta_1_is_the_ddpm_step_and_its_variance(drawn):
    x0, eps, x_t, abar_t, abar_s = (mg.tensor(a, dtype="float64") for a in drawn)
    noise = x0
    _, variance = D.posterior(x0, x_t, abar_t, abar_s)
    sigma = D.ddim_sigma(abar_t, abar_s, 1.0)
    np.testing.assert_allclose((sigma * sigma).numpy(), variance.numpy(), rtol=1e-12)
    np.testing.assert_allclose(D.ddim_step(x_t, eps, abar_t, abar_s, noise, eta=1.0).numpy(),
                               D.ddpm_step(x_t, eps, abar_t, abar_s, noise).numpy(), rtol=1e-10, atol=1e-12)


@given(drawn=noised())
def test_ddim_with_eta_0_needs_no_noise_and_keeps_the_predicted_x0(drawn):
    x0, eps, x_t, abar_t, abar_s = (mg.tensor(a, dtype="float64") for a in drawn)
    x_s = D.ddim_step(x_t, eps, abar_t, abar_s)
    # the step moves along the line of its own prediction: x_s implies the same x^_0 and eps
    np.testing.assert_allclose(D.predict_x0(x_s, eps, abar_s).numpy(),
                               D.predict_x0(x_t, eps, abar_t).numpy(), rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="pass noise"):
        D.ddim_step(x_t, eps, abar_t, abar_s, eta=0.5)


def test_a_last_step_to_level_0_returns_the_prediction_itself():
    x_t, eps, abar_t = mg.tensor([0.3, -1.2]), mg.tensor([0.5, 0.1]), mg.tensor(0.6)
    one = mg.tensor(1.0)
    x0 = D.predict_x0(x_t, eps, abar_t).numpy()
    np.testing.assert_allclose(D.ddpm_step(x_t, eps, abar_t, one, noise=mg.tensor([9.0, 9.0])).numpy(), x0, rtol=1e-6)
    np.testing.assert_allclose(D.ddim_step(x_t, eps, abar_t, one).numpy(), x0, rtol=1e-6)


def test_clipping_keeps_the_prediction_in_range_and_leaves_an_in_range_one_alone():
    abar_t, abar_s = mg.tensor(0.5, dtype="float64"), mg.tensor(0.8, dtype="float64")
    x0 = mg.tensor([3.0, -0.5, -4.0], dtype="float64")
    eps = mg.tensor([0.2, 0.1, -0.3], dtype="float64")
    x_t = D.q_sample(x0, eps, abar_t)
    # to level 0 the DDIM step is x^_0: clipped to [-1, 1], the middle one untouched
    np.testing.assert_allclose(D.ddim_step(x_t, eps, abar_t, mg.tensor(1.0, dtype="float64"), clip=(-1, 1)).numpy(),
                               [1.0, -0.5, -1.0], rtol=1e-12)
    inside = mg.tensor([0.9, -0.5, 0.0], dtype="float64")
    x_in = D.q_sample(inside, eps, abar_t)
    for step in (lambda c: D.ddim_step(x_in, eps, abar_t, abar_s, clip=c),
                 lambda c: D.ddpm_step(x_in, eps, abar_t, abar_s, noise=eps, clip=c)):
        np.testing.assert_allclose(step((-1, 1)).numpy(), step(None).numpy(), rtol=1e-12)


# ----- classifier-free guidance -----
@st.composite
def guided(draw):
    """(eps_cond, eps_uncond, W) float64 arrays of shapes that broadcast together (size-1, 0-d)."""
    a, b, w = draw(S.broadcastable_shapes(count=3, min_dims=1, max_dims=4))
    return draw(S.arrays(a)), draw(S.arrays(b)), draw(S.arrays(w, S.floats(0.0, 4.0)))


@given(drawn=guided())
def test_guided_eps_matches_central_differences_first_and_second_order(drawn):
    tensors = [leaf(a) for a in drawn]
    assert mg.gradcheck(D.guided_eps, tensors)
    assert mg.gradgradcheck(D.guided_eps, tensors)


def test_guided_eps_mixes_with_one_plus_w_and_minus_w_and_w_0_is_the_conditional_eps():
    cond, uncond = mg.tensor([1.0, 2.0, -0.5]), mg.tensor([3.0, 5.0, 0.5])
    np.testing.assert_array_equal(D.guided_eps(cond, uncond, 2.0).numpy(), [3 * 1 - 2 * 3, 3 * 2 - 2 * 5, 3 * -0.5 - 1.0])
    np.testing.assert_array_equal(D.guided_eps(cond, uncond, 0.0).numpy(), cond.numpy())
    np.testing.assert_array_equal(D.guided_eps(cond, uncond, -1.0).numpy(), uncond.numpy())   # W = -1: unconditional


@given(x=S.floats(-3, 3), abar=S.floats(0.05, 0.95), w=S.floats(0.0, 4.0))
def test_guidance_is_the_score_of_the_class_times_the_implicit_classifier_to_the_power_w(x, abar, w):
    # two classes of 1-D Gaussian data, N(-1, s^2) and N(+1, s^2), equally likely; at level t
    # each is N(+-sqrt(abar), v), v = abar s^2 + 1 - abar. The exact eps of class y, of the
    # mixture (no label), guided; against -sqrt(1 - abar) times the score of
    # p_t(x | y) p_t(y | x)^W computed from the densities by central differences.
    s2, y, h = 0.3, 1, 1e-5
    v = abar * s2 + 1 - abar
    means = np.array([-1.0, 1.0]) * math.sqrt(abar)

    def log_class(x, k):
        return log_normal(x, means[k], v)

    def log_mixture(x):
        return np.logaddexp(log_class(x, 0), log_class(x, 1)) + math.log(0.5)

    def log_guided(x):            # log p(x | y) + W log p(y | x), p(y | x) = p(x | y) p(y) / p(x)
        return log_class(x, y) + w * (log_class(x, y) + math.log(0.5) - log_mixture(x))

    eps_cond = (x - means[y]) * math.sqrt(1 - abar) / v
    r = np.exp(np.array([log_class(x, 0), log_class(x, 1)]) + math.log(0.5) - log_mixture(x))   # p(k | x)
    eps_uncond = float(((x - means) * math.sqrt(1 - abar) / v * r).sum())
    got = D.guided_eps(mg.tensor(eps_cond, dtype="float64"), mg.tensor(eps_uncond, dtype="float64"), w).item()
    score = (log_guided(x + h) - log_guided(x - h)) / (2 * h)
    assert got == pytest.approx(-math.sqrt(1 - abar) * score, rel=1e-6, abs=1e-6)


def test_drop_labels_drops_at_the_rate_asked_and_keeps_the_other_labels():
    mg.manual_seed(0)
    n, null = 20000, 10
    labels = mg.tensor(np.arange(n) % 10, dtype="int64")
    for p in (0.0, 0.1, 0.2, 0.5):
        u = mg.rand(n)
        dropped = D.drop_labels(labels, u, p, null).numpy()
        is_null = dropped == null
        # the share dropped is within 4 standard errors of p (exactly 0 for p = 0)
        assert abs(is_null.mean() - p) <= 4 * math.sqrt(p * (1 - p) / n), (p, is_null.mean())
        np.testing.assert_array_equal(is_null, u.numpy() < p)       # exactly where the draw fell under p
        np.testing.assert_array_equal(dropped[~is_null], labels.numpy()[~is_null])
        assert dropped.dtype == np.int64
    with pytest.raises(ValueError, match=r"p_uncond: the label's dropout rate must be in \[0, 1\), got 1.5"):
        D.drop_labels(labels, u, 1.5, null)
    with pytest.raises(ValueError, match="the draws have shape"):
        D.drop_labels(labels, mg.rand(3), 0.1, null)


# ----- reconstruction guidance -----
@st.composite
def reconstruction_case(draw):
    """(x0, known, grad, abar, w) float64 arrays and keep, a boolean array: x of 1-4 dims (size-1
    dims too), abar and w of shapes that broadcast against it, 0.05 <= abar <= 0.95."""
    x_shape, a_shape, w_shape = draw(S.broadcastable_shapes(count=3, min_dims=1, max_dims=4))
    x_shape = np.broadcast_shapes(x_shape, a_shape, w_shape)
    x0, known, grad = (draw(S.arrays(x_shape)) for _ in range(3))
    keep = draw(S.arrays(x_shape, S.floats(-1.0, 1.0))) < 0
    return x0, known, grad, draw(S.arrays(a_shape, S.floats(0.05, 0.95))), draw(S.arrays(w_shape, S.floats(0.0, 20.0))), keep


@given(drawn=reconstruction_case())
def test_reconstruction_loss_and_guided_x0_match_central_differences_first_and_second_order(drawn):
    *arrays, keep = drawn
    x0, known, grad, abar, w = (leaf(a) for a in arrays)
    for fn, tensors in ((lambda a, b: D.reconstruction_loss(a, b, keep), [x0, known]),
                        (D.reconstruction_guided_x0, [x0, grad, abar, w])):
        assert mg.gradcheck(fn, tensors)
        assert mg.gradgradcheck(fn, tensors)


def test_reconstruction_loss_is_half_the_squared_error_on_the_kept_pixels_only():
    x0 = mg.tensor([[1.0, 2.0], [3.0, -1.0]], dtype="float64")
    known = mg.tensor([[0.5, 9.0], [0.0, 1.0]], dtype="float64")
    keep = np.array([[True, False], [False, True]])
    assert D.reconstruction_loss(x0, known, keep).item() == 0.5 * (0.5 ** 2 + 2.0 ** 2)
    assert D.reconstruction_loss(x0, known, np.zeros((2, 2), bool)).item() == 0.0
    with pytest.raises(ValueError, match="reconstruction_loss: x\\^_0 has shape"):
        D.reconstruction_loss(x0, known[0], keep)


@given(drawn=noised(), w=S.floats(0.0, 20.0))
def test_the_guided_x0_is_the_x0_implied_by_the_guided_noise(drawn, w):
    # eps~ = eps + w abar / sqrt(1 - abar) grad L (the score of q(x_t) q(known | x_t), Gaussian
    # approximation) and x~_0 = x^_0 - w sqrt(abar) grad L are the same step (the file's docstring)
    x0, eps, grad, abar, _ = (mg.tensor(a, dtype="float64") for a in drawn)
    x_t = D.q_sample(x0, eps, abar)
    guided_eps = eps + w * abar / (1 - abar).sqrt() * grad
    np.testing.assert_allclose(D.reconstruction_guided_x0(D.predict_x0(x_t, eps, abar), grad, abar, w).numpy(),
                               D.predict_x0(x_t, guided_eps, abar).numpy(), rtol=1e-10, atol=1e-10)


# ----- the reverse process (DDPM, DDIM, inpainting), with the exact noise predictor of Gaussian data -----
MU, S_DATA = np.array([1.5, -0.5]), 0.5


def exact_eps(alpha_bars):
    """eps*(x_t, t) = (x_t - sqrt(abar_t) mu) sqrt(1 - abar_t) / (abar_t s^2 + 1 - abar_t): the best
    noise predictor for data N(mu, s^2 I)."""
    mu = mg.tensor(MU, dtype="float64")

    def eps_fn(x, t):
        abar = alpha_bars[t]
        return (x - math.sqrt(abar) * mu) * (math.sqrt(1 - abar) / (abar * S_DATA ** 2 + 1 - abar))
    return eps_fn


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_both_samplers_with_the_optimal_predictor_reproduce_gaussian_data(sampler):
    # every level of a cosine schedule of T = 1000: the discretisation error is 0.3-0.8% of the
    # variance (computed exactly for this linear-Gaussian chain), under a third of the standard
    # error of 8,000 values' variance (1.6%)
    bars = D.schedule("cosine", 1000)
    n = 4000
    gen = np.random.default_rng(7)

    def noise(shape):
        return mg.tensor(gen.standard_normal(shape), dtype="float64")

    x = noise((n, 2))
    out = D.reverse(exact_eps(bars), x, bars, D.timesteps(1000, 1000), sampler, noise)[-1].numpy()
    mean_se = S_DATA / math.sqrt(n)
    np.testing.assert_array_less(np.abs(out.mean(0) - MU), 3 * mean_se)
    var = ((out - out.mean(0)) ** 2).mean()                 # both coordinates: 2n values
    var_se = S_DATA ** 2 * math.sqrt(2 / (2 * n))
    assert abs(var - S_DATA ** 2) < 3 * var_se, (var, S_DATA ** 2)


def test_ddim_is_deterministic_given_its_starting_noise_and_draws_no_noise():
    bars = D.schedule("linear", 100, 1e-3, 0.2)
    x = mg.tensor(np.random.default_rng(0).standard_normal((50, 2)), dtype="float64")
    a = D.reverse(exact_eps(bars), x, bars, D.timesteps(100, 20), "ddim", noise=None)[-1].numpy()
    b = D.reverse(exact_eps(bars), x, bars, D.timesteps(100, 20), "ddim", noise=None)[-1].numpy()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="--sampler: must be ddpm or ddim"):
        D.reverse(exact_eps(bars), x, bars, [100], "euler")


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_resampling_takes_each_inpainting_step_u_times_and_keeps_the_given_values(sampler):
    bars = D.schedule("cosine", 40)
    gen = np.random.default_rng(3)
    calls = []

    def eps_fn(x, t):
        calls.append(t)
        return exact_eps(bars)(x, t)

    def noise(shape):
        return mg.tensor(gen.standard_normal(shape), dtype="float64")

    known = mg.tensor(np.tile([0.25, -0.75], (6, 1)), dtype="float64")
    keep = np.tile([True, False], (6, 1))
    levels = D.timesteps(40, 8)
    out = D.reverse(eps_fn, noise((6, 2)), bars, levels, sampler, noise, known=known, keep=keep,
                    resample=3)[-1].numpy()
    # U = 3 passes at every level but the last step's (to level 0, where nothing is noised back)
    assert calls == [t for t in levels[:-1] for _ in range(3)] + [levels[-1]]
    np.testing.assert_array_equal(out[:, 0], 0.25)
    calls.clear()
    D.reverse(eps_fn, noise((6, 2)), bars, levels, sampler, noise, resample=3)   # no inpainting: once
    assert calls == levels


RHO = 0.9
SIGMA = S_DATA ** 2 * np.array([[1.0, RHO], [RHO, 1.0]])


def exact_correlated_eps(alpha_bars):
    """eps*(x_t, t) = sqrt(1 - abar_t) (abar_t Sigma + (1 - abar_t) I)^-1 (x_t - sqrt(abar_t) mu): the
    best noise predictor for data N(mu, Sigma), two coordinates of correlation RHO (differentiable in x)."""
    mu = mg.tensor(MU, dtype="float64")

    def eps_fn(x, t):
        abar = alpha_bars[t]
        inverse = np.linalg.inv(abar * SIGMA + (1 - abar) * np.eye(2)) * math.sqrt(1 - abar)
        return (x - math.sqrt(abar) * mu) @ mg.tensor(inverse, dtype="float64")
    return eps_fn


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_reconstruction_guidance_moves_the_hidden_coordinate_toward_its_conditional_mean(sampler):
    # correlated Gaussian data, x_0 = k given: the hidden x_1 should average mu_1 + RHO (k - mu_0) =
    # -1.4. Replacement alone (w = 0) stops near -1.1 (the network sees k only through the noisy
    # draws of it); w = 1, 2 move the average toward -1.4, every pixel of x_0 kept as given
    bars = D.schedule("cosine", 100)
    n, k = 4000, 0.5
    target = MU[1] + RHO * (k - MU[0])
    known = mg.tensor(np.tile([k, 0.0], (n, 1)), dtype="float64")
    keep = np.tile([True, False], (n, 1))
    misses = []
    for w in (0.0, 1.0, 2.0):
        gen = np.random.default_rng(0)

        def noise(shape):
            return mg.tensor(gen.standard_normal(shape), dtype="float64")

        with mg.no_grad():
            out = D.reverse(exact_correlated_eps(bars), noise((n, 2)), bars, D.timesteps(100, 50), sampler,
                            noise, known=known, keep=keep, reconstruction=w)[-1].numpy()
        np.testing.assert_array_equal(out[:, 0], k)
        misses.append(abs(out[:, 1].mean() - target))       # its standard error: under 0.005
    assert misses[0] > 0.2 and misses[0] > misses[1] + 0.1 > misses[2] + 0.2, misses


def test_reconstruction_guidance_leaves_sampling_without_known_pixels_alone():
    bars = D.schedule("cosine", 40)
    runs = []
    for w in (0.0, 5.0):
        gen = np.random.default_rng(1)

        def noise(shape):
            return mg.tensor(gen.standard_normal(shape), dtype="float64")

        runs.append(D.reverse(exact_correlated_eps(bars), noise((8, 2)), bars, D.timesteps(40, 10), "ddpm",
                              noise, reconstruction=w)[-1].numpy())
    np.testing.assert_array_equal(runs[0], runs[1])

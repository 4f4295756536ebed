"""The GAN objectives (minigen/objectives/minimax.py): derivatives, stability, and the theory.

- every loss gradchecked (first and second order) in float64 against central differences,
  for batch sizes 1-8 and logits anywhere in [-1000, 1000];
- in float32 at |logit| = 1000 every loss and gradient is finite and equal to its limit;
- the saturating generator gradient vanishes when D wins, the non-saturating one does not;
- the optimal discriminator D* = p / (p + q) is a stationary point of V, with
  V(D*) = -log 4 + 2 JSD(p || q);
- the gradient penalty: exact on a linear critic, and its gradient with respect to the
  critic's weights (double backward through Linear, LeakyReLU and Conv2d) matches central
  differences.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
from minigen import nn
from minigen.objectives import minimax as M

ONE_SIDED = [M.generator_loss_saturating, M.generator_loss_nonsaturating, M.wasserstein_generator_loss,
             M.log_sigmoid]
TWO_SIDED = [M.value_function, M.discriminator_loss, M.critic_loss]


def logits(size, bound=1000.0):
    """float64 logits in [-bound, bound]: moderate ones and huge ones, both signs."""
    moderate = st.floats(-30, 30, allow_nan=False, allow_subnormal=False)
    huge = st.floats(100, bound, allow_nan=False).flatmap(lambda v: st.sampled_from([v, -v]))
    return st.lists(st.one_of(moderate, huge), min_size=size, max_size=size).map(np.array)


def leaf(values, dtype="float64"):
    return mg.tensor(values, dtype=dtype, requires_grad=True)




@pytest.mark.parametrize("fn", ONE_SIDED, ids=lambda f: f.__name__)
@given(data=st.data(), n=st.integers(1, 8))
def test_one_sided_losses_match_central_differences_first_and_second_order(fn, data, n):
    x = leaf(data.draw(logits(n)))
    assert mg.gradcheck(fn, [x])
    assert mg.gradgradcheck(fn, [x])


@pytest.mark.parametrize("fn", TWO_SIDED, ids=lambda f: f.__name__)
@given(data=st.data(), n=st.integers(1, 8), m=st.integers(1, 8))
def test_two_sided_losses_match_central_differences_first_and_second_order(fn, data, n, m):
    real, fake = leaf(data.draw(logits(n))), leaf(data.draw(logits(m)))
    assert mg.gradcheck(fn, [real, fake])
    assert mg.gradgradcheck(fn, [real, fake])


def sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))  # 1 / (1 + e^-x), accurate in both tails


@given(real=logits(6), fake=logits(5))
def test_values_and_gradients_equal_the_closed_forms(real, fake):
    # V = mean log D(x) + mean log(1 - D(G(z))); log sigmoid(l) = -logaddexp(0, -l)
    r, f = leaf(real), leaf(fake)
    expected_v = -np.logaddexp(0, -real).mean() - np.logaddexp(0, fake).mean()
    assert M.value_function(r, f).item() == pytest.approx(expected_v, rel=1e-12, abs=1e-12)
    assert M.discriminator_loss(r, f).item() == pytest.approx(-expected_v, rel=1e-12, abs=1e-12)
    # dloss/dl per sample: saturating -sigmoid(l)/N, non-saturating -(1 - sigmoid(l))/N = -sigmoid(-l)/N
    (g_sat,) = mg.grad(M.generator_loss_saturating(f), f)
    (g_ns,) = mg.grad(M.generator_loss_nonsaturating(f), f)
    np.testing.assert_allclose(g_sat.numpy(), -sigmoid(fake) / len(fake), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(g_ns.numpy(), -sigmoid(-fake) / len(fake), rtol=1e-12, atol=1e-300)
    # WGAN: mean f(G(z)) - mean f(x) and -mean f(G(z))
    assert M.critic_loss(r, f).item() == pytest.approx(fake.mean() - real.mean(), rel=1e-12, abs=1e-9)
    assert M.wasserstein_generator_loss(f).item() == pytest.approx(-fake.mean(), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_logits_give_finite_losses_and_the_right_limits(dtype):
    confident = leaf([1000.0, -1000.0], dtype)     # D sure: the first is real, the second fake
    loss = M.discriminator_loss(confident[0:1], confident[1:2])   # D is right about both: loss 0
    (g,) = mg.grad(loss, confident)
    assert loss.item() == 0.0 and np.all(g.numpy() == 0.0)
    wrong = M.discriminator_loss(confident[1:2], confident[0:1])  # sure and wrong: loss 2000
    (g,) = mg.grad(wrong, confident)
    assert wrong.item() == pytest.approx(2000.0) and np.allclose(g.numpy(), [1.0, -1.0])
    for fn in ONE_SIDED + TWO_SIDED:
        args = (confident,) if fn in ONE_SIDED else (confident, confident)
        out = fn(*args)
        grads = mg.grad(out.sum(), list(dict.fromkeys(args)))
        assert np.all(np.isfinite(out.numpy())), fn.__name__
        assert all(np.all(np.isfinite(g.numpy())) for g in grads), fn.__name__


def test_the_saturating_gradient_vanishes_when_d_wins_and_the_nonsaturating_one_does_not():
    rejected = leaf([-1000.0, -20.0, -5.0], "float32")      # D(G(z)) = sigmoid(l): ~0, 2e-9, 7e-3
    (g_sat,) = mg.grad(M.generator_loss_saturating(rejected), rejected)
    (g_ns,) = mg.grad(M.generator_loss_nonsaturating(rejected), rejected)
    n = 3
    np.testing.assert_allclose(g_sat.numpy(), -sigmoid(np.array([-1000.0, -20.0, -5.0])) / n, rtol=1e-5)
    assert g_sat.numpy()[0] == 0.0 and abs(g_sat.numpy()[1]) < 1e-9      # vanished
    np.testing.assert_allclose(g_ns.numpy(), [-1 / n, -1 / n, -(1 - 0.0066929) / n], rtol=1e-4)
    # and both push the same way (toward "real") wherever they are not zero
    accepted = leaf([0.0, 3.0], "float64")
    (a,) = mg.grad(M.generator_loss_saturating(accepted), accepted)
    (b,) = mg.grad(M.generator_loss_nonsaturating(accepted), accepted)
    assert np.all(a.numpy() < 0) and np.all(b.numpy() < 0)


def test_the_optimal_discriminator_is_p_over_p_plus_q_and_gives_minus_log_4_plus_2_jsd():
    # three points; real samples drawn with p = (1/2, 1/4, 1/4), fakes with q = (1/4, 1/4, 1/2),
    # written out as equally weighted samples so that the means in V are the expectations
    p, q = np.array([0.5, 0.25, 0.25]), np.array([0.25, 0.25, 0.5])
    real_idx, fake_idx = np.array([0, 0, 1, 2]), np.array([0, 1, 2, 2])
    d_star = p / (p + q)
    theta = leaf(np.log(d_star / (1 - d_star)))               # one logit per point
    v = M.value_function(theta[real_idx], theta[fake_idx])
    m = (p + q) / 2
    jsd = 0.5 * (p * np.log(p / m)).sum() + 0.5 * (q * np.log(q / m)).sum()
    assert v.item() == pytest.approx(-math.log(4) + 2 * jsd, rel=1e-12)
    (g,) = mg.grad(v, theta)
    np.testing.assert_allclose(g.numpy(), 0.0, atol=1e-15)    # stationary: D* maximises V
    for step in ([0.1, 0, 0], [0, -0.2, 0], [0, 0, 0.3]):      # and any move lowers V
        moved = mg.tensor(theta.numpy() + np.array(step), dtype="float64")
        assert M.value_function(moved[real_idx], moved[fake_idx]).item() < v.item()
    # when p = q, D* = 1/2 everywhere and V = -log 4
    half = mg.tensor(np.zeros(4), dtype="float64")
    assert M.value_function(half, half).item() == pytest.approx(-math.log(4), rel=1e-15)


def test_the_gradient_penalty_of_a_linear_critic_is_its_slope_minus_one_squared():
    critic = nn.Linear(3, 1).double()
    w = critic.weight.numpy().ravel()
    real = mg.tensor(np.random.default_rng(1).normal(size=(7, 3)), dtype="float64")
    fake = mg.tensor(np.random.default_rng(2).normal(size=(7, 3)), dtype="float64")
    gp = M.gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx((np.linalg.norm(w) - 1) ** 2, rel=1e-9)


def test_interpolates_lie_between_real_and_fake_and_want_a_gradient():
    real = mg.tensor(np.ones((4, 1, 2, 2)), dtype="float64")
    fake = mg.tensor(np.zeros((4, 1, 2, 2)), dtype="float64", requires_grad=True)
    alpha = mg.tensor([0.0, 0.25, 0.5, 1.0], dtype="float64")
    x_hat = M.interpolates(real, fake, alpha)
    assert x_hat.requires_grad and x_hat._ctx is None          # a fresh leaf, cut from G's graph
    np.testing.assert_allclose(x_hat.numpy()[:, 0, 0, 0], [0.0, 0.25, 0.5, 1.0])
    drawn = M.interpolates(real, fake).numpy()                   # a ~ U[0, 1], one per sample
    a = drawn[:, 0, 0, 0]
    assert np.all((a >= 0) & (a <= 1)) and np.all(drawn == a[:, None, None, None])


class ConvCritic(nn.Module):
    """Conv2d -> LeakyReLU -> Linear: images (N, 1, 4, 4) -> (N,)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, stride=2, padding=1)
        self.act = nn.LeakyReLU(0.2)
        self.fc = nn.Linear(2 * 2 * 2, 1)

    def forward(self, x):
        h = self.act(self.conv(x))                                   # (N, 2, 2, 2)
        return self.fc(h.reshape(x.shape[0], -1)).reshape(x.shape[0])


def mlp_critic():
    return nn.Sequential(nn.Linear(3, 6), nn.LeakyReLU(0.2), nn.Linear(6, 5), nn.LeakyReLU(0.2), nn.Linear(5, 1))


@pytest.mark.parametrize("make, shape", [(mlp_critic, (3,)), (ConvCritic, (1, 4, 4))], ids=["mlp", "conv"])
@given(seed=st.integers(0, 2**16), n=st.integers(1, 5))
def test_gradient_penalty_gradient_wrt_critic_weights_matches_central_differences(make, shape, seed, n):
    mg.manual_seed(seed)
    critic = make().double()
    rng = np.random.default_rng(seed)
    real = mg.tensor(rng.normal(size=(n,) + shape), dtype="float64")
    fake = mg.tensor(rng.normal(size=(n,) + shape), dtype="float64")
    alpha = mg.tensor(rng.uniform(size=n), dtype="float64")
    params = list(critic.parameters())

    def penalty(*_):  # gradcheck nudges the parameters in place; the critic reads them
        return M.gradient_penalty(critic, real, fake, alpha)

    assert mg.gradcheck(penalty, params, atol=1e-6, rtol=1e-5)


def test_losses_table_pairs_each_kind_with_its_two_losses():
    assert M.LOSSES["minimax"] == (M.discriminator_loss, M.generator_loss_saturating)
    assert M.LOSSES["nonsaturating"] == (M.discriminator_loss, M.generator_loss_nonsaturating)
    assert M.LOSSES["wgan-gp"] == (M.critic_loss, M.wasserstein_generator_loss)

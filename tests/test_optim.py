"""Optimizers, clipping, the schedule and EMA: closed-form values, torch.optim, resumed runs.

Gradients are mostly set by hand (p.grad = ...) so that these tests check the update
rules, not the autograd engine; a couple of tests run backward() to check the wiring.
"""
import ast
import math
import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
from minigen import checkpoint, optim


def leaf(values, dtype="float64", device="cpu"):
    # a copy: mg.tensor may share a NumPy array's memory, and updates run in place
    return mg.tensor(np.array(values), requires_grad=True, dtype=dtype, device=device)


def set_grad(p, values):
    p.grad = mg.tensor(values, dtype=p.dtype, device=p.device)


def run_quadratic(opt, p, a, steps):
    """Minimise 0.5 * sum(a * p^2) (gradient a * p) for ``steps`` steps; the iterates."""
    out = []
    for _ in range(steps):
        set_grad(p, a * p.numpy())
        opt.step()
        out.append(p.numpy().copy())
    return out


# ----- SGD: closed forms -----
def test_sgd_plain_is_geometric_on_a_quadratic():
    # x <- x - lr * a * x = (1 - lr a) x, so x_t = (1 - lr a)^t x_0
    a = np.array([1.0, 0.5, 4.0])
    x0 = np.array([1.0, -2.0, 0.5])
    p = leaf(x0)
    xs = run_quadratic(optim.SGD([p], lr=0.1), p, a, 4)
    for t, x in enumerate(xs, start=1):
        np.testing.assert_allclose(x, (1 - 0.1 * a) ** t * x0, rtol=1e-14)


@pytest.mark.parametrize("shape", [(300, 301), (70000,), (5, 1, 20000)])
def test_sgd_updates_a_large_parameter_block_by_block_exactly(shape):
    # p -= lr * g runs in blocks of rows (a small temporary); every entry gets the same update
    rng = np.random.default_rng(0)
    p0, g = rng.standard_normal(shape), rng.standard_normal(shape)
    p = leaf(p0)
    p.grad = mg.tensor(g, dtype="float64")
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.numpy(), p0 - g * 0.1)
    np.testing.assert_array_equal(p.grad.numpy(), g)          # the gradient is not written to


def test_sgd_momentum_hand_computed():
    # x0 = 1, g = x, lr = 0.1, mu = 0.9
    # step 1: b = 1,                  x = 1 - 0.1       = 0.9
    # step 2: b = 0.9 * 1 + 0.9 = 1.8,  x = 0.9 - 0.18   = 0.72
    # step 3: b = 0.9 * 1.8 + 0.72 = 2.34, x = 0.72 - 0.234 = 0.486
    p = leaf([1.0])
    xs = run_quadratic(optim.SGD([p], lr=0.1, momentum=0.9), p, np.array([1.0]), 3)
    np.testing.assert_allclose(np.concatenate(xs), [0.9, 0.72, 0.486], rtol=1e-14)


def test_sgd_weight_decay_and_momentum_hand_computed():
    # g' = g + 0.5 x = 1.5 x (g = x), lr = 0.1
    # no momentum: x <- 0.85 x;  with mu = 0.9: step 1 b = 1.5, x = 0.85;
    # step 2 g' = 1.275, b = 0.9 * 1.5 + 1.275 = 2.625, x = 0.85 - 0.2625 = 0.5875
    p = leaf([1.0])
    xs = run_quadratic(optim.SGD([p], lr=0.1, weight_decay=0.5), p, np.array([1.0]), 2)
    np.testing.assert_allclose(np.concatenate(xs), [0.85, 0.85 ** 2], rtol=1e-14)
    p = leaf([1.0])
    xs = run_quadratic(optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5), p, np.array([1.0]), 2)
    np.testing.assert_allclose(np.concatenate(xs), [0.85, 0.5875], rtol=1e-14)


# ----- Adam / AdamW: closed forms -----
def adam_reference(x0, a, steps, lr, b1, b2, eps, wd=0.0, decoupled=False):
    """The textbook formulas on Python floats, one coordinate at a time."""
    result = []
    for x, ai in zip(x0, a):
        m = v = 0.0
        xs = []
        for t in range(1, steps + 1):
            g = ai * x
            if decoupled:
                x = x - lr * wd * x
            else:
                g = g + wd * x
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            x = x - lr * m_hat / (math.sqrt(v_hat) + eps)
            xs.append(x)
        result.append(xs)
    return np.array(result).T  # (steps, coordinates)


def test_adam_first_step_moves_every_coordinate_by_lr():
    # bias correction makes m_hat = g and v_hat = g^2 on step 1: x1 = x0 - lr g / (|g| + eps)
    p = leaf([1.0, -2.0, 0.5])
    run_quadratic(optim.Adam([p], lr=0.1), p, np.array([1.0, 0.5, 4.0]), 1)
    g = np.array([1.0, -1.0, 2.0])
    np.testing.assert_allclose(p.numpy(), [1.0, -2.0, 0.5] - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)


def test_adam_second_step_hand_computed():
    # x0 = 1, g = x, lr 0.1, betas (0.9, 0.999), eps 0 -> x1 = 0.9; g2 = 0.9
    # m = 0.9 * 0.1 + 0.1 * 0.9 = 0.18, m_hat = 0.18 / 0.19
    # v = 0.999 * 0.001 + 0.001 * 0.81 = 0.001809, v_hat = 0.001809 / 0.001999
    p = leaf([1.0])
    xs = run_quadratic(optim.Adam([p], lr=0.1, eps=0.0), p, np.array([1.0]), 2)
    expected = 0.9 - 0.1 * (0.18 / 0.19) / math.sqrt(0.001809 / 0.001999)
    np.testing.assert_allclose(np.concatenate(xs), [0.9, expected], rtol=1e-13)


@pytest.mark.parametrize("cls, wd, decoupled", [(optim.Adam, 0.0, False), (optim.Adam, 0.3, False),
                                                (optim.AdamW, 0.3, True)])
def test_adam_matches_textbook_formula_for_several_steps(cls, wd, decoupled):
    a, x0 = np.array([1.0, 0.5, 4.0]), np.array([1.0, -2.0, 0.5])
    p = leaf(x0)
    xs = run_quadratic(cls([p], lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=wd), p, a, 6)
    expected = adam_reference(x0, a, 6, 0.05, 0.8, 0.99, 1e-6, wd, decoupled)
    np.testing.assert_allclose(np.stack(xs), expected, rtol=1e-12, atol=1e-15)


def test_adamw_decay_is_decoupled_and_adam_l2_is_not():
    # x0 = 1, g = 1 (held fixed), lr 0.1, decay 0.1, first step:
    # AdamW: x = 1 * (1 - 0.01) - 0.1 * 1 / 1 = 0.89
    # Adam (L2): g' = 1.1, the step is lr * g' / |g'| = 0.1 -> 0.9: the decay vanished
    for cls, expected in [(optim.AdamW, 0.89), (optim.Adam, 0.9)]:
        p = leaf([1.0])
        set_grad(p, [1.0])
        cls([p], lr=0.1, eps=0.0, weight_decay=0.1).step()
        np.testing.assert_allclose(p.numpy(), [expected], rtol=1e-14)
    assert optim.AdamW([leaf([1.0])]).weight_decay == 0.01  # PyTorch's default


# ----- against torch.optim -----
TORCH_CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, betas=(0.85, 0.99), weight_decay=0.2)),
]


@pytest.mark.parametrize("name, kwargs", TORCH_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(TORCH_CASES)])
def test_matches_torch_optim_for_20_steps(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    q = rng.standard_normal((4, 4))
    A = q @ q.T + np.eye(4)  # a positive definite quadratic 0.5 W A W^T - c . W, plus a bias term
    c = rng.standard_normal((3, 4))
    w0, b0 = rng.standard_normal((3, 4)), rng.standard_normal(3)
    ours = [leaf(w0), leaf(b0)]
    theirs = [torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)]
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)

    def grads(w, b, step):
        return [w @ A - c, np.sin(b) + step * 0.01]

    for step in range(20):  # each run follows its own iterates: no re-synchronisation
        for p, g in zip(ours, grads(ours[0].numpy(), ours[1].numpy(), step)):
            set_grad(p, g)
        for tp, g in zip(theirs, grads(theirs[0].detach().numpy(), theirs[1].detach().numpy(), step)):
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_matches_torch_on_a_model_trained_with_backward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    w0, b0 = rng.standard_normal((1, 3)), np.zeros(1)
    w, b = leaf(w0), leaf(b0)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt, topt = optim.AdamW([w, b], lr=0.05), torch.optim.AdamW([tw, tb], lr=0.05)
    X, Y = mg.tensor(x, dtype="float64"), mg.tensor(y, dtype="float64")
    for _ in range(20):
        loss = ((X @ w.T + b - Y) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        tloss = ((torch.tensor(x) @ tw.T + tb - torch.tensor(y)) ** 2).mean()
        tloss.backward()
        topt.step()
        topt.zero_grad()
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b.numpy(), tb.detach().numpy(), rtol=1e-6, atol=1e-8)


# ----- behaviour shared by every optimizer -----
ALL = [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
       lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.01),
       lambda ps: optim.AdamW(ps, lr=0.01)]
ALL_IDS = ["SGD", "Adam", "AdamW"]


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_float32_parameters_keep_float32_state_and_grads_are_untouched(make):
    p = leaf(np.ones((2, 3)), dtype="float32")
    opt = make([p])
    grad = mg.tensor(np.full((2, 3), 0.5), dtype="float32")
    p.grad = grad
    before = grad.numpy().copy()
    opt.step()
    opt.step()
    assert p.dtype == np.float32
    for key, value in opt.state[0].items():
        if key != "step":
            assert value.dtype == np.float32, key
    np.testing.assert_array_equal(grad.numpy(), before)  # updates never write into .grad


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_parameters_without_grad_are_skipped_and_zero_grad_clears(make):
    p, q = leaf([1.0, 2.0]), leaf([3.0])
    opt = make([p, q])
    set_grad(p, [1.0, 1.0])
    opt.step()
    np.testing.assert_array_equal(q.numpy(), [3.0])
    assert opt.state[1] == {}
    assert not np.array_equal(p.numpy(), [1.0, 2.0])
    opt.zero_grad()
    assert p.grad is None and q.grad is None
    set_grad(p, [1.0, 1.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])


def test_step_runs_a_closure_and_returns_its_loss():
    p = leaf([2.0])
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(p.numpy(), [1.0])  # 2 - 0.25 * 4


def test_a_shared_parameter_is_updated_once():
    p = leaf([1.0])
    opt = optim.SGD([p, p], lr=0.5)
    set_grad(p, [1.0])
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.5])
    assert len(opt.params) == 1


def test_bad_arguments_raise_clear_errors():
    p = leaf([1.0])
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([p], lr=-1.0)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(TypeError, match="not a minigen Tensor"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="groups"):
        optim.SGD({"params": [p]}, lr=0.1)


def test_optim_imports_neither_numpy_nor_cupy():
    # updates use the parameter's own array module, so the same code runs on CuPy
    tree = ast.parse(pathlib.Path(optim.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"numpy", "cupy"}


# ----- state dicts: a resumed run continues with identical numbers -----
def grad_at(p, step):
    """A deterministic, non-trivial gradient (float32, like training)."""
    x = p.numpy()
    return (np.cos(x * (step + 1)) + 0.1 * x).astype(np.float32)


def train(params, opt, sched, ema, steps, start):
    for step in range(start, start + steps):
        for p in params:
            set_grad(p, grad_at(p, step))
        opt.step()
        sched.step()
        ema.update()


class Stand(object):
    """A stand-in with the interface nn.Module provides (named_parameters, parameters,
    state_dict, load_state_dict), so these tests do not depend on minigen.nn."""

    def __init__(self, **params):
        self._params = params

    def named_parameters(self):
        return iter(self._params.items())

    def parameters(self):
        return iter(self._params.values())

    def state_dict(self):
        return dict(self._params)

    def load_state_dict(self, state):
        for name, value in state.items():
            value = value.data if isinstance(value, mg.Tensor) else value
            self._params[name].data[...] = value


def make_run(kind):
    rng = np.random.default_rng(3)
    model = Stand(**{"fc.weight": leaf(rng.standard_normal((4, 3)), dtype="float32"),
                     "fc.bias": leaf(rng.standard_normal(4), dtype="float32")})
    params = list(model.parameters())
    opt = {"SGD": lambda: optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3),
           "Adam": lambda: optim.Adam(params, lr=1e-2, weight_decay=1e-3),
           "AdamW": lambda: optim.AdamW(params, lr=1e-2)}[kind]()
    sched = optim.WarmupCosine(opt, warmup_steps=3, total_steps=10, min_lr=1e-4)
    ema = optim.EMA(model, decay=0.9)
    return model, params, opt, sched, ema


@pytest.mark.parametrize("kind", ["SGD", "Adam", "AdamW"])
def test_resumed_run_is_bit_identical_to_an_uninterrupted_one(kind, tmp_path):
    model, params, opt, sched, ema = make_run(kind)
    train(params, opt, sched, ema, 10, start=0)

    model2, params2, opt2, sched2, ema2 = make_run(kind)
    train(params2, opt2, sched2, ema2, 5, start=0)
    checkpoint.save({"model": model2.state_dict(), "optimizer": opt2.state_dict(),
                     "schedule": sched2.state_dict(), "ema": ema2.state_dict(), "step": 5},
                    tmp_path / "ckpt.npz")
    del model2, params2, opt2, sched2, ema2

    state = checkpoint.load(tmp_path / "ckpt.npz")
    model3, params3, opt3, sched3, ema3 = make_run(kind)  # fresh objects, other numbers
    model3.load_state_dict(state["model"])
    opt3.load_state_dict(state["optimizer"])
    sched3.load_state_dict(state["schedule"])
    ema3.load_state_dict(state["ema"])
    train(params3, opt3, sched3, ema3, 5, start=state["step"])

    for p, p3 in zip(params, params3):
        assert p3.dtype == np.float32
        np.testing.assert_array_equal(p.numpy(), p3.numpy())
    for key in opt.state[0]:
        np.testing.assert_array_equal(opt.state[0][key], opt3.state[0][key])
    for name in ema.shadow:
        np.testing.assert_array_equal(ema.shadow[name], ema3.shadow[name])
    assert opt.lr == opt3.lr


def test_state_dict_is_a_snapshot():
    p = leaf([1.0, 2.0])
    opt = optim.Adam([p], lr=0.1)
    set_grad(p, [1.0, -1.0])
    opt.step()
    saved = opt.state_dict()
    m = saved["state"]["0"]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(saved["state"]["0"]["exp_avg"], m)
    assert saved["state"]["0"]["step"] == 1


def test_load_state_dict_refuses_a_mismatch():
    p = leaf([1.0, 2.0])
    sgd = optim.SGD([p], lr=0.1, momentum=0.9)
    set_grad(p, [1.0, 1.0])
    sgd.step()
    with pytest.raises(ValueError, match="from SGD, not Adam"):
        optim.Adam([p]).load_state_dict(sgd.state_dict())
    with pytest.raises(ValueError, match="shape"):
        optim.SGD([leaf([1.0, 2.0, 3.0])], lr=0.1).load_state_dict(sgd.state_dict())
    with pytest.raises(ValueError, match="1 parameters"):
        optim.SGD([leaf([1.0])], lr=0.1).load_state_dict(
            {"type": "SGD", "hyper": sgd.state_dict()["hyper"], "state": {"3": {}}})


# ----- clip_grad_norm_ -----
def test_clip_grad_norm_scales_to_max_norm_and_returns_the_norm_before():
    p, q, r = leaf([3.0, 0.0]), leaf([[0.0], [4.0]]), leaf([7.0])
    set_grad(p, [3.0, 0.0])
    set_grad(q, [[0.0], [4.0]])  # total norm 5; r has no gradient
    total = optim.clip_grad_norm_([p, q, r], max_norm=1.0)
    assert isinstance(total, mg.Tensor) and total.item() == pytest.approx(5.0, rel=1e-15)
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(p.grad.numpy(), [3.0 * scale, 0.0], rtol=1e-14)
    np.testing.assert_allclose(q.grad.numpy(), [[0.0], [4.0 * scale]], rtol=1e-14)
    assert r.grad is None


def test_clip_grad_norm_leaves_small_gradients_bit_identical():
    p = leaf([0.3, -0.4])
    set_grad(p, [0.3, -0.4])
    grad = p.grad
    total = optim.clip_grad_norm_([p], max_norm=1.0)
    assert total.item() == pytest.approx(0.5)
    assert p.grad.numpy().tobytes() == grad.numpy().tobytes()   # scaled by exactly 1
    assert optim.clip_grad_norm_([leaf([1.0])], 1.0).item() == 0.0  # no gradients at all


def test_clip_grad_norm_does_not_scale_a_shared_gradient_twice():
    # (a + b).sum() gives a and b the same gradient array; in-place scaling would hit it twice
    a, b = leaf([1.0, 1.0]), leaf([1.0, 1.0])
    (a + b).sum().backward()
    total = optim.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == pytest.approx(2.0)
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.5], rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 0.5], rtol=1e-6)


def test_clip_grad_norm_survives_float32_overflow():
    # 3e20^2 overflows float32; the norm is recomputed from scaled gradients
    p = leaf([3e20, -4e20], dtype="float32")
    set_grad(p, [3e20, -4e20])
    total = optim.clip_grad_norm_([p], max_norm=5.0)
    assert total.dtype == np.float32
    np.testing.assert_allclose(total.item(), 5e20, rtol=1e-6)
    np.testing.assert_allclose(p.grad.numpy(), [3.0, -4.0], rtol=1e-6)


@given(st.lists(st.floats(-1e300, 1e300), min_size=1, max_size=6))
def test_clip_grad_norm_is_accurate_from_subnormal_to_huge_gradients(values):
    p = leaf(np.zeros(len(values)))
    set_grad(p, values)
    expected = math.hypot(*values)  # correctly rounded-ish, immune to under/overflow
    total = optim.clip_grad_norm_(p, 1.0).item()
    assert total == pytest.approx(expected, rel=1e-12, abs=1e-320)


MODERATE = st.one_of(st.just(0.0), st.floats(1e-6, 10), st.floats(-10, -1e-6))


@given(st.lists(MODERATE, min_size=1, max_size=6), st.floats(0.01, 20))
def test_clip_grad_norm_matches_torch(values, max_norm):
    torch = pytest.importorskip("torch")
    g = np.array(values)
    p, tp = leaf(np.zeros_like(g)), torch.zeros(len(g), dtype=torch.float64, requires_grad=True)
    set_grad(p, g)
    tp.grad = torch.tensor(g)
    total = optim.clip_grad_norm_(p, max_norm)
    ttotal = torch.nn.utils.clip_grad_norm_([tp], max_norm)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12, atol=1e-300)


# ----- the warmup + cosine schedule -----
def test_warmup_cosine_values_at_key_steps():
    opt = optim.SGD([leaf([1.0])], lr=1.0)
    sched = optim.WarmupCosine(opt, warmup_steps=4, total_steps=14, min_lr=0.1)
    assert opt.lr == 0.25  # set for step 0 as soon as the schedule is made
    lrs = [opt.lr] + [sched.step() for _ in range(16)]
    np.testing.assert_allclose(lrs[:4], [0.25, 0.5, 0.75, 1.0])  # warmup ends at the peak
    assert lrs[4] == 1.0  # the cosine starts at the peak
    assert lrs[9] == pytest.approx(0.55)  # halfway: (peak + min) / 2
    assert lrs[14] == lrs[16] == 0.1  # min_lr from total_steps on
    assert all(x >= y for x, y in zip(lrs[4:], lrs[5:]))
    assert sched.get_lr(6) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.2)))


def test_warmup_cosine_without_warmup_and_resuming():
    opt = optim.Adam([leaf([1.0])], lr=0.01)
    sched = optim.WarmupCosine(opt, warmup_steps=0, total_steps=10)
    assert opt.lr == 0.01
    for _ in range(3):
        sched.step()
    other = optim.WarmupCosine(optim.Adam([leaf([1.0])], lr=0.01), 0, 10)
    other.load_state_dict(sched.state_dict())
    assert other.optimizer.lr == opt.lr == sched.get_lr(3)
    with pytest.raises(ValueError, match="total_steps"):
        optim.WarmupCosine(opt, warmup_steps=5, total_steps=3)


@given(st.integers(0, 20), st.integers(1, 40), st.floats(0, 0.5), st.integers(0, 80))
def test_warmup_cosine_stays_between_min_and_peak(warmup, extra, min_frac, step):
    lr = optim.warmup_cosine(step, 1.0, warmup, warmup + extra, min_frac)
    if step < warmup:
        assert 0 < lr <= 1.0
    else:
        assert min_frac - 1e-12 <= lr <= 1.0 + 1e-12


# ----- EMA -----
def test_ema_follows_its_formula_and_swaps_weights():
    w = leaf([1.0, 2.0])
    model = Stand(w=w)
    ema = optim.EMA(model, decay=0.75)
    shadow = np.array([1.0, 2.0])
    for k in range(4):
        w.data[...] = [k * 1.0, -k * 2.0]  # pretend an optimizer moved the weights
        ema.update()
        shadow = 0.75 * shadow + 0.25 * w.numpy()
        np.testing.assert_allclose(ema.shadow["w"], shadow, rtol=1e-15)
    trained = w.numpy().copy()
    with ema.average_parameters():
        np.testing.assert_array_equal(w.numpy(), ema.shadow["w"])
    np.testing.assert_array_equal(w.numpy(), trained)  # restored after the block
    sampler = Stand(w=leaf([0.0, 0.0]))
    ema.copy_to(sampler)
    np.testing.assert_array_equal(sampler.named_parameters().__next__()[1].numpy(), ema.shadow["w"])
    assert ema.num_updates == 4


def test_ema_state_round_trip_and_mismatch(tmp_path):
    model = Stand(w=leaf(np.ones(3), dtype="float32"))
    ema = optim.EMA(model, decay=0.5)
    model.named_parameters().__next__()[1].data[...] = 3.0
    ema.update()
    checkpoint.save({"ema": ema.state_dict()}, tmp_path / "e.npz")
    ema2 = optim.EMA(Stand(w=leaf(np.zeros(3), dtype="float32")), decay=0.9)
    ema2.load_state_dict(checkpoint.load(tmp_path / "e.npz")["ema"])
    assert ema2.decay == 0.5 and ema2.num_updates == 1
    np.testing.assert_array_equal(ema2.shadow["w"], np.full(3, 2.0, np.float32))
    assert ema2.shadow["w"].dtype == np.float32
    with pytest.raises(ValueError, match="differ"):
        ema.copy_to(Stand(v=leaf([0.0, 0.0, 0.0])))


# ----- on the GPU (skipped without one) -----
@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_updates_on_the_device_match_the_cpu(make, device):
    values, grads = np.linspace(-1, 1, 6).reshape(2, 3), np.linspace(0.5, -0.5, 6).reshape(2, 3)
    results = []
    for dev in ("cpu", device):
        p = leaf(values, dtype="float32", device=dev)
        opt = make([p])
        for _ in range(3):
            set_grad(p, grads)
            opt.step()
        optim.clip_grad_norm_([p], 0.1)
        assert p.device == mg.tensor([0.0], device=dev).device
        results.append(p.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6, atol=1e-7)

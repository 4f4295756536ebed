"""How the engine behaves around the gradient: accumulation, no_grad, detach, freeing the
graph, double backward through mg.grad, dtypes."""
import gc
import weakref

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen.autograd import OpError


def f64(values, requires_grad=True, device="cpu"):
    return mg.tensor(values, dtype="float64", requires_grad=requires_grad, device=device)


# ----- accumulation -----
def test_gradients_accumulate_across_two_backward_calls(device):
    x = f64([1.0, -2.0, 3.0], device=device)
    for _ in range(2):
        (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * np.array([1.0, -2.0, 3.0]))


def test_backward_twice_through_a_retained_graph_accumulates(device):
    x = f64([0.5, 1.5], device=device)
    loss = (x.exp() * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    a = np.array([0.5, 1.5])
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.exp(a) * (1 + a)))


def test_a_tensor_used_twice_gets_the_sum_of_both_paths(device):
    x = f64([1.0, 2.0], device=device)
    (x * x + x).sum().backward()  # d/dx = 2x + 1
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])
    y = f64([1.0, 2.0], device=device)
    (y + y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [2.0, 2.0])
    z = f64([[1.0, 2.0], [3.0, 4.0]], device=device)
    (z @ z).sum().backward()  # d/dz sum(z z) = 1 z^T + z^T 1
    ones = np.ones((2, 2))
    zz = z.numpy()
    np.testing.assert_allclose(z.grad.numpy(), ones @ zz.T + zz.T @ ones)


def test_leaf_gradients_are_writable_and_never_shared(device):
    """Optimizers update .grad in place (clipping, weight decay): a leaf's gradient must be
    its own writable array, even when backward produced one array for two leaves."""
    a, b = f64([1.0, 2.0], device=device), f64([3.0, 4.0], device=device)
    (a + b).sum().backward()  # sum's backward broadcasts a read-only view; add passes it twice
    assert a.grad is not b.grad
    for t in (a, b):
        t.grad.data[...] *= 2  # would raise on a read-only (broadcast) array
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(b.grad.numpy(), [2.0, 2.0])
    c = f64([1.0, 2.0], device=device)
    g = mg.tensor([5.0, 6.0], dtype="float64", device=device)
    c.backward(g)
    c.grad.data[...] = 0
    np.testing.assert_allclose(g.numpy(), [5.0, 6.0])  # the caller's gradient was not touched


# ----- no_grad, detach -----
def test_no_grad_records_nothing_and_restores_the_mode(device):
    x = f64([1.0, 2.0], device=device)
    with mg.no_grad():
        y = (x * 2).exp().sum()
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = x * 3
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y._ctx is None
    assert z.requires_grad and z._ctx is not None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            raise ZeroDivisionError
    assert mg.is_grad_enabled()


def test_detach_shares_the_data_and_stops_the_gradient(device):
    x = f64([1.0, 2.0, 3.0], device=device)
    d = x.detach()
    assert not d.requires_grad and d._ctx is None
    assert d.data is x.data
    (d * x).sum().backward()  # only the x factor is differentiated: d/dx = d
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0, 3.0])


# ----- backward's contract -----
def test_backward_of_a_non_scalar_needs_an_explicit_gradient(device):
    x = f64([1.0, 2.0], device=device)
    y = x * 2
    with pytest.raises(ValueError, match=r"backward.*\(2,\).*grad"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad.*\(2,\)"):
        mg.grad(y, x)
    with pytest.raises(ValueError, match="shape"):
        y.backward(mg.ones(3, dtype="float64", device=device))
    y.backward(mg.tensor([1.0, 10.0], dtype="float64", device=device))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_backward_through_a_freed_graph_raises_instead_of_dropping_the_gradient(device):
    x = f64([1.0, 2.0], device=device)
    h = x * 3
    h.sum().backward()  # frees the graph h was made by
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 2).sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        mg.grad((h * h).sum(), x)
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])  # untouched by the failed calls


def test_the_graph_is_freed_by_backward(device):
    """After backward, the intermediate tensors and Functions are garbage: nothing keeps them."""
    x = f64(np.linspace(-1, 1, 6).reshape(2, 3), device=device)
    hidden = (x * 2).tanh()
    loss = (hidden * hidden).sum()
    hidden_ref, fn_ref = weakref.ref(hidden), weakref.ref(hidden._ctx)
    del hidden
    gc.collect()
    assert hidden_ref() is not None and fn_ref() is not None  # the graph holds them until backward
    loss.backward()
    assert hidden_ref() is None and fn_ref() is None  # freed by reference counting alone
    assert x.grad is not None and loss.item() > 0  # loss itself is still usable


def test_the_graph_holds_no_reference_cycles(device):
    """Functions point at their parents, never back at their outputs: dropping the loss frees
    the whole graph by reference counting alone, without gc."""
    x = f64([1.0, 2.0], device=device)
    hidden = x * x
    loss = (hidden.exp() / 3).sum()
    refs = [weakref.ref(loss._ctx), weakref.ref(loss._ctx.parents[0]), weakref.ref(hidden),
            weakref.ref(hidden._ctx)]
    gc.disable()
    try:
        del loss, hidden
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "exp"])
def test_a_node_whose_gradient_needs_only_its_output_frees_its_input_at_once(device, activation):
    """relu(x @ w + b): the pre-activation is garbage as soon as the forward pass is done
    with it (its node keeps its output instead), yet the gradient is still exact."""
    x = f64(np.linspace(-1, 1, 6).reshape(2, 3), device=device)
    w = f64(np.linspace(-2, 1, 12).reshape(3, 4), device=device)
    pre = x @ w
    pre_array = weakref.ref(pre.data) if device == "cpu" else None
    pre_ref = weakref.ref(pre)
    out = getattr(pre, activation)()
    del pre
    gc.disable()
    try:
        assert pre_ref() is None and (pre_array is None or pre_array() is None)
    finally:
        gc.enable()
    out.sum().backward()
    y = x.numpy() @ w.numpy()
    dy = {"relu": (y > 0) * 1.0, "tanh": 1 - np.tanh(y) ** 2, "exp": np.exp(y),
          "sigmoid": np.exp(-y) / (1 + np.exp(-y)) ** 2}[activation]
    np.testing.assert_allclose(w.grad.numpy(), x.numpy().T @ dy, rtol=1e-12)


def test_a_rebuilt_output_is_the_same_node_under_double_backward(device):
    """tanh's backward reads its output through a new Tensor of the kept array; under
    create_graph that tensor is part of the same node, so the second derivative is exact."""
    x = f64([0.3, -1.2], device=device)
    (g,) = mg.grad(x.tanh().sum(), x, create_graph=True)
    (h,) = mg.grad(g.sum(), x)
    t = np.tanh(x.numpy())
    np.testing.assert_allclose(h.numpy(), -2 * t * (1 - t * t), rtol=1e-12)


def test_iterating_over_a_tensor_yields_differentiable_rows(device):
    x = f64([[1.0, 2.0], [3.0, 4.0]], device=device)
    top, bottom = x  # unpacking iterates over the first axis
    np.testing.assert_array_equal(bottom.numpy(), [3.0, 4.0])
    (top * bottom).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0, 4.0], [1.0, 2.0]])
    assert [row.shape for row in x] == [(2,), (2,)]
    with pytest.raises(TypeError, match="0-d"):
        list(f64(1.0, device=device))


def test_zero_dim_tensors_have_a_backward_through_masks_and_weights(device):
    """NumPy turns 0-d results into scalars; the ops' saved masks must survive that."""
    x = f64(-0.7, device=device)
    y = f64(0.4, device=device)
    loss = x.relu() + x.abs() + x.max() + mg.maximum(x, y) + F.logsumexp(y) + F.dropout(y, 0.0)
    loss.backward()
    assert x.grad.shape == () and y.grad.shape == ()
    np.testing.assert_allclose(x.grad.item(), 0 - 1 + 1 + 0)
    np.testing.assert_allclose(y.grad.item(), 1 + 1 + 1)


# ----- mg.grad and double backward -----
def test_grad_returns_gradients_without_touching_dot_grad(device):
    x, y = f64([1.0, 2.0], device=device), f64([3.0, -1.0], device=device)
    gx, gy = mg.grad((x * y).sum(), [x, y])
    np.testing.assert_allclose(gx.numpy(), [3.0, -1.0])
    np.testing.assert_allclose(gy.numpy(), [1.0, 2.0])
    assert x.grad is None and y.grad is None
    unused = f64([1.0], device=device)
    (g_unused,) = mg.grad((x * 2).sum(), [unused])
    np.testing.assert_array_equal(g_unused.numpy(), [0.0])


def test_grad_with_create_graph_gives_second_derivatives(device):
    x = f64([0.5, -1.0, 2.0], device=device)
    (g,) = mg.grad((x ** 3).sum(), x, create_graph=True)  # 3 x^2
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    assert g.requires_grad
    (h,) = mg.grad(g.sum(), x)  # 6 x
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy())
    # a mixed partial: d/dy (d/dx sum(x^2 y)) = 2 x
    x, y = f64([1.5, -0.5], device=device), f64([2.0, 3.0], device=device)
    (gx,) = mg.grad((x * x * y).sum(), x, create_graph=True)
    (gxy,) = mg.grad(gx.sum(), y)
    np.testing.assert_allclose(gxy.numpy(), 2 * x.numpy())


def test_a_gradient_penalty_backpropagates_to_the_parameters(device):
    """WGAN-GP's shape: loss = (|d f(x)/dx| - 1)^2, differentiated with respect to f's weights."""
    def penalty(w, x):
        out = (x @ w).tanh().sum()
        (gx,) = mg.grad(out, x, create_graph=True)
        norm = ((gx * gx).sum(axis=1) + 1e-12).sqrt()
        return ((norm - 1) ** 2).mean()

    rng = np.random.default_rng(0)
    w = f64(rng.standard_normal((3, 2)), device=device)
    x = f64(rng.standard_normal((4, 3)), device=device)
    assert mg.gradcheck(penalty, [w, x])
    loss = penalty(w, x)
    loss.backward()
    assert w.grad is not None and np.abs(w.grad.numpy()).sum() > 0


# ----- dtypes -----
def test_float_data_defaults_to_float32_and_other_data_keeps_its_dtype():
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(np.ones(3)).dtype == np.float32  # float64 data too: float32 is the default
    assert mg.tensor(1.5).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([True, False]).dtype == np.bool_
    assert mg.tensor([1.0], dtype="float64").dtype == np.float64
    assert mg.tensor([1, 2], dtype="float32").dtype == np.float32
    assert mg.tensor(mg.tensor([1.0], dtype="float64"), dtype="float64").dtype == np.float64
    for make in (mg.zeros, mg.ones, mg.randn, mg.rand):
        assert make(2, 3).dtype == np.float32 and make(2, 3).shape == (2, 3)
        assert make((2, 3), dtype="float64").dtype == np.float64
    assert mg.arange(5).dtype == np.int64
    assert mg.arange(0.0, 1.0, 0.25).dtype == np.float32
    t = mg.tensor([1.0], dtype="float64")
    assert mg.zeros_like(t).dtype == np.float64 and mg.ones_like(t).dtype == np.float64


def test_python_numbers_take_the_tensor_dtype_without_rounding_through_float32():
    x32, x64 = mg.tensor([1.0]), mg.tensor([1.0], dtype="float64")
    for y in (x32 * 0.1, 0.1 * x32, x32 + 2, x32 / 3.0, 2.0 ** x32, x32 * np.array([0.1]),
              x32 * np.array([2])):
        assert y.dtype == np.float32
    assert (x64 * 0.1).item() == 0.1
    assert (x64 * np.array([0.1])).item() == 0.1
    assert (0.1 - x64).item() == 0.1 - 1.0
    assert (x64 + 1e-12).item() == 1.0 + 1e-12


def test_integers_meeting_floats_take_the_float_dtype():
    """NumPy would turn int64 (op) float32 into float64: a silent upcast. Not here."""
    steps = mg.arange(4)
    assert (steps * 0.5).dtype == np.float32
    assert (0.5 * steps).dtype == np.float32
    assert (mg.ones(4) * steps).dtype == np.float32
    assert (steps + mg.ones(4, dtype="float64")).dtype == np.float64
    np.testing.assert_array_equal((steps / mg.ones(4) * 2).numpy(), [0.0, 2.0, 4.0, 6.0])
    x = mg.ones(4, requires_grad=True)
    (x * steps).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 2.0, 3.0])
    assert (mg.ones(2, 3) @ mg.tensor([[1], [2], [3]])).dtype == np.float32


def test_mixing_float32_and_float64_tensors_raises():
    with pytest.raises(OpError, match=r"add: dtypes differ.*float32.*float64"):
        mg.tensor([1.0]) + mg.tensor([1.0], dtype="float64")


def test_astype_is_differentiable_and_sends_the_gradient_back_in_the_input_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.astype("float64")
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_requires_grad_on_an_integer_tensor_raises():
    with pytest.raises(TypeError, match="int64"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        mg.tensor([1, 2]).requires_grad_()
    with pytest.raises(TypeError):
        mg.zeros(2, dtype="int64", requires_grad=True)


def test_item_numpy_and_repr(device):
    x = mg.tensor([[1.5]], requires_grad=True, device=device)
    assert x.item() == 1.5 and isinstance(x.item(), float)
    assert isinstance(x.numpy(), np.ndarray)
    assert "requires_grad=True" in repr(x)
    with pytest.raises(ValueError, match="item"):
        mg.tensor([1.0, 2.0]).item()


def test_layer_outputs_follow_the_graph_rules(device):
    """A composite (F.linear) records a graph only when some input requires grad."""
    x = mg.randn(2, 3, device=device)
    w = mg.randn(4, 3, device=device)
    assert not F.linear(x, w).requires_grad
    w.requires_grad_()
    assert F.linear(x, w).requires_grad


def test_tensor_copies_its_input_array_like_torch_tensor():
    source = np.zeros(3, dtype=np.float32)
    t = mg.tensor(source)
    t.data += 1
    assert source.tolist() == [0.0, 0.0, 0.0]


def test_truth_value_is_defined_only_for_one_element():
    assert bool(mg.tensor([2.0]) > 1) is True
    assert float(mg.tensor([[2.5]])) == 2.5
    with pytest.raises(ValueError, match="ambiguous"):
        bool(mg.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        _ = mg.tensor([1.0]) in [mg.tensor([1.0, 2.0])]


def test_repr_names_the_dtype_only_when_it_is_not_the_float32_default():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2], dtype=int64)"
    assert repr(mg.tensor([0.5], dtype="float64", requires_grad=True)) == \
        "tensor([0.5], dtype=float64, requires_grad=True)"

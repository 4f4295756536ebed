"""Forward values against plain NumPy references (ops_table.py), independent of PyTorch.

Every op is run in float32 and float64 on each device: the output (and every gradient)
keeps the input's dtype -- no silent upcast to float64 -- and the values match a NumPy
computation in float64 to the precision of the input's dtype.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import minigen.functional as F
from ops_table import OPS

TOLERANCE = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", OPS, ids=lambda o: o.name)
@given(data=st.data())
def test_forward_matches_numpy_and_keeps_the_dtype(op, dtype, data, device):
    arrays, kwargs = data.draw(op.inputs, label="arrays, kwargs")
    arrays = [a.astype(dtype) for a in arrays]  # the reference sees exactly the rounded inputs
    xs = [mg.tensor(a, dtype=dtype, requires_grad=True, device=device) for a in arrays]
    extra = op.ref_extra(xs, kwargs) if op.ref_extra else {}

    y = op.fn(*xs, **kwargs)
    assert y.dtype == np.dtype(dtype), f"{op.name}: {dtype} in, {y.dtype} out"
    assert y.device == xs[0].device
    expected = np.asarray(op.numpy(*[a.astype(np.float64) for a in arrays], **kwargs, **extra))
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, **TOLERANCE[dtype], err_msg=op.name)

    y.backward(mg.ones_like(y))
    for k, x in enumerate(xs):
        assert x.grad is not None and x.grad.dtype == np.dtype(dtype), \
            f"{op.name}: the gradient of input {k} is {None if x.grad is None else x.grad.dtype}"
        assert x.grad.shape == x.shape


# ----- what the table cannot say -----
def test_dropout_zeroes_about_p_of_the_entries_and_scales_the_rest(device):
    x = mg.ones(200, 100, device=device)
    for p in (0.1, 0.5, 0.9):
        y = F.dropout(x, p=p).numpy()
        dropped = (y == 0).mean()
        assert abs(dropped - p) < 0.02, (p, dropped)
        np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)


def test_dropout_is_the_identity_in_eval_mode_and_at_p_zero_and_empties_at_p_one(device):
    x = mg.randn(4, 5, device=device)
    assert F.dropout(x, p=0.5, training=False) is x
    assert F.dropout(x, p=0.0) is x
    assert (F.dropout(x, p=1.0).numpy() == 0).all()


def test_dropout_repeats_its_mask_under_the_same_seed_and_changes_it_otherwise(device):
    x = mg.ones(50, 50, device=device)
    mg.manual_seed(3)
    a = F.dropout(x).numpy()
    b = F.dropout(x).numpy()
    mg.manual_seed(3)
    c = F.dropout(x).numpy()
    np.testing.assert_array_equal(a, c)
    assert (a != b).any()


def test_max_pool_stride_defaults_to_the_kernel_size(device):
    x = mg.tensor(np.arange(16.0).reshape(1, 1, 4, 4), device=device)
    np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy(), [[[[5, 7], [13, 15]]]])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).numpy(), [[[[2.5, 4.5], [10.5, 12.5]]]])
    assert F.max_pool2d(x, 2, stride=1).shape == (1, 1, 3, 3)


def test_indices_and_conditions_may_be_tensors_lists_or_arrays(device):
    w = mg.tensor(np.arange(12.0).reshape(4, 3), device=device)
    for idx in ([2, 0, 2], np.array([2, 0, 2]), mg.tensor([2, 0, 2], device=device)):
        np.testing.assert_array_equal(F.embedding(idx, w).numpy(), w.numpy()[[2, 0, 2]])
        np.testing.assert_array_equal(w[idx].numpy(), w.numpy()[[2, 0, 2]])
    logits = mg.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], device=device)
    expected = F.cross_entropy(logits, np.array([2, 1])).item()
    assert F.cross_entropy(logits, mg.tensor([2, 1], device=device)).item() == expected
    assert F.cross_entropy(logits, [2, 1]).item() == expected
    a, b = mg.tensor([1.0, 2.0], device=device), mg.tensor([3.0, 4.0], device=device)
    for cond in ([False, True], np.array([False, True]), a > 1.5):
        np.testing.assert_array_equal(mg.where(cond, a, b).numpy(), [3.0, 2.0])


def test_comparisons_give_boolean_tensors_without_gradient(device):
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    for mask, expected in [(x < 2, [1, 0, 0]), (x <= 2, [1, 1, 0]), (x > 2, [0, 0, 1]),
                           (x >= 2, [0, 1, 1]), (x == 2, [0, 1, 0]), (x != 2, [1, 0, 1])]:
        assert mask.dtype == np.bool_ and not mask.requires_grad
        np.testing.assert_array_equal(mask.numpy(), np.array(expected, dtype=bool))


def test_boolean_mask_indexing_selects_like_numpy(device):
    a = np.arange(6.0).reshape(2, 3)
    x = mg.tensor(a, device=device)
    np.testing.assert_array_equal(x[x > 2].numpy(), a[a > 2])


def test_convolutions_and_padding_read_any_memory_layout(device):
    # a convolution's output is channels-last in memory; the next layer must read it as is
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    wt = rng.standard_normal((3, 4, 4, 4))
    contiguous = mg.tensor(x, dtype="float64", device=device)
    channels_last = mg.tensor(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), dtype="float64",
                              device=device).transpose(0, 3, 1, 2)
    assert not channels_last.data.flags.c_contiguous
    W, B, WT = (mg.tensor(a, dtype="float64", device=device) for a in (w, b, wt))
    for f in (lambda t: F.conv2d(t, W, B, stride=2, padding=1), lambda t: F.pad(t, 2, 1.5),
              lambda t: F.conv_transpose2d(t, WT, stride=2, padding=1), lambda t: F.max_pool2d(t, 2)):
        np.testing.assert_allclose(f(channels_last).numpy(), f(contiguous).numpy(), rtol=1e-12)
    np.testing.assert_array_equal(F.pad(channels_last, 2, 1.5).numpy(),
                                  np.pad(x, 2, mode="constant", constant_values=1.5))


def test_flattening_a_channels_last_image_gives_its_gradient_back_channels_last(device):
    """The gradient of a reshape comes back in its input's memory order (the layers below
    multiply it with arrays of that order), with the right values, to second order."""
    rng = np.random.default_rng(1)
    leaf = mg.tensor(rng.standard_normal((2, 4, 3, 5)), dtype="float64", requires_grad=True, device=device)
    w = mg.tensor(rng.standard_normal((2, 60)), dtype="float64", device=device)

    def flatten_nchw(t):                                    # t (N, H, W, C) in memory, seen as NCHW
        return (t.transpose(0, 3, 1, 2).reshape(2, -1) * w).tanh().sum()

    image = leaf.transpose(0, 3, 1, 2)
    (g,) = mg.grad((image.reshape(2, -1) * w).sum(), image)
    assert g.data.transpose(0, 2, 3, 1).flags.c_contiguous          # channels-last, as the image
    np.testing.assert_array_equal(g.numpy(), w.numpy().reshape(2, 5, 4, 3))
    assert mg.gradcheck(flatten_nchw, [leaf]) and mg.gradgradcheck(flatten_nchw, [leaf])


def test_a_boolean_mask_multiplies_without_changing_the_dtype(device):
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True, device=device)
    y = x * (x > 0)
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])

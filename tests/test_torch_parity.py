"""Every op in the table against PyTorch, in float64: values, gradients, second derivatives.

PyTorch's conventions are the contract's: conv_transpose2d weights are (C_in, C_out, kH, kW),
gelu is approximate='tanh', var takes ddof as ``correction``, max/min over axes are amax/amin
(ties share the gradient; the strategies draw no ties anyway).
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import ops_table
from ops_table import OPS

torch = pytest.importorskip("torch")
ops_table.load_torch(torch)

RTOL = 1e-6  # relative, in float64
ATOL = 1e-12  # only for entries that are 0 up to rounding (a cancelled sum)


def assert_matches(ours, theirs, what):
    theirs = theirs.detach().numpy(force=True) if isinstance(theirs, torch.Tensor) else theirs
    ours = ours.numpy() if isinstance(ours, mg.Tensor) else ours
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs PyTorch's {theirs.shape}"
    assert ours.dtype == np.float64, f"{what}: dtype {ours.dtype}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def fixed(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def our_grad(output, inputs, create_graph=False):
    if not output.requires_grad:  # output does not depend on the inputs (a linear op's gradient)
        return [mg.zeros_like(t) for t in inputs]
    return mg.grad(output, inputs, create_graph=create_graph)


def their_grad(output, inputs, create_graph=False):
    if not output.requires_grad:
        return [torch.zeros_like(t) for t in inputs]
    grads = torch.autograd.grad(output, inputs, create_graph=create_graph, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, inputs)]


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.name)
@given(data=st.data())
def test_values_gradients_and_second_derivatives_match_pytorch(op, data):
    arrays, kwargs = data.draw(op.inputs, label="arrays, kwargs")
    ours = [mg.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    extra = op.ref_extra(ours, kwargs) if op.ref_extra else {}

    y = op.fn(*ours, **kwargs)
    y_t = op.torch(*theirs, **kwargs, **extra)
    assert_matches(y, y_t, f"{op.name}: forward")

    # first order: the gradient of <w, f(x)> for a fixed w, kept differentiable
    w = fixed(y.shape, 1)
    g = our_grad((y * mg.tensor(w, dtype="float64")).sum(), ours, create_graph=True)
    g_t = their_grad((y_t * torch.tensor(w)).sum(), theirs, create_graph=True)
    for k, (a, b) in enumerate(zip(g, g_t)):
        assert_matches(a, b, f"{op.name}: gradient of input {k}")

    # second order: the gradient of <v, grad> (a Hessian-vector product)
    vs = [fixed(a.shape, 2 + k) for k, a in enumerate(arrays)]
    s = sum((gi * mg.tensor(v, dtype="float64")).sum() for gi, v in zip(g, vs))
    s_t = sum((gi * torch.tensor(v)).sum() for gi, v in zip(g_t, vs))
    for k, (a, b) in enumerate(zip(our_grad(s, ours), their_grad(s_t, theirs))):
        assert_matches(a, b, f"{op.name}: second derivative of input {k}")

"""Every differentiable op, first and second derivatives, against central differences.

The ops come from the one table in ops_table.py; hypothesis draws shapes (broadcasting
included) and float64 values where each op is smooth, and mg.gradcheck / mg.gradgradcheck
compare the analytic derivatives with central differences at their default tolerances.
"""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import minigen.functional as F
from ops_table import OPS

# Second derivatives are checked for every row. Piecewise-linear ops (relu, abs, leaky_relu,
# max, min, maximum, minimum, max_pool2d) and linear ones (add, reshape, getitem, pad, conv
# in one argument...) have a second derivative of exactly 0 at the points drawn (kinks are
# kept >= 0.06 away, far beyond eps = 1e-6), and the check still means something there: it
# fails if a backward pass leaks a dependence on x that is not in the math. No row is left
# out: every op in the table is twice differentiable at the points its strategy draws.
SECOND_ORDER = OPS


def leaves(arrays, device):
    return [mg.tensor(a, dtype="float64", requires_grad=True, device=device) for a in arrays]


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.name)
@given(data=st.data())
def test_first_derivatives_match_central_differences(op, data, device):
    arrays, kwargs = data.draw(op.inputs, label="arrays, kwargs")
    assert mg.gradcheck(lambda *ts: op.fn(*ts, **kwargs), leaves(arrays, device))


@pytest.mark.parametrize("op", SECOND_ORDER, ids=lambda o: o.name)
@given(data=st.data())
def test_second_derivatives_match_central_differences(op, data, device):
    arrays, kwargs = data.draw(op.inputs, label="arrays, kwargs")
    assert mg.gradgradcheck(lambda *ts: op.fn(*ts, **kwargs), leaves(arrays, device))


def test_the_table_lists_every_public_differentiable_op():
    names = {o.name for o in OPS}
    for name in F.__all__:
        assert f"F.{name}" in names, f"F.{name} has no row in ops_table.py"
    operators = ["add", "add_scalar", "radd_scalar", "sub", "sub_scalar", "rsub_scalar", "mul",
                 "mul_scalar", "rmul_scalar", "div", "div_scalar", "rdiv_scalar", "pow",
                 "pow_scalar_int", "rpow_scalar", "neg", "matmul_vector_vector",
                 "matmul_vector_matrix", "matmul_matrix_vector", "matmul_matrix_matrix",
                 "matmul_batched", "rmatmul_array"]
    methods = ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sum", "mean", "var", "max",
               "min", "reshape", "transpose", "T", "getitem_basic", "getitem_advanced"]
    functions = ["concat", "stack", "where", "maximum", "minimum"]
    missing = [n for n in operators + methods + functions if n not in names]
    assert not missing, f"no row for {missing}"


def test_the_checks_catch_a_wrong_derivative_and_an_undifferentiable_backward():
    """The checkers themselves can fail: a wrong first derivative, and a right one computed
    from raw arrays (so its own derivative, the second, is lost)."""
    from minigen.autograd import Function

    class WrongSquare(Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            """Deliberately wrong: 3 x instead of 2 x."""
            return gy * 3 * self.inputs[0]

    class ConstantSlopeSquare(Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            """2 x, right, but from the raw array: not differentiable again."""
            return gy * mg.Tensor._make(2 * self.inputs[0].data, False)

    x = mg.tensor([0.5, -1.5, 2.0], dtype="float64", requires_grad=True)
    with pytest.raises(AssertionError, match="analytic"):
        mg.gradcheck(WrongSquare.apply, [x])
    assert mg.gradcheck(ConstantSlopeSquare.apply, [x])
    with pytest.raises(AssertionError, match="analytic"):
        mg.gradgradcheck(ConstantSlopeSquare.apply, [x])

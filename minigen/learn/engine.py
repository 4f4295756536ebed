"""The engine's exercises: a primitive with its own backward, and the gradient of broadcasting."""
import numpy as np
from hypothesis import strategies as st

from minigen.autograd import Function
from minigen.learn import strategies as S
from minigen.learn.checking import Exercise, compare, prove
from minigen.learn.solutions import sigmoid as sigmoid_solution
from minigen.learn.solutions import sum_to as sum_to_solution


def check_sigmoid(learner):
    """Sigmoid.apply against minigen's: values at ordinary and extreme x, gradients to second order."""
    cls = learner.function_class("Sigmoid", Function, {"forward": ("self", "x"), "backward": ("self", "gy")})

    def prop(case):
        compare(learner, "Sigmoid.apply", cls.apply, sigmoid_solution.Sigmoid.apply, {"x": case},
                wrt=("x",), order=2)
    prove(prop, S.shapes().flatmap(lambda shape: S.arrays(shape, S.logits())), np.array([0.0, 1.5]))


def check_sum_to(learner):
    """sum_to against minigen's on a shape and one that broadcasts to it; its gradient (first
    order: sum_to is linear, so its second derivative is 0)."""
    fn = learner.function("sum_to", ("grad", "shape"))

    @st.composite
    def cases(draw):
        shape = draw(S.shapes(max_dims=4))
        return {"grad": draw(S.arrays(shape)), "shape": draw(S.reduced_shape(shape))}

    def prop(case):
        compare(learner, "sum_to", fn, sum_to_solution.sum_to, case, wrt=("grad",))
    prove(prop, cases(), {"grad": np.arange(6.0).reshape(2, 3), "shape": (3,)})


SIGMOID = Exercise(
    "sigmoid", "class Sigmoid(Function): forward on raw arrays, backward on Tensors",
    'tutorials/01_autograd.py, section 3 "One Function, forward and backward side by side" '
    '(and section 6, double backward); minigen/autograd.py, the Function class',
    "minigen/ops/unary.py: class Sigmoid", check_sigmoid)

SUM_TO = Exercise(
    "sum_to", "sum_to(grad, shape): a gradient summed back to the shape that was broadcast",
    'tutorials/01_autograd.py, section 4 "Tensors and broadcasting\'s gradient"; '
    "minigen/ops/arith.py, where every binary op's backward calls it",
    "minigen/ops/shape.py: sum_to and class SumTo", check_sum_to)

"""The engine's exercises: a primitive with its own backward, the gradient of broadcasting, the
order of the graph walk; and the layer norm the transformer is built with."""
import numpy as np
from hypothesis import strategies as st

import minigen as mg
from minigen.autograd import Function, node_of
from minigen.learn import strategies as S
from minigen.learn.checking import Exercise, Failure, compare, prove
from minigen.learn.solutions import layer_norm as layer_norm_solution
from minigen.learn.solutions import sigmoid as sigmoid_solution
from minigen.learn.solutions import sum_to as sum_to_solution
from minigen.learn.solutions import topological_order as order_solution


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


# ----- the graph walk: graphs built from a recipe, the learner's order checked as an order -----
OPS = {"+": lambda a, b: a + b, "*": lambda a, b: a * b, "* 2": lambda a, b: a * 2.0, "tanh": lambda a, b: a.tanh()}


@st.composite
def graphs(draw):
    """A recipe for a graph: leaves x0.., then operations t = a op b on earlier tensors (the same
    one twice now and then, a constant for "* 2"), and the tensors whose nodes are the roots."""
    leaves = draw(st.integers(1, 3))
    ops = []
    for i in range(draw(st.integers(1, 8))):
        ops.append((draw(st.sampled_from(list(OPS))), draw(st.integers(0, leaves + i - 1)),
                    draw(st.integers(0, leaves + i - 1))))
    roots = draw(st.lists(st.integers(0, leaves + len(ops) - 1), min_size=1, max_size=2, unique=True))
    return {"leaves": leaves, "ops": ops, "roots": sorted(roots)}


def build(recipe):
    """(the tensors, their names by node, the roots' nodes, the graph as text) of a recipe."""
    leaves = recipe["leaves"]
    name = [f"x{k}" for k in range(leaves)] + [f"t{k}" for k in range(leaves, leaves + len(recipe["ops"]))]
    tensors = [mg.tensor([0.5, -1.0], dtype="float64", requires_grad=True) for _ in range(leaves)]
    lines = [", ".join(name[:leaves]) + " leaves"]
    for kind, a, b in recipe["ops"]:
        tensors.append(OPS[kind](tensors[a], tensors[b]))
        formula = {"tanh": f"tanh({name[a]})", "* 2": f"{name[a]} * 2"}.get(kind, f"{name[a]} {kind} {name[b]}")
        lines.append(f"{name[len(tensors) - 1]} = {formula}")
    if len(lines) > 10:
        lines = lines[:5] + [f"... ({len(recipe['ops'])} operations)"] + lines[-2:]
    names = {id(node_of(t)): name[k] for k, t in enumerate(tensors)}
    roots = [node_of(tensors[k]) for k in recipe["roots"]]
    text = "; ".join(lines) + "; roots: the nodes of " + ", ".join(name[k] for k in recipe["roots"])
    return tensors, names, roots, text


def check_topological_order(learner):
    """Every node once, each after its parents, on small random graphs with shared nodes and
    constants, and on a chain 3,000 operations deep."""
    fn = learner.function("topological_order", ("roots",))

    def prop(case):
        tensors, names, roots, graph = build(case)
        text = f"topological_order(roots) on the graph {graph}"
        got = learner.call(text, fn, roots)
        if not isinstance(got, (list, tuple)):
            raise Failure(f"{text} returned {type(got).__name__}, not a list of nodes")
        expected = {id(node) for node in order_solution.topological_order(roots)}
        position = {}
        for k, node in enumerate(got):
            if id(node) not in expected:
                kind = "a Tensor made by an operation (use its node, t._ctx)" if isinstance(node, mg.Tensor) \
                    else type(node).__name__
                raise Failure(f"{text}: the list holds {kind}, not a node of this graph (position {k})")
            if id(node) in position:
                raise Failure(f"{text}: {names[id(node)]} is in the list twice")
            position[id(node)] = k
        missing = [names[i] for i in expected if i not in position]
        if missing:
            raise Failure(f"{text}: {', '.join(sorted(missing))} missing from the list")
        for node in got:
            for parent in getattr(node, "parents", ()):
                if parent is not None and position[id(parent)] > position[id(node)]:
                    raise Failure(f"{text}: {names[id(node)]} comes before {names[id(parent)]}, "
                                  f"which it was computed from")
    small = {"leaves": 2, "ops": [("+", 0, 1), ("*", 2, 0), ("tanh", 3, 3)], "roots": [4]}
    deep = {"leaves": 1, "ops": [("tanh", k, k) for k in range(3000)], "roots": [3000]}
    prove(prop, graphs(), small, deep)


def check_layer_norm(learner):
    """Against minigen's on rows of 1 to 4 features, now and then 1e3 or 1e6 from 0 (where
    mean(x^2) - mean(x)^2 has lost its digits), with and without weight and bias; gradients to
    second order."""
    fn = learner.function("layer_norm", ("x", "weight", "bias", "eps"))

    @st.composite
    def cases(draw):
        shape = draw(S.shapes())
        offset = draw(st.sampled_from([0.0, 0.0, 0.0, 1e3, 1e6]))
        if offset:      # features a multiple of 0.5 apart: a row's spread, if any, is not lost in rounding
            x = offset + 0.5 * draw(S.arrays(shape, st.integers(-4, 4)))
        else:
            x = draw(S.arrays(shape))
        parameter = st.one_of(st.none(), S.arrays(shape[-1:]))
        return {"x": x, "weight": draw(parameter), "bias": draw(parameter),
                "eps": draw(st.sampled_from([1e-5, 1e-3, 0.1]))}

    def prop(case):
        wrt = tuple(k for k in ("x", "weight", "bias") if case[k] is not None)
        compare(learner, "layer_norm", fn, layer_norm_solution.layer_norm, case, wrt=wrt, order=2)
    prove(prop, cases(), {"x": np.array([[1.0, 2.0, 4.0]]), "weight": np.array([1.0, 0.5, 2.0]),
                          "bias": np.array([0.0, 1.0, -1.0]), "eps": 1e-5})


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

TOPOLOGICAL_ORDER = Exercise(
    "topological_order", "topological_order(roots): every node of the graph once, each after its parents",
    'tutorials/01_autograd.py, section 2 "What the graph is"; minigen/autograd.py, its docstring and backprop',
    "minigen/autograd.py: _topological_order", check_topological_order)

LAYER_NORM = Exercise(
    "layer_norm", "layer_norm(x, weight, bias, eps): normalise the last axis, then scale and shift",
    'tutorials/02_layers_and_optimisers.py, section 2 "The layers the families are built from"; '
    "minigen/nn/norm.py (LayerNorm)",
    "minigen/functional.py: layer_norm (fused: minigen/ops/reduce.py, class Normalize)", check_layer_norm)

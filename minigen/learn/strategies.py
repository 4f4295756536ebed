"""The inputs the checkers draw (hypothesis strategies), small so that a check takes seconds.

Shapes have sides of 1 to 4, with sides of 1 drawn often (broadcasting goes wrong there), and at
most 24 elements. Values are float64 NumPy arrays; ``logits`` and ``extreme`` mix ordinary values
with the ones where only a stable formula survives (a logit of -1000, whose sigmoid is 0 in
float64, so that log(sigmoid(l)) is -inf where log D must be -1000).
"""
import math

import numpy as np
from hypothesis import strategies as st

MAX_SIDE = 4
MAX_SIZE = 24


@st.composite
def shapes(draw, min_dims=1, max_dims=3, max_side=MAX_SIDE, max_size=MAX_SIZE, min_side=1):
    """A shape of min_dims..max_dims sides in min_side..max_side, at most max_size elements;
    sides of 1 come up about a third of the time."""
    shape, size = [], 1
    for _ in range(draw(st.integers(min_dims, max_dims))):
        top = max(min_side, min(max_side, max_size // size))
        side = draw(st.sampled_from(([1] if min_side <= 1 else []) + list(range(min_side, top + 1))))
        shape.append(side)
        size *= side
    return tuple(shape)


def floats(low=-2.0, high=2.0):
    """Finite float64 values in [low, high] (no subnormals)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def logits():
    """A logit: mostly ordinary, now and then +-100 or +-1000 (sigmoid = 0 or 1 in float64)."""
    return st.one_of(floats(-6.0, 6.0), st.sampled_from([-1000.0, -100.0, 100.0, 1000.0]))


@st.composite
def arrays(draw, shape, elements=None):
    """A float64 array of ``shape`` whose entries come from ``elements`` (default [-2, 2])."""
    elements = floats() if elements is None else elements
    values = draw(st.lists(elements, min_size=math.prod(shape), max_size=math.prod(shape)))
    return np.array(values, dtype=np.float64).reshape(shape)


@st.composite
def reduced_shape(draw, shape):
    """A shape that broadcasts up to ``shape``: some leading sides dropped, some others set to 1."""
    drop = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else n for n in shape[drop:])


def levels(low=1e-4, high=1.0):
    """A noise level abar in [low, high], its ends included (abar = 1: no noise at all)."""
    return st.one_of(floats(low, high), st.sampled_from([low, high]))

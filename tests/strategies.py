"""Hypothesis strategies for minigen's tests (in the spirit of minitorch's tests/strategies.py).

Shapes are small (1-4 dims, sides 1-4, size-1 sides drawn often because broadcasting bugs
live there) and capped in total size, so that central differences (two forward passes per
element) stay cheap. Values are float64 NumPy arrays in a safe range; where an op has a kink
(relu, abs, max...) the values are kept away from it *by construction* -- magnitudes drawn
from [0.1, 2] with a random sign, or distinct values laid out on a spaced lattice -- never by
``assume()``, which would throw most examples away.
"""
import itertools
import math

import numpy as np
from hypothesis import strategies as st

MAX_SIDE = 4
MAX_SIZE = 24  # elements per tensor: central differences cost two forward passes per element


# ----- shapes -----
@st.composite
def shapes(draw, min_dims=1, max_dims=4, max_side=MAX_SIDE, max_size=MAX_SIZE, min_side=1,
           extra_ones=True):
    """A shape of min_dims..max_dims sides in min_side..max_side, at most max_size elements
    (min_dims=0 lets a 0-d tensor, shape (), be drawn).

    With ``extra_ones``, size-1 sides are drawn about a third of the time (they are where
    broadcasting goes wrong).
    """
    ndim = draw(st.integers(min_dims, max_dims))
    shape, size = [], 1
    for _ in range(ndim):
        cap = max(min_side, min(max_side, max_size // size))
        choices = list(range(min_side, cap + 1))
        side = draw(st.sampled_from(([1] if min_side <= 1 and extra_ones else []) + choices))
        shape.append(side)
        size *= side
    return tuple(shape)


@st.composite
def broadcastable_shapes(draw, count=2, min_dims=1, max_dims=4, max_size=MAX_SIZE):
    """``count`` shapes that broadcast together (NumPy's rules).

    Each is drawn from one full shape: along every side longer than 1, each operand either
    keeps it or broadcasts a 1 (all combinations equally likely); then each drops some
    leading dims (all of them, now and then: a 0-d tensor). So size-1 sides and missing
    leading dims appear on every side, often.
    """
    full = draw(shapes(min_dims=min_dims, max_dims=max_dims, max_size=max_size, extra_ones=False))
    keeps = list(itertools.product([True, False], repeat=count))
    derived = [[] for _ in range(count)]
    for n in full:
        keep = draw(st.sampled_from(keeps)) if n > 1 else (True,) * count
        for shape, kept in zip(derived, keep):
            shape.append(n if kept else 1)
    result = []
    for shape in derived:
        kind = draw(st.sampled_from(["all dims"] * 4 + ["drop leading"] * 3 + ["0-d"]))
        if kind == "0-d":
            drop = len(shape)
        elif kind == "drop leading" and len(shape) > 1:
            drop = draw(st.integers(1, len(shape) - 1))
        else:
            drop = 0
        result.append(tuple(shape[drop:]))
    return tuple(result)


def broadcast_shape(*shape_list):
    return np.broadcast_shapes(*shape_list)


# ----- values -----
def floats(low=-2.0, high=2.0):
    """Finite float64 values in [low, high] (no subnormals: they only test the FPU)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def nonzero_floats(min_magnitude=0.1, max_magnitude=2.0):
    """Values with |v| in [min_magnitude, max_magnitude] and a random sign: away from 0 by construction."""
    return st.tuples(floats(min_magnitude, max_magnitude), st.booleans()).map(
        lambda pair: pair[0] if pair[1] else -pair[0])


@st.composite
def arrays(draw, shape, elements=None):
    """A float64 array of ``shape`` whose entries come from ``elements`` (default [-2, 2])."""
    elements = floats() if elements is None else elements
    size = math.prod(shape)
    values = draw(st.lists(elements, min_size=size, max_size=size))
    return np.array(values, dtype=np.float64).reshape(shape)


def positive_arrays(shape, low=0.5, high=2.0):
    """Strictly positive values (log, sqrt, the base of a power)."""
    return arrays(shape, floats(low, high))


def nonzero_arrays(shape, min_magnitude=0.1, max_magnitude=2.0):
    """Values at least ``min_magnitude`` away from 0 (relu, abs, leaky_relu, divisors)."""
    return arrays(shape, nonzero_floats(min_magnitude, max_magnitude))


@st.composite
def distinct_arrays(draw, shape, spacing=0.3):
    """All entries distinct, any two at least 0.75 * spacing apart: a random permutation of a
    centred lattice plus a small jitter. For max, min and max-pooling (no ties, ever)."""
    size = math.prod(shape)
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    jitter = np.array(draw(st.lists(floats(0.0, spacing / 4), min_size=size, max_size=size)))
    return ((order - (size - 1) / 2) * spacing + jitter).reshape(shape)


@st.composite
def separated_pair(draw, shape_a, shape_b):
    """Two arrays that differ by at least 0.06 wherever they meet after broadcasting.

    a lives on the lattice 0.2 k + 0.05, b on 0.2 k + 0.15 (k an integer in [-8, 8]); each
    value moves by at most 0.02, so a - b is never closer to 0 than 0.1 - 0.04. For maximum
    and minimum, whose gradient jumps where a == b.
    """
    def lattice(shape, offset):
        size = math.prod(shape)
        ks = np.array(draw(st.lists(st.integers(-8, 8), min_size=size, max_size=size)), dtype=np.float64)
        jitter = np.array(draw(st.lists(floats(-0.02, 0.02), min_size=size, max_size=size)))
        return (0.2 * ks + offset + jitter).reshape(shape)
    return lattice(shape_a, 0.05), lattice(shape_b, 0.15)


# ----- arguments -----
@st.composite
def axes(draw, ndim, allow_none=True):
    """None, one axis (possibly negative) or a tuple of distinct axes (never the empty tuple).
    A 0-d tensor has only None."""
    if ndim == 0:
        return None
    options = ["one", "tuple"] + (["none"] if allow_none else [])
    kind = draw(st.sampled_from(options))
    if kind == "none":
        return None
    if kind == "one":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


def reduced_count(shape, axis):
    """How many elements one reduction over ``axis`` combines."""
    if axis is None:
        return math.prod(shape)
    chosen = (axis,) if isinstance(axis, int) else axis
    return math.prod(shape[a] for a in chosen)


@st.composite
def basic_indices(draw, shape):
    """An index for x[...] made of ints (possibly negative) and slices (positive steps),
    one entry per leading dim (a prefix of the dims)."""
    count = draw(st.integers(1, len(shape)))
    parts = []
    for n in shape[:count]:
        if draw(st.booleans()):
            parts.append(draw(st.integers(-n, n - 1)))
        else:
            start = draw(st.integers(0, n - 1))
            stop = draw(st.integers(start + 1, n))
            parts.append(slice(start, stop, draw(st.integers(1, 2))))
    return parts[0] if count == 1 and draw(st.booleans()) else tuple(parts)


@st.composite
def advanced_indices(draw, shape):
    """An index with one or two integer arrays (repeats likely), mixed with slices.

    Two arrays always sit side by side so NumPy and PyTorch agree on where their dims go.
    """
    length = draw(st.integers(1, 5))

    def int_array(n):
        values = draw(st.lists(st.integers(-n, n - 1), min_size=length, max_size=length))
        return np.array(values, dtype=np.int64)

    first = draw(st.integers(0, len(shape) - 1))
    two = first + 1 < len(shape) and draw(st.booleans())
    parts = [slice(None)] * first + [int_array(shape[first])]
    if two:
        parts.append(int_array(shape[first + 1]))
    return parts[0] if len(parts) == 1 else tuple(parts)


@st.composite
def pad_widths(draw, ndim):
    """numpy.pad's forms: n, (lo, hi), or one (lo, hi) pair per dim."""
    kind = draw(st.sampled_from(["int", "pair", "per_dim"]))
    if kind == "int":
        return draw(st.integers(0, 2))
    if kind == "pair":
        return (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    return tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(ndim))


def normalized_pad_width(pad_width, ndim):
    """Any of numpy.pad's forms as ((lo, hi),) * ndim (for the references)."""
    if isinstance(pad_width, int):
        return ((pad_width, pad_width),) * ndim
    if all(isinstance(p, int) for p in pad_width):
        return (tuple(pad_width),) * ndim
    return tuple(tuple(p) for p in pad_width)


def seeds():
    return st.integers(0, 2**16)

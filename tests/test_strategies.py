"""The strategies keep their promises: the op tests lean on them (no kink, no tie, shapes
that broadcast), so a strategy that drifted would make those tests quietly weaker."""
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import strategies as S


@given(shape=S.shapes())
def test_shapes_are_small(shape):
    assert 1 <= len(shape) <= 4 and all(1 <= n <= 4 for n in shape)
    assert math.prod(shape) <= S.MAX_SIZE


@given(pair=S.broadcastable_shapes(), data=st.data())
def test_broadcastable_shapes_broadcast(pair, data):
    full = np.broadcast_shapes(*pair)
    assert len(full) >= max(len(s) for s in pair)


@given(shape=S.shapes(), data=st.data())
def test_nonzero_arrays_stay_away_from_zero(shape, data):
    x = data.draw(S.nonzero_arrays(shape))
    assert x.shape == shape and x.dtype == np.float64
    assert (np.abs(x) >= 0.1).all()


@given(shape=S.shapes(), data=st.data())
def test_distinct_arrays_have_no_near_ties(shape, data):
    x = data.draw(S.distinct_arrays(shape)).ravel()
    gaps = np.abs(x[:, None] - x[None, :]) + np.eye(x.size)
    assert gaps.min() >= 0.2


@given(pair=S.broadcastable_shapes(), data=st.data())
def test_separated_pairs_never_meet(pair, data):
    a, b = data.draw(S.separated_pair(*pair))
    assert np.abs(a - b).min() >= 0.05  # broadcast against each other


@given(shape=S.shapes(), data=st.data())
def test_indices_index_like_numpy(shape, data):
    x = np.zeros(shape)
    x[data.draw(S.basic_indices(shape))]  # noqa: B018 -- must not raise
    x[data.draw(S.advanced_indices(shape))]  # noqa: B018


def test_broadcastable_shapes_include_size_one_sides_and_missing_dims():
    """Over many draws, both kinds of broadcasting show up on each side."""
    seen = set()

    @given(pair=S.broadcastable_shapes())
    def collect(pair):
        a, b = pair
        if len(a) < len(b):
            seen.add("a shorter")
        if len(b) < len(a):
            seen.add("b shorter")
        for x, y in zip(reversed(a), reversed(b)):
            if x == 1 < y:
                seen.add("a has 1")
            if y == 1 < x:
                seen.add("b has 1")

    collect()
    assert seen == {"a shorter", "b shorter", "a has 1", "b has 1"}

"""The autoregressive exercises: causal attention for the transformer, the PixelCNN's mask."""
import numpy as np
from hypothesis import strategies as st

from minigen.learn import strategies as S
from minigen.learn.checking import Exercise, Failure, compare, prove, show
from minigen.learn.solutions import causal_attention as attention_solution
from minigen.learn.solutions import pixelcnn_mask as mask_solution
from minigen.tensor import Tensor


def check_causal_attention(learner):
    """Against minigen's fused attention: leading axes from none to two, T and d from 1 to 4,
    now and then queries 300 times larger (scores in the thousands); gradients to second order."""
    fn = learner.function("causal_attention", ("q", "k", "v"))

    @st.composite
    def cases(draw):
        shape = draw(S.shapes(min_dims=0, max_dims=2, max_side=3, max_size=6)) + \
            (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        scale = draw(st.sampled_from([1.0, 1.0, 1.0, 300.0]))
        return {"q": draw(S.arrays(shape)) * scale, "k": draw(S.arrays(shape)), "v": draw(S.arrays(shape))}

    def prop(case):
        compare(learner, "causal_attention", fn, attention_solution.causal_attention, case,
                wrt=("q", "k", "v"), order=2)
    first = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    large = {"q": np.array([[0.0], [300.0]]), "k": np.array([[0.0], [3.0]]), "v": np.array([[1.0], [2.0]])}
    prove(prop, cases(), {"q": first, "k": first[::-1].copy(), "v": first * 2}, large)


def check_pixelcnn_mask(learner):
    """Every kernel size from 1 to 7 and both types, against the mask minigen's MaskedConv2d uses
    (no drawing needed: there are only eight inputs)."""
    fn = learner.function("pixelcnn_mask", ("kernel_size", "mask_type"))
    for size in (3, 5, 1, 7):
        for kind in ("A", "B"):
            text = f"pixelcnn_mask({size}, {kind!r})"
            expected = mask_solution.pixelcnn_mask(size, kind).astype(int)
            got = mask_array(learner.call(text, fn, size, kind), text)
            if got.shape != expected.shape:
                raise Failure(f"{text}: expected a ({size}, {size}) mask, got shape {got.shape}")
            if not np.isin(got, (0, 1)).all():
                raise Failure(f"{text}: expected 0s and 1s only, got {show(got)}")
            if not np.array_equal(got, expected):
                raise Failure(f"{text}: expected {show(expected)}, got {show(got.astype(int))}")


def mask_array(result, text):
    """The learner's mask as a host array: from a Tensor, a NumPy array or nested lists."""
    if isinstance(result, Tensor):
        return result.numpy()
    try:
        got = np.asarray(result)
    except ValueError:
        got = np.asarray(None)
    if got.dtype.kind not in "biuf":
        raise Failure(f"{text} returned {type(result).__name__}, not an array of 0s and 1s")
    return got


CAUSAL_ATTENTION = Exercise(
    "causal_attention", "causal_attention(q, k, v): softmax(q k^T / sqrt(d)) v, position t attending to s <= t",
    'tutorials/06_autoregressive.py, section 3 "A small transformer, and what one head looks at"; '
    'minigen/nn/attention.py (CausalSelfAttention) and the masking notes at the top of '
    'minigen/objectives/autoregressive.py',
    "minigen/functional.py: scaled_dot_product_attention (fused: minigen/ops/linalg.py, class Attention)",
    check_causal_attention)

PIXELCNN_MASK = Exercise(
    "pixelcnn_mask", 'pixelcnn_mask(kernel_size, mask_type): a 0/1 kernel mask, type "A" or "B", raster order',
    'tutorials/06_autoregressive.py, section 5 "PixelCNN: painting digits pixel by pixel"; '
    'the masking notes at the top of minigen/objectives/autoregressive.py',
    "minigen/nn/conv.py: class MaskedConv2d", check_pixelcnn_mask)

"""The autoregressive exercises: causal attention for the transformer and the distribution its
samples are drawn from; the PixelCNN's mask and its exact likelihood."""
import math

import numpy as np
from hypothesis import strategies as st

from minigen.learn import strategies as S
from minigen.learn.checking import Exercise, Failure, compare, prove, show
from minigen.learn.solutions import bernoulli_nll as nll_solution
from minigen.learn.solutions import causal_attention as attention_solution
from minigen.learn.solutions import pixelcnn_mask as mask_solution
from minigen.learn.solutions import top_k_distribution as top_k_solution
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


def check_top_k_distribution(learner):
    """Against minigen's sampling distribution, on rows of 1 to 6 distinct logits (no ties: which
    of two equal logits is kept is a convention), now and then 300 times larger, temperatures
    from 0.1 to 3, every k from 1 to V."""
    fn = learner.function("top_k_distribution", ("logits", "temperature", "k"))

    @st.composite
    def cases(draw):
        lead, v = draw(S.shapes(min_dims=0, max_dims=2, max_side=3, max_size=6)), draw(st.integers(1, 6))
        rows = [np.array(draw(st.permutations(range(v))), dtype=float) - (v - 1) / 2 for _ in range(math.prod(lead))]
        jitter = draw(S.arrays(lead + (v,), S.floats(0.0, 0.25)))
        scale = draw(st.sampled_from([1.0, 1.0, 1.0, 300.0]))
        return {"logits": (np.array(rows).reshape(lead + (v,)) + jitter) * scale,
                "temperature": draw(st.one_of(S.floats(0.1, 3.0), st.just(1.0))), "k": draw(st.integers(1, v))}

    def prop(case):
        compare(learner, "top_k_distribution", fn, top_k_solution.top_k_distribution, case)
    prove(prop, cases(), {"logits": np.array([[2.0, 0.0, 1.0, -1.0]]), "temperature": 1.0, "k": 2})


def check_bernoulli_nll(learner):
    """Against minigen's on images (N, ...) of binary pixels with logits up to +-1000; the
    gradient in the logits to second order."""
    fn = learner.function("bernoulli_nll", ("logits", "x"))

    @st.composite
    def cases(draw):
        shape = draw(S.shapes(min_dims=2, max_dims=4))
        return {"logits": draw(S.arrays(shape, S.logits())), "x": draw(S.arrays(shape, st.sampled_from([0.0, 1.0])))}

    def prop(case):
        compare(learner, "bernoulli_nll", fn, nll_solution.bernoulli_nll, case, wrt=("logits",), order=2)
    prove(prop, cases(), {"logits": np.array([[[[2.0, -1.0]]]]), "x": np.array([[[[1.0, 1.0]]]])})


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

TOP_K = Exercise(
    "top_k_distribution", "top_k_distribution(logits, temperature, k): softmax(logits / T) over the k likeliest",
    'tutorials/06_autoregressive.py, section 4 "Sampling: temperature and top-k on the same prompt"; '
    "minigen/models/text.py (sample)",
    "minigen/objectives/autoregressive.py: sampling_distribution", check_top_k_distribution)

BERNOULLI_NLL = Exercise(
    "bernoulli_nll", "bernoulli_nll(logits, x): a PixelCNN's exact -log p(x) of binary images, nats per image",
    'tutorials/06_autoregressive.py, section 5 "PixelCNN: painting digits pixel by pixel"; '
    "the chain rule at the top of minigen/objectives/autoregressive.py",
    "minigen/objectives/autoregressive.py: bernoulli_nll", check_bernoulli_nll)

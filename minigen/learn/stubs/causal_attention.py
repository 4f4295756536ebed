import math

import minigen as mg
import minigen.functional as F


def causal_attention(q, k, v):
    """One head of scaled dot-product attention with a causal mask:

        scores[..., t, s] = q[..., t, :] . k[..., s, :] / sqrt(d)          (..., T, T)
        position t may attend to positions s <= t only: the later ones get weight 0
        weights = softmax of the scores over s                            each row sums to 1
        out[..., t, :] = sum_s weights[..., t, s] v[..., s, :]             (..., T, d)

    q, k, v: Tensors (..., T, d) (any leading axes: batch, heads). Returns a Tensor (..., T, d).
    Tools: a @ b (batched over leading axes), t.transpose(*axes), F.softmax(t, axis=-1),
    mg.where(cond, a, b) with cond a boolean array. Scores can be large: a softmax of scores of
    1000 must not overflow.
    """
    raise NotImplementedError("causal_attention: write me")

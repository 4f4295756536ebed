import math

import minigen as mg
import minigen.functional as F


def top_k_distribution(logits, temperature, k):
    """The distribution one sampling step of an autoregressive model draws the next token from:

        p = softmax(logits / temperature), restricted to the k largest logits of each row
            and renormalised (every other token gets probability 0).

    temperature T > 0: T < 1 sharpens the distribution towards the likeliest tokens, T > 1
    flattens it; k between 1 and V keeps only the k likeliest (k = V: every token).

    logits: a Tensor (..., V). temperature: a Python float > 0. k: an int, 1 <= k <= V.
    Returns a Tensor shaped like logits whose rows sum to 1. Exact for any logits (a logit of
    1000 at temperature 0.5 must not overflow). Tools: logits.data is the raw array, for the
    ranking (self-made masks need no gradient); mg.where(cond, a, b); F.softmax.
    """
    raise NotImplementedError("top_k_distribution: write me")

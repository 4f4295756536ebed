r"""The autoregressive objective: the exact likelihood, by the chain rule.

The storyteller. An autoregressive model tells a story one word at a time, each word chosen
from what came before. Any joint distribution over a sequence x = (x_1, ..., x_T) factorises
that way, by the chain rule of probability, with no assumption at all:

.. math::

    p(x) = p(x_1)\, p(x_2 \mid x_1)\, p(x_3 \mid x_1, x_2) \cdots = \prod_t p(x_t \mid x_{<t}).

A network that outputs, for every prefix x_<t, a distribution over the next token (a softmax
over the vocabulary, or one Bernoulli logit for a binary pixel) therefore defines p(x)
exactly, and its negative log-likelihood is a sum of per-step cross-entropies (in nats):

.. math::

    \mathrm{NLL}(x) = -\log p(x) = \sum_t -\log p(x_t \mid x_{<t}).

No bound (the VAE's ELBO), no adversary (the GAN's critic): the number reported by
``minigen eval`` is the model's true -log p(x), and minimising its mean over the data is
maximum likelihood.

Teacher forcing with shifted targets. Training does not sample: all T conditionals are
computed in one pass over the true sequence. The input at position t is the token before it,
the target the token at t:

    tokens   .  e  m  m  a  .          (the boundary token "." at both ends)
    inputs   .  e  m  m  a             tokens[:-1]
    targets  e  m  m  a  .             tokens[1:]

so position t is scored on predicting targets[t] from inputs[0..t], which must not see
targets[t] itself: the model has to be causal (below).

The boundary token. A name has no fixed length; the model says where it ends. The boundary
"." is the first input (the empty prefix: "what does a name start with?") and the last target
("the name ends here"). So p(name) = prod over its characters and the end, and summing over
all finite names gives 1: at every prefix the next-token probabilities (letters and the end)
sum to 1, and expanding the sum one step at a time leaves, after L steps, the probability that
a name has not ended within L characters, which goes to 0. minigen makes this exact at a
finite length: at a prefix of ``max_len`` characters (the data's longest name) the end is
certain (``force_end``), so the model is a normalised distribution over the names of at most
``max_len`` characters (the tests enumerate them on a tiny vocabulary and sum to 1). A name's
NLL counts len(name) + 1 predictions; ``nll_per_token`` divides by that count.

Causal masking, three ways. Output t may depend on inputs 0..t only:

- a fixed context window (the bigram's one token, the MLP's last k tokens): position t is
  computed from inputs t - k + 1 .. t alone (positions before the start are the boundary);
- causal attention (the transformer): query t attends to keys 0..t, the scores of later keys
  are set to -inf before the softmax, so their weights are exactly 0;
- masked convolutions (PixelCNN, images in raster order, row by row, left to right): the
  first layer's kernel (mask 'A') sees the pixels strictly before the centre, later layers
  (mask 'B') the centre too, which is then already a summary of pixels before it. Stacking B
  layers on one A layer keeps output pixel i a function of input pixels j < i, though not of all
  of them: a wedge above and to the right of i stays out of reach (the blind spot, which the
  gated PixelCNN's vertical and horizontal stacks remove; tutorials/06_autoregressive.py
  measures it). A binary pixel
  gets one logit l and p(x_i = 1 | x_<i) = sigmoid(l), so its NLL is the binary cross-entropy
  softplus(l) - x_i l (``bernoulli_nll``). A pixel with K intensity levels (the grey digits'
  17) gets K logits and a softmax, as a token does: the image is a sequence of H * W tokens in
  raster order, and its NLL is ``sequence_nll``'s sum of cross-entropies.

Sampling: one step at a time, from p(x_t | x_<t) with two knobs (``sampling_distribution``):

- temperature T divides the logits: p_T(v) = softmax(l / T)(v), proportional to p(v)^(1/T).
  T = 1 is the model; T < 1 sharpens it (T -> 0: always the likeliest token, greedy decoding);
  T > 1 flattens it (T -> inf: uniform). The ratio of two tokens' probabilities goes from
  p(a) / p(b) to (p(a) / p(b))^(1/T).
- top-k keeps the k likeliest tokens and renormalises: p_k(v) = p(v) / sum_{u in top k} p(u)
  for v in the top k, else 0. It cuts the long tail of unlikely tokens (each one rare, together
  often a fair share of the mass); k = 1 is greedy decoding.

Either changes the distribution sampled from, so samples drawn with them are no longer
samples of the model whose NLL is reported. One draw from the distribution (``draw``) inverts
its cumulative sum at a uniform number u: the first category whose running total reaches u.

Conditioning on a label, and the generative model as a classifier. A conditional model adds
the label y to every conditional: p(x | y) = prod_t p(x_t | x_<t, y) (PixelCNN: a per-class
bias in every masked layer), still exact, still normalised for each y. With a prior p(y) (here
the training split's class frequencies, the maximum-likelihood estimate) it is a model of the
pair, p(x, y) = p(y) p(x | y), and two more exact quantities follow by summing over the C labels:

    the marginal   log p(x) = log sum_y p(y) p(x | y) = logsumexp_y (log p(x | y) + log p(y))
    Bayes' rule    log p(y | x) = log p(x | y) + log p(y) - log p(x)
                                = log_softmax_y (log p(x | y) + log p(y))

(``log_marginal`` and ``bayes_posterior``; logsumexp and log_softmax subtract the largest term
first, so a likelihood of -500 nats does not underflow.) The posterior turns the generative
model into a classifier: argmax_y p(y | x) is its guess, -log p(y_true | x) its loss. And the
same sums work on a prefix: the first k pixels' likelihood log p(x_<=k | y) is the sum of the
first k terms of the chain rule (nothing later is involved), so p(y | the top half) is exact
too, and completing a half image under the marginal model is: draw y from p(y | top half),
then the bottom half from p(x_bottom | top half, y).
"""
import math

import minigen as mg
import minigen.functional as F
from minigen import backend

BOUNDARY = 0   # the token that starts and ends every name; letters are 1..V-1


def shift(tokens):
    """Teacher forcing: (inputs, targets) = (tokens[:, :-1], tokens[:, 1:]), each (B, T)."""
    return tokens[:, :-1], tokens[:, 1:]


def prediction_mask(lengths, steps, xp):
    """(B, steps) booleans: True at the positions t <= length that a name of ``length``
    characters is scored on (its characters and its end); False on the padding after it."""
    return xp.arange(steps)[None, :] <= lengths[:, None]


def force_end(logits, max_len, start=0):
    """logits (B, T, V) whose position t predicts after a prefix of start + t characters
    (start > 0 when sampling step by step): where that prefix holds max_len characters or
    more, every token but the boundary gets logit -inf, so the end is certain there."""
    xp = logits.xp
    t, v = logits.shape[-2:]
    allowed = (start + xp.arange(t)[:, None] < max_len) | (xp.arange(v)[None, :] == BOUNDARY)   # (T, V)
    return mg.where(allowed, logits, -math.inf)


def sequence_nll(logits, targets, mask=None):
    """-log p(x) = sum_t -log softmax(logits_t)[targets_t] over the positions where ``mask``.

    logits (B, T, V), targets (B, T) ints, mask (B, T) booleans or None (every position)
    -> (B,) nats, one per sequence.
    """
    b, t, v = logits.shape
    if targets.shape != (b, t):
        raise ValueError(f"sequence_nll: targets must have shape {(b, t)} like the logits' first two axes, "
                         f"got {targets.shape}")
    per_step = F.cross_entropy(logits.reshape(b * t, v), targets.reshape(b * t), reduction="none")
    per_step = per_step.reshape(b, t)                                     # (B, T)
    if mask is not None:
        per_step = mg.where(mask, per_step, 0.0)
    return per_step.sum(axis=1)                                           # (B,)


def bernoulli_nll(logits, x):
    """-log p(x) of binary pixels: sum over pixels of softplus(l) - x l (stable for any l).

    logits and x (N, ...) with x in {0, 1} -> (N,) nats, one per image.
    """
    per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")   # (N, ...)
    return per_pixel.reshape(x.shape[0], -1).sum(axis=1)                          # (N,)


def sampling_distribution(logits, temperature=1.0, top_k=None):
    """The distribution one sampling step draws from: softmax(logits / T) over the top k.

    logits (..., V) -> probabilities (..., V). T > 0; T -> 0 puts all the mass on the argmax.
    top_k: keep the k largest logits of each row (exactly k: ties are broken by position),
    renormalised; None (or k >= V) keeps every token.
    """
    if not temperature > 0:
        raise ValueError(f"--temperature: must be > 0, got {temperature}")
    scaled = logits * (1.0 / temperature)
    v = logits.shape[-1]
    if top_k is None or top_k >= v:
        return F.softmax(scaled, axis=-1)
    if int(top_k) != top_k or top_k < 1:
        raise ValueError(f"--top-k: must be an integer >= 1, got {top_k}")
    xp = logits.xp
    rank = xp.argsort(xp.argsort(-logits.data, axis=-1, kind="stable"), axis=-1)    # 0 = the largest
    return F.softmax(mg.where(rank < top_k, scaled, -math.inf), axis=-1)


def draw(probs, rng):
    """One category per row of probs (n, V), by inverting the cumulative distribution at a
    uniform draw from the host generator ``rng``: (n,) ints, an array on probs' device."""
    xp = probs.xp
    u = xp.asarray(backend.to_device(rng.random((probs.shape[0], 1)), probs.device))   # (n, 1)
    below = (xp.cumsum(probs.data, axis=1) < u).sum(axis=1)              # (n,): categories passed
    return xp.minimum(below, probs.shape[1] - 1)                        # rounding at the top edge


def log_marginal(log_likelihoods, log_prior):
    """log p(x) = logsumexp_y (log p(x | y) + log p(y)): the label summed out.

    log_likelihoods (N, C): log p(x_n | y = c); log_prior (C,): log p(y = c) -> (N,) nats.
    """
    return F.logsumexp(log_likelihoods + log_prior, axis=-1)


def bayes_posterior(log_likelihoods, log_prior):
    """log p(y | x) by Bayes' rule: log_softmax_y (log p(x | y) + log p(y)).

    log_likelihoods (N, C), log_prior (C,) -> (N, C); each row's exponentials sum to 1.
    """
    return F.log_softmax(log_likelihoods + log_prior, axis=-1)

import math

import minigen as mg
import minigen.functional as F


def iwae_bound(log_w):
    """The importance-weighted bound L_k, from the log-weights of k draws per example:

        L_k = log( (1/k) sum_{i=1..k} exp(log_w[i]) )      (over axis 0)

    log_w: a Tensor (k, B), log w_i = log p(x, z_i) - log q(z_i | x) for draw i of example b.
    Returns a Tensor (B,). With k = 1 it is the ELBO; it rises towards log p(x) as k grows.

    Log-weights are log-probabilities of whole images: -1000 is ordinary, and exp(-1000) is
    0 in float64 (exp(1000) is inf). Compute L_k exactly for any log-weights: factor the
    largest exp(log_w[i]) of each example out of the sum before taking the log.
    """
    raise NotImplementedError("iwae_bound: write me")

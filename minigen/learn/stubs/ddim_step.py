import minigen as mg


def ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev):
    """One deterministic DDIM step (eta = 0): from x_t at level t to x_prev at an earlier, less
    noisy level, given eps, the network's prediction of the noise in x_t.

    x_t was made as sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps (see q_sample). DDIM
      1. solves that for x_0 with the predicted eps: the clean data the prediction implies;
      2. mixes that x_0 and the same eps again, in the proportions of level prev.
    With abar_prev = 1 (the last step) the result is the predicted x_0 itself.

    x_t, eps: Tensors of one shape. alpha_bar_t, alpha_bar_prev: abar at the two levels,
    0 < abar_t < abar_prev <= 1, each a Python float or a Tensor that broadcasts against x_t.
    Returns x_prev, a Tensor shaped like x_t.
    """
    raise NotImplementedError("ddim_step: write me")

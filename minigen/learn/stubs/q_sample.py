import minigen as mg


def q_sample(x0, alpha_bar, eps):
    """The forward process: the noised x_t drawn from clean data x_0, its noise given,

        x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps,     eps ~ N(0, I).

    abar_t is the share of the signal's variance left at level t: 1 is clean data, near 0
    pure noise (x_t keeps unit variance when x_0 has it).

    x0, eps: Tensors (B, ...) of one shape. alpha_bar: abar_t in (0, 1], a Python float or a
    Tensor: one level for all (shape ()), or one level per example, shape (B,) (or (B, 1, ..., 1),
    already shaped to broadcast), broadcast over x0's trailing axes. Mind NumPy's rules: they line
    shapes up from the right, so (B,) * (B, D) pairs the levels with the features, not with the
    examples (and runs without complaint when D = B). Returns a Tensor shaped like x0.
    """
    raise NotImplementedError("q_sample: write me")

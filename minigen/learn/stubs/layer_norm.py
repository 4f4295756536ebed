import minigen as mg


def layer_norm(x, weight, bias, eps):
    """Layer normalisation over the last axis: each row of features given mean 0 and variance 1,
    then scaled and shifted by learned parameters,

        y = (x - mean) / sqrt(var + eps) * weight + bias,

    mean and var over the last axis (var the mean of the squared deviations: divided by D, not
    D - 1).

    x: a Tensor (..., D). weight, bias: Tensors (D,), or None (no scale, no shift). eps: a small
    float (1e-5) that keeps the division finite for a constant row. Returns a Tensor shaped like x.
    It must be exact however large the features' common offset: in float64, mean(x^2) - mean(x)^2
    has lost most of its digits when x is near 1e6.
    """
    raise NotImplementedError("layer_norm: write me")

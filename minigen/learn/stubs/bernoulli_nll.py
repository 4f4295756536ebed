import minigen as mg
import minigen.functional as F


def bernoulli_nll(logits, x):
    """The exact negative log-likelihood of binary images, from the model's logits: a PixelCNN's
    p(x) = prod_j p(x_j | x_<j), each pixel a Bernoulli with probability sigmoid(l_j), so

        -log p(x) = -sum_j [ x_j log sigmoid(l_j) + (1 - x_j) log(1 - sigmoid(l_j)) ]

    summed over every pixel of an image (its channels, rows and columns).

    logits, x: Tensors (N, C, H, W) (any shape (N, ...)), x in {0, 1}. Returns a Tensor (N,): nats
    per image. Exact for any logit: sigmoid(-1000) is 0 in float64, log(0) is -inf. What are
    log sigmoid(l) and log(1 - sigmoid(l)) in terms of F.softplus(l) = log(1 + e^l)?
    """
    raise NotImplementedError("bernoulli_nll: write me")

import minigen as mg


def guided_eps(eps_cond, eps_uncond, w):
    """Classifier-free guidance: one noise prediction from a conditional and an unconditional one.

    By Bayes' rule an implicit classifier's score is the difference of two scores,
    grad log p(y | x) = grad log p(x | y) - grad log p(x). Guidance with weight w follows

        grad log p(x | y) + w grad log p(y | x),

    and a noise prediction is a score times -sqrt(1 - abar) (the same factor for both), so the
    guided noise is a mix of eps_cond = eps(x, y) and eps_uncond = eps(x, no label): write that
    mix. w = 0 is the conditional model alone; a larger w makes samples more clearly of their class.

    eps_cond, eps_uncond: Tensors of one shape. w: a Python float >= 0.
    Returns a Tensor of that shape.
    """
    raise NotImplementedError("guided_eps: write me")

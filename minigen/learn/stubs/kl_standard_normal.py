import minigen as mg


def kl_standard_normal(mu, log_var):
    """KL(q || p) for q = N(mu, diag sigma^2) and the prior p = N(0, I): the ELBO's price for
    the code of each example. log_var is log sigma^2, the log of the variance.

    mu, log_var: Tensors (B, d), the encoder's output for B examples and d latent dimensions.
    Returns a Tensor (B,): one KL per example, summed over its d dimensions (they are
    independent, so their KLs add).

    Between two 1-D Gaussians,

        KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2.

    Put q in the first place and p = N(0, 1) in the second, and write the result with mu and
    log_var alone (log s1 = log_var / 2).
    """
    raise NotImplementedError("kl_standard_normal: write me")

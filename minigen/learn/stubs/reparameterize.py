import minigen as mg


def reparameterize(mu, log_var, eps):
    """A draw z ~ N(mu, diag sigma^2), sigma^2 = exp(log_var), written as a function of noise
    that does not depend on mu or log_var:

        z = mu + sigma * eps,   eps ~ N(0, I) (given).

    Then z is differentiable in mu and log_var: the gradient of the reconstruction term flows
    back through the sample into the encoder.

    mu, log_var: Tensors (B, d). eps: a Tensor (B, d), or (k, B, d) for k draws per example (it
    broadcasts against mu). Returns z, a Tensor shaped like eps. sigma is the standard deviation.
    """
    raise NotImplementedError("reparameterize: write me")

import minigen as mg


def gradient_penalty(critic, real, fake, alpha):
    """WGAN-GP's gradient penalty: a soft way to hold the critic f to the 1-Lipschitz functions
    the Wasserstein game needs, by asking for gradient norm 1 between real and fake samples:

        x_hat_i = alpha_i real_i + (1 - alpha_i) fake_i           one mix per sample
        GP      = mean_i (||grad_x f(x_hat_i)||_2 - 1)^2           the norm over all of x_i's axes

    critic: a function, x (N, ...) -> scores (N,) (or (N, 1)); each score depends on its own
    sample only, so the gradient of scores.sum() with respect to x_hat holds every sample's
    grad_x f. real, fake: Tensors (N, ...). alpha: a Tensor (N,) of mixing weights in [0, 1].
    Returns a scalar Tensor.

    The critic is trained on GP: its update needs the gradient of GP with respect to the
    critic's weights, a derivative of a derivative. mg.grad(output, inputs, create_graph=True)
    returns gradients that remember how they were computed, so that backward() can go through
    them. x_hat must be a leaf that wants a gradient: build it from real and fake with
    .detach(), then .requires_grad_().
    """
    raise NotImplementedError("gradient_penalty: write me")

r"""The GAN game, derived from its value function.

A generator G turns noise z ~ N(0, I) into samples G(z) (the forger); a discriminator D
says how likely a sample is to be real, D(x) in (0, 1) (the critic). They play one game
with one score, the value function

.. math::

    V(D, G) = \mathbb{E}_{x \sim p_\text{data}}[\log D(x)] + \mathbb{E}_{z \sim \mathcal{N}(0, I)}[\log(1 - D(G(z)))]

D maximises V (call real data real and fakes fake); G minimises it (make fakes D calls real).

Logits, never probabilities. A network outputs a logit l and D = sigmoid(l). Because
1 - sigmoid(l) = sigmoid(-l) and log sigmoid(l) = -log(1 + e^-l) = -softplus(-l):

    log D(x)          = -softplus(-l)
    log(1 - D(G(z)))  = -softplus(l)

softplus is computed as logaddexp(0, l), exact for any l, and its gradient is sigmoid(l).
So every loss below is finite and correct at |l| = 1000, where sigmoid(l) rounds to exactly
0 or 1 in float32 and the naive log(sigmoid(l)) is -inf (and its gradient NaN).

The optimal discriminator. For a fixed G with sample density p_g, V is the integral over x of
p_data(x) log D(x) + p_g(x) log(1 - D(x)); pointwise, a log D + b log(1 - D) is largest at
D = a / (a + b), so

.. math::

    D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}, \qquad
    V(D^*, G) = -\log 4 + 2\, \mathrm{JSD}(p_\text{data} \,\|\, p_g).

Against a perfect critic G minimises the Jensen-Shannon divergence; the game ends at
p_g = p_data, where D* = 1/2 everywhere and V = -log 4.

The generator's two losses. Only the second term of V depends on G. With l = the logit of
a fake:

    saturating      minimise  log(1 - D(G(z))) = -softplus(l)    dloss/dl = -sigmoid(l)
    non-saturating  minimise -log D(G(z))      =  softplus(-l)   dloss/dl = -(1 - sigmoid(l))

Early in training fakes are easy to spot: D wins, D(G(z)) -> 0, l -> -inf. Then the
saturating gradient -sigmoid(l) ~ -e^l vanishes (the loss saturates at 0): G learns
nothing exactly when it is worst. The non-saturating gradient tends to -1 there, full
strength, and fades only as D(G(z)) -> 1. Both have the same fixed point (p_g = p_data,
D = 1/2); the non-saturating one is what people train with (Goodfellow et al., 2014).

The Wasserstein game (WGAN). Replace log D by a critic score f(x) in R and log(1 - D) by -f:

    V_W(f, G) = E_x~data [f(x)] - E_z [f(G(z))],

maximised over 1-Lipschitz f, is the Wasserstein-1 (earth mover's) distance between p_data
and p_g (Kantorovich-Rubinstein duality). Unlike the JSD, which is a constant log 2 whenever
the two distributions do not overlap, it still says how far apart they are, so G always gets
a useful gradient. The critic minimises -V_W (critic_loss), G minimises -E f(G(z)).

The Lipschitz constraint, softly (WGAN-GP, Gulrajani et al., 2017). The optimal critic has
gradient norm 1 on straight lines between real and generated points, so penalise

    GP = E_x_hat [(||grad_x f(x_hat)||_2 - 1)^2],   x_hat = a x + (1 - a) G(z),  a ~ U[0, 1].

The penalty contains a gradient, and the critic's update needs the gradient of the penalty
with respect to the critic's weights: a derivative of a derivative. ``mg.grad(...,
create_graph=True)`` records the backward pass of grad_x f as a graph of its own, so that
the ordinary ``backward()`` can go through it (double backward).

A conditional critic f(x, y) (a conditional GAN, p(x | y)) is a family of critics, one per
class, each held to the constraint on its own class: x_hat mixes a real sample of class y with
a fake made for y, and the penalty is on grad_x f(x_hat, y), y held fixed. ``gradient_penalty``
takes the critic as a function of x alone, so pass it x -> f(x, y) (``functools.partial``).
"""
import minigen as mg
import minigen.functional as F


def log_sigmoid(logits):
    """log sigmoid(l) = -softplus(-l): log D for a logit, finite for any l."""
    return -F.softplus(-logits)


def value_function(real_logits, fake_logits):
    """V(D, G) = mean log D(x) + mean log(1 - D(G(z))), from D's logits on real and fake samples.

    log(1 - sigmoid(l)) = log sigmoid(-l). At the end of the game (D = 1/2) V = -log 4.
    """
    return log_sigmoid(real_logits).mean() + log_sigmoid(-fake_logits).mean()


def discriminator_loss(real_logits, fake_logits):
    """-V(D, G) = mean softplus(-l_real) + mean softplus(l_fake): D maximises V, so minimises this.

    It is the binary cross-entropy of "real = 1, fake = 0", summed over the two halves.
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss_saturating(fake_logits):
    """The game as written: G minimises mean log(1 - D(G(z))) = -mean softplus(l_fake).

    dloss/dl = -sigmoid(l): vanishes when D confidently rejects the fakes (l << 0).
    """
    return -F.softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits):
    """G maximises mean log D(G(z)): minimises mean softplus(-l_fake).

    dloss/dl = -(1 - sigmoid(l)): close to -1 when D confidently rejects the fakes.
    """
    return F.softplus(-fake_logits).mean()


def critic_loss(real_scores, fake_scores):
    """The WGAN critic minimises mean f(G(z)) - mean f(x) (= -V_W); add the gradient penalty."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores):
    """G minimises -mean f(G(z)): move the fakes where the critic scores data high."""
    return -fake_scores.mean()


def interpolates(real, fake, alpha=None):
    """x_hat = a x + (1 - a) G(z), one a ~ U[0, 1] per sample, as a fresh leaf that wants a gradient.

    ``real`` and ``fake`` are (N, ...); ``alpha`` (N,) may be given (tests) instead of drawn.
    """
    n = real.shape[0]
    shape = (n,) + (1,) * (real.ndim - 1)
    if alpha is None:
        alpha = mg.rand(*shape, dtype=real.dtype, device=real.device)
    else:
        alpha = alpha.reshape(*shape)
    mixed = alpha.detach() * real.detach() + (1 - alpha.detach()) * fake.detach()
    return mixed.detach().requires_grad_()


def gradient_penalty(critic, real, fake, alpha=None):
    """E[(||grad_x critic(x_hat)||_2 - 1)^2] on random interpolates x_hat between real and fake.

    ``critic``: x (N, ...) -> scores (N,); for a conditional critic, x -> f(x, y) with y the
    labels that real[i] and fake[i] share.

    Differentiable with respect to the critic's parameters (create_graph=True): the critic's
    ``backward()`` runs through the backward pass of grad_x.
    """
    x_hat = interpolates(real, fake, alpha)                          # (N, ...)
    scores = critic(x_hat)                                           # (N, 1) or (N,)
    (g,) = mg.grad(scores.sum(), x_hat, create_graph=True)           # (N, ...): per-sample grad_x
    g = g.reshape(g.shape[0], -1)                                    # (N, D)
    norms = ((g * g).sum(axis=1) + 1e-12).sqrt()                     # (N,); the 1e-12 keeps sqrt' finite at 0
    return ((norms - 1) ** 2).mean()


# --loss name -> (the discriminator's or critic's loss, the generator's loss)
LOSSES = {
    "minimax": (discriminator_loss, generator_loss_saturating),
    "nonsaturating": (discriminator_loss, generator_loss_nonsaturating),
    "wgan-gp": (critic_loss, wasserstein_generator_loss),
}

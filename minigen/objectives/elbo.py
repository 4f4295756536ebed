r"""The VAE's objective, the evidence lower bound (ELBO), derived; and its importance-weighted sharpening.

A VAE is an artist who looks at a painting x, sketches it as a short code z, and paints a new
picture from the sketch alone. The painter is the decoder, a likelihood p(x | z); the sketches
come from a prior p(z) = N(0, I), so a new picture is z ~ N(0, I) painted by the decoder. To
learn the painter we want the marginal likelihood of the data,

.. math::

    \log p(x) = \log \int p(x \mid z)\, p(z)\, dz,

which no one can integrate for a neural decoder. The sketcher is the encoder, q(z | x) =
N(mu(x), diag sigma^2(x)), a guess of which codes could have painted x.

The bound. For any q, because log p(x) does not depend on z and p(x) = p(x, z) / p(z | x),

.. math::

    \log p(x) = \mathbb{E}_q[\log p(x)]
      = \underbrace{\mathbb{E}_q\!\left[\log \frac{p(x, z)}{q(z \mid x)}\right]}_{\mathrm{ELBO}(x)}
      + \underbrace{\mathbb{E}_q\!\left[\log \frac{q(z \mid x)}{p(z \mid x)}\right]}_{\mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))}.

A KL divergence is >= 0, so ELBO <= log p(x), with equality exactly when q is the true posterior
p(z | x): the better the sketcher guesses, the tighter the bound. Splitting p(x, z) = p(x | z) p(z):

.. math::

    \mathrm{ELBO}(x) = \underbrace{\mathbb{E}_q[\log p(x \mid z)]}_{-\text{reconstruction error}}
      - \underbrace{\mathrm{KL}(q(z \mid x) \,\|\, p(z))}_{\text{the code's distance from the prior}}.

The first term asks the sketch to be enough to repaint x; the second keeps the sketches inside
the prior, so that codes drawn from N(0, I) paint something sensible. A plain autoencoder has
only the first term, and nothing says what lies between its codes.

The reparameterisation trick. Training needs the gradient of E_q[f(z)] (f = log p(x | z)) with
respect to the encoder's weights phi, which move the distribution we average over. The
score-function (REINFORCE) estimator uses grad E_q[f] = E_q[f(z) grad log q(z)]: it sees only
the value of f, so its variance grows with f's size (tens of nats here) and its spread.
Instead write the draw as a function of phi and of noise that does not depend on phi:

.. math::

    z = \mu + \sigma \odot \epsilon,\quad \epsilon \sim \mathcal{N}(0, I)
    \quad\Longrightarrow\quad \nabla_\phi \mathbb{E}_q[f(z)] = \mathbb{E}_\epsilon\!\left[\nabla_z f(z)\, \frac{\partial z}{\partial \phi}\right].

Now the gradient goes through f itself (backpropagation through the sample); one draw per
example is usually enough. tutorials/05_vae.py measures the two variances.

The KL in closed form. For diagonal Gaussians, dimension by dimension,

.. math::

    \mathrm{KL}(\mathcal{N}(m_1, s_1^2) \,\|\, \mathcal{N}(m_2, s_2^2)) = \log\frac{s_2}{s_1}
      + \frac{s_1^2 + (m_1 - m_2)^2}{2 s_2^2} - \frac{1}{2},

and against the prior N(0, 1): KL = (mu^2 + sigma^2 - 1 - log sigma^2) / 2, summed over the
latent dimensions. Zero only at mu = 0, sigma = 1: a latent dimension the decoder ignores is
pushed there, and then carries no information about x (it is "inactive"; when every dimension
goes that way the posterior has collapsed onto the prior).

Likelihoods. Binary pixels: p(x | z) = prod_j Bernoulli(x_j; sigmoid(l_j)) with logits l, so

    log p(x | z) = sum_j x_j log sigmoid(l_j) + (1 - x_j) log(1 - sigmoid(l_j)) = -sum_j [softplus(l_j) - x_j l_j],

the negative binary cross-entropy, exact and finite for any |l| (F.binary_cross_entropy_with_logits).
Real pixels: p(x | z) = N(x; m(z), diag s^2), log p = -sum_j [log 2 pi + log s_j^2 + (x_j - m_j)^2 / s_j^2] / 2.
With a learned variance, a pixel that is always the same (the corners of a digit) would let
s -> 0 and log p -> +infinity; a floor on log s^2 keeps the likelihood bounded.

The importance-weighted bound (IWAE, Burda et al. 2016). With k draws z_i ~ q(z | x) and
weights w_i = p(x, z_i) / q(z_i | x), E[w_i] = p(x), so by Jensen's inequality

.. math::

    L_k = \mathbb{E}\left[\log \frac{1}{k} \sum_{i=1}^k w_i\right] \le \log \mathbb{E}\left[\frac{1}{k} \sum_{i=1}^k w_i\right] = \log p(x).

L_1 is the ELBO. L_k <= L_{k+1}: the average of k + 1 weights is the mean of the averages of its
k-subsets, and log is concave. And (1/k) sum w_i -> p(x) as k grows (law of large numbers), so
L_k -> log p(x): with k = 1000 it estimates the log-likelihood itself (the test NLL a VAE reports).
The weights under-/overflow in exp, so L_k is computed from log w_i with logsumexp - log k.

The conditional VAE (Sohn et al. 2015). Given a label y (the class of a digit), learn p(x | y):
the encoder sees the label too, q(z | x, y), and so does the decoder, p(x | z, y); the prior stays
p(z) = N(0, I), the same for every class. The derivation above, with every density also
conditioned on y (log p(x | y) does not depend on z, and p(x | y) = p(x, z | y) / p(z | x, y)):

    log p(x | y) = E_q[log p(x, z | y) / q(z | x, y)] + KL(q(z | x, y) || p(z | x, y))
                >= E_q[log p(x | z, y)] - KL(q(z | x, y) || p(z)),

using p(x, z | y) = p(x | z, y) p(z) (z drawn independently of y). So the same functions below
compute it, fed the conditional networks' outputs: the ELBO and L_k are now bounds on log p(x | y),
and the k = 1000 estimate is the test NLL given the test labels. Since the label tells the decoder
which digit to paint, z is left to code the rest (the style: slant, thickness); and as
log p(x | y) = log p(x) + log p(y | x) - log p(y), with balanced classes it can be lower than the
unconditional -log p(x) by up to log 10 = 2.3 nats, for digits whose class is plain from the pixels.

Completing an image (Mattei & Frellsen 2018). Given some pixels x_o of an image, the model's
answer for the hidden ones x_h is p(x_h | x_o), the decoder's pixels averaged over the posterior
of the code given the visible part alone. Neither is in closed form, but a Markov chain over
(z, x_h) has p(z, x_h | x_o) as its stationary distribution, and each of its two moves is easy:

    z:   an independent Metropolis-Hastings step toward p(z | x_o, x_h) proportional to p(x | z) p(z):
         propose z' ~ q(z | x) (the encoder, on the current completion x = (x_o, x_h)), and accept
         it with probability min(1, w(z') / w(z)), where w(z) = p(x | z) p(z) / q(z | x) is the
         importance weight above: a code that explains x better than q expects is kept;
    x_h: a Gibbs step, x_h ~ p(x_h | z): the decoder's pixels are independent given z, so the
         hidden ones are drawn from it and the visible ones stay as they are.

Both moves leave p(z, x_h | x_o) invariant, so after enough steps x_h is a draw from the model's
own conditional: exact as the chain runs on (``impute``). The encoder only proposes; a poor q
makes the chain slow, never wrong. (Rezende et al. 2014 accepted every proposal: a simpler chain
whose answer depends on how good q is.)

A KL weight. beta-VAEs train E_q[log p(x | z)] - beta KL; beta < 1 is not a bound on log p(x).
Warm-up (Bowman et al. 2016, Sonderby et al. 2016) raises beta from 0 to its value over the first
steps, so the decoder learns to use z before the KL can switch latent dimensions off.
"""
import math

import minigen as mg
import minigen.functional as F
from minigen.ops import lift

LOG_2PI = math.log(2 * math.pi)


def reparameterize(mu, log_var, eps):
    """z = mu + sigma * eps with sigma = exp(log_var / 2): a draw from N(mu, diag sigma^2) that is
    differentiable in mu and log_var. ``eps`` ~ N(0, I) broadcasts against mu (e.g. (k, N, d))."""
    return mu + (0.5 * log_var).exp() * eps


def gaussian_kl(mu, log_var, prior_mu, prior_log_var):
    """KL(N(mu, e^log_var) || N(prior_mu, e^prior_log_var)) between diagonal Gaussians, summed over
    the last (latent) axis; the four tensors broadcast. Per dimension:
    (prior_lv - lv + (e^lv + (mu - prior_mu)^2) e^-prior_lv - 1) / 2."""
    diff = mu - prior_mu
    per_dim = 0.5 * (prior_log_var - log_var + (log_var.exp() + diff * diff) * (-prior_log_var).exp() - 1.0)
    return per_dim.sum(axis=-1)


def kl_standard_normal(mu, log_var):
    """KL(N(mu, e^log_var) || N(0, I)) = sum over the last axis of (mu^2 + e^lv - 1 - lv) / 2."""
    return (0.5 * (mu * mu + log_var.exp() - 1.0 - log_var)).sum(axis=-1)


def gaussian_log_density(z, mu, log_var):
    """log N(z; mu, diag e^log_var), summed over the last axis (log q(z | x); log p(z) is
    ``standard_normal_log_density``); the inputs broadcast."""
    diff = z - mu
    return (-0.5 * (LOG_2PI + log_var + diff * diff * (-log_var).exp())).sum(axis=-1)


def standard_normal_log_density(z):
    """log N(z; 0, I) = -sum over the last axis of (log 2 pi + z^2) / 2: the prior's log p(z)."""
    return (-0.5 * (LOG_2PI + z * z)).sum(axis=-1)


def _per_example(values):
    """Sum over every axis but the first: (N, ...) -> (N,)."""
    return values.reshape(values.shape[0], -1).sum(axis=1)


def bernoulli_log_likelihood(logits, x):
    """log p(x | z) = -sum_j [softplus(l_j) - x_j l_j] per example: logits and x (N, ...) -> (N,).

    Exact and finite for any |logit| (x in {0, 1}; in [0, 1] it is minus a soft cross-entropy)."""
    return -_per_example(F.binary_cross_entropy_with_logits(logits, x, reduction="none"))


def gaussian_log_likelihood(x, mean, log_var, min_log_var=None):
    """log N(x; mean, diag e^log_var) per example: x, mean (N, ...) -> (N,).

    ``log_var`` broadcasts against x: a number (a fixed variance), a learned (C, H, W) tensor, or
    one per pixel and example. ``min_log_var`` floors it at max(log_var, floor), so that a learned
    variance cannot shrink to 0 on pixels that never change and send the likelihood to infinity.
    """
    log_var = lift(log_var, mean)
    if min_log_var is not None:
        log_var = mg.maximum(log_var, min_log_var)
    diff = x - mean
    return _per_example(-0.5 * (LOG_2PI + log_var + diff * diff * (-log_var).exp()))


def elbo(log_likelihood, kl, beta=1.0):
    """The per-example ELBO, log p(x | z) - beta KL (beta = 1: the bound; the KL weight otherwise).

    ``log_likelihood`` is one reparameterised draw's log p(x | z) (or a mean over draws), (N,)."""
    return log_likelihood - beta * kl


def log_importance_weights(log_likelihood, z, mu, log_var, beta=1.0):
    """log w = log p(x | z) + log p(z) - log q(z | x) for k draws per example.

    log_likelihood (k, N); z (k, N, d) drawn from q = N(mu, e^log_var) with mu, log_var (N, d).
    ``beta`` weights log p(z) - log q(z | x) as the KL weight does (E_q of it is -KL)."""
    log_prior = standard_normal_log_density(z)                  # (k, N)
    log_posterior = gaussian_log_density(z, mu, log_var)       # (k, N)
    return log_likelihood + beta * (log_prior - log_posterior)


def iwae_bound(log_weights):
    """L_k = log (1/k) sum_i w_i from log w (k, N): logsumexp over the k draws minus log k -> (N,).

    With k = 1 it is the one-draw ELBO; it grows with k towards log p(x)."""
    k = log_weights.shape[0]
    return F.logsumexp(log_weights, axis=0) - math.log(k)


def kl_weight(step, beta=1.0, warmup_steps=0):
    """The KL weight at optimizer step ``step`` (0-based): beta * min(1, (step + 1) / warmup_steps),
    a linear warm-up that reaches beta on its last step; beta throughout when warmup_steps is 0."""
    if warmup_steps <= 0:
        return float(beta)
    return float(beta) * min(1.0, (step + 1) / warmup_steps)


def impute(x, keep, encode, decode, log_likelihood, draw, steps, normal, uniform, proposals=16):
    """The hidden values of x completed by ``steps`` steps of the chain above, each z move drawing
    ``proposals`` - 1 fresh codes from q(z | x) and keeping one of them or the current code with
    probability proportional to its weight w (iterated importance resampling: with 2, Barker's
    form of the Metropolis-Hastings step; more proposals move more often).

    x (N, ...) Tensor: the given values where ``keep`` (a boolean array of x's shape), anything
    elsewhere; encode(x) -> mu, log_var (N, d) of q(z | x); decode(z) -> the decoder's output for
    z (N, d); log_likelihood(out, x) -> log p(x | z) (N,); draw(out) -> a draw from p(x | z) of x's
    shape; normal(shape) and uniform(shape): fresh draws, Tensors. Returns (x, out): the chain's
    last completion and the decoder's output of its code. It starts from z ~ p(z)."""
    n = x.shape[0]
    z = normal((n, encode(x)[0].shape[1]))                          # z ~ N(0, I): (N, d)
    out = decode(z)
    x = mg.where(keep, x, draw(out))                                # x_h ~ p(x_h | z)
    rows = x.xp.arange(n)
    for _ in range(steps):
        mu, log_var = encode(x)                                     # q(z | x), x the current completion
        codes = [z] + [reparameterize(mu, log_var, normal(mu.shape)) for _ in range(proposals - 1)]
        outs = [out] + [decode(code) for code in codes[1:]]        # K codes (N, d) and their pictures
        ll = mg.stack([log_likelihood(o, x) for o in outs])         # (K, N): log p(x | z_k)
        log_w = log_importance_weights(ll, mg.stack(codes), mu, log_var)   # (K, N)
        below = F.softmax(log_w, axis=0).data.cumsum(axis=0) < uniform((1, n)).data   # (K, N)
        pick = x.xp.minimum(below.sum(axis=0), proposals - 1)      # (N,): k with probability w_k / sum w
        z = mg.stack(codes)[pick, rows]                             # (N, d)
        out = mg.stack(outs)[pick, rows]                            # (N, ...)
        x = mg.where(keep, x, draw(out))                            # x_h ~ p(x_h | z)
    return x, out

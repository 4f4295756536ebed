r"""Diffusion: destroy data with noise, step by step, and learn to undo one step at a time.

The forward process. Fix a noise schedule beta_1, ..., beta_T in (0, 1) and let each step
shrink the data a little and add a little Gaussian noise:

.. math::

    q(x_t \mid x_{t-1}) = \mathcal{N}\!\left(\sqrt{1 - \beta_t}\, x_{t-1},\ \beta_t I\right), \qquad t = 1, \dots, T,\quad x_0 = \text{data}.

Write alpha_t = 1 - beta_t and abar_t = alpha_1 alpha_2 ... alpha_t (abar_0 = 1). A Gaussian
step of a Gaussian is Gaussian; by induction, if x_{t-1} = sqrt(abar_{t-1}) x_0 +
sqrt(1 - abar_{t-1}) e with e ~ N(0, I), then x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) e'
has mean sqrt(alpha_t abar_{t-1}) x_0 = sqrt(abar_t) x_0 and variance
alpha_t (1 - abar_{t-1}) + beta_t = 1 - abar_t. So any step is one draw away from the data:

.. math::

    q(x_t \mid x_0) = \mathcal{N}\!\left(\sqrt{\bar\alpha_t}\, x_0,\ (1 - \bar\alpha_t) I\right), \qquad x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \epsilon.

When abar_T ~ 0, x_T is N(0, I) whatever the data was: that is where sampling starts.

Schedules. ``linear_betas``: beta_t evenly spaced from beta_start to beta_end (Ho et al.
2020: 1e-4..0.02 for T = 1000). ``cosine_alpha_bars``: abar_t = f(t) / f(0) with
f(t) = cos^2((t / T + s) / (1 + s) * pi / 2) (Nichol & Dhariwal 2021), which destroys
information more evenly over t; its betas, 1 - abar_t / abar_{t-1}, are capped at 0.999.

The posterior. Going back one step is intractable for the data's distribution, but given
x_0 it is Gaussian (Bayes' rule: q(x_{t-1} | x_t, x_0) is proportional to
q(x_t | x_{t-1}) q(x_{t-1} | x_0), a product of two Gaussians in x_{t-1}):

.. math::

    q(x_{t-1} \mid x_t, x_0) = \mathcal{N}(\tilde\mu_t, \tilde\beta_t I), \qquad
    \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\, \beta_t}{1 - \bar\alpha_t}\, x_0 + \frac{\sqrt{\alpha_t}\, (1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t}\, x_t, \qquad
    \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\, \beta_t.

(Precisions add: 1 / beta~ = alpha_t / beta_t + 1 / (1 - abar_{t-1}); the mean is the
precision-weighted mean of x_t / sqrt(alpha_t) and sqrt(abar_{t-1}) x_0.) The formulas hold
for any pair of levels s < t of the chain, with beta_t replaced by 1 - abar_t / abar_s.

The variational bound. The model is a reverse chain p(x_T) = N(0, I),
p(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I). Jensen's inequality on
log p(x_0) = log E_q [p(x_{0:T}) / q(x_{1:T} | x_0)] gives -log p(x_0) <= L with

.. math::

    L = \mathrm{KL}(q(x_T \mid x_0) \,\|\, p(x_T)) + \sum_{t > 1} \mathrm{KL}(q(x_{t-1} \mid x_t, x_0) \,\|\, p(x_{t-1} \mid x_t)) - \log p(x_0 \mid x_1).

The first term has no parameters. Each KL between Gaussians of equal variance is a squared
distance between means: ||mu~_t - mu_theta||^2 / (2 sigma_t^2) + const. Write x_0 through the
noise that made x_t, x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t); then
mu~_t = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t), and a model of the same form
with eps_theta(x_t, t) in place of eps makes each term

    beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t)) ||eps - eps_theta(x_t, t)||^2    (``vlb_weight``).

Ho et al. drop the weight (and sum over t by sampling it uniformly): the simple loss

.. math::

    L_\text{simple} = \mathbb{E}_{t, x_0, \epsilon} \left\| \epsilon - \epsilon_\theta\!\left(\sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \epsilon,\ t\right) \right\|^2,

a plain regression: noise an example, ask the network which noise was added.

Predicting eps is predicting the score. The score of q(x_t | x_0) is
grad log q = -(x_t - sqrt(abar_t) x_0) / (1 - abar_t) = -eps / sqrt(1 - abar_t). The best
regression of eps on x_t is E[eps | x_t], and averaging the conditional scores over x_0 given
x_t gives the score of the noised data distribution itself (Tweedie / denoising score
matching). So grad log q_t(x_t) = -eps*(x_t, t) / sqrt(1 - abar_t) (``score``): the network
learns which way is uphill toward the data, at every noise level.

Sampling (DDPM, ancestral). Start from x_T ~ N(0, I) and draw x_{t-1} from the posterior with
x_0 replaced by its prediction x^_0 = (x_t - sqrt(1 - abar_t) eps_theta) / sqrt(abar_t), with
sigma_t^2 = beta~_t. The last step (abar_0 = 1) has beta~ = 0 and returns x^_0 itself.
``reverse`` runs this loop from T down to 1 (Ho et al.'s Algorithm 2), or DDIM's, below.

Sampling (DDIM, Song et al. 2021). The simple loss only sees the marginals q(x_t | x_0), so
any process with those marginals fits the same network. For levels s < t, the family

.. math::

    x_s = \sqrt{\bar\alpha_s}\, \hat x_0 + \sqrt{1 - \bar\alpha_s - \sigma^2}\, \epsilon_\theta + \sigma z, \quad z \sim \mathcal{N}(0, I), \qquad
    \sigma = \eta \sqrt{\frac{1 - \bar\alpha_s}{1 - \bar\alpha_t}} \sqrt{1 - \frac{\bar\alpha_t}{\bar\alpha_s}},

keeps them for every eta. eta = 0 is deterministic (an ODE's discretisation: the same start
gives the same sample); eta = 1 gives sigma^2 = beta~ and exactly DDPM's step. Because
nothing ties s to t - 1, a sub-sequence of K << T levels (``timesteps``) samples in K
network passes instead of T.

Clipping. Images live in a known range (here [-1, 1]); x^_0 can be clipped to it at every step
(Ho et al. do so), and eps recomputed from the clipped x^_0 so that the step stays consistent.

Conditioning and classifier-free guidance (Ho & Salimans 2022). To learn p(x | y) for labels y,
give the network y too: eps_theta(x_t, t, y), trained by the same loss on labelled pairs. By the
argument above it then learns the score of the noised class: grad log q_t(x_t | y) =
-eps_theta(x_t, t, y) / sqrt(1 - abar_t).

Bayes' rule, p(y | x) = p(x | y) p(y) / p(x), holds at every noise level, and p(y) does not
depend on x, so an implicit classifier lies in the difference of two scores:

    grad log p_t(y | x) = grad log p_t(x | y) - grad log p_t(x).

Classifier guidance samples from p_t(x | y) p_t(y | x)^W, which favours the x a classifier is
surest of, with the score grad log p_t(x | y) + W grad log p_t(y | x). Put the implicit
classifier in its place:

    grad log p_t(x | y) + W (grad log p_t(x | y) - grad log p_t(x))
        = (1 + W) grad log p_t(x | y) - W grad log p_t(x),

and, both scores being -eps / sqrt(1 - abar_t) with the same factor, in terms of noise:

.. math::

    \tilde\epsilon = (1 + W)\, \epsilon_\theta(x_t, t, y) - W\, \epsilon_\theta(x_t, t, \varnothing)

(``guided_eps``; the empty set stands for the "no label" class).

W = 0 is the conditional model itself; W > 0 trades diversity for samples more clearly of
their class. eps~ simply replaces eps_theta in the DDPM and DDIM steps. (At each level it is
the score of p_t(x | y) p_t(y | x)^W, but these are not one distribution noised level by level,
so nothing guarantees what the chain samples: W is chosen by measuring.)

One network learns both scores: during training each label is replaced by a label of its own,
"no label" (the C-th row of a table of C + 1), with probability p_uncond (``drop_labels``;
Ho & Salimans use 0.1-0.2). On those examples the regression target is the same noise but the
network cannot see the class, so its best answer is E[eps | x_t] over all classes: the
unconditional eps_theta(x_t, t). Each sampling step with W != 0 costs two network calls.

Completion and reconstruction guidance (Ho et al. 2022, "Video Diffusion Models", sec. 3.1).
To fill in the hidden pixels x^a of an image whose others x^b = k are given, sample
p(x^a | x^b = k). Replacement (RePaint's simple form) runs the chain on x_t = (x^a_t, x^b_t) and
after every step sets x^b_t to k noised to the new level, a draw of q(x^b_t | x^b_0 = k). Then
eps_theta sees the known pixels only through that one noisy draw: at high noise it says little
about k, and the filled-in half follows the unconditional score, only loosely tied to k.

The right score is Bayes' rule again, at every level:

    grad log q_t(x_t | x^b_0 = k) = grad log q_t(x_t) + grad log q_t(x^b_0 = k | x_t).

The second term is intractable, but its distribution is concentrated around the denoised guess
x^_0(x_t) (Tweedie: x^_0 = E[x_0 | x_t]). Approximate it by a Gaussian there,
q(x^b_0 | x_t) ~ N(x^_0^b(x_t), (1 - abar_t) / abar_t I / w) (the noise-to-signal ratio of level t,
sharpened by a weight w >= 1), and with the reconstruction error

    L(x_t) = 1/2 ||x^_0^b(x_t) - k||^2    (the kept pixels only; ``reconstruction_loss``),

    grad log q_t(x^b_0 = k | x_t) ~ -w abar_t / (1 - abar_t) grad_{x_t} L.

Both scores are -eps / sqrt(1 - abar_t) in terms of noise, so the guided noise is
eps~ = eps_theta + w abar_t / sqrt(1 - abar_t) grad L, and the x_0 it implies,
(x_t - sqrt(1 - abar_t) eps~) / sqrt(abar_t), is

    x~_0 = x^_0 - w sqrt(abar_t) grad_{x_t} L    (``reconstruction_guided_x0``),

Ho et al.'s x~^a = x^^a - (w_r alpha_t / 2) grad ||x^b - x^^b||^2 (their alpha_t is our
sqrt(abar_t)). grad L runs through the network (one backward pass a step): it asks how x_t should
move so that the denoised guess agrees with the given pixels, and that moves the hidden pixels
too, through the network's view of what goes with what. x~_0 then replaces x^_0 in the DDPM or
DDIM step (clipped as usual), and replacement still sets the kept pixels. w = 1 is the plain
Gaussian approximation; Ho et al. found larger w better, and w is chosen by measuring.
"""
import math

import minigen as mg


# ----- schedules: from t to beta_t and abar_t (Python floats; index t = 0..T) -----
def linear_betas(T, beta_start=1e-4, beta_end=0.02):
    """[beta_1, ..., beta_T], evenly spaced from beta_start to beta_end."""
    if T < 1 or not 0 < beta_start <= beta_end < 1:
        raise ValueError(f"linear_betas: need T >= 1 and 0 < beta_start <= beta_end < 1, "
                         f"got T={T}, beta_start={beta_start}, beta_end={beta_end}")
    if T == 1:
        return [float(beta_start)]
    return [beta_start + (beta_end - beta_start) * k / (T - 1) for k in range(T)]


def alpha_bars_from_betas(betas):
    """[abar_0 = 1, abar_1, ..., abar_T], abar_t = prod_{s <= t} (1 - beta_s)."""
    bars = [1.0]
    for beta in betas:
        bars.append(bars[-1] * (1.0 - beta))
    return bars


def cosine_alpha_bars(T, s=0.008, max_beta=0.999):
    """[abar_0 = 1, ..., abar_T] with abar_t = f(t) / f(0), f(t) = cos^2((t/T + s) / (1 + s) pi / 2),
    each beta_t = 1 - abar_t / abar_{t-1} capped at ``max_beta`` (Nichol & Dhariwal)."""
    def f(t):
        return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    betas = [min(1 - f(t) / f(t - 1), max_beta) for t in range(1, T + 1)]
    return alpha_bars_from_betas(betas)


def schedule(kind, T, beta_start=1e-4, beta_end=0.02):
    """abar_0..abar_T for a schedule named ``kind`` ("linear" or "cosine")."""
    if kind == "linear":
        return alpha_bars_from_betas(linear_betas(T, beta_start, beta_end))
    if kind == "cosine":
        return cosine_alpha_bars(T)
    raise ValueError(f"schedule: unknown kind {kind!r}; choose 'linear' or 'cosine'")


def timesteps(T, K):
    """The K levels a K-step sampler visits, from T down: [t_K = T, ..., t_1], evenly spaced
    (t_k = round(k T / K)); the sampler then ends at level 0, the data. K = T is every level."""
    if not 1 <= K <= T:
        raise ValueError(f"--sample-steps: must be between 1 and T = {T}, got {K}")
    return [round(k * T / K) for k in range(K, 0, -1)]


# ----- the forward process and its posterior (tensors; abar broadcasts against x) -----
def q_sample(x0, eps, abar):
    """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps: a draw of q(x_t | x_0) from its noise."""
    return abar.sqrt() * x0 + (1 - abar).sqrt() * eps


def posterior(x0, x_t, abar_t, abar_s):
    """q(x_s | x_t, x_0) for levels s < t: (mean, variance), with beta = 1 - abar_t / abar_s.

    mean = sqrt(abar_s) beta / (1 - abar_t) x_0 + sqrt(abar_t / abar_s) (1 - abar_s) / (1 - abar_t) x_t,
    variance = (1 - abar_s) / (1 - abar_t) beta.
    """
    beta = 1 - abar_t / abar_s
    mean = (abar_s.sqrt() * beta / (1 - abar_t)) * x0 + ((abar_t / abar_s).sqrt() * (1 - abar_s) / (1 - abar_t)) * x_t
    return mean, (1 - abar_s) / (1 - abar_t) * beta


def predict_x0(x_t, eps, abar):
    """x^_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t): the data the noise prediction implies."""
    return (x_t - (1 - abar).sqrt() * eps) / abar.sqrt()


def predict_eps(x_t, x0, abar):
    """eps = (x_t - sqrt(abar_t) x_0) / sqrt(1 - abar_t): the noise that leads from x_0 to x_t."""
    return (x_t - abar.sqrt() * x0) / (1 - abar).sqrt()


def score(eps, abar):
    """grad_x log q_t(x) = -eps / sqrt(1 - abar_t), for the optimal noise predictor eps."""
    return -eps / (1 - abar).sqrt()


# ----- the loss -----
def simple_loss(eps_pred, eps):
    """Ho et al.'s L_simple: the mean over examples and coordinates of (eps - eps_theta)^2."""
    if eps_pred.shape != eps.shape:
        raise ValueError(f"simple_loss: the prediction has shape {eps_pred.shape}, the noise {eps.shape}")
    return ((eps_pred - eps) ** 2).mean()


def vlb_weight(abar_t, abar_s, variance):
    """The variational bound's weight on ||eps - eps_theta||^2 for the step t -> s with reverse
    variance sigma^2: beta^2 / (2 sigma^2 alpha (1 - abar_t)), alpha = abar_t / abar_s = 1 - beta."""
    alpha = abar_t / abar_s
    return (1 - alpha) ** 2 / (2 * variance * alpha * (1 - abar_t))


# ----- conditioning: the label's dropout in training, guidance in sampling -----
def drop_labels(labels, u, p_uncond, null):
    """labels (B,) int Tensor -> the same with ``null`` ("no label") where u < p_uncond, u (B,)
    uniform draws in [0, 1): each label is dropped with probability p_uncond."""
    if not 0 <= p_uncond < 1:
        raise ValueError(f"p_uncond: the label's dropout rate must be in [0, 1), got {p_uncond}")
    if u.shape != labels.shape:
        raise ValueError(f"drop_labels: the draws have shape {u.shape}, the labels {labels.shape}")
    return mg.tensor(labels.xp.where(u.data < p_uncond, null, labels.data), device=labels.device)


def guided_eps(eps_cond, eps_uncond, guidance):
    """Classifier-free guidance: (1 + W) eps_theta(x, y) - W eps_theta(x, no label), W = ``guidance``."""
    return (1 + guidance) * eps_cond - guidance * eps_uncond


# ----- completion: reconstruction guidance -----
def reconstruction_loss(x0, known, keep):
    """L = 1/2 sum over kept pixels (``keep`` True, a boolean array) of (x^_0 - known)^2."""
    if x0.shape != known.shape:
        raise ValueError(f"reconstruction_loss: x^_0 has shape {x0.shape}, the known pixels {known.shape}")
    return 0.5 * (mg.where(keep, x0 - known, 0.0) ** 2).sum()


def reconstruction_guided_x0(x0, grad, abar, weight):
    """x~_0 = x^_0 - w sqrt(abar_t) grad_{x_t} L: the denoised guess moved toward the given pixels."""
    return x0 - (weight * abar.sqrt()) * grad


# ----- reverse steps from level t to level s < t -----
def _clipped(x_t, eps, abar_t, clip):
    """(x^_0, eps), x^_0 clipped to ``clip`` = (low, high) and eps recomputed from it, or as they are."""
    x0 = predict_x0(x_t, eps, abar_t)
    if clip is None:
        return x0, eps
    x0 = mg.maximum(mg.minimum(x0, float(clip[1])), float(clip[0]))
    return x0, predict_eps(x_t, x0, abar_t)


def ddpm_step(x_t, eps, abar_t, abar_s, noise, clip=None):
    """DDPM's ancestral step: a draw of q(x_s | x_t, x^_0) (mean + sqrt(variance) noise)."""
    x0, _ = _clipped(x_t, eps, abar_t, clip)
    mean, variance = posterior(x0, x_t, abar_t, abar_s)
    return mean + variance.sqrt() * noise


def ddim_sigma(abar_t, abar_s, eta):
    """DDIM's step noise: eta sqrt((1 - abar_s) / (1 - abar_t)) sqrt(1 - abar_t / abar_s)."""
    return eta * ((1 - abar_s) / (1 - abar_t) * (1 - abar_t / abar_s)).sqrt()


def ddim_step(x_t, eps, abar_t, abar_s, noise=None, eta=0.0, clip=None):
    """DDIM's step: sqrt(abar_s) x^_0 + sqrt(1 - abar_s - sigma^2) eps + sigma noise.

    eta = 0 needs no noise (deterministic); eta = 1 is DDPM's step.
    """
    x0, eps = _clipped(x_t, eps, abar_t, clip)
    sigma = ddim_sigma(abar_t, abar_s, eta)
    x_s = abar_s.sqrt() * x0 + (1 - abar_s - sigma * sigma).sqrt() * eps
    if eta == 0:
        return x_s
    if noise is None:
        raise ValueError(f"ddim_step: eta = {eta} adds noise; pass noise (shaped like x_t {x_t.shape})")
    return x_s + sigma * noise


# ----- the reverse process: from noise to data (Ho et al.'s Algorithm 2; DDIM) -----
def reverse(eps_fn, x, alpha_bars, levels, sampler="ddpm", noise=None, clip=None, known=None, keep=None,
            resample=1, reconstruction=0.0):
    """Run the reverse process from x at level levels[0] down to level 0; returns the list of
    states [x_{levels[0]}, ..., x_0] (Tensors shaped like x).

    eps_fn(x_t, t) -> the predicted noise (t an int level): any noise predictor, a trained
    network or an exact one; alpha_bars: abar_0..abar_T; levels: decreasing, e.g. timesteps(T, K).
    sampler "ddpm" (ancestral, posterior variance) or "ddim" (eta = 0, deterministic).
    noise(shape) -> a fresh N(0, I) Tensor (DDPM's steps, and the noising of known pixels).
    Inpainting: ``known`` holds clean data and ``keep`` is a boolean array (True where ``known``
    is kept); after every step the kept pixels are replaced by ``known`` noised to the new level
    (RePaint's simple form), and at level 0 by ``known`` itself. ``resample`` = U > 1 (RePaint's
    resampling, jump length 1): each step t -> s of an inpainting is taken U times, the merged x_s
    noised back to level t (a draw of q(x_t | x_s)) in between, so that the filled-in pixels have
    U chances to agree with the kept ones; U network passes a step. ``reconstruction`` = w > 0:
    each step of an inpainting also takes reconstruction guidance (``known_guided_eps``), a
    backward pass through the network with every pass.
    """
    if sampler not in ("ddpm", "ddim"):
        raise ValueError(f"--sampler: must be ddpm or ddim, got {sampler!r}")
    states = [x]
    for t, s in zip(levels, list(levels[1:]) + [0]):
        abar_t = mg.tensor(alpha_bars[t], dtype=x.dtype, device=x.device)
        abar_s = mg.tensor(alpha_bars[s], dtype=x.dtype, device=x.device)
        x_t = x
        repeats = resample if known is not None and s > 0 else 1
        for r in range(repeats):
            if r:                                                 # back to level t, from the merged x_s
                x_t = q_sample(x, noise(x.shape), abar_t / abar_s)
            if known is not None and reconstruction:
                eps = known_guided_eps(eps_fn, x_t, t, abar_t, known, keep, reconstruction)
            else:
                eps = eps_fn(x_t, t)
            if sampler == "ddpm":
                x = ddpm_step(x_t, eps, abar_t, abar_s, noise(x.shape), clip)
            else:
                x = ddim_step(x_t, eps, abar_t, abar_s, clip=clip)
            if known is not None:
                level = known if s == 0 else q_sample(known, noise(x.shape), abar_s)
                x = mg.where(keep, level, x)
        states.append(x)
    return states


def known_guided_eps(eps_fn, x_t, t, abar_t, known, keep, weight):
    """Reconstruction guidance: the noise that x~_0 = x^_0 - w sqrt(abar_t) grad_{x_t} L implies,
    L = 1/2 ||x^_0 - known||^2 on the kept pixels; grad L through eps_fn (one backward pass)."""
    with mg.enable_grad():
        x_t = mg.tensor(x_t.data, dtype=x_t.dtype, device=x_t.device, requires_grad=True)
        x0 = predict_x0(x_t, eps_fn(x_t, t), abar_t)
        grad, = mg.grad(reconstruction_loss(x0, known, keep), x_t)
    x0 = reconstruction_guided_x0(x0.detach(), grad, abar_t, weight)
    return predict_eps(x_t.detach(), x0, abar_t)

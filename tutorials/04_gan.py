# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · GANs: the forger and the critic
#
# A generative adversarial network is two networks trained against each other:
#
# - the **generator** G (the forger) turns noise z ~ N(0, I) into samples G(z);
# - the **discriminator** D (the critic) looks at a sample and says how likely it is to be real,
#   D(x) in (0, 1).
#
# Neither ever sees a formula for the data's density. D learns from the forger's mistakes what
# real data looks like; G learns from D's verdicts how to look more real. In this tutorial we
#
# 1. write the game's one score, the value function, and the losses that come from it;
# 2. train a small GAN on eight Gaussian blobs and watch it learn, with D's opinion of every
#    point of the plane drawn behind the samples;
# 3. see why the game as written (the *saturating* loss) stalls when D wins, and the
#    *non-saturating* loss does not;
# 4. see mode collapse, and what WGAN-GP (a critic with a gradient penalty) does about it;
# 5. finish with a convolutional GAN (DCGAN) that draws handwritten digits;
# 6. and ask it for a particular digit: a conditional GAN, where G and D both see the label.
#
# Run it as a script (`python tutorials/04_gan.py`, a few minutes on a CPU; `MINIGEN_QUICK=1`
# trains only briefly) or open it as a notebook (jupytext "percent" format). Figures go to the
# folder named by `MINIGEN_FIGURES` (default `tutorials/figures/`). The same models train from
# the command line: `minigen train gan --data 8gaussians`, then `minigen eval DIR`.

# %%
import time

import _plots
import numpy as np
from _setup import QUICK, glue, save, show_animation, show_source  # the figures folder, quick mode, the book

import minigen as mg
import minigen.functional as F
from minigen import optim
from minigen.models import judge, make
from minigen.models.loop import train
from minigen.objectives import minimax
from minigen.viz.animation import points_animation
from minigen.viz.gan import critic_surface

START = time.perf_counter()


def make_gan(data="8gaussians", **settings):
    """A GAN exactly as `minigen train gan` makes one (same defaults, same seeding); any setting
    can be changed by name (steps=300, loss="wgan-gp", g_width=128, ...)."""
    return make("gan", data, **settings)


def train_with_snapshots(gan, at, record):
    """Train the GAN its steps, one at a time (`train_step`: the learning rate, then the GAN's
    step); call record(gan) after each step number listed in ``at``."""
    batches = gan.batches()
    gan.train_mode()
    while gan.step_count < gan.config.steps:
        gan.train_step(next(batches))
        if gan.step_count in at:
            record(gan)
    gan.eval_mode()


def snapshot(gan):
    """What a figure of the GAN at this step needs: (step, 1,000 samples, D over the plane,
    `evaluate`'s numbers)."""
    return gan.step_count, gan.sample(1000, 0), critic_surface(gan), gan.evaluate()


# %% [markdown]
# ## 1 · One game, one score
#
# D and G play a two-player game with the **value function**
#
#     V(D, G) = E_x~data [log D(x)] + E_z [log(1 - D(G(z)))]
#
# D wants V high: log D(x) is high when D calls real data real, log(1 - D(G(z))) is high when
# it calls fakes fake. G wants V low, and only the second term depends on it.
#
# Networks output a *{term}`logit <logits>`* l, and D = sigmoid(l). Writing the losses with logits is not just
# tidy, it is what keeps them finite: `log(sigmoid(l))` is `-inf` in float32 once l < -104
# (sigmoid rounds to 0), while the same number written as `-softplus(-l)` is exact for any l.
# Everything below comes from `minigen/objectives/minimax.py`; its docstring derives each loss.
#
# **The optimal critic.** For a fixed G, V is largest for D*(x) = p_data(x) / (p_data(x) + p_g(x)),
# and then V = -log 4 + 2 JSD(p_data ‖ p_g): against a perfect critic the forger minimises the
# Jensen-Shannon divergence, and wins (V = -log 4, D* = 1/2 everywhere) when p_g = p_data.
#
# $$
# D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}, \qquad
# V(D^*, G) = -\log 4 + 2\, \mathrm{JSD}(p_\text{data} \,\|\, p_g).
# $$
#
# **Two losses for G.** The game as written has G *minimise* log(1 - D(G(z))): the *saturating*
# loss. In practice G *maximises* log D(G(z)) instead: the *non-saturating* loss. Same fixed
# point, very different gradients when D is winning. Here are both, and their derivatives
# with respect to the logit, computed by minigen's autograd:

# %%
fake_logits = mg.tensor(np.linspace(-8, 8, 401), dtype="float64", requires_grad=True)
d_of_fake = F.sigmoid(fake_logits).numpy()
curves = {}
for name, loss_fn in [("saturating: log(1 - D(G(z)))", minimax.generator_loss_saturating),
                      ("non-saturating: -log D(G(z))", minimax.generator_loss_nonsaturating)]:
    per_sample = loss_fn(fake_logits) * len(fake_logits)          # the losses are means; undo it
    (slope,) = mg.grad(per_sample, fake_logits)                   # d loss_i / d l_i, elementwise
    curves[name] = (minimax.log_sigmoid(-fake_logits).numpy() if "1 - D" in name
                    else -minimax.log_sigmoid(fake_logits).numpy(), slope.numpy())

save(_plots.generator_losses(d_of_fake, curves), "04_generator_losses.png")

# %% [markdown]
# On the left, both losses fall as the fakes fool D more. On the right, their slopes: the
# saturating loss has slope sigmoid(l) = D(G(z)) itself, so when D confidently rejects the fakes
# (the grey band, where a fresh generator starts) the gradient is as small as D's belief that
# the fake is real. The non-saturating slope, 1 - D(G(z)), is then close to 1.

# %% [markdown]
# ## 2 · Training on eight Gaussians
#
# The data: 8 blobs on a circle of radius 2, each with standard deviation 0.02. A generator
# that only gets "close" fails here: a sample counts as **high quality** when it lies within
# 3 standard deviations (0.06) of a centre, and a mode is **covered** when at least 1% of
# 2,500 samples are high-quality samples of it. A third number compares the whole cloud of
# samples with the test points: the **{term}`energy distance`**, 2 E‖X - Y‖ - E‖X - X'‖ - E‖Y - Y'‖
# over samples X and test points Y, which is 0 only when the two distributions are equal; its
# *floor* is what two samples of the true data score against each other. These are the numbers
# `minigen eval` prints.
#
# One training step (`GAN.step` in `minigen/models/gan.py`) is the game, move by move, as in
# Goodfellow et al.'s Algorithm 1:
#
# 1. **D's move**: make fakes G(z) without recording a graph through G, score a real batch and
#    the fakes, take the discriminator loss -V, one {term}`Adam` step on D;
# 2. **G's move**: fresh fakes, score them with D frozen, the non-saturating loss, one Adam step
#    on G. The gradient flows *through* D into G: D's verdict is G's teacher.
#
# Here is that step, as it is in minigen (`self.update` is zero_grad, backward, clip and the
# optimiser's step; the WGAN-GP branch is section 4's):

# %%
from minigen.models.gan import GAN

show_source(GAN.step)

# %% [markdown]
# The defaults (what `minigen train gan --data 8gaussians` runs): two hidden layers of 256 units
# in both networks, Adam with betas (0.5, 0.999), batch 256, 6,000 steps, D's learning rate twice
# G's (two time scales: the critic keeps up with the forger), and both learning rates decaying
# linearly to 0 so the samples settle on the modes. Behind the samples (orange) we draw D's
# probability of "real" at every point of the plane (red = real, blue = fake).

# %%
STEPS = 300 if QUICK else None                                   # None: the default 6,000
gan = make_gan(steps=STEPS)
total = gan.config.steps
snapshot_steps = [round(total * f) for f in (0.02, 0.1, 0.25, 0.5, 0.75, 1.0)]
frame_steps = set(range(total // 20, total + 1, max(1, total // 20)))   # about 20 frames for the animation
snapshots, frames = [], []


def on_step(t):
    if t.step_count in frame_steps:
        frames.append((t.step_count, t.sample(500, 0), critic_surface(t, k=61)))
    if t.step_count in snapshot_steps:
        snapshots.append(snapshot(t))


tick = time.perf_counter()
train_with_snapshots(gan, frame_steps | set(snapshot_steps), on_step)
final = gan.evaluate()
print(f"trained {total} steps in {time.perf_counter() - tick:.0f} s")
for step, _, _, result in snapshots:
    print(f"  step {step:>5}: {result['modes']} modes, {result['hq_share']:.1%} high quality")
print(f"energy distance to the test set {final['energy_distance']:.4f} "
      f"(two true samples: {final['energy_distance_floor']:.4f})")
save(_plots.gan_snapshots([snapshots[:3], snapshots[3:]], gan.test_data.points[:1000],
                          "A GAN learning 8 Gaussians (non-saturating loss); behind: D(x), red = 'real'"),
     "04_training_snapshots.png")

# %% [markdown]
# The same run as an animation: the samples (orange) and D's opinion of the plane behind them,
# at about twenty moments of training.

# %%
steps, clouds, surfaces = zip(*frames)
show_animation(points_animation(clouds, data=gan.test_data.points[:1000], titles=[f"step {n}" for n in steps],
                                surfaces=surfaces),
               "04_gan_training.html")

# %% [markdown]
# At the first snapshot the samples are a shapeless cloud over the whole square and D is unsure
# everywhere (pale). A few hundred steps later G has found the circle: D rejects everything but
# the blobs (blue), and the samples crowd onto the ring, most blobs already covered. From then on
# D's pale halos shrink around the blobs and the samples follow them in. On the blobs D stays
# near 1/2: there it can no longer tell samples from data. What is left are thin **bridges**
# between neighbouring blobs: G is a continuous function of a connected cloud of z, so some z
# must land between two modes. The sharper G's transitions, the fewer samples on the bridges
# (`hq_share` counts the others).

# %% [markdown]
# ## 3 · When D wins: the saturating loss stalls
#
# To see the difference between the two generator losses in isolation, give D a head start:
# train it alone for 300 steps, so that it confidently rejects the fresh generator's samples.
# Then, with D frozen, let G learn from each loss for 300 steps of plain gradient descent
# (same start, same noise, same learning rate). We record G's gradient norm and D(G(z)).

# %%
def d_head_start(t, steps):
    """Train D alone: it learns to reject the (fixed) generator's samples."""
    batches = t.batches()
    opt = t.optimizers["discriminator"]
    opt.lr = 1e-3
    for _ in range(steps):
        (real,) = next(batches)
        n = real.shape[0]
        with mg.no_grad():
            fake = t.G(t.noise(n))
        logits = t.D(mg.concat([real, fake]))
        t.update(minimax.discriminator_loss(logits[:n], logits[n:]), opt)   # zero_grad, backward, step


def generator_alone(t, loss_fn, steps, lr=0.01):
    """G learns against a frozen D with plain SGD; returns (gradient norms, mean D(G(z)))."""
    t.D.requires_grad_(False)
    opt = optim.SGD(t.G.parameters(), lr=lr)
    norms, beliefs = [], []
    for _ in range(steps):
        logits = t.D(t.G(t.noise(256)))
        loss = loss_fn(logits)
        opt.zero_grad()
        loss.backward()
        norms.append(np.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in t.G.parameters())))
        beliefs.append(float(F.sigmoid(logits).mean().item()))
        opt.step()
    t.D.requires_grad_(True)
    return np.array(norms), np.array(beliefs)


HEAD_START, ALONE = (100, 100) if QUICK else (300, 300)
runs = {}
for name, loss_fn in [("saturating", minimax.generator_loss_saturating),
                      ("non-saturating", minimax.generator_loss_nonsaturating)]:
    t = make_gan(g_width=128, d_width=128)          # the same seed: identical networks and noise
    d_head_start(t, HEAD_START)
    runs[name] = generator_alone(t, loss_fn, ALONE)

save(_plots.saturation(runs), "04_saturation.png")
for name, (norms, beliefs) in runs.items():
    print(f"{name:>15}: first gradient norm {norms[0]:.2g}, D(G(z)) {beliefs[0]:.2g} -> {beliefs[-1]:.2g}")
(sat_norms, sat_beliefs), (ns_norms, ns_beliefs) = runs["saturating"], runs["non-saturating"]
fooled = np.flatnonzero(ns_beliefs > 0.5)
glue("gradient_ratio", f"{ns_norms[0] / sat_norms[0]:,.0f}")
glue("saturating_end", f"{sat_beliefs[-1]:.2g}")
glue("fooled_after", f"{fooled[0] + 1} steps" if len(fooled) else f"more than {ALONE} steps")
glue("alone_steps", ALONE)

# %% [markdown]
# The saturating generator starts with a gradient {glue:text}`gradient_ratio` times smaller than
# the non-saturating one, and after its {glue:text}`alone_steps` steps D still gives its samples a
# mean D(G(z)) of {glue:text}`saturating_end`; the non-saturating one fools the frozen D (mean
# D(G(z)) above 1/2) after {glue:text}`fooled_after`. (A frozen D is easy to fool: this is a demonstration of gradients, not a way to
# train. In the real game D moves too.)
#
# One more honest remark: with Adam, the difference is partly hidden. Adam divides each step by
# a running RMS of the gradient, so a uniformly tiny gradient still makes steps of about the
# learning rate, which is why `minigen train gan --loss minimax` does train on 8gaussians. The
# direction of those steps is still worse: the saturating gradient of each sample is weighted by
# D(G(z)), so the samples D already likes dominate it, and the ones it rejects hardest, which need
# to move most, count least.

# %% [markdown]
# ## 4 · Mode collapse, and the Wasserstein critic
#
# A GAN has no term that says "cover all of the data". If G finds one place D likes, it can put
# every sample there; D then learns to reject that place, and G jumps to another. This is **mode
# collapse** (and mode hopping). Below: the same MLP GAN without the two-time-scale trick and
# without the learning-rate decay: G's samples gather on one arc and sweep from blob to blob.
#
# **WGAN-GP** changes the critic's job. Instead of a probability, the critic f outputs a score,
# and the game becomes
#
#     max_f  E_x [f(x)] - E_z [f(G(z))]   over 1-Lipschitz f,
#
# which is the earth mover's (Wasserstein-1) distance between the data and the samples. Unlike
# the JSD it keeps saying *how far* every sample is from the data, so the gradient on G points
# toward every blob, not just the nearest one D happens to like. The Lipschitz constraint is
# enforced softly. The optimal critic has gradient norm 1 on the straight lines between the
# pairs of points that the optimal transport plan matches (each sample with the data point it
# should move to); WGAN-GP does not know that plan, so it penalises the gradient norm on random
# points between a real and a fake sample instead, E[(‖∇_x f(x̂)‖ - 1)^2]: a heuristic that
# works well, not the exact condition. That penalty contains a gradient, and the critic's
# update needs *its* gradient: `mg.grad(..., create_graph=True)`, double backward. The critic is
# trained 5 times per generator step.

# %%
COLLAPSE_AT = [50, 100, 150, 200] if QUICK else [200, 400, 800, 1200]
makers = [  # (a GAN, when to look at it): built and trained one after the other, as two runs would be
    (lambda: make_gan(steps=COLLAPSE_AT[-1], g_width=128, d_width=128, d_lr_scale=1.0, lr_schedule="constant"),
     lambda n: COLLAPSE_AT),
    (lambda: make_gan(loss="wgan-gp", steps=300 if QUICK else None),  # None: the default 10,000 critic steps
     lambda n: [n // 4, n // 2, 3 * n // 4, n]),
]
rows = []                                          # per run: its snapshots
for maker, when in makers:
    t = maker()
    n = t.config.steps
    shots = []
    tick = time.perf_counter()
    train_with_snapshots(t, when(n), lambda t: shots.append(snapshot(t)))
    rows.append(shots)
    result = t.evaluate()
    print(f"{t.config.loss} ({n} steps, {time.perf_counter() - tick:.0f} s): {result['modes']} modes, "
          f"{result['hq_share']:.1%} high quality")
save(_plots.gan_snapshots(rows, t.test_data.points[:1000],
                          "Top: a non-saturating GAN without the stabilising tricks hops between modes (behind: D(x)).\n"
                          "Bottom: WGAN-GP (behind: the critic's score f(x), red = high; its scale is arbitrary)",
                          row_names=["non-saturating, no tricks", "WGAN-GP"], wgan=[False, True]),
     "04_mode_collapse_vs_wgan.png")

# %% [markdown]
# Top row: the samples gather in one narrow arc, D calls that place fake (blue) and everything
# else real (red), and the arc jumps somewhere else: at any moment most blobs get no samples
# at all, and no high-quality ones. Bottom row: the WGAN-GP critic's score is a smooth
# landscape (red = high) with a bump on every blob, and the samples spread over all eight and
# then tighten. The price: five critic steps per generator step, each with a double backward,
# so each generator update of WGAN-GP costs several times one of the plain GAN.

# %% [markdown]
# ## 5 · DCGAN: drawing digits
#
# For images, the networks become convolutional (Radford et al., 2015). G starts from z as a
# 1x1 image with 32 channels and *upsamples* with {term}`transposed convolutions <transposed convolution>` (each input pixel
# paints a 4x4 patch of the output), with {term}`BatchNorm` and ReLU between, and a tanh at the end:
# 1x1 -> 2x2 -> 4x4 -> 8x8 (BatchNorm and transposed convolutions are tutorial 02's). D mirrors it with strided convolutions and LeakyReLU: 8x8 -> 4x4 ->
# 2x2 -> one logit. The loss is the same non-saturating game.
#
# How do we know the digits are any good? We ask the project's own digits classifier (the
# `classifier` family, trained on the real training digits) to look at 1,000 samples:
# **class entropy** (ln 10 = 2.30 when all ten digits are drawn equally often, 0 when G draws only
# one) and **mean confidence** (does each sample look like *some* digit?). The **{term}`Frechet distance <Fréchet distance>`**
# compares the classifier's penultimate features of samples and of test digits; the train-vs-test
# distance of real digits is its floor.

# %%
if QUICK:
    judge.JUDGE_STEPS = 100                                  # a rough judge: CI checks the plumbing
dcgan = make_gan(data="digits", model="dcgan", steps=30 if QUICK else None)   # None: the default 3,000
tick = time.perf_counter()
train(dcgan, quiet=True)
print(f"DCGAN: {dcgan.config.steps} steps in {time.perf_counter() - tick:.0f} s")
judged = dcgan.evaluate()
print(f"samples:     classes found {judged['classes_found']}, class entropy {judged['class_entropy']:.3f} "
      f"nats (max {np.log(10):.3f}), mean confidence {judged['mean_confidence']:.3f}")
print(f"test digits: class entropy {judged['test_class_entropy']:.3f}, "
      f"mean confidence {judged['test_mean_confidence']:.3f}")
print(f"Frechet distance {judged['frechet_distance']:.2f} (real train vs test: {judged['frechet_floor']:.2f})")
for key in ("class_entropy", "test_class_entropy", "mean_confidence", "test_mean_confidence", "frechet_distance"):
    glue(f"dcgan_{key}", f"{judged[key]:.2f}")
glue("dcgan_classes", judged["classes_found"])

samples = dcgan.sample(100, seed=0)                                      # (100, 1, 8, 8) in [0, 1]
real = (dcgan.test_data.images[:100] + 1) / 2
save(_plots.dcgan_digits(real, samples, judged), "04_dcgan_digits.png")

# %% [markdown]
# In this run the classifier finds {glue:text}`dcgan_classes` classes among the samples, with a
# class entropy of {glue:text}`dcgan_class_entropy` {term}`nats` against {glue:text}`dcgan_test_class_entropy`
# for the test digits (the histogram shows which digits are drawn least often), and a mean
# confidence of {glue:text}`dcgan_mean_confidence` against {glue:text}`dcgan_test_mean_confidence`
# on real digits. A collapsed generator would show a low entropy; smudged samples, a low
# confidence. The Frechet distance stays above the real-vs-real floor: the classifier's
# features still tell samples from digits. (A full run of the defaults draws recognisable digits
# of every class; the quick build's 30 steps do not.)

# %% [markdown]
# ## 6 · Asking for a digit: the conditional GAN
#
# The DCGAN above draws *a* digit; which one is up to z. To ask for a 7 we learn p(x | y)
# instead of p(x), with the label y shown to both players (`--conditional`):
#
# - G(z, y): the label's learned embedding (16 numbers per class) is joined to z, and G makes
#   an image from both;
# - D(x, y): a *projection discriminator* (Miyato & Koyama, 2018), D's usual logit plus an
#   inner product of its last features phi(x) with a learned vector for class y:
#   psi(phi(x)) + <e_y, phi(x)>. D no longer asks "is this a real digit?" but "is this a real
#   7?": a perfect 3 offered as a 7 is a fake.
#
# During training the fakes are made for the labels of the real batch, so D compares real and
# fake digits of the same classes. The judge now also reports **label accuracy**: of 100 samples
# asked for each digit, the share the classifier says is that digit, averaged over the ten.

# %%
conditional = make_gan(data="digits", model="dcgan", conditional=True, steps=30 if QUICK else None)
tick = time.perf_counter()
train(conditional, quiet=True)
print(f"conditional DCGAN: {conditional.config.steps} steps in {time.perf_counter() - tick:.0f} s")
judged = conditional.evaluate()
print(f"label accuracy {judged['label_accuracy']:.3f}; per digit "
      + " ".join(f"{k}:{a:.2f}" for k, a in enumerate(judged["per_label_accuracy"])))
print(f"Frechet distance {judged['frechet_distance']:.2f} (floor {judged['frechet_floor']:.2f}), "
      f"class entropy {judged['class_entropy']:.3f}")

# row k: ten draws of digit k, from the same ten z as every other row
rows = np.stack([conditional.sample(10, seed=0, label=k)[:, 0] for k in range(10)])   # (10 digits, 10 z, 8, 8)
ink = rows.mean(axis=(2, 3))                                 # (10, 10): how much ink each sample has
ink = ink - ink.mean(axis=1, keepdims=True)                  # less each digit's own average
print(f"share of the variation in ink that the column (z) explains: {ink.mean(axis=0).var() / ink.var():.2f}")
glue("ink_share", f"{ink.mean(axis=0).var() / ink.var():.2f}")
glue("label_accuracy", f"{judged['label_accuracy']:.2f}")
glue("conditional_fd", f"{judged['frechet_distance']:.1f}")
glue("conditional_entropy", f"{judged['class_entropy']:.2f}")
save(_plots.conditional_gan(rows, judged), "04_conditional_gan.png")

# %% [markdown]
# Each row is one digit, asked for by its label; each column is one z, shared by all ten rows.
# The label decides the digit and z much of what is left, the same way for every digit: of the
# variation in ink from sample to sample (less each digit's own average), the column (the z)
# explains a share of {glue:text}`ink_share` in this run. The judge sees the digit asked for in
# a share {glue:text}`label_accuracy` of the samples (the bars show which digits it misses most),
# the Frechet distance is {glue:text}`conditional_fd` (section 5's unconditional DCGAN:
# {glue:text}`dcgan_frechet_distance`), and since we ask for every digit equally often, the class
# entropy is {glue:text}`conditional_entropy` nats, near the maximum log 10 = 2.30 when the labels
# are followed. The results page has the full runs' numbers, conditional and not.
# From the command line: `minigen train gan --data digits --model dcgan --conditional`, then
# `minigen sample DIR --label 7 --out sevens.npy`.
#
# ## What we built
#
# - `minigen/objectives/minimax.py`: the value function and every loss, from logits, with their
#   derivations; the gradient penalty with double backward.
# - `minigen/models/gan.py`: MLP and DCGAN networks, their conditional forms (G's label
#   embedding, D's projection), the alternating step, sampling, evaluation;
#   `minigen/viz/gan.py`: `critic_surface`, D's opinion of every point of the plane, and
#   `draw_points`, the samples over it (the figures of this page are drawn in `tutorials/_plots.py`).
# - `minigen/metrics.py`: high-quality share and modes, energy distance, Frechet distance,
#   class statistics, each with its floor.
#
# **Your turn.** In the workbook (`minigen learn start DIR`), exercise `gan_losses` asks for the
# discriminator loss and the non-saturating generator loss, from logits, stably; `minigen learn
# check DIR gan_losses` tests them, and `minigen learn run DIR gan` trains a GAN with them.
#
# Things to try: `minigen train gan --data 8gaussians --loss minimax` (does the saturating loss
# train under Adam? how many modes?); `--data swissroll`; the collapse run above with the two
# time scales switched back on (`d_lr_scale=2.0`); sampling from an average of G's
# weights (`make_gan(ema=0.999)`); a DCGAN on MNIST files (`--data idx:PATH --model dcgan`, `--conditional` too); a
# conditional WGAN-GP (`--loss wgan-gp --conditional`: the penalty is on grad_x D(x, y), for
# the label each interpolate's two ends share).

# %%
print(f"tutorial finished in {time.perf_counter() - START:.0f} s")

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
# # 05 · VAEs: the artist and the sketch
#
# Think of an artist who looks at a painting, makes a quick sketch of it, and later paints a new
# picture from the sketch alone. A **variational autoencoder** works the same way:
#
# - the **encoder** (the artist's eye) compresses an image x into a short code z, the sketch;
# - the **decoder** (the artist's hand) paints an image back from z;
# - and because each sketch is a *distribution* over codes, not one point, we can draw new codes
#   from the prior N(0, I) and have the decoder paint images nobody drew.
#
# In this tutorial we
#
# 1. train a plain autoencoder first, and see why its codes cannot be sampled;
# 2. derive the {term}`ELBO`, the VAE's objective, and watch its two terms during training;
# 3. measure why the reparameterisation trick is the way to differentiate through a sample;
# 4. look at a 2-D latent space of the digits, coloured by label, and walk through it;
# 5. draw samples (binary draws and the probabilities they are drawn from);
# 6. tighten the bound with importance weighting (IWAE) and see the gap close as k grows;
# 7. see what "posterior collapse" looks like: latent dimensions the model switched off;
# 8. ask for a digit: a conditional VAE, whose z keeps the style while the label picks the class.
#
# The data is `digits-binary`: 8x8 handwritten digits, each pixel on or off. Run it as a script
# (`python tutorials/05_vae.py`, a few minutes on a CPU; `MINIGEN_QUICK=1` trains only briefly) or
# open it as a notebook (jupytext "percent" format). Figures go to `MINIGEN_FIGURES` (default
# `tutorials/figures/`). The same model trains from the command line:
# `minigen train vae --data digits-binary`, then `minigen eval DIR`.

# %%
import time

import _plots
import numpy as np
from _setup import QUICK, glue, save, show_animation, show_source  # the figures folder, quick mode, the book

import minigen as mg
import minigen.functional as F
from minigen import optim
from minigen.data import DataLoader, get_dataset
from minigen.models import make, vae
from minigen.models.loop import endless, train
from minigen.objectives import elbo as E
from minigen.viz import image_grid_figure
from minigen.viz.animation import images_animation

START = time.perf_counter()
mg.manual_seed(0)
train_set, test_set = get_dataset("digits-binary", "train"), get_dataset("digits-binary", "test")


# %% [markdown]
# ## 1 · An autoencoder first
#
# Strip the VAE of its randomness and what is left is an **autoencoder**: an encoder maps x to one
# code z = f(x), a decoder maps z back, and training makes the reconstruction close to x (here:
# the Bernoulli log-likelihood of the pixels, the binary cross-entropy). We give it a 2-D code so
# we can look at every code at once.

# %%
AE_STEPS = 300 if QUICK else 3000
encoder, decoder = vae.MLPEncoder((1, 8, 8), 2), vae.MLPDecoder((1, 8, 8), 2)
ae_opt = optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-3)
batches = endless(DataLoader(train_set.images, batch_size=64, shuffle=True, seed=0, drop_last=True))
for _ in range(AE_STEPS):
    (x,) = next(batches)
    code, _ = encoder(x)                                            # (B, 2): one code per image
    ae_loss = -E.bernoulli_log_likelihood(decoder(code), x).mean()  # nats per image
    ae_opt.zero_grad()
    ae_loss.backward()
    ae_opt.step()
encoder.eval()
decoder.eval()
with mg.no_grad():
    ae_codes = encoder(mg.tensor(test_set.images))[0].numpy()       # (360, 2)
    prior_codes = np.random.default_rng(0).standard_normal((30, 2)).astype("float32")
    ae_dreams = F.sigmoid(decoder(mg.tensor(prior_codes))).numpy()  # (30, 1, 8, 8)
print(f"autoencoder: reconstruction loss {ae_loss.item():.1f} nats per image after {AE_STEPS} steps")
print(f"its codes span x in [{ae_codes[:, 0].min():.0f}, {ae_codes[:, 0].max():.0f}], "
      f"y in [{ae_codes[:, 1].min():.0f}, {ae_codes[:, 1].max():.0f}]")

save(_plots.codes_and_pictures(ae_codes, test_set.labels, ae_dreams, 6,
                               "autoencoder codes of the test digits\n(dashed: 2 std of N(0, I), where we would sample)",
                               "the decoder's pictures of 30 codes z ~ N(0, I)"),
     "05_autoencoder.png")

# %% [markdown]
# The codes (left) are wherever the encoder happened to put them: one digit's codes in a thin
# streak, another's far away, empty gaps between them, and a scale that nothing in the loss
# chose. Nothing tells us where the codes of "digits" are, so there is no distribution to draw
# new codes from: codes drawn from N(0, I) (inside the dashed circle) decode to whatever the
# decoder does there (right), mostly the few shapes of the classes that happen to sit near the
# origin, and smudges between them. An autoencoder compresses; it does not generate.

# %% [markdown]
# ## 2 · The ELBO: reconstruction and a price for the code
#
# A VAE makes the code a distribution. The encoder outputs q(z | x) = N(mu(x), diag sigma²(x)),
# the decoder is a likelihood p(x | z) (here one Bernoulli per pixel, with {term}`logits` from the
# network), and the codes have a prior p(z) = N(0, I). We would like to maximise the data's
# log-likelihood log p(x) = log ∫ p(x | z) p(z) dz, which we cannot integrate. But for any q,
#
#     log p(x) = E_q[log p(x, z) / q(z | x)] + KL(q(z | x) ‖ p(z | x))
#              = ELBO(x)                      + (a KL divergence, >= 0),
#
# so the **evidence lower bound** is below log p(x), and touches it when q is the true posterior.
# Splitting p(x, z) = p(x | z) p(z):
#
# $$
# \mathrm{ELBO}(x) = \underbrace{\mathbb{E}_{q(z \mid x)}[\log p(x \mid z)]}_\text{reconstruction}
#   - \underbrace{\mathrm{KL}(q(z \mid x) \,\|\, \mathcal{N}(0, I))}_\text{the price of the code}
#   \;\le\; \log p(x).
# $$
#
# The first term is the autoencoder's loss, with noise: the decoder must paint x from a code
# *drawn* near mu(x), so nearby codes must paint similar images. The second pulls every q(z | x)
# towards the prior, so the codes of all the digits fill N(0, I) without gaps, and a draw from the
# prior lands among them. For Gaussians the {term}`KL <KL divergence>` has a closed form,
# (mu² + sigma² - 1 - log sigma²) / 2 per dimension (`minigen/objectives/elbo.py` derives it all).
#
# `minigen train vae` maximises the ELBO with one draw of z per image and step. Its defaults
# (chosen on a holdout carved from the training split, `tools/holdout/vae_holdout.py`): two hidden layers of
# 256 ReLU units in both networks, dropout 0.2, a 16-dimensional code, {term}`Adam` with a cosine
# learning-rate decay, batch 64, 20,000 steps, and a **KL warm-up**: for the first 10% of the steps
# the KL term's weight beta rises from 0 to 1, so the decoder learns to use the code before the
# KL can switch its dimensions off (section 7). After the warm-up the loss is exactly the -ELBO.
# Here is the training step, and the functions of `minigen/objectives/elbo.py` it calls: one
# draw of z by the reparameterisation (section 3), the analytic KL, the Bernoulli likelihood.
#
# **Your turn.** The workbook's exercises `kl_standard_normal`, `reparameterize` and `iwae_bound`
# (`minigen learn start DIR`, then `minigen learn check DIR kl_standard_normal reparameterize
# iwae_bound`) are the three formulas of this chapter; `minigen learn run DIR vae` trains a VAE
# with yours.

# %%
show_source(vae.VAE.step, E.reparameterize, E.kl_standard_normal, E.elbo)

# %% [markdown]
# We train it and plot each term.

# %%
MAIN_STEPS = 400 if QUICK else None            # None: the default of `minigen train vae`
model = make("vae", "digits-binary", steps=MAIN_STEPS)   # as `minigen train vae --data digits-binary`
history, seconds = train(model, quiet=True)
print(f"trained {model.config.steps} steps in {seconds:.0f} s")
iwae, recon, kl = model.bounds(test_set.images, k=1000)
print(f"test: -ELBO {np.mean(kl - recon):.2f} = reconstruction {-recon.mean():.2f} + KL {kl.mean():.2f} nats; "
      f"IWAE-1000 NLL {-iwae.mean():.2f} nats")
save(_plots.elbo_terms(history, warmup_end=round(model.settings["kl_warmup"] * model.config.steps)),
     "05_elbo_terms.png")

# %% [markdown]
# A fresh decoder knows nothing (about 44 {term}`nats` per image: 64 fair coins) and its code costs
# nothing (q is still close to the prior). During the warm-up (grey) the code is cheap, beta < 1,
# so the encoder pours information into it (the KL shoots up) and the reconstruction falls
# fast. As beta grows the loss rises with it: the same code now costs more. At beta = 1 the KL is
# squeezed back down to what pays for itself, every nat in the code must buy at least a nat of
# reconstruction, and from there on both terms (and the -ELBO, their sum) drift slowly down as the
# decoder and encoder improve together.

# %% [markdown]
# ## 3 · Differentiating through a sample: the reparameterisation trick
#
# The reconstruction term is an expectation over z ~ q(z | x), whose parameters mu and sigma are
# the encoder's outputs. How do we get its gradient with respect to mu? Two ways:
#
# - **score function** (REINFORCE): ∇_mu E_q[f(z)] = E_q[f(z) ∇_mu log q(z)] = E_q[f(z) (z - mu) / sigma²],
#   which only needs the *value* f(z) = log p(x | z);
# - **reparameterisation**: write z = mu + sigma ε with ε ~ N(0, I); then
#   ∇_mu E[f(mu + sigma ε)] = E[∇_z f(z)], which backpropagates *through* f.
#
# Both are unbiased. We measure them on the trained model: one test digit, 2,000 single-draw
# estimates of the gradient with respect to mu, from each estimator.

# %%
x_one = test_set.images[:1]                                         # (1, 1, 8, 8)
mu, log_var = model.encode(x_one)                                   # (1, 16) each
n_draws = 2000
eps = np.random.default_rng(1).standard_normal((n_draws, mu.shape[1])).astype("float32")
sigma = np.exp(0.5 * log_var)
z = mg.tensor(mu + sigma * eps, requires_grad=True)                 # (2000, 16): one draw per row
with model.averaged():                                              # eval mode: no dropout
    f = E.bernoulli_log_likelihood(model.decoder(z), mg.tensor(np.repeat(x_one, n_draws, axis=0)))  # (2000,)
(grad_z,) = mg.grad(f.sum(), z)                                     # row i: ∇_z f at draw i
reparam = grad_z.numpy()                                            # dz/dmu = 1
score = f.numpy()[:, None] * (z.numpy() - mu) / sigma ** 2          # f(z) ∇_mu log q(z)
ratio = score.var(axis=0) / reparam.var(axis=0)
print("per-dimension variance of the two estimators (score / reparameterised):")
print(f"  median ratio {np.median(ratio):.0f}x, smallest {ratio.min():.0f}x, largest {ratio.max():.0f}x")
glue("smallest_ratio", f"{ratio.min():,.0f}")
standard_error = np.sqrt((score.var(axis=0) + reparam.var(axis=0)) / n_draws)
print(f"  the means agree: their largest difference is {np.max(np.abs(score.mean(0) - reparam.mean(0)) / standard_error):.1f} "
      f"standard errors")
save(_plots.gradient_estimates(score, reparam), "05_gradient_variance.png")

# %% [markdown]
# Same mean, very different spread. The score-function estimate multiplies the value of
# log p(x | z), tens of nats, by a random direction (z - mu) / sigma²: most of what it measures is
# noise, and it needs as many times more draws as the ratios printed above (here at least
# {glue:text}`smallest_ratio`) for the same accuracy. Note the dimensions where the reparameterised variance is tiny: the
# decoder ignores them (section 7), so their gradient is 0 whatever the draw, while the score
# function still reports noise there.
# The reparameterised estimate uses how f changes with z, which the decoder's gradient tells us
# exactly; one draw per image and step is enough. This is what makes VAEs trainable with
# backpropagation, and why `E.reparameterize` is three operations long.

# %% [markdown]
# ## 4 · A 2-D latent space, and walks through it
#
# To see the latent space we train a VAE whose code has only two dimensions, and plot each test
# digit's posterior mean, coloured by its label (the VAE never sees labels). Next to it, the
# decoder's pictures of a grid of codes spanning the prior.

# %%
flat = make("vae", "digits-binary", steps=300 if QUICK else 6000, z_dim=2)
train(flat, quiet=True)
codes, _ = flat.encode(test_set.images)                             # (360, 2)
grid_1d = np.linspace(-2, 2, 9, dtype="float32")
grid_codes = np.stack(np.meshgrid(grid_1d, -grid_1d), axis=-1).reshape(-1, 2)   # rows from top (y = 2) down
save(_plots.codes_and_pictures(codes, test_set.labels, flat.decode(grid_codes), 9,
                               "VAE codes (posterior means) of the test digits",
                               "the decoder on a grid of codes in [-2, 2]²", limit=3.5),
     "05_latent_2d.png")

# %% [markdown]
# Unlike the autoencoder's, these codes fill the prior's disc: the KL term pulled them there.
# Digits of one class gather in one region, neighbouring regions hold digits that look alike, and
# the decoder's grid (right, the same square as the dashed circle's) morphs from one class to the
# next without empty holes: every code paints some digit. Two dimensions are too few for ten
# classes to separate well, so some overlap; the default model uses 16.
#
# A **latent walk**: encode two digits, move in a straight line from one code to the other, and
# decode every point along the way (the default 16-dimensional model, `model.interpolate`).

# %%
pairs = [(0, 1), (3, 8), (4, 9), (2, 7), (5, 6)]
first_of = {d: int(np.argmax(test_set.labels == d)) for d in range(10)}
walks = np.concatenate([model.interpolate(test_set.images[first_of[a]], test_set.images[first_of[b]], steps=10)
                        for a, b in pairs])
save(image_grid_figure(walks, 10, "latent walks: left, a test digit; right, another; between, the decoded straight line"),
     "05_latent_walk.png")

# %% [markdown]
# The same walks in motion, one pair a column, there and back:

# %%
walk_steps = 24
paths = [model.interpolate(test_set.images[first_of[a]], test_set.images[first_of[b]], steps=walk_steps)
         for a, b in pairs]                                             # each (steps, 1, 8, 8)
there_and_back = list(range(walk_steps)) + list(range(walk_steps - 2, 0, -1))
show_animation(images_animation([np.stack([path[k] for path in paths]) for k in there_and_back],
                                nrow=len(pairs), size=5),
               "05_latent_walk.html")

# %% [markdown]
# Each row of the figure starts at one digit's reconstruction and ends at the other's; in between the strokes
# move, thicken and fade smoothly: the walk stays on digit-like images most of the way, because
# the decoder has learnt to paint every code near the data, not just the data's own codes.

# %% [markdown]
# ## 5 · Samples
#
# A new digit: z ~ N(0, I), then the decoder. The decoder gives a probability for each pixel;
# a *sample* is a draw of every pixel from its coin, which is what the model says a digit is,
# pixel noise and all (that is what `minigen sample` returns for binary data, and what
# `minigen eval` scores). The probabilities themselves are the smooth "mean" image.

# %%
n_show = 60
rng = np.random.default_rng(7)
z_prior = rng.standard_normal((n_show, model.settings["z_dim"])).astype("float32")
probabilities = model.decode(z_prior)
draws = (rng.random(probabilities.shape) < probabilities).astype("float32")
save(_plots.image_panels([(draws, "samples: binary draws"), (probabilities, "the same codes: Bernoulli means")]),
     "05_samples.png")

# %% [markdown]
# Most draws are recognisable digits, a few are ambiguous or broken: where the decoder is unsure
# about a pixel (probability near 1/2, the grey in the right panel) the draw flips a coin, and a
# stroke can come out broken or with a stray pixel. The means look cleaner, but they are not
# samples: no digit in the data set has grey pixels.

# %% [markdown]
# ## 6 · Tighter bounds: importance weighting
#
# The ELBO is below log p(x) by KL(q ‖ p(z | x)): how far the encoder's guess is from the true
# posterior. With k draws z_i from q and weights w_i = p(x, z_i) / q(z_i | x) (each an unbiased
# estimate of p(x)), the **importance-weighted bound** (Burda et al., 2016)
#
#     L_k = E[log (1/k) Σ_i w_i]
#
# is still below log p(x) (Jensen's inequality), equals the ELBO for k = 1, never decreases as k
# grows, and tends to log p(x) as k → ∞. With k = 1000 it is how VAE papers (and `minigen eval`,
# as `nll_iwae`) estimate the test log-likelihood. It is computed with a logsumexp over the
# log-weights, which would under- or overflow as plain exponentials.

# %%
ks = [1, 2, 5, 10, 50, 200, 1000]
images_for_k = test_set.images[:100] if QUICK else test_set.images
bounds_k = [-model.bounds(images_for_k, k=k)[0].mean() for k in ks]
_, recon_k, kl_k = model.bounds(images_for_k, k=1000)
neg_elbo = float((kl_k - recon_k).mean())
for k, b in zip(ks, bounds_k):
    print(f"  k = {k:>4}: -L_k = {b:.3f} nats")
glue("iwae_gap", f"{neg_elbo - bounds_k[-1]:.2f}")
save(_plots.iwae_bounds(ks, bounds_k, neg_elbo), "05_iwae_gap.png")

# %% [markdown]
# -L_1 is the -ELBO (up to the noise of one draw per image); each increase of k lowers it, fast at
# first and then slowly: the curve flattens towards -log p(x). The bound holds *in expectation*:
# L_k is an average over draws, and one estimate of it (one set of draws, as here) can land on
# either side of its mean, so with finite draws a single point may even dip below -log p(x), by
# about its own noise. The distance between the red line and the last point is (nearly) the gap
# the encoder leaves, KL(q ‖ p(z | x)) on average: {glue:text}`iwae_gap` nats in this run. `minigen train vae --loss iwae` trains on L_k itself (k = 5 by default).

# %% [markdown]
# ## 7 · Posterior collapse: dimensions the model switched off
#
# The KL term charges for every dimension of the code. A dimension that does not help the decoder
# enough is cheapest when q(z_u | x) = N(0, 1) for every x: then it costs nothing, and carries no
# information about x. Burda et al. call a dimension **active** when its posterior mean varies
# across the data, Cov_x(E_q[z_u | x]) > 0.01 (`minigen eval` reports the count as `active_units`).
# When *all* dimensions go this way, the posterior has **collapsed** onto the prior and the decoder
# ignores z altogether. Here are the 16 dimensions of our model.

# %%
mu_all, log_var_all = model.encode(test_set.images)                 # (360, 16) each
activity = mu_all.var(axis=0)
kl_per_dim = (0.5 * (mu_all ** 2 + np.exp(log_var_all) - 1 - log_var_all)).mean(axis=0)
order = np.argsort(-activity)
active_dims = order[activity[order] > 0.01]
print(f"{len(active_dims)} of {len(activity)} dimensions active; KL per dimension (nats): "
      f"{', '.join(f'{kl_per_dim[u]:.2f}' for u in order)}")
glue("active", len(active_dims))
inactive = int(order[-1])
base = mu_all[first_of[3]].copy()
sweep = np.linspace(-3, 3, 10, dtype="float32")
sweeps = {}                                                         # {dimension: 10 decoded codes}
for u in (int(order[0]), int(order[1]), inactive):
    codes_u = np.repeat(base[None], len(sweep), axis=0)
    codes_u[:, u] = sweep
    sweeps[u] = model.decode(codes_u)
save(_plots.active_dimensions(activity, kl_per_dim, sweeps, threshold=0.01), "05_posterior_collapse.png")

# %% [markdown]
# In this run {glue:text}`active` of the 16 dimensions are active (left: activity above the
# dotted line, with the KL, all the information the code carries, spent on them); the others
# have posterior means that do not move with x and a KL of almost 0. The sweeps (right) show what that means: moving the
# code along an active dimension rewrites the digit, along an inactive one changes nothing at all,
# because the decoder has learnt to ignore it. How many survive depends on training: on a
# holdout of the training split (`tools/holdout/vae_holdout.py`), models trained without the
# warm-up kept fewer dimensions and a worse bound, and a much longer warm-up kept more and a
# worse bound again; for 8x8 binary digits a few dimensions are all the data pays for. A decoder powerful enough to
# model x without z (an autoregressive one) can switch off every dimension: full posterior collapse.

# %% [markdown]
# ## 8 · Asking for a digit: the conditional VAE
#
# The VAE above paints whatever digit its code happens to fall on. To ask for a 7, give the label
# y to both networks (Sohn et al., 2015): the encoder becomes q(z | x, y), the decoder p(x | z, y),
# and the prior stays N(0, I) for every class. The ELBO derivation goes through with every density
# conditioned on y, so the same objective is now a bound on log p(x | y)
# (`minigen/objectives/elbo.py`). In minigen each network learns an embedding of the label
# (`vae_networks.JoinLabel`) joined to its input: `minigen train vae --data digits-binary --conditional`,
# then `minigen sample DIR --label 7`.
#
# Since the decoder is told the class, the code z no longer has to say which digit it is: it is left
# to carry everything else, the style. So one z painted with each of the ten labels should give ten
# digits in one hand.

# %%
cvae = make("vae", "digits-binary", steps=300 if QUICK else 6000, conditional=True)
train(cvae, quiet=True)
z_rows = np.random.default_rng(3).standard_normal((5, cvae.settings["z_dim"])).astype("float32")
styles = cvae.decode(np.repeat(z_rows, 10, axis=0), labels=list(range(10)) * 5)      # (50, 1, 8, 8)
save(_plots.image_panels([(styles, "one code z per row, painted as y = 0 ... 9 (Bernoulli means)"),
                          (cvae.sample(50, 0), "samples (binary draws): y = column")]),
     "05_conditional.png")

# %% [markdown]
# Along a row the class changes and the code stays. At 8x8 pixels there is little style for z to
# keep, so the rows look much alike; what differs from row to row (how bold the strokes are, the
# bend of the 1 and the 7) is shared by the ten digits of a row. On the right, fresh draws, one
# class a column: most of them the digit asked for, a few ambiguous (`minigen eval` reports the
# share the judge reads as the class asked for, `label_accuracy`; tutorial 09 measures it).
#
# A conditional generative model is also a classifier, by Bayes' rule: with equal priors,
# p(y | x) is proportional to p(x | y), so the label whose model explains x best is the guess
# (tutorial 03 did this with counts). Here log p(x | y) is the importance-weighted estimate for
# each of the ten labels.

# %%
images_cls = test_set.images[:100] if QUICK else test_set.images
k_cls = 20 if QUICK else 200
log_p_given = np.stack([cvae.bounds(images_cls, k=k_cls, labels=[y] * len(images_cls))[0]
                        for y in range(10)], axis=1)                                  # (N, 10): log p(x | y)
true_labels = test_set.labels[:len(images_cls)]
nll_true = -log_p_given[np.arange(len(images_cls)), true_labels].mean()
bayes_right = (log_p_given.argmax(axis=1) == true_labels).mean()
print(f"-log p(x | true y) = {nll_true:.2f} nats (k = {k_cls}); Bayes' rule classifies "
      f"{bayes_right:.1%} of {len(images_cls)} test digits right")
nll_unconditional = -model.bounds(images_cls, k=k_cls)[0].mean()
print(f"the unconditional model on the same digits: -log p(x) = {nll_unconditional:.2f} nats")
glue("nll_given_label", f"{nll_true:.1f}")
glue("nll_unconditional", f"{nll_unconditional:.1f}")
glue("bayes_right", f"{bayes_right:.0%}")
print(f"tutorial finished in {time.perf_counter() - START:.0f} s")

# %% [markdown]
# Given the right label a test digit costs {glue:text}`nll_given_label` nats in this run, against
# {glue:text}`nll_unconditional` for the unconditional model of section 2 on the same digits: the
# label is information the decoder no longer has to guess, worth at most log 10 = 2.3 nats when
# the class is plain from the pixels (when the models are trained long enough for the comparison
# to be fair). And the ten likelihoods classify {glue:text}`bayes_right` of these test digits
# correctly, although the model was never trained to classify: it only learnt what each class
# looks like (tutorial 03 set a discriminative classifier against the same question).

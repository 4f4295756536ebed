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
# # 07 · Diffusion: noise, then denoise
#
# A diffusion model never learns to draw in one go. It learns one small, easy thing: given a
# noisy example, **which noise was added?** Generation then runs the noising backwards, from
# pure noise to data, one small denoising step at a time. In this tutorial we
#
# 1. noise a digit and a 2-D data set step by step, and check the one-shot closed form of the
#    noising against iterating the chain;
# 2. derive the loss: from the variational bound to "predict the noise";
# 3. train a noise predictor on eight Gaussian blobs and draw what it learned as a vector field
#    over the plane: the {term}`score`, the direction toward the data, at several noise levels;
# 4. follow a few points backwards from noise to data, with DDPM's random steps and DDIM's
#    deterministic ones;
# 5. train on digits and put DDPM and DDIM with 1000, 100, 50, 20 and 10 steps in one plot of
#    quality against sampling time;
# 6. sample digits, and complete digits of which only half is given (inpainting);
# 7. ask for a class: train on digits *and* their labels, and steer the sampler toward the
#    class asked for with classifier-free guidance, trading diversity for clarity.
#
# Run it as a script (`python tutorials/07_diffusion.py`, a few minutes on a CPU;
# `MINIGEN_QUICK=1` trains only briefly) or open it as a notebook (jupytext "percent" format).
# Figures go to the folder named by `MINIGEN_FIGURES` (default `tutorials/figures/`). The same
# models train from the command line: `minigen train diffusion --data 8gaussians` (or `digits`),
# then `minigen eval DIR` and `minigen sample DIR --sampler ddim --sample-steps 20 --out x.npy`;
# section 7's with `minigen train diffusion --data digits --conditional` and `minigen sample DIR
# --label 7 --guidance 2 --out sevens.npy`.

# %%
import math
import time

import _plots
import numpy as np
from _setup import QUICK, glue, save, show_animation, show_source  # the figures folder, quick mode, the book

import minigen as mg
from minigen.data import get_dataset
from minigen.data.completion import half_mask
from minigen.models import judge, make
from minigen.models.loop import train
from minigen.objectives import denoising as D
from minigen.viz.animation import images_animation

START = time.perf_counter()
if QUICK:
    judge.JUDGE_STEPS = 60          # a quick judge of digit samples: the figures, not the numbers

# %% [markdown]
# ## 1 · Noise: the forward process
#
# Fix a schedule beta_1..beta_T of small numbers. Each step shrinks the data a little and adds a
# little Gaussian noise:
#
#     q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I).
#
# With alpha_t = 1 - beta_t and abar_t = alpha_1 ... alpha_t, a Gaussian step of a Gaussian is
# Gaussian, and by induction any level is one draw away from the data:
#
#     q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I),   x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps.
#
# First, the closed form against the chain itself, by exact computation: iterate the mean
# (times sqrt(alpha_t)) and the variance (alpha_t v + beta_t) step by step, from a known x_0,
# and compare with sqrt(abar_t) x_0 and 1 - abar_t. Then the same by sampling: 20,000 copies of
# one 2-D point pushed through t steps with fresh noise at each step, against one draw of the
# closed form.

# %%
T = 1000
bars = D.schedule("linear", T)                        # abar_0 = 1, ..., abar_T (Ho et al.'s 1e-4..0.02)
betas = D.linear_betas(T)
x0_value = 1.5
mean, var, chain_mean, chain_var = x0_value, 0.0, [x0_value], [0.0]
for beta in betas:
    mean, var = math.sqrt(1 - beta) * mean, (1 - beta) * var + beta
    chain_mean.append(mean)
    chain_var.append(var)
closed_mean = [math.sqrt(b) * x0_value for b in bars]
closed_var = [1 - b for b in bars]
print("largest gap, chain vs closed form: mean", max(abs(a - b) for a, b in zip(chain_mean, closed_mean)),
      "variance", max(abs(a - b) for a, b in zip(chain_var, closed_var)))
glue("abar_T", f"{bars[-1]:.1g}")

rng = np.random.default_rng(0)
point = np.array([1.5, -0.5])
t_check = 300
walked = np.tile(point, (20000, 1))
for beta in betas[:t_check]:
    walked = math.sqrt(1 - beta) * walked + math.sqrt(beta) * rng.standard_normal(walked.shape)
closed = D.q_sample(mg.tensor(np.tile(point, (20000, 1))), mg.tensor(rng.standard_normal((20000, 2))),
                    mg.tensor(bars[t_check])).numpy()
print(f"t = {t_check}: chain mean {walked.mean(0).round(3)}, std {walked.std(0).round(3)}; "
      f"closed form mean {closed.mean(0).round(3)}, std {closed.std(0).round(3)}; "
      f"exact: mean {(math.sqrt(bars[t_check]) * point).round(3)}, std {math.sqrt(1 - bars[t_check]):.3f}")

# %% [markdown]
# The two computations agree to rounding (the printed gaps), and 20,000 walks of 300
# steps land where one closed-form draw says they do. Now watch data dissolve: a digit and a
# swiss roll noised to several levels with the closed form (one draw of eps for all levels, so
# the same noise grows in), and the curves sqrt(abar_t) (how much of the data is left) and
# sqrt(1 - abar_t) (how much noise).

# %%
digits_test = get_dataset("digits", "test")
roll = get_dataset("swissroll", "test").points[:1500]
levels_shown = [0, 50, 100, 200, 300, 500, 700, 1000]
digit = mg.tensor(digits_test.images[:1])                                    # (1, 1, 8, 8) in [-1, 1]
eps_digit = mg.tensor(rng.standard_normal(digit.shape))
eps_roll = mg.tensor(rng.standard_normal(roll.shape))
noisy_digits = {t: D.q_sample(digit, eps_digit, mg.tensor(bars[t])).numpy() for t in levels_shown}
noisy_rolls = {t: D.q_sample(mg.tensor(roll), eps_roll, mg.tensor(bars[t])).numpy() for t in levels_shown}
save(_plots.forward_process(noisy_digits, noisy_rolls, bars, np.array(chain_mean) / x0_value),
     "07_forward_process.png")

# %% [markdown]
# By t = 300 the digit is hard to make out and the roll is a smudge; at t = 1000 both are
# standard normal noise (abar_T = {glue:text}`abar_T`): that is where generation will start. The dotted
# curve, the chain's mean iterated step by step, lies on the closed form's.
#
# ## 2 · Denoise: the loss
#
# Going back one step is hard for the data's distribution, but given x_0 the step back is a
# Gaussian (Bayes' rule on two Gaussians):
#
#     q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I),
#     mu~_t = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x_0 + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) x_t,
#     beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t.
#
# The model is a reverse chain p(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I) from
# p(x_T) = N(0, I). The variational bound on -log p(x_0) is a sum over t of
# {term}`KL <KL divergence>`(q(x_{t-1} | x_t, x_0) ‖ p(x_{t-1} | x_t)); each is a squared distance between the two means.
# Write x_0 through the noise that made x_t, x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t),
# and let the model guess that noise, eps_theta(x_t, t): each term becomes a weight times
# ||eps - eps_theta(x_t, t)||^2. Ho et al. (2020) drop the weight:
#
# $$
# L_\text{simple} = \mathbb{E}_{t, x_0, \epsilon} \left\| \epsilon - \epsilon_\theta\!\left(\sqrt{\bar\alpha_t}\, x_0
#   + \sqrt{1 - \bar\alpha_t}\, \epsilon,\ t\right) \right\|^2 .
# $$
#
# Dropping the weights makes L_simple a *reweighted* bound: it is no longer the bound on
# -log p(x_0) itself, but each of its terms is the bound's term up to a positive factor, so it
# has the same best eps_theta (and it trains better samples than the exact bound). That is the
# whole training step, Ho et al.'s Algorithm 1: draw a batch, one level t and fresh noise per
# example, noise the batch, regress the noise. Here it is in minigen, with the functions it
# calls (`minigen/objectives/denoising.py` derives every line of this in its docstring):

# %%
from minigen.models.diffusion import Diffusion

show_source(Diffusion.step, D.q_sample, D.simple_loss)

# %% [markdown]
#
# **The noise is the score.** The best eps_theta is E[eps | x_t], and
# -E[eps | x_t] / sqrt(1 - abar_t) = grad log q_t(x_t), the *score* of the noised data: the
# direction in which the density of noised data grows fastest. A noise predictor is a map of
# uphill directions toward the data, one for every noise level.
#
# ## 3 · A noise predictor for eight Gaussians, drawn as a field
#
# `minigen train diffusion --data 8gaussians` trains an MLP (4 hidden layers of 128, SiLU, a
# sinusoidal embedding of t added at every layer) with T = 100 levels, betas 1e-3..0.2, {term}`Adam`
# with warm-up and cosine decay, and an {term}`exponential moving average <EMA>` (EMA) of the weights for
# sampling. Here it trains for fewer steps than the default 6,000.

# %%
tick = time.perf_counter()
points = make("diffusion", "8gaussians", steps=300 if QUICK else 3000)   # as `minigen train` makes it
history, seconds = train(points, quiet=True)
result = points.evaluate()
print(f"trained {points.config.steps} steps in {seconds:.0f} s; DDPM ({points.settings['T']} steps): "
      f"{result['modes']} modes, {result['hq_share']:.1%} high quality; DDIM-50: {result['ddim_modes']} modes, "
      f"{result['ddim_hq_share']:.1%}")

T2 = points.settings["T"]
bars2 = points.alpha_bars
k = 25
line = np.linspace(-3, 3, k)
gx, gy = np.meshgrid(line, line)
where = np.stack([gx.ravel(), gy.ravel()], 1)                               # (k*k, 2)
data = points.test_data.points[:2000]
fields, noised = {}, {}                                                    # per level t
for t in [T2, T2 // 2, T2 // 5, 2]:
    with mg.no_grad(), points.averaged():                                   # the averaged weights
        eps = points.eps_fn(mg.tensor(where), t)
    fields[t] = D.score(eps, mg.tensor(bars2[t])).numpy()                   # grad log q_t at each point
    noised[t] = D.q_sample(mg.tensor(data), mg.randn(*data.shape), mg.tensor(bars2[t])).numpy()
save(_plots.score_fields(where, fields, noised, bars2), "07_score_field.png")

# %% [markdown]
# At t = T (and still at t = T/2) the noised data is a single round blob and the field points
# to its centre. At t = 20 the arrows point onto the ring from inside and outside. Near t = 0 the
# plane is cut into eight basins: every arrow points at its nearest blob; the arrows are longest
# (bright) far from every blob and shortest (dark) on the blobs, where the density peaks.
#
# ## 4 · Reverse trajectories
#
# Sampling follows this field downhill in noise. **DDPM** (ancestral sampling) draws
# x_{t-1} from q(x_{t-1} | x_t, x^_0) with the network's guess x^_0 in place of x_0: a step
# toward the guess plus fresh noise. **DDIM** (Song et al., 2021) takes the same marginals but
# no fresh noise, x_s = sqrt(abar_s) x^_0 + sqrt(1 - abar_s) eps_theta: a deterministic path, which
# can skip levels (here 20 of the 100). Ho et al.'s Algorithm 2 is the loop of `D.reverse`
# with `ddpm_step`; DDIM swaps in `ddim_step`:

# %%
show_source(D.ddpm_step, D.posterior, D.ddim_step)

# %% [markdown]
# Eight points from the same starting noise:

# %%
paths = {f"{sampler.upper()}, {steps} steps": np.stack([x.numpy() for x in points.trajectory(8, 3, sampler, steps)])
         for sampler, steps in [("ddpm", T2), ("ddim", 20)]}                   # each (K + 1, 8, 2)
save(_plots.reverse_paths(paths, data), "07_reverse_trajectories.png")

# %% [markdown]
# DDPM's paths wander (each step adds noise) and only commit to a blob late; DDIM's are smooth
# curves that head for a blob from the start. Most paths of both end on a blob; with only 20
# steps DDIM leaves the odd straggler between two blobs (the high-quality share counts those).
#
# ## 5 · Digits: fewer steps, faster, and what it costs
#
# On the 8x8 digits the noise predictor is a residual MLP on the 64 pixels (width 256, three
# blocks with LayerNorm, the time embedding in every block), T = 1000 levels on the cosine
# schedule (abar_t = cos^2 of a quarter turn, Nichol & Dhariwal: it spends fewer levels on
# near-pure noise than the linear one above, which helped on a holdout of the training digits),
# and at every step the guess x^_0 is clipped to the pixel range [-1, 1] (as Ho et al. do). Quality is the project's
# {term}`Fréchet distance` (the one `minigen eval` reports for every image family: the digits
# classifier's features of samples against the test digits; lower is better, true training
# digits score the floor). Every sampler below starts from the same noise.

# %%
tick = time.perf_counter()
digits = make("diffusion", "digits", steps=100 if QUICK else 3000)
train(digits, quiet=True)
print(f"trained {digits.config.steps} steps in {time.perf_counter() - tick:.0f} s")
n_judged = 200 if QUICK else 500
STEP_COUNTS = (100, 50, 20, 10) if QUICK else (1000, 100, 50, 20, 10)      # quick mode skips the slow 1000
table = {}
for sampler in ("ddpm", "ddim"):
    for steps in STEP_COUNTS:
        start = time.perf_counter()
        x = digits.sample(n_judged, 0, sampler=sampler, sample_steps=steps)
        seconds = time.perf_counter() - start
        scores = judge.image_sample_metrics(x, "digits", digits.train_data, digits.test_data)
        table[sampler, steps] = (seconds, scores["frechet_distance"], scores["frechet_floor"])
        print(f"{sampler.upper()} {steps:>4} steps: {seconds:5.1f} s, Fréchet distance {scores['frechet_distance']:.1f}")
glue("n_judged", n_judged)
glue("fewest", STEP_COUNTS[-1])
for sampler in ("ddpm", "ddim"):
    glue(f"{sampler}_fewest", f"{table[sampler, STEP_COUNTS[-1]][1]:.1f}")
save(_plots.quality_against_time(table, n_judged), "07_samplers.png")

# %% [markdown]
# Time is proportional to the number of steps: one network pass each. Read the printed numbers
# (with {glue:text}`n_judged` samples, differences under about 1 are noise): with enough training
# both samplers hold their quality down to a few dozen steps (clipping x^_0 keeps DDPM's larger
# jumps in range). Below that they part: DDPM's few big noisy jumps leave grainy digits and its
# distance climbs, while DDIM's deterministic steps lose less: at {glue:text}`fewest` steps DDIM
# scores {glue:text}`ddim_fewest` and DDPM {glue:text}`ddpm_fewest` in this run.
# (`minigen eval` reports the pair: DDPM with all T steps, and `ddim_` with 50.)
#
# ## 6 · Samples, and digits completed from a half
#
# Inpainting needs no new training. Give the sampler an image and a mask; after every step, the
# pixels we know are replaced by the given image **noised to that step's level** (RePaint's
# simple form), so the network always sees a consistent noisy image and fills in the rest to
# match. But the network sees the known half only through one noisy draw of it, which at high
# noise says little, so the filled-in half is only loosely tied to it: replacement is an
# approximation to sampling the hidden half given the known one, not an exact conditional
# sample. Two things tie it closer. Each step is taken 5 times
# (the `resample` setting), the merged image noised back to the step's level in between
# (RePaint's resampling). And each step asks the network's own guess of the clean image,
# x^_0 = (x_t - sqrt(1 - abar_t) eps_theta) / sqrt(abar_t), how far its *known* half is from the
# given pixels, and moves x^_0 against the gradient of that error taken through the network with
# respect to x_t, weight w = 15 (the `reconstruction` setting: reconstruction guidance, Ho et
# al. 2022, derived in `minigen/objectives/denoising.py`): the hidden half moves too, through
# what the network knows goes with what, at the cost of a backward pass per step. How much each
# helps was measured on a holdout of the training digits (`tools/holdout/diffusion_completion_holdout.py`;
# the results page has the full runs' completion accuracy). At level 0 the known pixels are the
# given ones, exactly (`minigen sample DIR --given FILE.npy --mask top`).

# %%
samples = digits.sample(40, 1, sampler="ddim")
given = ((digits.test_data.images[:10] + 1) / 2).astype(np.float32)            # [0, 1]
filled = {side: digits.sample(10, 2, sampler="ddim", given=given, mask=side) for side in ("top", "left")}
save(_plots.samples_and_inpainting(samples, given, filled), "07_samples_and_inpainting.png")
kept = ~half_mask(given.shape, "top")                                       # the pixels not hidden
np.testing.assert_array_equal(filled["top"][kept], given[kept])
print(f"the kept pixels are the given ones, exactly; whole tutorial: {time.perf_counter() - START:.0f} s")

# %% [markdown]
# The reverse process in motion: ten digits drawn by DDIM in 50 steps, from pure noise at
# level T to the samples at level 0 (the same noise at the start of every frame's digits).

# %%
levels = D.timesteps(digits.settings["T"], 50) + [0]
states = digits.trajectory(10, 3, "ddim", 50)                          # [x_T, ..., x_0], data values
show_animation(images_animation([digits.train_data.to_unit(s.numpy()).clip(0, 1) for s in states],
                                [f"level t = {t}" for t in levels], nrow=10, size=6),
               "07_reverse_process.html")

# %% [markdown]
# The completed halves join the given ones without a seam, and they are plausible digits,
# though not always the original: from the bottom half alone a 7 and a 9 can look alike. The
# last line checks that the pixels outside the mask are the given ones, bit for bit.

#
# ## 7 · Asking for a class: classifier-free guidance
#
# So far the model learned p(x), digits of any class. To ask for a 7 it must learn p(x | y):
# give the network the label as well, `eps_theta(x_t, t, y)`, a learned vector per class added
# beside the time embedding, and train with the same loss on (digit, label) pairs. The
# argument of section 2 carries over: it learns the score of the noised digits *of class y*.
#
# Bayes' rule hides a classifier in two such scores. p(y | x) = p(x | y) p(y) / p(x), and p(y)
# does not depend on x, so at every noise level
#
#     grad log p(y | x_t) = grad log p(x_t | y) - grad log p(x_t).
#
# To sample digits that are *clearly* of class y, we can follow p(x | y) p(y | x)^W, whose score
# is grad log p(x | y) + W (grad log p(x | y) - grad log p(x)). In terms of noise predictions
# (each score is -eps / sqrt(1 - abar_t)) that is
#
#     eps~ = (1 + W) eps_theta(x_t, t, y) - W eps_theta(x_t, t, no label),
#
# classifier-free guidance (Ho & Salimans 2022). The unconditional eps comes from the same
# network: in training, each label is replaced by an extra "no label" class with probability
# p_uncond (0.1 here), so the network also learns eps(x_t) (the derivation is in
# `minigen/objectives/denoising.py`). W = 0 is the conditional model as trained; W > 0 pushes
# each sample away from what digits in general look like, toward what makes this class this
# class. Each step then costs two network passes. Below: W from 0 to 4, the same starting noise,
# 50 DDIM steps, 100 digits of each class asked for (quick mode: fewer). We measure how often
# the judge sees the class asked for (label accuracy), the Fréchet distance to the test digits,
# and diversity: the within-class spread, sqrt(tr Cov) of a class's samples in the judge's
# features, over the same for the test digits of that class (1: as varied as real digits).

# %%
tick = time.perf_counter()
conditional = make("diffusion", "digits", steps=100 if QUICK else None, conditional=True)
train(conditional, quiet=True)
print(f"trained {conditional.config.steps} conditional steps in {time.perf_counter() - tick:.0f} s "
      f"(p_uncond {conditional.settings['p_uncond']}, default W {conditional.settings['guidance']})")
WEIGHTS = (0.0, 2.0) if QUICK else (0.0, 0.5, 1.0, 2.0, 4.0)
n_asked = 100 if QUICK else 1000
the_judge = judge.digit_judge("digits")
test = conditional.test_data
_, test_feats = judge.judge_outputs(the_judge, test.images)


def within_class_spread(images, labels):
    """The mean over classes of sqrt(tr Cov) of the samples' judge features over that of the test digits."""
    _, feats = judge.judge_outputs(the_judge, test.from_unit(images))
    return float(np.mean([np.sqrt(np.trace(np.cov(feats[labels == k], rowvar=False))
                                  / np.trace(np.cov(test_feats[test.labels == k], rowvar=False)))
                          for k in range(10)]))


asked = np.array(conditional.sample_labels(n_asked))            # 0, 1, ..., 9, 0, 1, ...
sweep, grids = {}, {}
for w in WEIGHTS:
    x = conditional.sample(n_asked, 0, sampler="ddim", guidance=w)
    scores = judge.image_sample_metrics(x, "digits", conditional.train_data, test, labels=asked)
    sweep[w] = (scores["label_accuracy"], scores["frechet_distance"], within_class_spread(x, asked))
    grids[w] = x[:50]                                              # five rows, a class a column
    print(f"W = {w:3.1f}: label accuracy {sweep[w][0]:.3f}, Fréchet distance {sweep[w][1]:5.2f}, "
          f"within-class spread {sweep[w][2]:.3f}")
first_w, last_w = WEIGHTS[0], WEIGHTS[-1]
best_w = min(WEIGHTS, key=lambda w: sweep[w][1])
glue("w_last", f"{last_w:g}")
glue("w_best", f"{best_w:g}")
for name, w in (("first", first_w), ("last", last_w), ("best", best_w)):
    glue(f"accuracy_{name}", f"{sweep[w][0]:.3f}")
    glue(f"fd_{name}", f"{sweep[w][1]:.1f}")
    glue(f"spread_{name}", f"{sweep[w][2]:.2f}")
save(_plots.guidance_sweep(sweep, scores["frechet_floor"], {w: grids[w] for w in (first_w, last_w)}), "07_guidance.png")
print(f"whole tutorial: {time.perf_counter() - START:.0f} s")

# %% [markdown]
# At W = 0, the conditional model alone, the judge sees the class asked for in a share
# {glue:text}`accuracy_first` of the samples, with a within-class spread of
# {glue:text}`spread_first` (1: as varied as real digits of that class). At W =
# {glue:text}`w_last`: {glue:text}`accuracy_last`, and a spread of {glue:text}`spread_last`.
# Guidance trades diversity for clarity: each class is drawn more like its most typical shapes
# (compare the two grids: at the larger W the strokes are heavier and more alike). The Fréchet
# distance to the test digits shows the two forces at once ({glue:text}`fd_first` at W = 0,
# {glue:text}`fd_last` at W = {glue:text}`w_last`, lowest here at W = {glue:text}`w_best`):
# first the classes come out right and in the right proportions, then the lost variety costs
# more than the clarity gains. `minigen train diffusion --conditional` samples with a default W
# chosen on a holdout of the *training* digits (`tools/holdout/diffusion_guidance_holdout.py`),
# never on the test split that judges it here. `minigen sample DIR --label 7 --guidance W` draws
# sevens at any W.
#
# **Your turn.** The workbook's `q_sample`, `ddim_step` and `guided_eps` are this chapter's three
# formulas (`minigen learn start DIR`, then `minigen learn check DIR q_sample ddim_step guided_eps`).

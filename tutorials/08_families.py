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
# # 08 · Four families, one data set, one judge
#
# Tutorials 04-07 each built one way of learning p(x): a GAN (a generator against a critic), a
# VAE (an encoder, a latent code, a decoder), an autoregressive model (one pixel at a time, from
# those before) and a diffusion model (learn to remove noise, then remove it step by step).
# Each tutorial judged its family on its own terms. Here they meet: the same 8x8 digits, the
# same classifier as the judge (`minigen/models/judge.py`), the same questions.
#
# 1. **Draw a digit.** Samples from p(x): are they sharp, are they diverse, how close are they
#    to real digits?
# 2. **Draw a 7.** The prompt: p(x | y). A discriminative model answers "which class is this?";
#    a generative one, asked for a class, *guesses the data for that prediction*.
# 3. **Finish this digit.** Half an image is the prompt; the model fills in the rest.
# 4. **How likely is this digit?** Only some families can say.
# 5. **How long does it take?** Training, and above all sampling.
#
# It trains the same runs as the end of `minigen tour` (each family briefly, unconditional and
# with `--conditional`), through the same code, so the numbers here are the tour's table. Run it
# as a script (`python tutorials/08_families.py`, a few minutes on a CPU; `MINIGEN_QUICK=1`
# trains only briefly, and then the numbers mean little) or open it as a notebook. The run
# folders land in a temporary folder (printed below): `minigen eval` and `minigen sample` work
# on them.

# %%
import tempfile
import time
from pathlib import Path

import numpy as np
from _setup import FIGURES, QUICK, glue, plt, save

from minigen import tour
from minigen.models import judge
from minigen.runs import open_run

START = time.perf_counter()
if QUICK:
    judge.JUDGE_STEPS = 60          # a quick judge: the figures, not the numbers

RUNS = Path(tempfile.mkdtemp(prefix="minigen-06-"))
print(f"run folders in {RUNS}")
visits = [tour.visit(stop, RUNS, quick=QUICK, quiet=True) for stop in tour.digits_stops()]
for v in visits:
    print(f"{v.family:>14} {v.model:<24} {'conditional' if v.conditional else '':<11} "
          f"trained {v.steps} steps in {v.seconds:5.1f} s")

# %% [markdown]
# ## 1 · The table
#
# Every number below was measured on each model's first 1,000 samples (seed 0) by the same
# classifier: the **{term}`Fréchet distance`** between the judge's features of the samples and of the
# 360 test digits (a distance between two fitted Gaussians; lower is better, and the *floor* is
# what 1,000 real training digits get, so nothing can be expected to beat it), the **class
# entropy** of the judge's verdicts (log 10 = 2.30 when all ten classes come out equally often:
# diversity across classes), and for conditional runs the **label accuracy** (how often the judge
# sees the class that was asked for).

# %%
print(tour.side_by_side(visits))
by = {(v.family, v.conditional): v for v in visits}

# %% [markdown]
# And the same runs as pictures: a row per family; the samples, then samples asked for 0, 1,
# ..., 9 (a class per column), then test digits whose bottom half was hidden (grey), filled in,
# and the truth.

# %%
save(tour.gallery(visits), "08_gallery.png")
glue("gallery", FIGURES / "08_gallery.png")          # the book's front page shows it too

# %% [markdown]
# ## 2 · Sharp, or diverse?
#
# Two failures look different. A model can draw *blurry* digits, which the judge is unsure of
# (low confidence), or *the same few* digits, sharply (low class entropy: a GAN's mode collapse
# is the classic case). Plot one against the other: good models sit top right, next to real
# digits. (The binary families, VAE and PixelCNN, are judged by the classifier trained on
# digits-binary, the others by the one trained on digits: compare each with its own star.)
#
# Why each family lands where it does:
# - the **GAN** is trained only to fool its critic, never to cover every digit, so nothing
#   pulls it toward diversity except the critic's memory; it is sharp when it works;
# - the **VAE** maximises a likelihood bound, which punishes missing any training digit
#   (every x must get a decent p(x | z)), so it covers all classes; but its decoder's pixels are
#   independent given z, so a digit the code leaves uncertain comes out as speckle (binary draws)
#   or blur (means);
# - the **PixelCNN** is an exact likelihood model as well, so it covers the classes too; each
#   pixel is drawn from what its masked convolutions see of the pixels before it (most of them:
#   tutorial 06 shows the blind spot), so its strokes join up, but a wrong early pixel can never
#   be taken back;
# - **diffusion** trains on a reweighted form of a bound on the likelihood (tutorial 07's
#   L_simple), and refines the whole image over many steps, each able to correct the last:
#   diverse and sharp, at a price paid in sampling time.

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.8))
markers = {False: "o", True: "s"}
colours = {"gan": "tab:red", "vae": "tab:blue", "autoregressive": "tab:green", "diffusion": "tab:purple"}
for v in visits:
    j = v.judged
    ax.scatter(j["class_entropy"], j["mean_confidence"], s=80, marker=markers[v.conditional],
               color=colours[v.family], label=f"{v.family}{' (conditional)' * v.conditional}")
for data, star in (("digits", "*"), ("digits-binary", "P")):     # each data set has its own judge
    test_j = next(v.judged for v in visits if v.data == data)
    ax.scatter(test_j["test_class_entropy"], test_j["test_mean_confidence"], marker=star, s=200, color="black",
               label=f"the 360 test digits ({data})")
ax.set_xlabel("class entropy of the judge's verdicts (diversity; log 10 = 2.30)")
ax.set_ylabel("mean confidence of the judge (sharpness)")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
ax.set_title("sharp or diverse: the families on the digits")
save(fig, "08_sharp_or_diverse.png")

# %% [markdown]
# ## 3 · Asked for a class
#
# Every family takes the label the same way in spirit: as one more input, learned as an
# embedding, that the networks can read. What they do with it differs:
# - the conditional **GAN** gives the label to both players: the generator must draw a 7 when
#   asked, and the critic judges (x, label) pairs, so a good 3 passed off as a 7 is caught;
# - the conditional **VAE** gives it to the encoder and to the decoder, so the code z no longer
#   has to store the class, only the style (slant, thickness) in which to draw it;
# - the conditional **PixelCNN** adds a class vector to every masked layer; its likelihood
#   becomes p(x | y), exactly;
# - guided **diffusion** learns p(x | y) and p(x) in one network (the label is dropped at random
#   during training) and at sampling time pushes away from the unconditional prediction, by a
#   guidance weight W: the higher W, the more typical (and the less varied) the digits of a class.
#
# The label accuracy of each, and of each class:

# %%
conditional = [v for v in visits if v.conditional]
fig, ax = plt.subplots(figsize=(7.5, 3.8))
width = 0.8 / max(1, len(conditional))
for k, v in enumerate(conditional):
    per_label = v.judged["per_label_accuracy"]
    ax.bar(np.arange(10) + (k - (len(conditional) - 1) / 2) * width, per_label, width,
           color=colours[v.family], label=f"{v.family}: {v.judged['label_accuracy']:.2f} on average")
ax.set_xticks(range(10))
ax.set_xlabel("class asked for")
ax.set_ylabel("share the judge assigns to it")
ax.set_ylim(0, 1.05)
ax.legend(fontsize=7, loc="lower right")
ax.set_title("asked for a class: how often does the judge see it?")
save(fig, "08_label_accuracy.png")

# %% [markdown]
# ## 4 · The generative model as a classifier
#
# Tutorial 03's point, made concrete: a model of p(x | y) *is* a classifier, by Bayes' rule,
# p(y | x) = p(x | y) p(y) / sum_y' p(x | y') p(y'). The conditional PixelCNN computes
# log p(x | y) exactly, for all ten y, so it can classify the test digits. Tutorial 03's Bernoulli
# counting model did the same with one coin per pixel; the discriminative judge learns p(y | x)
# directly. (The VAE could too, with its bound in place of log p(x | y); GANs and diffusion have no
# cheap likelihood to put into Bayes' rule.)

# %%
pixelcnn = by.get(("autoregressive", True))
if pixelcnn is not None and "bayes_accuracy" in pixelcnn.metrics:
    print(f"conditional PixelCNN used as a classifier (Bayes' rule): test accuracy "
          f"{pixelcnn.metrics['bayes_accuracy']:.3f}; the discriminative judge on the same data: "
          f"{pixelcnn.metrics['judge_accuracy']:.3f}")

# %% [markdown]
# ## 5 · Finishing a digit
#
# Completion is a prompt made of pixels. Two families take it directly, one of them exactly:
# - the **PixelCNN** draws pixels in raster order, so when the top half is given, every pixel of
#   the bottom half is drawn from its model of p(x_t | x_<t) with the given pixels in x_<t: an
#   exact sample of the model's conditional (which is why it accepts only `--mask bottom`);
# - **diffusion** works on the whole image at once: at each step it replaces the known half by the
#   data noised to that step's level, and denoises the rest, so any half can be hidden; the
#   replacement ties the two halves together only approximately (tutorial 07), and the guidance
#   and resampling minigen adds tighten it;
# - a GAN or a VAE would have to search for a z whose picture matches the given half: not a
#   sample from p(x_hidden | x_given), and not offered here.

# %%
for v in visits:
    if "completion_accuracy" in v.judged:
        print(f"{v.family:>14}: {v.judged['completion_accuracy']:.3f} of the 360 test digits, bottom half "
              f"filled in, are classified as their true label")

# %% [markdown]
# A completion is classified right only about as often as the given half settles the class:
# a model that must first guess the digit from its top half cannot paint the right bottom for
# the wrong digit. How often does the top half settle it? A classifier trained and tested on top
# halves alone, and the conditional PixelCNN's Bayes' rule on them, both answer that question;
# their full-run numbers are on the results page, and a binary top half says less than a grey
# one. Tutorial 09 uses completions to answer "which digit is this?" from half of one.

# %% [markdown]
# ## 6 · How likely is this digit?
#
# A likelihood says how surprised a model is by an image: it scores test data, compares
# models, finds outliers. The PixelCNN's is exact (the chain rule, no approximation); the VAE's
# is an importance-weighted bound, tight from above as its k grows (tutorial 05). Neither the GAN
# nor this diffusion model reports one: the GAN has no density at all, and diffusion has a bound
# that takes T network passes per image to compute. Below, the test digits the unconditional
# PixelCNN finds least and most likely: the unlikely ones are thick, ornate or broken strokes,
# and the likeliest are plain upright 1s, with few pixels to get right. A likelihood rewards
# simplicity as much as typicality: one reason it is not a measure of sample quality.

# %%
run = open_run(by["autoregressive", False].figure.parent)         # the run folder the tour stop wrote
test = run.test_data
log_p = run.log_prob(test.images)                                 # nats, one per test digit
order = np.argsort(log_p)
fig, axes = plt.subplots(2, 10, figsize=(10, 2.6))
for k in range(10):
    for row, index in ((0, order[k]), (1, order[-1 - k])):
        axes[row, k].imshow(test.to_unit(test.images[index, 0]), cmap="gray_r", vmin=0, vmax=1)
        axes[row, k].set_title(f"{-log_p[index]:.0f}", fontsize=8)
        axes[row, k].set_axis_off()
fig.suptitle("PixelCNN: the least likely test digits (top) and the most likely (bottom), nats", fontsize=10)
save(fig, "08_likelihood.png")
for v in visits:
    nll = v.metrics.get("nll_iwae", v.metrics.get("nll"))
    if nll is not None:
        kind = "an upper bound (IWAE-1000)" if "nll_iwae" in v.metrics else "exact"
        print(f"{v.family:>14}{' (conditional)' * v.conditional}: {nll:.2f} nats per test digit, {kind}")

# %% [markdown]
# ## 7 · The price of a sample
#
# The families differ most in what a sample costs. A GAN or a VAE draws a digit with one pass
# of one network. The PixelCNN needs one pass per pixel (64 for an 8x8 digit), because pixel t
# cannot be drawn before pixel t - 1. Diffusion needs one pass per denoising step, T of them with
# DDPM (fewer with DDIM), and guidance doubles each step (a pass with the label, one without).
# Training time, by contrast, is much the same order for all: each step is one pass forward and
# back. Log scale:

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
names = [f"{v.family}{chr(10) + '(cond.)' if v.conditional else ''}" for v in visits]
ax.bar(range(len(visits)), [v.sample_seconds for v in visits],
       color=[colours[v.family] for v in visits], alpha=0.85, label="1,000 samples")
ax.scatter(range(len(visits)), [v.seconds for v in visits], color="black", marker="_", s=300,
           label="training (the tour's steps)")
ax.set_xticks(range(len(visits)))
ax.set_xticklabels(names, fontsize=7)
ax.set_yscale("log")
ax.set_ylabel("seconds")
ax.legend(fontsize=8)
ax.set_title("the price of 1,000 samples, against training")
save(fig, "08_sampling_time.png")

# %% [markdown]
# ## What each family is good and bad at
#
# | | sharp | diverse | likelihood | completion | one sample costs |
# |---|---|---|---|---|---|
# | GAN | yes, when training holds | at risk (mode collapse) | none | no | 1 pass |
# | VAE | blurred / speckled | yes | a bound | no (not exactly) | 1 pass |
# | PixelCNN | strokes join up | yes | exact | bottom half, exactly | 1 pass per pixel |
# | diffusion | yes | yes | a bound, costly | any half | 1 pass per step (x2 guided) |
#
# No family wins every column, which is why all four are still in use: GANs where one fast,
# sharp sample matters; VAEs where a smooth code to move around in matters; autoregressive
# models (the transformers of tutorial 06 are one) where exact likelihoods and prompts made of
# the beginning of the data matter; diffusion where quality and flexible conditioning matter and
# sampling time can be paid.

# %%
print(f"tutorial 08 ran in {time.perf_counter() - START:.0f} s{' (quick mode)' * QUICK}")

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
# # 03 · Discriminative vs generative: two questions about the same digits
#
# Show a model an 8x8 picture of a handwritten digit. There are two different things it can know:
#
# - **"Which class is this?"** A *discriminative* model learns p(y | x): given the pixels x, a
#   probability for each label y. That is all it learns.
# - **"What does a digit like this look like?"** A *generative* model learns p(x | y) or p(x): a
#   probability for every possible picture. Whatever knows p(x) can *draw* new pictures, and can
#   tell a plausible picture from noise.
#
# In this tutorial we train one of each on the same data and compare them:
#
# 1. a neural network classifier, p(y | x), trained with minigen's own training loop;
# 2. the simplest generative model there is, one coin per pixel and class, fitted by *counting*;
# 3. that generative model used as a classifier (Bayes' rule) and as a drawing machine;
# 4. why the classifier cannot draw, and what it does with noise;
# 5. the four families of generative models the later tutorials build, each a better p(x).
#
# Run it as a script (`python tutorials/03_discriminative_vs_generative.py`, under a minute on a
# CPU; `MINIGEN_QUICK=1` trains only briefly) or open it as a notebook (jupytext "percent"
# format). Figures go to the folder named by `MINIGEN_FIGURES` (default `tutorials/figures/`).

# %%

import numpy as np
from _setup import FIGURES, QUICK, glue, plt, save, show_file  # the figures folder, quick mode

import minigen as mg
import minigen.functional as F
from minigen.data import get_dataset, load_digits
from minigen.models import make
from minigen.models.classifier import BernoulliBayes
from minigen.models.loop import train
from minigen.viz import save_loss_curves

def show_digits(ax_grid, images, titles=None, colors=None, vmin=0, vmax=1):
    """Draw images (N, 1, 8, 8) into a grid of axes, with an optional title each."""
    for k, ax in enumerate(ax_grid.flat):
        ax.set_axis_off()
        if k < len(images):
            ax.imshow(images[k, 0], cmap="gray_r", vmin=vmin, vmax=vmax, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[k], fontsize=8, color=colors[k] if colors else "black")


# %% [markdown]
# ## The data
#
# `digits` is the UCI set of 1,797 handwritten digits, 8x8 pixels, each pixel a count 0..16 of
# ink (minigen scales it to [-1, 1]). The first 1,437 are the training split, the last 360 the
# test split. The images come from a small group of writers, and the split follows the order of
# the file, not the writers, so the same hands may appear on both sides: the test accuracy
# measures how well a model does on digits it has never seen, not on handwriting it has never
# seen.

# %%
train_set, test_set = get_dataset("digits", "train"), get_dataset("digits", "test")
print(train_set, test_set, sep="\n")
print("pixel range:", train_set.images.min(), "to", train_set.images.max())

# %% [markdown]
# ## 1. The discriminative model: p(y | x)
#
# A small network (`MLPClassifier`: fully connected layers with ReLUs, printed below) maps the 64
# pixels to 10 numbers, the *{term}`logits`*; softmax turns them into p(y | x). Training minimises the
# cross-entropy -log p(y_true | x) (in *{term}`nats`*: natural logarithms), averaged over batches of
# training digits, with {term}`AdamW` (the layers, the loss and the optimiser are tutorial 02's).
#
# We go through the same code path as the command `minigen train classifier --data digits
# --model mlp`: `make` builds the family with its defaults (steps, batch size, learning rate:
# any of them can be given by keyword), its data, network and optimizer, seeded; `train` is the
# loop with the progress bar. The classifier also shifts each training image by up to one pixel
# at random, a fair augmentation: new handwriting is rarely centred exactly like the old.

# %%
clf = make("classifier", "digits", model="mlp", seed=0, **({"steps": 150} if QUICK else {}))
config = clf.config
print(config)
print(clf.net)
history, seconds = train(clf, quiet=True)
metrics = clf.evaluate()
print(f"trained {config.steps} steps in {seconds:.1f} s; test accuracy {metrics['accuracy']:.1%}, "
      f"test NLL {metrics['nll_nats']:.3f} nats")
save_loss_curves(history, FIGURES / "03_classifier_loss.png", title="MLP classifier: cross-entropy per step")
show_file(FIGURES / "03_classifier_loss.png")

# %% [markdown]
# What it answers: for each test digit, ten probabilities. Below are the first 24 test digits with
# the predicted class and its probability, and then 8 of the mistakes (predicted ≠ true).

# %%
probs = clf.predict(test_set.images).numpy()            # (360, 10): p(y | x) for every test digit
predicted = probs.argmax(1)
wrong = np.flatnonzero(predicted != test_set.labels)
show = np.concatenate([np.arange(24), wrong[:8]])
titles = [f"{predicted[i]} ({probs[i, predicted[i]]:.0%})" if i not in wrong
          else f"{predicted[i]}≠{test_set.labels[i]} ({probs[i, predicted[i]]:.0%})" for i in show]
colors = ["tab:red" if i in wrong else "black" for i in show]
fig, axes = plt.subplots(4, 8, figsize=(8, 4.6))
show_digits(axes, test_set.images[show], titles, colors, vmin=-1, vmax=1)
fig.suptitle(f"p(y | x): predicted class (probability); last row: mistakes.  Test accuracy {metrics['accuracy']:.1%}")
save(fig, "03_classifier_predictions.png")

# %% [markdown]
# ## 2. The generative model: p(x | y), fitted by counting
#
# The simplest picture of a digit: make it black and white (a pixel is *on* when its ink count
# is >= 8: the `digits-binary` data), and give every class y and every pixel j its own biased coin
# with probability theta_yj of coming up *on*. A digit of class y is 64 independent coin flips:
#
#     p(x | y) = prod_j theta_yj^x_j (1 - theta_yj)^(1 - x_j)
#
# and the classes themselves come with a prior p(y), how common each digit is.
#
# Fitting needs no gradient descent. The maximum-likelihood coin for pixel j of class y is the
# fraction of class-y training images that have the pixel on:
#
#     theta_yj = n_yj / n_y        (n_yj: images of class y with pixel j on, n_y: images of class y)
#
# and p(y) = n_y / n. That has one flaw: a pixel that was *never* on in the training images of a
# class gets theta = 0, and then any new digit of that class with that pixel on has probability
# exactly 0. **Laplace smoothing** fixes it by pretending we saw two extra images of each class,
# one with the pixel on and one with it off:
#
#     theta_yj = (n_yj + 1) / (n_y + 2)
#
# No pixel is impossible any more, and with 140-odd images per class the counts barely move.
# `BernoulliBayes.fit` does exactly this count (as two matrix products); let us check it against
# the formula written with NumPy, and count how often the unsmoothed version would fail.

# %%
bx_train, by_train = load_digits("train", binary=True)   # (1437, 1, 8, 8) in {0, 1}, labels (1437,)
bx_test, by_test = load_digits("test", binary=True)
bayes = BernoulliBayes().fit(bx_train, by_train)

flat = bx_train.reshape(len(bx_train), -1)                  # (1437, 64)
n_y = np.bincount(by_train, minlength=10)                   # images per class
n_yj = np.stack([flat[by_train == y].sum(axis=0) for y in range(10)])   # (10, 64) pixels on per class
theta_by_hand = (n_yj + 1) / (n_y[:, None] + 2)
print("images per class:", n_y)
print("BernoulliBayes.theta equals (n_yj + 1) / (n_y + 2):",
      np.allclose(bayes.theta.numpy(), theta_by_hand, rtol=1e-6, atol=0))

theta_ml = n_yj / n_y[:, None]                              # without smoothing
flat_test = bx_test.reshape(len(bx_test), -1)
impossible = [bool(np.any(theta_ml[y][x == 1] == 0) or np.any(theta_ml[y][x == 0] == 1))
              for x, y in zip(flat_test, by_test)]
print(f"unsmoothed: {int((theta_ml == 0).sum())} (class, pixel) coins never come up on; "
      f"{sum(impossible)} of the 360 test digits would have p(x | true class) = 0")

# %% [markdown]
# The 10 x 64 coins *are* the model, so we can look at all of it: each class's theta as an 8x8
# image, dark where that class almost always has ink. These are blurry "average digits".

# %%
theta_images = bayes.theta.numpy().reshape(10, 1, 8, 8)
fig, axes = plt.subplots(1, 10, figsize=(10, 1.6))
show_digits(axes, theta_images, [f"θ for {y}" for y in range(10)])
fig.suptitle("p(pixel on | class): the whole generative model", y=1.08)
save(fig, "03_theta.png")

# %% [markdown]
# ## 3. Generating: pick a class, flip the coins
#
# Sampling from p(x | y) is as simple as the model: for each of the 64 pixels draw a uniform
# number and switch the pixel on when it is below theta_yj. Below, real binarised training digits
# (left) next to drawn ones (right), one row per class.

# %%
per_class = 6
real = np.concatenate([bx_train[by_train == y][:per_class] for y in range(10)])   # (60, 1, 8, 8)
drawn = bayes.sample([y for y in range(10) for _ in range(per_class)], seed=0)     # (60, 1, 8, 8)
print("samples:", drawn.shape, drawn.dtype, "values", np.unique(drawn))

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 7.5))
for ax, images, title in ((left, real, "real digits (binarised)"), (right, drawn, "drawn from p(x | y)")):
    grid = np.ones((10 * 9 + 1, per_class * 9 + 1))
    for k, image in enumerate(images):
        r, c = divmod(k, per_class)
        grid[1 + 9 * r:9 + 9 * r, 1 + 9 * c:9 + 9 * c] = image[0]
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks(4.5 + 9 * np.arange(10), [str(y) for y in range(10)])
    ax.set_xticks([])
    ax.set_title(title)
save(fig, "03_real_vs_sampled.png")

# %% [markdown]
# The drawn digits have the right ink in roughly the right places, but they are speckled and
# broken: every pixel is flipped *independently*, so the model cannot know that ink comes in
# connected strokes, or that a 7 whose top bar is on the left should have its stem on the left too.
# That independence assumption is the whole weakness of this model, and each later family is a
# different way of letting pixels depend on each other.

# %% [markdown]
# ## 4. The generative model as a classifier: Bayes' rule
#
# A generative model of each class also classifies. Bayes' rule turns p(x | y) around:
#
#     p(y | x) = p(y) p(x | y) / p(x),      p(x) = sum_y p(y) p(x | y)
#
# p(x) is the same for every class, so the prediction is argmax_y [log p(y) + log p(x | y)]
# (`BernoulliBayes.predict`; logs, because a product of 64 probabilities underflows). How does it
# compare with the network? To separate the model from the black-and-white pixels, we also train
# the same MLP on `digits-binary`, the exact images the coins see.

# %%
bayes_accuracy = float((bayes.predict(bx_test) == by_test).mean())

clf_binary = make("classifier", "digits-binary", model="mlp", seed=0, **({"steps": 150} if QUICK else {}))
train(clf_binary, quiet=True)
binary_accuracy = clf_binary.evaluate()["accuracy"]

print(f"{'model':<50} test accuracy")
print(f"{'MLP p(y | x), grey pixels':<50} {metrics['accuracy']:.1%}")
print(f"{'MLP p(y | x), black-and-white pixels':<50} {binary_accuracy:.1%}")
print(f"{'Bernoulli p(x | y) + Bayes rule, black-and-white':<50} {bayes_accuracy:.1%}")
print(f"(the Bernoulli model on its own training digits: "
      f"{float((bayes.predict(bx_train) == by_train).mean()):.1%})")

# Bayes' rule in full: log p(y | x) = log p(x, y) - log p(x), with log p(x) = logsumexp over y
log_joint = bayes.log_joint(bx_test)                                      # (360, 10)
bayes_probs = (log_joint - F.logsumexp(log_joint, axis=1, keepdims=True)).exp().numpy()
others = (metrics["accuracy"], binary_accuracy)
glue("bayes_place", "below both networks" if bayes_accuracy < min(others) else
     "above both networks" if bayes_accuracy > max(others) else "between the two networks")
print(f"Bernoulli: {bayes_probs.max(1).mean():.0%} sure of its answer on average, right {bayes_accuracy:.0%} "
      f"of the time; the MLP: {probs.max(1).mean():.0%} sure, right {metrics['accuracy']:.0%} of the time")

# %% [markdown]
# The counting model is a respectable classifier, fitted in milliseconds; in this run it comes
# {glue:text}`bayes_place`. A fully trained network beats it, and it is worth seeing why. Part of
# the gap is the data: black-and-white pixels throw away information, and the MLP loses accuracy
# on them too. The rest is the model:
#
# - **Independence.** Bayes' rule multiplies 64 per-pixel factors as if they were separate pieces
#   of evidence. Neighbouring pixels of a stroke are strongly correlated, so the same evidence is
#   counted many times over, and the probabilities come out too confident: above, compare how sure
#   each model is on average with how often it is right.
# - **It models what does not matter.** The generative model spends all its parameters on
#   describing every pixel of each class; the discriminative one spends them only on what
#   *separates* the classes. When all you want is the label, answering the narrower question is
#   easier; the generative model pays for being able to draw.
#
# (The trade can go the other way: with very few training images a generative classifier often
# wins, because counting needs less data than a network needs to find a boundary.)

# %% [markdown]
# ## 5. The classifier cannot generate
#
# The network has no p(x) anywhere: its output is normalised over the ten *labels*, not over
# pictures. Ask the trainer for samples and it says so:

# %%
try:
    clf.sample(8, seed=0)
except NotImplementedError as exc:
    print("NotImplementedError:", exc)

# %% [markdown]
# Without p(x) it also cannot tell a digit from anything else. Feed it pure noise and it still
# hands out a confident label, because p(y | x) must sum to one over the digits whatever x is. The
# Bernoulli model instead gives each picture a probability, log p(x) = logsumexp_y [log p(y) +
# log p(x | y)], and noise gets a far lower one than real digits do.
#
# We can push the point further with autograd: start from noise and climb the gradient of
# log p(y = k | x) *with respect to the pixels x*. The classifier ends up all but certain that
# each picture is the digit k, yet the pictures look nothing like digits. Maximising p(y | x)
# does not produce a typical x; only a model of p(x) knows what a typical x is.

# %%
rng = np.random.default_rng(0)
noise_grey = rng.uniform(-1, 1, size=(360, 1, 8, 8)).astype(np.float32)
noise_probs = clf.predict(noise_grey).numpy()
print(f"classifier on 360 noise images: mean confidence {noise_probs.max(1).mean():.0%}, "
      f"labels given {np.bincount(noise_probs.argmax(1), minlength=10)}")

ink = float(bx_train.mean())                               # noise with the digits' amount of ink
noise_binary = (rng.random((360, 1, 8, 8)) < ink).astype(np.float32)
log_px_digits = F.logsumexp(bayes.log_joint(bx_test), axis=1).numpy()      # (360,) nats
log_px_noise = F.logsumexp(bayes.log_joint(noise_binary), axis=1).numpy()
print(f"Bernoulli log p(x): test digits {log_px_digits.mean():.1f} nats on average (lowest "
      f"{log_px_digits.min():.1f}), noise {log_px_noise.mean():.1f} (highest {log_px_noise.max():.1f})")

targets = np.arange(10)
x = mg.tensor(rng.uniform(-1, 1, size=(10, 1, 8, 8)).astype(np.float32), requires_grad=True)
for _ in range(30 if QUICK else 200):
    log_p = F.log_softmax(clf.net(x))[targets, targets].sum()   # sum_k log p(y = k | x_k)
    (grad_x,) = mg.grad(log_p, [x])
    x = mg.tensor(np.clip(x.numpy() + 0.05 * grad_x.numpy(), -1, 1), requires_grad=True)
dreams = x.numpy()
dream_confidence = clf.predict(dreams).numpy()[targets, targets]
print("p(y = k | dream_k):", np.round(dream_confidence, 3))

fig = plt.figure(figsize=(11, 4), layout="constrained")
left, right = fig.subfigures(1, 2, width_ratios=[1.1, 1])
show_digits(left.subplots(2, 5), dreams, [f"p(y={k} | x) = {p:.0%}" for k, p in zip(targets, dream_confidence)],
            vmin=-1, vmax=1)
left.suptitle("the classifier's 'digits': noise climbed to maximise p(y = k | x)", fontsize=10)
hist = right.subplots()
bins = np.linspace(min(log_px_noise.min(), log_px_digits.min()), log_px_digits.max(), 40)
hist.hist(log_px_digits, bins=bins, alpha=0.7, label="test digits")
hist.hist(log_px_noise, bins=bins, alpha=0.7, label="coin-flip noise")
hist.set_xlabel("log p(x) under the Bernoulli model (nats)")
hist.set_ylabel("images")
hist.legend(fontsize=8)
hist.set_title("only a generative model scores x itself", fontsize=10)
save(fig, "03_no_px.png")

# %% [markdown]
# ## 6. Where the tutorials go from here
#
# The coin model is a real generative model with an exact p(x), but it assumes pixels are
# independent given the class. The four families the later tutorials build on this engine each
# model p(x) with the dependencies left in, and each learns it by gradient descent instead of
# counting:
#
# - **Autoregressive models** write p(x) exactly as a product of conditionals,
#   prod_t p(x_t | x_<t): a network (bigram, MLP, transformer for names; PixelCNN for digits)
#   predicts each character or pixel from the ones before it, is trained on the exact negative
#   log-likelihood, and samples one step at a time. The coin model is this with every arrow cut.
# - **Variational autoencoders (VAE)** model p(x) = ∫ p(x | z) p(z) dz with a hidden code
#   z ~ N(0, I) and a decoder network; they maximise a lower bound on log p(x) (the {term}`ELBO`) and
#   sample by decoding a random z.
# - **Generative adversarial networks (GAN)** model p(x) only *implicitly*, as whatever comes out
#   of a generator fed with noise z; there is no density to evaluate, and the training signal is a
#   discriminative model (the discriminator) learning to tell real from generated.
# - **Diffusion models** learn to undo a gradual noising of the data: a network predicts the noise
#   added at each level, and sampling starts from pure noise and denoises step by step.
#
# All four replace the independent coins with a neural network, so the speckled digits above
# become digits with strokes. What stays the same is the question each one answers: not
# "which class is this?", but "what does data like this look like?"

# %%
print("done")

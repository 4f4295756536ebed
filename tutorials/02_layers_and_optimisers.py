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
# # 02 · Layers and optimisers: from `Linear` to Adam
#
# Tutorial 01 fitted a curve with bare tensors: four parameter tensors made by hand, a forward
# pass written as one expression, and an update loop over `p.data`. Every model in the later
# chapters is built the same way, only with more parameters, so minigen packs the two halves of
# that loop into two small libraries, as PyTorch does:
#
# - **layers** (`minigen.nn`): a `Module` owns its parameters and knows its forward pass; modules
#   nest, so a whole network is one object that lists all its parameters;
# - **optimisers** (`minigen.optim`): an object that takes the parameters once and, after each
#   `backward()`, moves them: SGD, momentum, {term}`Adam`, {term}`AdamW`; plus the helpers training uses every
#   step: gradient clipping, a learning-rate schedule, and an average of the weights ({term}`EMA`).
#
# Nothing here is new mathematics: each piece is a few lines over the engine of tutorial 01, and
# each is shown below as it is in minigen's source. In this tutorial we
#
# 1. build a layer, `Linear`, and a network from layers, `Sequential`;
# 2. meet the other layers the families use: convolutions (plain, transposed, masked), the
#    normalisations ({term}`BatchNorm`, LayerNorm) and an embedding;
# 3. write gradient descent as an optimiser, then momentum, Adam and AdamW, and race them;
# 4. add what a training loop adds: clipping, a schedule, an exponential moving average;
# 5. train a digits classifier with all of it.
#
# Run it as a script (`python tutorials/02_layers_and_optimisers.py`, under a minute on a CPU;
# `MINIGEN_QUICK=1` trains only briefly) or open it as a notebook (jupytext "percent" format).

# %%
import numpy as np
from _plots import optimiser_race, schedule_and_ema, transposed_patch
from _setup import QUICK, glue, save, show_source

import minigen as mg
import minigen.functional as F
from minigen import nn, optim
from minigen.data import DataLoader, get_dataset

mg.manual_seed(0)

# %% [markdown]
# ## 1 · A layer is a function with parameters
#
# A fully connected layer computes $y = x W^\top + b$ for a batch of rows $x$ of shape
# (N, in): the weight $W$ is (out, in), as in PyTorch, and the bias $b$ (out,). In tutorial 01 we
# kept $W$ and $b$ in variables of our own; `nn.Linear` keeps them as attributes of type
# `nn.Parameter` (a Tensor that requires a gradient) and initialises them the way PyTorch does,
# uniformly in $\pm 1/\sqrt{\text{in}}$, so that the outputs start with about the spread of the
# inputs whatever the width. Here it is, whole:

# %%
show_source(nn.Linear)

# %% [markdown]
# `Module.__call__` runs `forward`, and `named_parameters()` finds every Parameter among the
# attributes, then among the attributes of every sub-module, recursively. So a network built from
# layers is itself a module that knows all its parameters, which is all an optimiser needs.

# %%
layer = nn.Linear(64, 32)
x = mg.randn(5, 64)
print("output shape:", layer(x).shape)
print("parameters:", [(name, p.shape) for name, p in layer.named_parameters()])
bound = 1 / np.sqrt(64)
print(f"weights within +-1/sqrt(64) = +-{bound:.3f}: {bool(np.abs(layer.weight.numpy()).max() <= bound)}")

net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
print(net)
n_parameters = sum(p.data.size for p in net.parameters())
print("parameters:", [(name, p.shape) for name, p in net.named_parameters()], "in all", n_parameters)
glue("n_parameters", n_parameters)

# %% [markdown]
# The network's output for a digit is ten numbers, one per class: its **{term}`logits`**, unnormalised
# log-probabilities. The softmax turns them into probabilities, $p(y \mid x) = e^{l_y} / \sum_k
# e^{l_k}$; the cross-entropy, $-\log p(y_\text{true} \mid x)$, is the loss. It is measured in
# **{term}`nats`**: a log-probability with the natural logarithm (one nat is $\log_2 e \approx 1.44$
# bits). Guessing among ten classes at random costs $\log 10 \approx 2.30$ nats per digit.
#
# Two more things a module does. `train()` and `eval()` switch layers whose behaviour differs
# between training and use (dropout, batch normalisation below); `state_dict()` and
# `load_state_dict()` copy every parameter and buffer out and back in, which is how checkpoints
# (`mg.save`, `mg.load`) are written.

# %%
copy = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
copy.load_state_dict(net.state_dict())
print("the copy computes the same function:", np.array_equal(copy(x).numpy(), net(x).numpy()))
dropout = nn.Dropout(0.5)
print("dropout in training mode zeroes about half the values, and doubles the rest:",
      dropout(mg.ones(1, 8)).numpy())
dropout.eval()
print("in eval mode it is the identity:", dropout(mg.ones(1, 8)).numpy())

# %% [markdown]
# ## 2 · The layers the families are built from
#
# **Convolutions.** `nn.Conv2d` slides one small weight over every position of an image: an
# output pixel is a weighted sum of the input's $k \times k$ neighbourhood (in every channel),
# with the same weights everywhere. Images are (N, C, H, W), weights (C_out, C_in, k, k). A
# stride of 2 visits every other position and halves the image, which is how a critic shrinks a
# digit to one number.
#
# A **{term}`transposed convolution`** (`nn.ConvTranspose2d`) goes the other way, which is how a GAN's
# generator grows noise into a picture: each *input* pixel paints a $k \times k$ patch of the
# output, scaled by its value, and overlapping patches add up. It is the gradient of a
# convolution with respect to its input, run forward. One pixel in, one patch out:

# %%
up = nn.ConvTranspose2d(1, 1, kernel_size=4, stride=2, padding=1)
one_pixel = mg.zeros(1, 1, 3, 3)
one_pixel.data[0, 0, 1, 1] = 1.0
with mg.no_grad():
    painted = up(one_pixel) - up(mg.zeros(1, 1, 3, 3))          # less the bias
print("3x3 in ->", tuple(painted.shape[2:]), "out; the patch painted by the centre pixel is the kernel:",
      np.allclose(painted.numpy()[0, 0, 1:5, 1:5], up.weight.numpy()[0, 0]))
save(transposed_patch(one_pixel.numpy()[0, 0], painted.numpy()[0, 0], up.weight.numpy()[0, 0]),
     "02_transposed_convolution.png")

# %% [markdown]
# (`nn.MaskedConv2d`, a convolution with some weights held at zero so that a pixel sees only the
# pixels before it, is the PixelCNN's layer: tutorial 06.)
#
# **Normalisation.** Deep networks train better when each layer's inputs keep a steady scale.
# **Batch normalisation** (`nn.BatchNorm1d`, `nn.BatchNorm2d`) standardises each channel with the
# mean and variance of the current *batch*, then applies a learned scale and shift; it also keeps
# running averages of those statistics, which `eval()` uses instead, so that one sample's output
# does not depend on the rest of its batch. **Layer normalisation** (`nn.LayerNorm`, the
# transformer's) standardises each example over its own features instead, the same in training
# and in use.

# %%
bn, ln = nn.BatchNorm1d(3), nn.LayerNorm(3)
batch = mg.tensor([[1.0, 10.0, 100.0], [2.0, 20.0, 300.0], [3.0, 60.0, 200.0], [6.0, 30.0, 400.0]])
print("BatchNorm, training: each column (channel) has mean 0, std 1 over the batch:\n",
      bn(batch).numpy().round(2))
print("LayerNorm: each row (example) has mean 0, std 1 over its features:\n", ln(batch).numpy().round(2))
bn.eval()
print("BatchNorm, eval: normalised with its running averages, one row at a time:\n",
      bn(batch[:1]).numpy().round(2))

# %% [markdown]
# **Embeddings** (`nn.Embedding`) are a table with one learned vector per token: row $i$ for
# token $i$. The text models start with one, and the conditional models learn a vector per class
# label with one. It is `weight[indices]`, and its gradient adds up into the rows that were used.

# %%
table = nn.Embedding(27, 4)
print("tokens (2, 3) ->", table(np.array([[1, 2, 3], [4, 5, 5]])).shape)

# %% [markdown]
# ## 3 · Optimisers
#
# **Gradient descent** moves every parameter against its gradient, $\theta \leftarrow \theta -
# \eta\, g$, with a learning rate $\eta$. On a mini-batch the gradient is a noisy estimate of
# the full one: stochastic gradient descent (SGD). An optimiser object holds the list of
# parameters and does the update on their raw arrays, so no graph is recorded. Here is the whole
# of SGD's update in minigen, momentum and weight decay included:

# %%
show_source(optim.SGD._update)

# %% [markdown]
# **Momentum** keeps a running sum of past gradients, $b \leftarrow \mu b + g$, and steps along
# it: directions where the gradient keeps its sign build up speed; directions where it flips
# cancel out. **Adam** (Kingma & Ba, 2015) keeps two running averages per weight, of the gradient
# and of its square, and divides one by the square root of the other:
#
# $$
# m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2) g^2,
# \qquad \theta \leftarrow \theta - \eta\, \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon}.
# $$
#
# Each weight so gets a step of about $\eta$ whatever the scale of its gradient: a weight with
# tiny gradients moves as fast as one with large gradients. (The factors $1 - \beta^t$ undo the
# zeros $m$ and $v$ start from.)

# %%
show_source(optim.Adam._update)

# %% [markdown]
# A race on a long narrow valley, $f(u, w) = u^2 / 2 + 25\, w^2$: the gradient is 50 times
# steeper across the valley ($w$) than along it ($u$). Plain SGD must take steps small enough not
# to overshoot across, so it crawls along; momentum picks up speed along the valley; Adam
# rescales each coordinate, so both move at the same pace.

# %%
def valley(p):
    return 0.5 * p[0] ** 2 + 25 * p[1] ** 2


racers = {"SGD, lr 0.035": lambda p: optim.SGD([p], lr=0.035),
          "SGD + momentum 0.9, lr 0.006": lambda p: optim.SGD([p], lr=0.006, momentum=0.9),
          "Adam, lr 0.2": lambda p: optim.Adam([p], lr=0.2)}
paths = {}
for name, make_optimiser in racers.items():
    p = mg.tensor([-4.0, 1.0], requires_grad=True, dtype="float64")
    opt = make_optimiser(p)
    path = [p.numpy().copy()]
    for _ in range(60):
        opt.zero_grad()
        valley(p).backward()
        opt.step()
        path.append(p.numpy().copy())
    paths[name] = np.array(path)
    print(f"{name:<30} f after 60 steps: {valley(mg.tensor(path[-1])).item():.2e}")
save(optimiser_race(valley, paths), "02_optimiser_race.png")

# %% [markdown]
# **Weight decay** pulls every weight a little toward zero each step, a preference for small
# weights that keeps a network from fitting its training data too exactly. `optim.Adam(...,
# weight_decay=λ)` adds $\lambda \theta$ to the gradient, which Adam's rescaling then shrinks
# for weights with large gradients; **AdamW** (Loshchilov & Hutter, 2019) *decouples* it:
# $\theta \leftarrow \theta - \eta \lambda \theta$ first, then the Adam step, so every weight
# decays at the same rate. Take a weight whose loss has no gradient at all, so that decay is the
# only force on it, with a strong and a weak decay:

# %%
for kind in (optim.Adam, optim.AdamW):
    for decay in (0.1, 0.001):
        w = mg.tensor([1.0], requires_grad=True, dtype="float64")
        opt = kind([w], lr=0.01, weight_decay=decay)
        for _ in range(10):
            w.grad = mg.zeros(1, dtype="float64")             # the loss's own gradient: none
            opt.step()
        print(f"{kind.__name__:<6} weight decay {decay:<6} after 10 steps of lr 0.01: {w.item():.4f}")

# %% [markdown]
# Under Adam the decay term is normalised like any gradient: the weight moves by about the
# learning rate per step whatever $\lambda$ is, so a decay a hundred times weaker does the same.
# Under AdamW it shrinks by the factor $1 - \eta\lambda$ per step, in proportion to $\lambda$,
# for every weight alike. (The classifier of tutorial 03 trains with AdamW.)
#
# ## 4 · What a training loop adds
#
# - **Gradient clipping** (`optim.clip_grad_norm_`): if the gradients of all parameters together
#   have a norm above a threshold, scale them down to it. One bad batch then cannot throw the
#   weights far.
# - **A learning-rate schedule** (`optim.WarmupCosine`): start small and rise for a few steps
#   (the **warm-up**, while Adam's averages are still poor estimates), then decay along a half
#   cosine, so the last steps are small and the weights settle.
# - **An exponential moving average (EMA)** of the weights (`optim.EMA`): a shadow copy updated
#   after each step, $\bar\theta \leftarrow d\, \bar\theta + (1 - d)\, \theta$, which averages
#   over about the last $1 / (1 - d)$ steps. The average is smoother than the last iterate, and
#   diffusion models and GANs are usually sampled from it.

# %%
show_source(optim.EMA.update)

# %%
w = mg.tensor([0.0], requires_grad=True)
opt = optim.SGD([w], lr=0.1)
schedule = optim.WarmupCosine(opt, warmup_steps=20, total_steps=200)
rates = []
for step in range(200):                 # the schedule alone: it sets opt.lr before each step
    rates.append(opt.lr)
    schedule.step()

wandering = nn.Linear(1, 1, bias=False) # one weight that a noisy training moves around 1
ema = optim.EMA(wandering, decay=0.9)
rng = np.random.default_rng(0)
noisy, averaged = [], []
for step in range(200):
    wandering.weight.data[...] = 1 + 0.3 * rng.standard_normal()
    ema.update()
    noisy.append(wandering.weight.item())
    with ema.average_parameters():
        averaged.append(wandering.weight.item())
print(f"spread of the weight {np.std(noisy[50:]):.3f}; of its EMA (decay 0.9) {np.std(averaged[50:]):.3f}")
save(schedule_and_ema(rates, noisy, averaged), "02_schedule_and_ema.png")

# %% [markdown]
# ## 5 · All of it: a digits classifier
#
# The 8x8 digits (tutorial 03 looks at them closely): 1,437 training images of 64 pixels, each
# with its class. A network of two `Linear` layers, trained with AdamW on mini-batches of 64 with
# the cross-entropy, clipped gradients, and a warm-up-and-cosine schedule; a batch of the data
# comes from `DataLoader`, which shuffles the training set once per pass.

# %%
train_set, test_set = get_dataset("digits", "train"), get_dataset("digits", "test")
mg.manual_seed(0)
classifier = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
steps = 100 if QUICK else 1000
opt = optim.AdamW(classifier.parameters(), lr=3e-3)
schedule = optim.WarmupCosine(opt, warmup_steps=steps // 10, total_steps=steps)
loader = DataLoader(train_set.images, train_set.labels, batch_size=64, shuffle=True, seed=0, drop_last=True)
losses, step = [], 0
while step < steps:
    for images, labels in loader:
        loss = F.cross_entropy(classifier(images.reshape(len(images), 64)), labels)
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(classifier.parameters(), 1.0)
        opt.step()
        schedule.step()
        losses.append(loss.item())
        step += 1
        if step == steps:
            break
classifier.eval()
with mg.no_grad():
    logits = classifier(mg.tensor(test_set.images.reshape(len(test_set.images), 64)))
accuracy = float((logits.numpy().argmax(1) == test_set.labels).mean())
test_nll = F.cross_entropy(logits, test_set.labels).item()
print(f"{steps} steps: training loss {np.mean(losses[:10]):.3f} -> {np.mean(losses[-10:]):.3f} nats; "
      f"test accuracy {accuracy:.1%}, test cross-entropy {test_nll:.3f} nats")
glue("accuracy", f"{accuracy:.1%}")
glue("steps", steps)
glue("test_nll", test_nll)

# %% [markdown]
# After {glue:text}`steps` steps the network classifies {glue:text}`accuracy` of the 360 test
# digits, at a cross-entropy of {glue:text}`test_nll:.3f` nats per digit, against 2.30 for a
# guess. The `classifier` family (`minigen train classifier`, and tutorial 03) is this loop with
# a few more touches: a random one-pixel shift of each training image, and a progress bar. Every
# family later in the book trains with the same pieces, in `minigen/models/loop.py`.

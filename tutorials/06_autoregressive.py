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
# # 06 · Autoregressive models: the storyteller and the exact likelihood
#
# An autoregressive model is a storyteller: it listens to the beginning of a story and
# continues it, one word at a time, each word chosen from what came before. GPT-style language
# models tell stories that way, word by word; PixelCNN paints an image that way, pixel by pixel.
#
# The idea rests on one identity, the **chain rule** of probability, true of every
# distribution over sequences:
#
#     p(x_1, ..., x_T) = p(x_1) p(x_2 | x_1) ... p(x_T | x_1, ..., x_{T-1}) = prod_t p(x_t | x_<t)
#
# So a network that gives, for every beginning x_<t, a distribution over the next token defines
# p(x) *exactly*. Its negative log-likelihood, -log p(x) = sum_t -log p(x_t | x_<t), is a sum of
# cross-entropies we can compute and minimise: no bound (as in a VAE), no adversary (as in a
# GAN). In this tutorial we
#
# 1. count letter pairs in the training split of 5,163 first names (a bigram model) and train the same model as a
#    table of {term}`logits`: they agree;
# 2. give the model more context with an MLP (Bengio et al., 2003) and watch the NLL fall;
# 3. build causal attention from a lower-triangular matrix, train a small transformer and look at
#    one head's attention over a name;
# 4. sample with temperature and top-k from the same prompt, and time the {term}`KV cache`;
# 5. paint digits pixel by pixel with a PixelCNN: its masks, its blind spot, its samples, and
#    completions of test digits whose bottom half was hidden;
# 6. give the PixelCNN the label (p(x | y)) and turn it into a classifier with Bayes' rule;
# 7. put all the models' test NLL in one table.
#
# Run it as a script (`python tutorials/06_autoregressive.py`, a few minutes on a CPU;
# `MINIGEN_QUICK=1` trains only briefly) or open it as a notebook (jupytext "percent" format).
# The same models train from the command line: `minigen train autoregressive --data names
# --model bigram|mlp|transformer`, `--data digits-binary` (PixelCNN), then `minigen eval DIR`.

# %%
import math
import time

import _plots
import numpy as np
from _setup import QUICK, glue, save, show_animation, show_source  # the figures folder, quick mode, the book

import minigen as mg
import minigen.functional as F
from minigen import nn
from minigen.models import make
from minigen.models.classifier import BernoulliBayes
from minigen.models.loop import train
from minigen.objectives import autoregressive as A
from minigen.objectives.autoregressive import BOUNDARY
from minigen.viz.animation import images_animation

START = time.perf_counter()


def per_char(model):
    """Test nats per predicted character (the end of each name included): minigen eval's nll_per_token."""
    test = model.test_data.text
    return -model.log_prob(test).sum() / sum(len(name) + 1 for name in test)


RESULTS = []   # (model, data, test nll per example, per token) for the table at the end

# %% [markdown]
# ## 1 · Counting letter pairs, and the same model trained
#
# A name is a sequence of letters between two **boundary** tokens ".": ". e m m a .". The first
# "." is the empty beginning ("what does a name start with?"), the last one says "the name
# ends here". Because the end is a token like any other, the model decides how long a name is,
# and the probabilities of all names sum to 1.
#
# The simplest storyteller remembers one letter: p(x_t | x_<t) = p(x_t | x_{t-1}), a **bigram**
# model. Its maximum-likelihood estimate is counting: how often does each letter follow each
# other one? We add 0.03 to every count (smoothing: no pair is impossible) and score the test
# names, in {term}`nats` per predicted character.

# %%
# `make` builds a model exactly as `minigen train` does (the same defaults, the same seeding)
bigram = make("autoregressive", "names", model="bigram", steps=200 if QUICK else None)
vocab = bigram.tokenizer.vocab                     # ('.', 'a', ..., 'z'): token 0 is the boundary
train_names, test_names = bigram.train_data.text, bigram.test_data.text
V = len(vocab)


def pairs(names):
    """(previous token, next token) for every prediction in the names, the end included."""
    for name in names:
        tokens = [BOUNDARY] + [vocab.index(ch) for ch in name] + [BOUNDARY]
        yield from zip(tokens[:-1], tokens[1:])


counts = np.zeros((V, V))
for a, b in pairs(train_names):
    counts[a, b] += 1
count_probs = (counts + 0.03) / (counts + 0.03).sum(axis=1, keepdims=True)
test_pairs = np.array(list(pairs(test_names)))
count_nll = -np.log(count_probs[test_pairs[:, 0], test_pairs[:, 1]]).mean()
print(f"count model: {count_nll:.4f} nats per character on {len(test_pairs)} test predictions")

# %% [markdown]
# The same model as a network: a (27, 27) table of logits, row i holding the logits of the
# letter after letter i, trained by gradient descent on the NLL (`minigen/models/text.py`,
# `Bigram`). Nothing forces it to find the counts, but maximum likelihood has one answer here,
# and both methods find it.

# %%
tick = time.perf_counter()
train(bigram, quiet=True)
table = F.softmax(bigram.net.table.weight).numpy()
bigram_nll = per_char(bigram)
print(f"trained table: {bigram_nll:.4f} nats per character ({time.perf_counter() - tick:.1f} s); "
      f"largest probability difference to the counts {np.abs(table - count_probs).max():.3f}")
RESULTS.append(("bigram", "names", -bigram.log_prob(test_names).mean(), bigram_nll))
save(_plots.bigram_tables(vocab, {f"counted (+0.03): {count_nll:.3f} nats/char": count_probs,
                                   f"trained logits table: {bigram_nll:.3f} nats/char": table}),
     "06_bigram_tables.png")

# %% [markdown]
# The two tables look alike cell for cell: after "q" comes "u", names end after some letters far
# more often than after others, and row "." (how names start) is far from uniform.
# The trained table differs only where there is little data: a pair never seen in training has
# count 0, and its logit keeps falling as long as training lasts, so a finite run stops at a
# finite logit. Stopping plays the part of the +0.03.

# %% [markdown]
# ## 2 · More context: Bengio's MLP
#
# One letter of memory is not much: after "an" the next letter depends on the "a" as well. The
# MLP of Bengio et al. (2003) looks up an embedding (a learnt vector) for each of the last k
# letters, puts them side by side, and passes them through a hidden tanh layer to the logits.
# Positions before the start of the name are the boundary token. The window is the model's
# causal mask: position t sees its k predecessors and nothing after.
#
# Same data, same NLL, only the context size k changes:

# %%
contexts = (1, 3, 8)
mlp_steps = 150 if QUICK else 1200
by_context = {}
for k in contexts:
    t = make("autoregressive", "names", model="mlp", steps=mlp_steps, context=k)
    train(t, quiet=True)
    by_context[k] = per_char(t)
    print(f"MLP, context {k}: {by_context[k]:.4f} nats per character ({mlp_steps} steps)")
mlp = t                                                  # the context-8 one
for k in contexts:
    glue(f"mlp_{k}", f"{by_context[k]:.3f}")
glue("bigram_nll", f"{bigram_nll:.3f}")
save(_plots.nll_by_context(by_context, bigram_nll), "06_mlp_context.png")

# %% [markdown]
# With one letter of context the MLP is a bigram model with extra steps and lands near the
# table ({glue:text}`mlp_1` nats per character in this run, the table {glue:text}`bigram_nll`).
# Three letters help ({glue:text}`mlp_3`: names are made of syllables), eight a little more or
# not at all ({glue:text}`mlp_8`): most of what can be said about the next letter is in the last
# few.

# %% [markdown]
# ## 3 · A small transformer, and what one head looks at
#
# A GPT reads the whole prefix. How can position t use *all* the positions before it, and none
# after? Build it up. The simplest mixing is an average: with a lower-triangular matrix of ones,
# row t sums positions 0..t, and dividing each row by its count averages them:

# %%
T_demo, d_demo = 5, 4
rng_demo = np.random.default_rng(0)
x_demo = rng_demo.standard_normal((T_demo, d_demo))              # five positions, four features
tril = np.tril(np.ones((T_demo, T_demo)))
print("lower-triangular ones:\n", tril)
average = (tril / tril.sum(axis=1, keepdims=True)) @ x_demo       # row t: mean of positions 0..t
print("row 2 of the average equals the mean of positions 0, 1, 2:",
      np.allclose(average[2], x_demo[:3].mean(axis=0)))

# %% [markdown]
# Attention lets the data choose the weights instead. Each position makes a query q and a key k;
# the score of key s for query t is q_t · k_s / sqrt(d). The triangle becomes a **mask**: the
# scores of later keys are set to -inf, so after the softmax their weights are exactly 0, and
# each row's weights still sum to 1 (uniform scores give back the average above):
#
# $$
# \mathrm{attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt d} + M\right) V,
# \qquad M_{ts} = \begin{cases} 0 & s \le t \\ -\infty & s > t. \end{cases}
# $$
#
# minigen's `F.scaled_dot_product_attention(q, k, v, causal=True)` is that formula (a fused
# primitive, with its own backward); the few NumPy lines below give the same numbers.

# %%
q_demo, k_demo, v_demo = (rng_demo.standard_normal((T_demo, d_demo)) for _ in range(3))
scores = q_demo @ k_demo.T / math.sqrt(d_demo)
scores[tril == 0] = -np.inf                                        # the causal mask
weights = np.exp(scores - scores.max(axis=1, keepdims=True))
weights /= weights.sum(axis=1, keepdims=True)                      # softmax, row by row
print("weights (zero above the diagonal):\n", weights.round(2))
by_minigen = F.scaled_dot_product_attention(*(mg.tensor(a[None], dtype="float64") for a in (q_demo, k_demo, v_demo)),
                                            causal=True).numpy()[0]
print("equal to minigen's causal attention:", np.allclose(weights @ v_demo, by_minigen))

# %% [markdown]
# A transformer layer runs several such heads side by side, each on its own slice of the
# features, in `nn.CausalSelfAttention`:

# %%
show_source(nn.CausalSelfAttention.forward)

# %% [markdown]
# Each position gets a token embedding plus a learnt position embedding; pre-LayerNorm blocks
# mix positions with that causal self-attention and process each position with a GELU MLP.
# Three blocks of width 64 with 4 heads, as `minigen train autoregressive --data names` trains
# by default (here for fewer steps).

# %%
tick = time.perf_counter()
transformer = make("autoregressive", "names", model="transformer", steps=150 if QUICK else 1500)
train(transformer, quiet=True)
transformer_nll = per_char(transformer)
print(f"transformer: {transformer_nll:.4f} nats per character "
      f"({transformer.config.steps} steps, {time.perf_counter() - tick:.0f} s)")


def attention_weights(net, name, layer=0, head=0):
    """softmax(q k^T / sqrt(D)) of one head over ". name", with the causal mask: (T, T)."""
    tokens = np.array([[BOUNDARY] + [vocab.index(ch) for ch in name]])
    with mg.no_grad():
        x = net.tok(tokens) + net.pos.weight[:tokens.shape[1]]
        for block in list(net.blocks)[:layer]:
            x = block(x)
        block = net.blocks[layer]
        b, t, c = x.shape
        d = c // block.attn.n_heads
        qkv = block.attn.qkv(block.ln1(x)).reshape(b, t, 3, block.attn.n_heads, d).numpy()
    q, k = qkv[0, :, 0, head], qkv[0, :, 1, head]                 # (T, D) each
    scores = q @ k.T / math.sqrt(d)
    scores[np.triu_indices(t, 1)] = -np.inf                       # the causal mask
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


name = "isabella"
layers = (0, len(transformer.net.blocks) - 1)                     # the first and the last
save(_plots.attention_maps(".", name, {f"layer {n + 1}, head 1": attention_weights(transformer.net, name, layer=n)
                                       for n in layers}),
     "06_attention.png")
RESULTS.append(("mlp (context 8)", "names", -mlp.log_prob(test_names).mean(), by_context[8]))
RESULTS.append(("transformer", "names", -transformer.log_prob(test_names).mean(), transformer_nll))

# %% [markdown]
# Every row is one position's attention; the upper triangle is black, weight exactly 0, because
# a position may not look at letters that come after it. Within the allowed triangle each head
# chooses its own pattern. In the first layer this head mostly looks at its own position (the
# letter just before the one to predict) or back at the boundary "." (always visible, a resting
# place); in the last layer it looks back at the first letters of the name from almost every
# position. (Which head learns what differs from run to run; the black triangle never does.)

# %% [markdown]
# ## 4 · Sampling: temperature and top-k on the same prompt
#
# To tell a new story, draw the first letter from p(x_1 | "."), feed it back, draw the next, and
# stop at the end token. Two knobs change the distribution each step draws from:
#
# - **temperature** T divides the logits: p_T ∝ p^(1/T). T < 1 sharpens (T → 0: always the
#   likeliest letter), T > 1 flattens;
# - **top-k** keeps the k likeliest letters and renormalises, cutting the long tail.
#
# A **prompt** fixes the first letters: every sample starts with it (`--prompt mar`).

# %%
settings = [("T = 0.5", {"temperature": 0.5}), ("T = 1 (the model)", {}), ("T = 1.5", {"temperature": 1.5}),
            ("top-k = 3", {"top_k": 3}), ("T -> 0 (greedy)", {"temperature": 1e-6})]
drawn = {title: transformer.sample(12, seed=0, prompt="mar", **options) for title, options in settings}
save(_plots.text_columns(drawn, "Twelve names starting with 'mar' from the transformer, under five sampling rules"),
     "06_temperature_top_k.png")

# %% [markdown]
# At T = 0.5 the names are the likeliest continuations, the common ones; at T = 1.5 they get
# stranger (rare letter pairs the model would seldom pick); top-3 keeps the model's own
# temperature but never picks a rare letter; and T → 0 gives one name twelve times: the greedy
# continuation.
#
# **The KV cache.** Drawing letter t + 1 needs the attention over positions 0..t. Recomputing all
# of them every step repeats work: positions 0..t-1's keys and values do not change. So the
# attention layer takes a cache (`nn.CausalSelfAttention.forward(x, cache)`): it keeps the keys
# and values it has computed ((B, heads, t, D)) and, given one new position, computes only that
# one's, through the same weights (`remember`, below: `forward` above calls it when given a
# cache). The transformer's `decode_step` runs each block that way; the tests check that its
# logits equal the full forward pass at every step.

# %%
from minigen.models.text import Transformer
from minigen.nn.attention import remember

show_source(remember, Transformer.decode_step)

# %% [markdown]
# Here is what it saves when drawing 1,000 names:

# %%
timings = {}
for cache in (False, True):
    tick = time.perf_counter()
    with_cache = transformer.sample_text(1000, seed=0, cache=cache)
    timings[cache] = time.perf_counter() - tick
print(f"1,000 names: {timings[False]:.2f} s recomputing every prefix, {timings[True]:.2f} s with the KV cache "
      f"({timings[False] / timings[True]:.1f}x)")
assert transformer.sample_text(50, seed=1, cache=True) == transformer.sample_text(50, seed=1, cache=False)
save(_plots.kv_cache_timings(timings[False], timings[True]), "06_kv_cache.png")

# %% [markdown]
# ## 5 · PixelCNN: painting digits pixel by pixel
#
# An image is a sequence too, read in **raster order**: row by row, left to right. PixelCNN
# (van den Oord et al., 2016) makes a convolution causal by zeroing the kernel weights on the
# pixels not yet painted. The first layer uses **mask A**, which hides the centre pixel as well
# (a pixel may not see itself); later layers use **mask B**, which lets the centre through: at
# that depth the centre already holds only a summary of the pixels before it. Here are the two
# masks (white = the weight may be non-zero):

# %%
masks = {f"mask {kind}, {size}x{size}": nn.MaskedConv2d(1, 1, size, kind).mask.numpy()[0, 0]   # (size, size)
         for size, kind in ((7, "A"), (3, "B"))}
save(_plots.kernel_masks(masks), "06_pixelcnn_masks.png")

# %% [markdown]
# **The blind spot.** Stacking masked layers lets each pixel see further up, but not everything
# before it. A 3x3 mask-B kernel reaches one pixel up-right; each layer's view grows one pixel to
# the right per row up, while the rows above grow only as far right as that diagonal reaches, so
# a wedge of pixels above and to the right stays invisible however deep the stack. We can ask the
# network itself, with autograd: the gradient of pixel (r, c)'s logit with respect to the input
# image is non-zero exactly at the input pixels it can see. Here for the trained network below,
# summed over a batch of random inputs:

# %%
from minigen.models.pixelcnn import PixelCNN


def visible(net, r, c, samples=16):
    """(H, W) bool: the input pixels that pixel (r, c)'s logit depends on (its gradient is not 0)."""
    x = mg.tensor((np.random.default_rng(0).random((samples, 1, 8, 8)) < 0.4).astype("float32"),
                  requires_grad=True)
    (grad,) = mg.grad(net(x)[:, 0, r, c].sum(), x)
    return np.abs(grad.numpy()).sum(axis=(0, 1)) > 0


mg.manual_seed(0)
probe = PixelCNN(width=16, blocks=5)                       # the default shape: 7x7 mask A, five 3x3 mask B
probe.eval()
where = [(4, 0), (4, 4), (7, 7)]
views = {rc: visible(probe, *rc) for rc in where}
for (r, c), seen in views.items():
    before = np.arange(64).reshape(8, 8) < 8 * r + c
    blind = [(int(a), int(b)) for a, b in np.argwhere(before & ~seen)]
    assert not (seen & ~before).any(), "a pixel saw the future"
    print(f"pixel {(r, c)} sees {int(seen.sum())} of the {int(before.sum())} pixels before it; blind to {blind}")
save(_plots.receptive_fields(views), "06_pixelcnn_blind_spot.png")

# %% [markdown]
# Pixel (4, 0), at the start of a row, cannot see pixels (3, 4) to (3, 7): the right half of the
# row just above it, which a reader of the image would call its most informative context. So
# "each pixel is drawn knowing every pixel before it" is true of the model class (the chain rule
# allows it) but not of this network: its conditionals ignore part of the past. The likelihood
# is still exact (every conditional is a proper distribution, and nothing from the future leaks
# in); the model is just weaker than it could be.
#
# The **gated PixelCNN** (van den Oord et al., 2016, "Conditional image generation with PixelCNN
# decoders") removes the blind spot with two stacks. A *vertical* stack sees every pixel of all
# the rows above (its kernel covers whole rows, and its output is shifted down by one row so that
# it never sees the current row); a *horizontal* stack sees the pixels to the left in the current
# row, and adds the vertical stack's output at each layer. Together, each pixel sees the full
# past. minigen's PixelCNN keeps the simpler single stack: on 8x8 digits a 7x7 first layer
# already covers most of the past.
#
# One 7x7 mask-A layer to 64 channels, five residual 3x3 mask-B blocks, two 1x1 layers to one
# logit per pixel: p(pixel = 1 | pixels before it) = sigmoid(logit). The NLL of an image is the
# sum of 64 binary cross-entropies, computed in one pass (teacher forcing); sampling needs 64
# passes, one per pixel. We train it on the binarised 8x8 digits. (The same network takes the
# grey digits too, `--data digits`: its last layer then gives 17 logits per pixel, a softmax over
# the scanner's intensities 0..16, and an image's NLL is the sum of 64 cross-entropies, as a
# name's is over its characters. A grey top half says more about the digit than a binary one,
# which is what finishing a digit from its top half needs.)

# %%
tick = time.perf_counter()
pixelcnn = make("autoregressive", "digits-binary", steps=40 if QUICK else 500)
train(pixelcnn, quiet=True)
test_images = pixelcnn.test_data.images
pixel_nll = -pixelcnn.log_prob(test_images).mean()
print(f"PixelCNN: {pixel_nll:.2f} nats per test image ({pixel_nll / 64:.4f} per pixel), "
      f"{pixelcnn.config.steps} steps in {time.perf_counter() - tick:.0f} s")
RESULTS.append(("pixelcnn", "digits-binary", pixel_nll, pixel_nll / 64))

samples = pixelcnn.sample(40, seed=0)
rng = np.random.default_rng(3)
picked = test_images[rng.choice(len(test_images), 8, replace=False)]
completions = [pixelcnn.sample(8, seed=s, given=picked, mask="bottom") for s in (0, 1, 2)]
save(_plots.samples_and_completions(samples, picked, completions), "06_pixelcnn_samples_and_completions.png")

# %% [markdown]
# Sampling is the chain rule run forward: pixel by pixel in raster order, each drawn from its
# conditional given the pixels already drawn (a given top half is simply pixels already there).
# `fill` does it, one row's logits at a time:

# %%
from minigen.models.pixelcnn import PixelCNNModel

show_source(PixelCNNModel.fill)

# %% [markdown]
# The same thing in motion: eight digits written pixel by pixel. (A pixel, once drawn, never
# changes, so each frame is the finished sample with the pixels not yet drawn shown grey.)

# %%
written = pixelcnn.sample(8, seed=5)
order = np.arange(64).reshape(8, 8)
frames = [np.where(order < k, written, 0.5) for k in range(0, 65, 2)]
show_animation(images_animation(frames, [f"{k} of 64 pixels drawn" for k in range(0, 65, 2)], nrow=8, size=6),
               "06_pixelcnn_writing.html")

# %% [markdown]
# The samples are digit-like strokes (after a full run; the quick build's few steps leave them
# rough). In the completions each column
# keeps the given top half exactly; the model paints the bottom conditioned on it, so the three
# completions of one digit differ in detail but continue the same strokes, and often (not
# always) close them into the true digit. Only the **bottom** half can be completed this way:
# in raster order the given pixels must all come before the ones to fill, otherwise the model
# would have to condition on pixels it has not reached (`--mask top` is refused for PixelCNN).

# %% [markdown]
# ## 6 · The label as a prompt, and the generative model as a classifier
#
# `--conditional` gives the PixelCNN the digit's label y: every masked layer adds a learned
# vector of the class (one number per channel, the same at every pixel, so the raster order is
# untouched). Each conditional p(x_t | x_<t, y) sees the label, and the model is p(x | y),
# exact as before, one distribution per class. Asked for a class, it paints that digit:

# %%
tick = time.perf_counter()
conditional = make("autoregressive", "digits-binary", steps=40 if QUICK else 400, conditional=True,
                   width=32, blocks=3)
train(conditional, quiet=True)
by_class = conditional.sample(50, seed=0)          # classes 0, 1, ..., 9 in turn: a class per column
print(f"conditional PixelCNN: {conditional.config.steps} steps and 50 samples in {time.perf_counter() - tick:.0f} s")

# %% [markdown]
# With the training split's class frequencies as p(y), the model is a model of the pair:
# p(x, y) = p(y) p(x | y). Bayes' rule then classifies, with nothing learned for it:
#
#     p(y | x) = p(y) p(x | y) / sum_y' p(y') p(x | y'),  log p(y | x) = log_softmax_y (log p(x | y) + log p(y))
#
# ten exact likelihoods per test digit (one pass each), one log-softmax. This is tutorial 03's
# point turned around: a generative model answers "which class?" too. Tutorial 03's naive Bayes
# model does the same with pixels independent given the class; the PixelCNN's p(x | y) knows
# how strokes continue. And because the top half's likelihood is the first half of the chain
# rule, p(y | top half) is exact as well: how sure can one be from half a digit?

# %%
test_x, test_y = conditional.test_data.images, conditional.test_data.labels
log_prior = conditional.log_prior                                              # (10,) training frequencies
joint = mg.tensor(conditional.class_log_likelihoods(test_x), dtype="float64")  # (360, 10): log p(x | y)
posterior = A.bayes_posterior(joint, log_prior).numpy()                        # (360, 10): log p(y | x)
top = mg.tensor(conditional.class_log_likelihoods(test_x, rows=4), dtype="float64")
top_posterior = A.bayes_posterior(top, log_prior).numpy()                      # from the top half alone
naive = BernoulliBayes().fit(conditional.train_data.images, conditional.train_data.labels)
print(f"test accuracy as a classifier: PixelCNN by Bayes' rule {(posterior.argmax(1) == test_y).mean():.3f} "
      f"(from the top half alone {(top_posterior.argmax(1) == test_y).mean():.3f}); "
      f"naive Bayes by counting {(naive.predict(test_x) == test_y).mean():.3f}")
print(f"-log p(y | x), mean over the test digits: {-posterior[np.arange(len(test_y)), test_y].mean():.3f} nats")
RESULTS.append(("pixelcnn | y", "digits-binary", -joint.numpy()[np.arange(len(test_y)), test_y].mean(),
                -joint.numpy()[np.arange(len(test_y)), test_y].mean() / 64))

# the same top halves, finished as a class we choose (--given with --label)
picked = [int(np.flatnonzero(test_y == k)[0]) for k in (4, 5, 7)]           # the first test 4, 5 and 7
shown = test_x[picked]
finished = {k: conditional.sample(3, seed=0, given=shown, mask="bottom", label=k) for k in (0, 3, 7, 9)}
save(_plots.conditional_pixelcnn(by_class, {k: (test_y[k], np.exp(posterior[k]), np.exp(top_posterior[k]))
                                            for k in picked}, shown, finished),
     "06_conditional_pixelcnn.png")

# %% [markdown]
# Each column of samples is the class asked for (a short, narrow run: many are readable, not
# all). As a classifier this short run can be compared with naive Bayes in the printout above;
# the default conditional run (`minigen train autoregressive --data digits-binary
# --conditional`) is measured against the discriminative classifiers on the results page.
# The curves show the classifier's confidence: over the whole digit the posterior is usually
# peaked on one class (a confident mistake happens too); from the top half alone it spreads
# over the classes whose tops look alike. That spread is what an unlabelled completion faces:
# `minigen sample --given` on a conditional run draws the label from p(y | top half) first,
# then the bottom half given it (a draw of the model with y summed out). Given a label, the
# same top half is finished as that class where the strokes allow it: the label acting as a
# prompt. `minigen eval` of a conditional run reports all of this: `bayes_accuracy`,
# `bayes_nll`, `bayes_accuracy_top_half`,
# `nll` = -log p(x | y) and `nll_marginal` = -log p(x).

# %% [markdown]
# ## 7 · One table
#
# Every number below is an exact test-split negative log-likelihood in nats, computed by the
# chain rule: per name (its letters and its end) or per image, and per token (a character or a
# pixel). The text models share data and metric, so their rows compare directly.

# %%
print(f"{'model':<18} {'data':<14} {'nats per example':>17} {'nats per token':>15}")
for model, data, per_example, per_token in RESULTS:
    print(f"{model:<18} {data:<14} {per_example:>17.3f} {per_token:>15.4f}")
print("(quick mode: every model trained only briefly)" if QUICK else
      "(shorter runs than `minigen train`'s defaults, whose numbers are in the README's families table)")
print(f"tutorial time: {time.perf_counter() - START:.0f} s")

# %% [markdown]
# From the bigram to the MLP the storyteller remembers more of the story and the NLL falls
# clearly. From the MLP with eight letters of context to the transformer, which sees the whole
# name, there is little left to gain on names: most of what predicts the next letter lies in the
# last few letters, and with the defaults' full training the two end level, within the noise
# between seeds (the results page). All four are trained the same way (maximum likelihood,
# teacher forcing) and sampled the same way (one token at a time); only the causal mask differs:
# a one-token window, a k-token window, causal attention, masked convolutions.
#
# **Your turn.** The workbook's `causal_attention` and `pixelcnn_mask` are this chapter's two
# masks (`minigen learn start DIR`, then `minigen learn check DIR causal_attention pixelcnn_mask`).

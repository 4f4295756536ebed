"""Autoregressive models: one token (or pixel) at a time, from those before (objectives/autoregressive.py).

    Bigram          names: one table of logits, p(x_t | x_{t-1})
    MLP             names: Bengio et al. (2003), the previous k characters' embeddings -> tanh -> logits
    Transformer     names: a small GPT (token + position embeddings, pre-LayerNorm blocks, causal
                    self-attention, GELU), sampled with a KV cache
    PixelCNN        images: masked convolutions (A, then residual B blocks), one Bernoulli logit
                    per binary pixel (or a softmax over a grey pixel's levels), sampled pixel by
                    pixel in raster order
    AutoregressiveTrainer   training (teacher forcing), exact log_prob, sampling, evaluation, figures

Text. A name is encoded as its letters 1..26 between two boundary tokens 0 (". e m m a ."); the
models see tokens (B, T) and return logits (B, T, V), position t predicting the token after
input t. Each text model is ``decode(embed(tokens))``: ``embed`` looks each token up on its
own (nothing mixes positions there), ``decode`` mixes positions causally; the tests take the
gradient of decode's output with respect to its input to prove the causality.

Images. PixelCNN models binary pixels, digits-binary as it is and the 28x28 ``idx:`` images
(values in [-1, 1]) binarised at 0 (pixel > 0 -> 1), with one Bernoulli logit per pixel; and
the grey digits (``digits``) as they were scanned, 17 intensities 0..16, with a softmax over 17
logits per pixel (van den Oord et al. (2016) used 256 for 8-bit images): a discrete pixel, so its
likelihood is exact too. Inside the model a pixel is its level in [0, 1] (k / 16 for the grey
digits); samples are draws of the levels, returned in [0, 1] as ``minigen sample`` writes them.

Labels (``--conditional``, images only: names have no labels). The PixelCNN learns p(x | y)
with a class bias in every masked layer; with the training split's class frequencies as p(y)
it is a model of (x, y), so it is also a classifier, by Bayes' rule over its ten exact
likelihoods (objectives/autoregressive.py), and ``log_prob(x)`` without labels is the exact
marginal log p(x). A completion asked for no label draws the label from p(y | the given top
half), exact too (raster order: the top half's likelihood is the first half of the chain rule).
"""
import contextlib
import math

import minigen as mg
import minigen.functional as F
from minigen import backend, nn, optim
from minigen.data import DataLoader
from minigen.models import judge
from minigen.data.completion import check_given, half_mask
from minigen.objectives import autoregressive as A
from minigen.objectives.autoregressive import BOUNDARY
from minigen.runs import TourStop, Trainer, check_network_labels, endless
from minigen.viz import figure, image_grid

TEXT_MODELS = ("bigram", "mlp", "transformer")
IMAGE_MODELS = ("pixelcnn",)


# ----- text models: tokens (B, T) -> logits (B, T, V) -----
class Bigram(nn.Module):
    """p(x_t | x_{t-1}) = softmax(W[x_{t-1}]): row i of the (V, V) table holds the logits of the
    token after token i. The count model is the same table filled with log counts."""

    def __init__(self, vocab_size):
        super().__init__()
        self.table = nn.Embedding(vocab_size, vocab_size)
        nn.init.zeros_(self.table.weight)                        # start uniform: every logit 0

    def embed(self, tokens):
        return self.table(tokens)                                # (B, T, V): already the logits

    def decode(self, e):
        return e                                                 # a context of one token: nothing to mix

    def forward(self, tokens):
        return self.decode(self.embed(tokens))


class MLP(nn.Module):
    """Bengio et al. (2003): the embeddings of the last ``context`` tokens side by side, one tanh
    hidden layer, logits. Positions before the start of the name are the boundary token."""

    def __init__(self, vocab_size, context=8, d_embed=24, hidden=256, dropout=0.1):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab_size, d_embed)
        self.hidden = nn.Linear(context * d_embed, hidden)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab_size)

    def embed(self, tokens):
        return self.tok(tokens)                                  # (B, T, d)

    def decode(self, e):
        b, t, _ = e.shape
        k = self.context
        before = self.tok(e.xp.full((b, k - 1), BOUNDARY))       # (B, k-1, d): before the start
        padded = mg.concat([before, e], axis=1)                  # (B, k-1+T, d)
        window = mg.concat([padded[:, j:j + t] for j in range(k)], axis=2)   # (B, T, k*d), oldest first
        h = self.drop(F.tanh(self.hidden(window)))               # (B, T, hidden)
        return self.out(h)                                       # (B, T, V)

    def forward(self, tokens):
        return self.decode(self.embed(tokens))


class Transformer(nn.Module):
    """A small GPT: token + learned position embeddings, pre-LayerNorm blocks (causal
    self-attention, a GELU MLP), a final LayerNorm and a linear head to the logits."""

    def __init__(self, vocab_size, block_size, d_model=64, n_layers=3, n_heads=4, dropout=0.0):
        super().__init__()
        self.block_size = block_size
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(block_size, d_model)
        for table in (self.tok, self.pos):
            nn.init.normal_(table.weight, std=0.02)              # GPT-2's initialisation
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*[nn.TransformerBlock(d_model, n_heads, dropout=dropout)
                                      for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def embed(self, tokens):
        return self.tok(tokens)                                  # (B, T, C)

    def decode(self, e):
        t = e.shape[1]
        if t > self.block_size:
            raise ValueError(f"Transformer: {t} positions, but the model has only {self.block_size}")
        x = self.drop(e + self.pos.weight[:t])                   # (B, T, C)
        x = self.blocks(x)                                       # (B, T, C)
        return self.head(self.ln_f(x))                           # (B, T, V)

    def forward(self, tokens):
        return self.decode(self.embed(tokens))

    def decode_step(self, e, cache):
        """One new position with a KV cache: e (B, 1, C) is the embedding of the token at
        position t = the number of positions in ``cache``; cache holds, per block, the keys and
        values (B, H, t, D) of positions 0..t-1 (empty lists at the start) and gets this
        position's appended. Returns the logits (B, V) of the token after it: the same numbers
        as ``forward`` at position t, for one position's work instead of t + 1."""
        t = cache[0][0].shape[2] if cache[0] else 0
        x = self.drop(e + self.pos.weight[t:t + 1])              # (B, 1, C)
        for block, kv in zip(self.blocks, cache):
            x = x + self.cached_attention(block.attn, block.ln1(x), kv)    # (B, 1, C)
            x = x + block.mlp(block.ln2(x))                                # (B, 1, C)
        return self.head(self.ln_f(x))[:, 0]                     # (B, V)

    @staticmethod
    def cached_attention(attn, x, kv):
        """nn.CausalSelfAttention's forward for one new position, with the block's own weights:
        its query attends to every cached key and its own (all earlier: causal by construction)."""
        b, _, c = x.shape
        h, d = attn.n_heads, c // attn.n_heads
        qkv = attn.qkv(x).reshape(b, 1, 3, h, d).transpose(2, 0, 3, 1, 4)   # (3, B, H, 1, D)
        q, k, v = qkv[0], qkv[1], qkv[2]                                    # each (B, H, 1, D)
        if kv:
            k, v = mg.concat([kv[0], k], axis=2), mg.concat([kv[1], v], axis=2)   # (B, H, t+1, D)
        kv[:] = [k, v]
        y = F.scaled_dot_product_attention(q, k, v)                         # (B, H, 1, D)
        y = y.transpose(0, 2, 1, 3).reshape(b, 1, c)                        # (B, 1, C)
        return attn.dropout(attn.proj(y))


# ----- the image model: images (N, 1, H, W) in [0, 1] -> logits per pixel -----
class VisibleTapsConv(nn.MaskedConv2d):
    """nn.MaskedConv2d (same weight, mask and numbers: tested) computed on its visible taps only.

    The rows above the centre are one (c, k) convolution of the image shifted down by c rows;
    the centre row's left part (and the centre itself for mask 'B') is one (1, c) or (1, c + 1)
    convolution of the image shifted right. The hidden taps are never multiplied: 5 of 9
    products for a 3x3 'B' kernel, 24 of 49 for a 7x7 'A' one. Stride 1, size kept.
    """

    def forward(self, x):
        n, _, h, w = x.shape
        c = self.kernel_size[0] // 2
        width = c + 1 if self.mask_type == "B" else c                  # centre-row taps: j-c .. j-c+width-1
        row = F.conv2d(F.pad(x, ((0, 0), (0, 0), (0, 0), (c, 0))), self.weight[:, :, c:c + 1, :width],
                       self.bias)[..., :w]                              # (N, O, H, W)
        if c == 0:
            return row
        above = F.conv2d(F.pad(x, ((0, 0), (0, 0), (c, 0), (c, c))), self.weight[:, :, :c, :])   # (N, O, H+1, W)
        return row + above[:, :, :h]                                    # (N, O, H, W)


class PixelCNN(nn.Module):
    """van den Oord et al. (2016): a 7x7 mask-A convolution (each pixel sees only those before
    it), residual 3x3 mask-B blocks (h + conv_B(relu(h))), two 1x1 convolutions to the logits:
    one per pixel for binary pixels (``levels`` = 2: a Bernoulli logit), else ``levels`` per pixel
    (a softmax over the pixel's intensities). The input is the pixel's level in [0, 1].

    Output pixel i depends on input pixels j < i in raster order, and on no row below its own:
    so row r's logits can be computed from rows 0..r alone, and, keeping every layer's maps of
    the rows above, from a band of a few rows per layer (``row_logits``, what sampling uses).

    Conditional (``num_classes``): p(x | y). Each masked layer gets a table (C, w) whose row y is
    added, one number per channel, to the layer's output at every pixel (the conditional
    PixelCNN's class bias): the label reaches every pixel's conditional, and since it is the
    same at every position it leaves the raster-order causality as it was. The tables start
    at zero: at initialisation the model ignores the label and learns to use it.
    """

    def __init__(self, width=64, blocks=5, first_kernel=7, kernel=3, dropout=0.0, num_classes=None, levels=2):
        super().__init__()
        self.first = VisibleTapsConv(1, width, first_kernel, "A")
        self.blocks = [VisibleTapsConv(width, width, kernel, "B") for _ in range(blocks)]
        self.drop = nn.Dropout(dropout)                          # on each block's update (training only)
        self.hidden = nn.Conv2d(width, width, 1)
        self.levels = levels
        self.out = nn.Conv2d(width, 1 if levels == 2 else levels, 1)
        self.num_classes = num_classes
        self.label_bias = [nn.Embedding(num_classes, width) for _ in range(1 + blocks)] if num_classes else []
        for table in self.label_bias:
            nn.init.zeros_(table.weight)

    def biases(self, labels):
        """Per masked layer, what it adds after its convolution: row ``labels`` (N,) ints of its
        class table as (N, w, 1, 1) for a conditional model; 0 for an unconditional one."""
        check_network_labels("PixelCNN", self.num_classes is not None, labels, "the labels (N,) of its images")
        if labels is None:
            return [0.0] * (1 + len(self.blocks))
        return [table(labels).reshape(len(labels), -1, 1, 1) for table in self.label_bias]

    def forward(self, x, labels=None):
        first, *rest = self.biases(labels)
        h = self.first(2 * x - 1) + first                        # (N, w, H, W): pixels in [-1, 1]
        for conv, bias in zip(self.blocks, rest):
            h = h + self.drop(conv(F.relu(h))) + bias            # (N, w, H, W)
        h = F.relu(self.hidden(F.relu(h)))                       # (N, w, H, W)
        return self.out(h)                                       # (N, 1 or levels, H, W) logits

    def row_logits(self, x, r, maps, labels=None):
        """Row r of ``forward(x, labels)``'s logits, (N, 1 or levels, W), from rows 0..r of x
        (N, 1, H, W) Tensor.

        ``maps``: per layer, the hidden maps (N, w, H, W) (raw arrays, one per convolution) whose
        rows < r earlier calls filled in; this call (re)computes row r of each and stores it.
        A layer with a k x k kernel needs rows r - k // 2 .. r of the layer below (none below r).
        """
        def band(conv):
            return max(0, r - conv.kernel_size[0] // 2)

        first, *rest = self.biases(labels)
        lo = band(self.first)
        h = self.first(2 * x[:, :, lo:r + 1] - 1)[:, :, -1:] + first   # (N, w, 1, W): row r
        maps[0][:, :, r:r + 1] = h.data
        for k, (conv, bias) in enumerate(zip(self.blocks, rest), start=1):
            below = mg.tensor(maps[k - 1][:, :, band(conv):r + 1])   # (N, w, rows, W) of the layer below
            h = h + self.drop(conv(F.relu(below))[:, :, -1:]) + bias   # (N, w, 1, W)
            maps[k][:, :, r:r + 1] = h.data
        h = F.relu(self.hidden(F.relu(h)))                       # (N, w, 1, W)
        return self.out(h)[:, :, 0]                              # (N, 1 or levels, W)


# ----- settings -----
# What `minigen train autoregressive` does when nothing else is said. steps, batch_size and lr
# are the Trainer's DEFAULTS; everything else is recorded in config.extra, where any value can be
# overridden (tutorials and tests do). The learning rate warms up linearly and decays on a cosine.
RECIPES = {
    # chosen on a holdout carved from the training split (tools/autoregressive_holdout.py, seed 0,
    # nats per character on the last 10% of the training names): dropout 0.1 / 0.2 / 0.3 ->
    # 1.883 (2,500 steps) / 1.862 / 1.894; weight decay 0.01 / 0.1 / 0.5 (dropout 0.2) -> 1.864 / 1.862 / 1.930;
    # later (issue 11's missed 1.86): lr 5e-3 / 2e-3 -> 1.8649 / 1.8692; 2 layers of 96 -> 1.8619 (dropout 0.3: 1.8783)
    # after issue 15 made a step faster (the default: 1.8616): 4,000 steps 1.8637, an EMA of 0.999 1.8634, batch 128 1.8788
    # issue 11's 1.86 again (seed 0; seed 1 where given, the default 1.8633 there): tied input/output embeddings
    # 1.8774; embedding dropout 0.1 / 0.3 (the rest 0.2) 1.8816 / 1.8623; a cosine down to 3e-4, not 0, 1.8699;
    # d_model 96 with dropout 0.25 1.8660; weight decay 0.2 1.8713; batch 32 for 5,000 steps 1.8865; 8 heads
    # 1.8727; 4 layers 1.8657; Adam's beta2 0.95 1.8572, 0.99 1.8537 (seed 1 1.8612, seed 2 1.8648 against the
    # default's 1.8668); with beta2 0.99: dropout 0.25 1.8772, lr 2e-3 1.8733, 4,000 steps 1.8489 (seed 1 1.8545,
    # seed 2 1.8676: the mean of three seeds 1.8570, against 1.8599 for 3,000 steps and the old default's 1.8639),
    # 5,000 steps 1.8535; beta2 0.98 at 4,000 steps 1.8594 (so one seed moves by more than 0.003). So beta2 0.99
    # (a memory of ~100 steps for Adam's squared gradients, not ~1,000, as nanoGPT's small character model has)
    # and 4,000 steps (no help with beta2 0.999: 1.8637 above). Later, no weight decay on the 1-D parameters
    # (LayerNorm gains, biases; nanoGPT's rule): 1.8612 against the default's 1.8489 (seed 0); GPT-2's
    # initialisation of every linear layer too (N(0, 0.02), residual projections 0.02 / sqrt(2 n_layers)) 1.8939
    "transformer": {"steps": 4000, "batch_size": 64, "lr": 3e-3, "d_model": 64, "n_layers": 3, "n_heads": 4,
                    "dropout": 0.2, "weight_decay": 0.1, "warmup": 100, "clip": 1.0, "ema": None,
                    "betas": [0.9, 0.99]},
    # dropout 0.1 / 0.3 / 0.4 -> 1.922 / 1.871 / 1.876; 6,000 steps instead of 4,000 -> 1.879;
    # hidden 512 with 32-wide embeddings -> 1.890
    "mlp": {"steps": 4000, "batch_size": 64, "lr": 3e-3, "context": 8, "d_embed": 24, "hidden": 256,
            "dropout": 0.3, "weight_decay": 0.01, "warmup": 100, "clip": 1.0, "ema": None},
    # 1,000 steps -> 2.3345 (300 steps 2.3353; weight decay 0.001 changes nothing)
    "bigram": {"steps": 1000, "batch_size": 256, "lr": 0.1, "weight_decay": 0.0, "warmup": 0, "clip": None,
               "ema": None},
    # nats per image on the last 144 training digits, 600 steps: no dropout 17.82, dropout 0.2 17.13,
    # an EMA of the weights (0.995) instead 17.22; 800 steps with dropout 0.3 17.28
    "pixelcnn": {"steps": 600, "batch_size": 64, "lr": 2e-3, "width": 64, "blocks": 5, "dropout": 0.2,
                 "weight_decay": 0.0, "warmup": 50, "clip": 1.0, "ema": None},
}
# What --conditional changes in a recipe (and, in AutoregressiveTrainer.CONDITIONAL_DEFAULTS, in
# the steps: 900 instead of 600). Chosen on a holdout of
# the training split (tools/pixelcnn_conditional_holdout.py, the last 144 training digits; seed 0,
# and seed 1 where given): label accuracy of 1,000 samples / Frechet distance to the holdout (its
# floor 14.26) / -log p(x | y): the unconditional recipe (dropout 0.2) 0.875 / 13.23 / 14.79 (seed 1:
# 0.885 / 12.87 / 15.01); dropout 0.1 0.888 / 13.11 / 14.89 (seed 1: 0.896 / 12.78 / 15.19);
# dropout 0.05 0.894 / 12.71 / 15.15; no dropout 0.898 / 12.28 / 15.86 (over-fits: Bayes accuracy
# 0.924 against 0.972); width 48 0.827 / 13.60 / 15.02; an EMA of the weights 0.99 / 0.995
# 0.867 / 13.32 / 14.72 and 0.723 / 17.73 / 14.67; a class bias after the 1x1 layer too 0.889 / 12.95;
# 900 steps with dropout 0.1 / 0.2: 0.914 / 12.35 / 15.96 and 0.906 / 13.25 / 15.34 (sharper samples,
# a likelihood over-fitted by about a nat: the price of the label accuracy the issue asks for)
CONDITIONAL_RECIPES = {"pixelcnn": {"dropout": 0.1}}
SAMPLE_SEED = 1234          # the samples minigen eval scores
EVAL_SAMPLES = 1000         # how many (images larger than 8x8: set config.extra["eval_samples"])
GIVEN_SEED = 7              # which test images the gallery completes


class AutoregressiveTrainer(Trainer):
    DEFAULTS = {name: {k: RECIPES[name][k] for k in ("steps", "batch_size", "lr")} for name in RECIPES}
    DATA = ("names", "surnames", "digits-binary", "digits", "idx:")
    CONDITIONAL = True          # PixelCNN on labelled images (check_data refuses it for names)
    CONDITIONAL_DEFAULTS = {"pixelcnn": {"steps": 900}}   # see CONDITIONAL_RECIPES
    # the tour's PixelCNNs are narrower ones, and their evaluation skips the samples (the tour
    # judges 1,000 of its own; `minigen train autoregressive --data digits-binary` scores 1,000
    # samples and 360 completions); the conditional one shows the model as a Bayes classifier.
    # It trains longer: its class tables start at 0, and 200 steps leave them barely used (label
    # accuracy 0.24, Bayes accuracy 0.63; 500 steps: 0.62 and 0.83, in 32 s with its samples)
    TOUR = (TourStop("names", "transformer", steps=300, quick_steps=20, metric="nll_per_token"),
            TourStop("digits-binary", "pixelcnn", steps=200, quick_steps=5, metric="nll",
                     extra={"width": 32, "blocks": 3, "eval_samples": 0}),
            TourStop("digits-binary", "pixelcnn", steps=500, quick_steps=5, metric="bayes_accuracy",
                     conditional=True, extra={"width": 32, "blocks": 3, "eval_samples": 0}))

    @classmethod
    def default_model(cls, data):
        """transformer for text (names, surnames), pixelcnn for images."""
        return "transformer" if data in ("names", "surnames") else "pixelcnn"

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        self.text = train.kind == "text"
        if self.text and config.model not in TEXT_MODELS:
            raise ValueError(f"autoregressive: --model {config.model} is for images; on text ({config.data}) "
                             f"choose from {list(TEXT_MODELS)}")
        if not self.text and config.model not in IMAGE_MODELS:
            raise ValueError(f"autoregressive: --model {config.model} is for text; on images ({config.data}) "
                             f"choose from {list(IMAGE_MODELS)}")
        conditional = CONDITIONAL_RECIPES.get(config.model, {}) if config.conditional else {}
        self.settings = s = {**RECIPES[config.model], **conditional, **config.extra}
        config.extra = dict(s)
        if self.text:
            self.vocab = (".",) + tuple(train.vocab)              # token 0 is the boundary
            self.index = {ch: i for i, ch in enumerate(self.vocab)}
            self.max_len = train.max_len                           # the longest name over every split
            v = len(self.vocab)
            if config.model == "bigram":
                self.net = Bigram(v)
            elif config.model == "mlp":
                self.net = MLP(v, s["context"], s["d_embed"], s["hidden"], s["dropout"])
            else:
                self.net = Transformer(v, self.max_len + 1, s["d_model"], s["n_layers"], s["n_heads"],
                                       s["dropout"])
        else:
            self.shape = tuple(train.shape)
            if self.shape[0] != 1:
                raise ValueError(f"autoregressive: pixelcnn takes one-channel images, got shape {self.shape}")
            classes = train.num_classes if config.conditional else None
            self.levels = train.info.get("levels", 2)              # idx: binarised, 2 levels
            self.net = PixelCNN(s["width"], s["blocks"], dropout=s["dropout"], num_classes=classes,
                                levels=self.levels)
            if classes:                                            # p(y): the training split's frequencies
                counts = backend.xp_for("cpu").bincount(train.labels, minlength=classes)
                self.log_prior = mg.tensor(counts / counts.sum(), dtype="float64").log()   # (C,)
        self.net.to(config.device)
        self.modules = {"net": self.net}
        self.optimizers = {"net": optim.AdamW(self.net.parameters(), lr=config.lr,
                                              betas=tuple(s.get("betas", (0.9, 0.999))),   # the recipe's, or Adam's
                                              weight_decay=s["weight_decay"])}
        self.ema = optim.EMA(self.net, s["ema"]) if s["ema"] else None   # evaluated and sampled when kept
        if self.ema is not None:                                          # checkpointed with the optimizer
            self.optimizers["net_ema"] = self.ema

    def averaged(self):
        """A context with the weights to evaluate and sample with: the EMA's when one is kept."""
        return self.ema.average_parameters() if self.ema is not None else contextlib.nullcontext()

    # ----- data -----
    def encode(self, names):
        """Names -> (tokens (N, max_len + 2) with the boundary before and after each name and as
        padding, lengths (N,)) as host arrays. A character outside the vocabulary, or a name
        longer than the model's maximum, is a ValueError naming it."""
        host = backend.xp_for("cpu")
        tokens = host.zeros((len(names), self.max_len + 2), dtype="int64")
        for row, name in enumerate(names):
            if len(name) > self.max_len:
                raise ValueError(f"{name!r} has {len(name)} characters; this model's names have at most "
                                 f"{self.max_len}")
            for col, ch in enumerate(name):
                if ch not in self.index or ch == ".":
                    raise ValueError(f"{name!r}: the character {ch!r} is not in the vocabulary "
                                     f"({''.join(self.vocab[1:])})")
                tokens[row, col + 1] = self.index[ch]
        return tokens, host.asarray([len(name) for name in names], dtype="int64")

    def pixels(self, images):
        """Host images in the data's own values -> the model's pixels, float32 levels in [0, 1]:
        digits-binary as is; [-1, 1] images (idx:) binarised at 0; the grey digits' [-1, 1] as
        k / 16 (a value off that grid is a ValueError: only log_prob's images can be)."""
        if self.train_data.binary:
            return images
        if self.levels == 2:
            return (images > 0).astype("float32")
        return self.quantised(self.train_data.to_unit(images), "log_prob")

    def quantised(self, unit, what):
        """[0, 1] host images -> the same as levels k / (levels - 1), float32; a value more than
        1e-3 of a level from the grid is a ValueError naming ``what``."""
        top = self.levels - 1
        host = backend.xp_for("cpu")
        k = host.rint(unit * top)
        if not host.allclose(unit * top, k, rtol=0, atol=1e-3):
            raise ValueError(f"{what}: {self.config.data} pixels take {self.levels} levels, k / {top} in [0, 1] "
                             f"(in the data's own values: {self.train_data.value_range} in {self.levels} "
                             f"equal steps); these lie between them")
        return (k / top).astype("float32")

    def batches(self):
        if self.text:
            arrays = self.encode(self.train_data.text)
        else:
            arrays = (self.pixels(self.train_data.images),)
            if self.config.conditional:
                arrays += (self.train_data.labels,)
        loader = DataLoader(*arrays, batch_size=self.config.batch_size, shuffle=True, seed=self.config.seed,
                            drop_last=True, device=self.config.device)
        return endless(loader, self.step_count)

    # ----- the likelihood -----
    def text_nll(self, tokens, lengths):
        """-log p(name) per name (B,) from tokens (B, max_len + 2) and lengths (B,) device arrays,
        and the number of predictions scored. Positions after the longest name are dropped."""
        steps = int(lengths.max()) + 1                          # predictions of the longest name
        inputs, targets = A.shift(tokens[:, :steps + 1])        # (B, steps) each
        mask = A.prediction_mask(lengths, steps, backend.array_module(tokens))   # (B, steps)
        logits = A.force_end(self.net(inputs), self.max_len)    # (B, steps, V)
        return A.sequence_nll(logits, targets, mask), mask.sum()

    def image_nll(self, x, labels=None, rows=None):
        """-log p(image) per image (N,) for x (N, 1, H, W) Tensor of the model's pixels (levels in
        [0, 1]); -log p(image | label) for a conditional model, labels (N,) ints. ``rows``: of the
        first ``rows`` rows only (the first rows * W terms of the chain rule: exact, they depend
        on nothing below)."""
        logits = self.net(x, labels)                             # (N, 1 or K, H, W)
        if rows is not None:
            logits, x = logits[:, :, :rows], x[:, :, :rows]      # (N, 1 or K, rows, W)
        if self.levels == 2:
            return A.bernoulli_nll(logits, x)
        n, k = logits.shape[:2]                                  # K levels: the pixels are a sequence of
        levels = x.xp.rint(x.data * (k - 1)).astype("int64")     # tokens, scored by a softmax each
        return A.sequence_nll(logits.reshape(n, k, -1).transpose(0, 2, 1), levels.reshape(n, -1))

    def train_step(self, batch):
        s = self.settings
        lr = optim.warmup_cosine(self.step_count, self.config.lr, s["warmup"], self.config.steps)
        opt = self.optimizers["net"]
        opt.lr = lr
        if self.text:
            tokens, lengths = batch
            nll, count = self.text_nll(tokens.data, lengths.data)
            loss = nll.sum() * (1.0 / float(count))                # nats per predicted character
        else:
            x, *labels = batch                                     # labels: [(B,)] when conditional
            loss = self.image_nll(x, *labels).mean() * (1.0 / math.prod(self.shape))   # nats per pixel
        opt.zero_grad()
        loss.backward()
        if s["clip"]:
            optim.clip_grad_norm_(self.net.parameters(), s["clip"])
        opt.step()
        if self.ema is not None:
            self.ema.update()
        return {"nll": loss.item()}

    def log_prob(self, x, batch_size=1000, labels=None):
        """log p(x) in nats, one per example, exact: x a list of str (text) or an array
        (N, 1, H, W) in the data's own values (images). A NumPy float64 array (N,).

        A conditional run: log p(x | labels) for ``labels`` (N,) ints, and without them the
        marginal log p(x) = logsumexp_y (log p(x | y) + log p(y)), p(y) the training frequencies."""
        if labels is not None and not self.config.conditional:
            raise ValueError("log_prob: labels are for a run trained with --conditional; this one is not")
        if not self.text:
            images = self.check_images(x)
            if labels is None and self.config.conditional:
                joint = mg.tensor(self.class_log_likelihoods(images, batch_size=batch_size), dtype="float64")
                return A.log_marginal(joint, self.log_prior).numpy()
            return self.image_log_likelihood(images, self.check_labels(labels, len(images)), batch_size=batch_size)
        if isinstance(x, str):
            raise ValueError("log_prob: give a list of names, not one str")
        tokens, lengths = self.encode(list(x))
        self.eval_mode()
        parts = []
        with mg.no_grad(), self.averaged():
            for i in range(0, len(lengths), batch_size):
                nll, _ = self.text_nll(backend.to_device(tokens[i:i + batch_size], self.config.device),
                                       backend.to_device(lengths[i:i + batch_size], self.config.device))
                parts.append(-nll.numpy())
        return backend.xp_for("cpu").concatenate(parts).astype("float64")

    def image_log_likelihood(self, images, labels=None, rows=None, batch_size=1000):
        """log p(x) (or log p(x | labels), labels (N,) host ints) of host images (N, 1, H, W) of
        the model's pixels, of their first ``rows`` rows when given: a NumPy float64 array (N,)."""
        self.eval_mode()
        dtype = next(self.net.parameters()).dtype                        # float32, or float64 (tests)
        parts = []
        with mg.no_grad(), self.averaged():
            for i in range(0, len(images), batch_size):
                batch = mg.tensor(images[i:i + batch_size], dtype=dtype, device=self.config.device)
                y = None if labels is None else backend.to_device(labels[i:i + batch_size], self.config.device)
                parts.append(-self.image_nll(batch, y, rows).numpy())
        return backend.xp_for("cpu").concatenate(parts).astype("float64")

    def class_log_likelihoods(self, images, rows=None, batch_size=1000):
        """log p(x | y) for every class y of a conditional run: (N, C) float64 host array, of
        host images (N, 1, H, W) of the model's pixels (their first ``rows`` rows when given)."""
        host = backend.xp_for("cpu")
        return host.stack([self.image_log_likelihood(images, host.full(len(images), y, dtype="int64"), rows,
                                                     batch_size) for y in range(self.net.num_classes)], axis=1)

    def check_labels(self, labels, n):
        """The labels (n,) of n images for log_prob: None for an unconditional run, else ints
        0..C-1 as an int64 host array (a ValueError says what does not fit)."""
        if labels is None:
            return None
        host = backend.xp_for("cpu")
        labels = host.asarray(labels)
        classes = self.net.num_classes
        if labels.shape != (n,) or labels.dtype.kind not in "iu" or (n and not 0 <= labels.min() <= labels.max() < classes):
            raise ValueError(f"log_prob: labels must be {n} integers from 0 to {classes - 1} (one per image), "
                             f"got shape {labels.shape} of dtype {labels.dtype}")
        return labels.astype("int64")

    def check_images(self, x):
        """Images (N, 1, H, W) like the data's, in its own values -> the model's pixels (float32 host)."""
        shape = tuple(getattr(x, "shape", ()))
        if len(shape) != 4 or shape[1:] != self.shape:
            raise ValueError(f"log_prob: expected images of shape (N, {', '.join(map(str, self.shape))}), got {shape}")
        host = backend.xp_for("cpu")
        x = host.asarray(x, dtype="float32")
        if self.train_data.binary and not host.isin(x, (0.0, 1.0)).all():
            raise ValueError(f"log_prob: {self.config.data} images are binary; pixels must be 0 or 1")
        return self.pixels(x)

    # ----- sampling -----
    def sample(self, n, seed, **options):
        """n samples: names (a list of str) or images (n, 1, H, W) float32 in [0, 1] (binary: {0, 1};
        the grey digits: k / 16).

        Options: temperature and top_k (text; temperature also for images), prompt (text: every
        name starts with it), given + mask="bottom" (images: complete the hidden bottom half),
        label (conditional runs: images of that class; without it, classes 0, 1, ..., C-1 in
        turn, and a completion draws its label from p(y | the given half)).
        Draws come from a private generator seeded by ``seed``.
        """
        self.refuse_unconditional(options)
        for name in ("sampler", "sample_steps"):
            if name in options:
                raise NotImplementedError(f"--{name.replace('_', '-')}: is for diffusion runs; "
                                          f"autoregressive models sample one step at a time")
        if "guidance" in options:
            raise NotImplementedError("--guidance: classifier-free guidance is for diffusion runs; a conditional "
                                      "PixelCNN draws from p(x | y) exactly (--label K)")
        unknown = set(options) - {"temperature", "top_k", "prompt", "given", "mask", "label"}
        if unknown:
            raise NotImplementedError(f"autoregressive: sampling takes no {sorted(unknown)}")
        temperature = options.get("temperature", 1.0)
        if self.text:
            for name in ("given", "mask"):
                if name in options:
                    raise NotImplementedError(f"--{name}: is for image runs; this one models text "
                                              f"(use --prompt to start every name)")
            return self.sample_text(n, seed, temperature, options.get("top_k"), options.get("prompt", ""))
        for name in ("prompt", "top_k"):
            if name in options:
                raise NotImplementedError(f"--{name.replace('_', '-')}: is for text runs; a pixel has "
                                          f"{self.levels} values (--temperature works)")
        if ("given" in options) != ("mask" in options):
            raise ValueError("--given and --mask go together")
        label = options.get("label")
        if "given" in options:
            labels = None if label is None else self.sample_labels(n, label)
            return self.complete(options["given"], options["mask"], n, seed, temperature, labels)
        labels = self.sample_labels(n, label) if self.config.conditional else None
        return self.sample_images(n, seed, temperature, labels)

    def sample_text(self, n, seed, temperature=1.0, top_k=None, prompt="", cache=True):
        """n names, each starting with ``prompt``, drawn one character at a time until the end
        token (certain after max_len characters). ``cache``: the transformer reuses its keys
        and values (``Transformer.decode_step``) instead of recomputing the whole prefix."""
        A.sampling_distribution(mg.zeros(1, 2), temperature, top_k)    # bad values fail before any work
        try:
            prompt_tokens, _ = self.encode([prompt])
        except ValueError as exc:
            raise ValueError(f"--prompt: {exc}") from None
        prefix = prompt_tokens[0, :len(prompt) + 1]                    # the boundary, then the prompt
        rng = backend.private_generator(seed)
        device = self.config.device
        tokens = backend.to_device(prefix[None, :].repeat(n, axis=0), device)   # (n, 1 + len(prompt))
        xp = backend.array_module(tokens)
        done = xp.zeros(n, dtype=bool)
        use_cache = cache and isinstance(self.net, Transformer)
        kv = [[] for _ in self.net.blocks] if use_cache else None
        self.eval_mode()
        with mg.no_grad(), self.averaged():
            if use_cache:                                              # the prefix, into the cache
                for t in range(tokens.shape[1]):
                    logits = self.net.decode_step(self.net.embed(tokens[:, t:t + 1]), kv)   # (n, V)
            for t in range(len(prompt), self.max_len + 1):             # t characters so far
                if not use_cache:
                    logits = self.net(tokens)[:, -1]                   # (n, V): the whole prefix again
                logits = A.force_end(logits.reshape(n, 1, -1), self.max_len, start=t)[:, 0]
                probs = A.sampling_distribution(logits, temperature, top_k)   # (n, V)
                nxt = xp.where(done, BOUNDARY, draw(probs, rng))       # (n,): finished names stay ended
                tokens = xp.concatenate([tokens, nxt[:, None]], axis=1)
                done |= nxt == BOUNDARY
                if bool(done.all()):
                    break
                if use_cache:
                    logits = self.net.decode_step(self.net.embed(nxt[:, None]), kv)
        rows = backend.to_host(tokens[:, 1:]).tolist()                 # every row ends (force_end)
        return ["".join(self.vocab[i] for i in row[:row.index(BOUNDARY)]) for row in rows]

    def sample_images(self, n, seed, temperature=1.0, labels=None, batch_size=1000):
        """n images drawn pixel by pixel in raster order (of the classes ``labels``, n ints, for a
        conditional run)."""
        host = backend.xp_for("cpu")
        blank = host.zeros((n,) + self.shape, dtype="float32")
        return self.fill(blank, 0, backend.private_generator(seed), temperature, batch_size, labels)

    def complete(self, given, mask, n, seed, temperature=1.0, labels=None, batch_size=1000):
        """The bottom halves of ``given`` (n or 1 images, float32 (N, 1, H, W) in [0, 1]) filled in,
        in raster order, conditioned exactly on every given pixel above them.

        A conditional run completes image i as class labels[i]; without labels, it first draws
        each image's label from p(y | its top half) (Bayes' rule on the top half's exact
        likelihoods), so the completion is a draw of the marginal model, sum_y p(y) p(x | y),
        given the top half: what the unconditional question asks, answered honestly."""
        if mask != "bottom":
            raise ValueError(f"--mask {mask}: PixelCNN fills pixels in raster order (row by row, top to "
                             f"bottom), so it can condition exactly on the given pixels only when they "
                             f"all come first: use --mask bottom")
        images = check_given(given, n, self.shape, binary=self.train_data.binary)
        if self.levels == 2:
            images = (images > 0.5).astype("float32")                  # binary pixels for the model (idx:)
        else:
            images = self.quantised(images, "--given")
        hidden = half_mask(images.shape, "bottom")
        images[hidden] = 0.0
        first_row = self.shape[1] - self.shape[1] // 2
        rng = backend.private_generator(seed)
        if self.config.conditional and labels is None:
            labels = self.posterior_labels(images, first_row, rng)
        return self.fill(images, first_row * self.shape[2], rng, temperature, batch_size, labels)

    def posterior_labels(self, images, rows, rng):
        """One label per host image (N, 1, H, W) of the model's pixels, drawn from p(y | its first
        ``rows`` rows)."""
        top = mg.tensor(self.class_log_likelihoods(images, rows), dtype="float64")   # (N, C): log p(top | y)
        posterior = A.bayes_posterior(top, self.log_prior).exp()                       # (N, C)
        return backend.to_host(draw(posterior, rng))                                   # (N,)

    def fill(self, images, start, rng, temperature, batch_size, labels=None):
        """Draw the pixels at raster positions start.. of host images (N, 1, H, W), in order, with
        the host generator ``rng`` (of the classes ``labels``, N ints, for a conditional run).

        Each pixel's logits are ``PixelCNN.row_logits`` of its row: the network runs on a band of
        rows, reusing the maps of the rows above (exact: equal to the full forward pass). A binary
        pixel is 1 with probability sigmoid(l / T); a grey one is level k with softmax(l / T)_k."""
        if not temperature > 0:
            raise ValueError(f"--temperature: must be > 0, got {temperature}")
        _, _, h, w = images.shape
        layers = 1 + len(self.net.blocks)
        out = []
        self.eval_mode()
        with mg.no_grad(), self.averaged():
            for i in range(0, len(images), batch_size):
                x = mg.tensor(images[i:i + batch_size], device=self.config.device)       # (b, 1, H, W)
                y = None if labels is None else backend.to_device(
                    backend.xp_for("cpu").asarray(labels[i:i + batch_size], dtype="int64"), self.config.device)
                xp = x.xp
                maps = [xp.zeros((len(x), self.settings["width"], h, w), dtype=x.dtype) for _ in range(layers)]
                for r in range(h):
                    if (r + 1) * w <= start:
                        self.net.row_logits(x, r, maps, y)              # a given row: its maps only
                        continue
                    for c in range(max(0, start - r * w), w):
                        logits = self.net.row_logits(x, r, maps, y)[:, :, c]            # (b, 1 or K)
                        x.data[:, 0, r, c] = self.draw_pixel(logits, temperature, rng)
                out.append(x.numpy())
        return backend.xp_for("cpu").concatenate(out).astype("float32")

    def draw_pixel(self, logits, temperature, rng):
        """One pixel of each image, its level in [0, 1], from its logits (b, 1) (binary) or (b, K)."""
        if self.levels == 2:
            p = F.sigmoid(logits[:, 0] * (1.0 / temperature)).data                      # (b,)
            u = logits.xp.asarray(backend.to_device(rng.random(len(p)), self.config.device))
            return (u < p).astype(logits.dtype)
        probs = A.sampling_distribution(logits, temperature)                          # (b, K)
        return (draw(probs, rng) * (1.0 / (self.levels - 1))).astype(logits.dtype)

    # ----- evaluation -----
    def evaluate(self):
        if self.text:
            return self.evaluate_text()
        return self.evaluate_images()

    def evaluate_text(self):
        """Exact test NLL, and what 1,000 samples look like next to the data."""
        test = self.test_data.text
        log_p = self.log_prob(test)
        predictions = sum(len(name) + 1 for name in test)
        samples = self.sample(EVAL_SAMPLES, SAMPLE_SEED)
        train, held = set(self.train_data.text), set(test)
        return {"nll": float(-log_p.mean()), "nll_per_token": float(-log_p.sum() / predictions),
                "test_names": len(test), "test_predictions": predictions,
                "novel_share": sum(s not in train for s in samples) / len(samples),
                "test_name_share": sum(s in held for s in samples) / len(samples),
                "sample_mean_length": sum(map(len, samples)) / len(samples),
                "data_mean_length": sum(map(len, test)) / len(test), "samples": len(samples)}

    def evaluate_images(self):
        """Exact test NLL per image and per pixel (a conditional run: -log p(x | y) with the test
        labels, the marginal -log p(x), and the model as a classifier by Bayes' rule); the
        judge's verdict on samples and on completions of the test digits' bottom halves."""
        images = self.test_data.images
        if self.config.conditional:
            result = self.evaluate_classifier(images, self.test_data.labels)
        else:
            log_p = self.log_prob(images)
            result = {"nll": float(-log_p.mean())}
        result.update(nll_per_token=result["nll"] / math.prod(self.shape), test_images=len(images))
        count = self.settings.get("eval_samples", EVAL_SAMPLES if math.prod(self.shape) <= 64 else 0)
        if not count:
            result["note"] = ("no sample or completion metrics: eval_samples is 0 (the default for images "
                              "larger than 8x8, where drawing pixel by pixel is slow; set config.extra['eval_samples'])")
            return result
        samples = self.sample(count, SAMPLE_SEED)                               # in [0, 1]
        labels = self.sample_labels(count) if self.config.conditional else None   # what sample() drew
        result.update(judge.image_sample_metrics(samples, self.config.data, self.train_data, self.test_data,
                                                 labels=labels))
        complete = lambda given, mask: self.sample(len(given), SAMPLE_SEED, given=given, mask=mask)   # noqa: E731
        result.update(judge.completion_metrics(complete, self.config.data, self.test_data, "bottom"))
        return result

    def evaluate_classifier(self, images, labels):
        """A conditional run on the test images and their labels: ``nll`` = -log p(x | y) (exact),
        ``nll_marginal`` = -log p(x) (y summed out: comparable to an unconditional run's nll),
        ``bayes_accuracy`` and ``bayes_nll`` = -log p(y | x): the generative model as a classifier,
        next to ``judge_accuracy``, the discriminative classifier's (the judge's) on the same digits;
        ``bayes_accuracy_top_half``: from the top half alone (what a completion's label is drawn from)."""
        host = backend.xp_for("cpu")
        images = self.check_images(images)
        joint = self.class_log_likelihoods(images)                             # (N, C): log p(x | y)
        each = host.arange(len(labels))
        loglik = mg.tensor(joint, dtype="float64")
        posterior = A.bayes_posterior(loglik, self.log_prior).numpy()          # (N, C): log p(y | x)
        top = mg.tensor(self.class_log_likelihoods(images, rows=self.shape[1] - self.shape[1] // 2), dtype="float64")
        top_guess = A.bayes_posterior(top, self.log_prior).numpy().argmax(axis=1)   # from the top half alone
        return {"nll": float(-joint[each, labels].mean()),
                "nll_marginal": float(-A.log_marginal(loglik, self.log_prior).numpy().mean()),
                "bayes_accuracy": float((posterior.argmax(axis=1) == labels).mean()),
                "bayes_accuracy_top_half": float((top_guess == labels).mean()),
                "bayes_nll": float(-posterior[each, labels].mean()), "bayes_prior": "training-split class frequencies",
                "judge_accuracy": judge.digit_judge(self.config.data).accuracy}

    # ----- the picture -----
    def save_figure(self, path):
        if self.text:
            self.names_figure().savefig(path, dpi=100, bbox_inches="tight")
        else:
            self.images_figure().savefig(path, dpi=100, bbox_inches="tight")

    def names_figure(self, n=60, columns=4, prompts=("mar", "jo")):
        """n sampled names written on a figure, in columns; then, for each prompt, a column of
        names that complete it (`minigen sample --prompt`), under a heading that names it."""
        names = self.sample(n, 0)
        rows = -(-n // columns)
        total = columns + len(prompts)
        fig = figure(figsize=(1.6 * total, 0.22 * rows + 0.6))
        ax = fig.subplots()
        for k, name in enumerate(names):
            c, r = divmod(k, rows)
            ax.text(c / total, 1 - (r + 0.5) / rows, name, family="monospace", fontsize=9, va="center")
        for c, prompt in enumerate(prompts, start=columns):
            ax.text(c / total, 1 - 0.5 / rows, f"--prompt {prompt}", family="monospace", fontsize=9,
                    va="center", weight="bold")
            for r, name in enumerate(self.sample(rows - 1, 0, prompt=prompt), start=1):
                ax.text(c / total, 1 - (r + 0.5) / rows, name, family="monospace", fontsize=9, va="center")
        ax.set_axis_off()
        ax.set_title(f"{self.config.model} on {self.config.data}: samples (T = 1); right: names that "
                     f"complete a prompt", fontsize=10)
        return fig

    def images_figure(self):
        """Samples, and the bottom halves of test images filled in (given / completed / true).
        Fewer of each for images larger than 8x8 (each pixel is one pass of the network). A
        conditional run's samples have a class per column (0..C-1, as sample() draws them);
        its completions draw their label from p(y | the given half)."""
        small = math.prod(self.shape) <= 64
        n, completions = (64, 10) if small else (16, 4)
        completions = min(completions, len(self.test_data))
        columns = 8 if small else 4
        if self.config.conditional:
            columns = self.train_data.num_classes
            n = columns * (10 if small else 2)
        samples = self.sample(n, 0)
        rng = backend.private_generator(GIVEN_SEED)
        pick = rng.choice(len(self.test_data), completions, replace=False)
        truth = self.pixels(self.test_data.images[pick])
        filled = self.complete(truth, "bottom", completions, 0)
        shown = truth.copy()
        shown[half_mask(shown.shape, "bottom")] = 0.5                   # grey: hidden
        fig = figure(figsize=(9, 4.2))
        left, right = fig.subplots(1, 2, width_ratios=[1, 1.3])
        left.imshow(image_grid(samples, nrow=columns), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        left.set_title(f"PixelCNN samples ({self.config.data})" if not self.config.conditional else
                       f"PixelCNN samples of classes 0-{columns - 1} (a class per column)", fontsize=10)
        rows = backend.xp_for("cpu").concatenate([shown, filled, truth])
        right.imshow(image_grid(rows, nrow=completions), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        right.set_title("test digits: bottom half hidden (grey), filled in, true", fontsize=10)
        for ax in (left, right):
            ax.set_axis_off()
        return fig


def draw(probs, rng):
    """One category per row of probs (n, V), by inverting the cumulative distribution at a
    uniform draw from the host generator ``rng``."""
    xp = probs.xp
    u = xp.asarray(backend.to_device(rng.random((probs.shape[0], 1)), probs.device))   # (n, 1)
    below = (xp.cumsum(probs.data, axis=1) < u).sum(axis=1)              # (n,): categories passed
    return xp.minimum(below, probs.shape[1] - 1)                        # rounding at the top edge

"""PixelCNN (van den Oord et al., 2016): an image one pixel at a time, in raster order
(objectives/autoregressive.py).

Masked convolutions make each pixel's logits a function of the pixels before it alone: a 7x7
mask-A layer, then residual 3x3 mask-B blocks. A binary pixel (digits-binary; ``idx:`` images
binarised at 0) gets one Bernoulli logit; a grey digit's pixel, one of the scanner's 17 levels,
a softmax over 17 logits (data/encoding.py), so the likelihood is exact either way. Training
is maximum likelihood in one pass (teacher forcing: the true image is the input), the loss in
nats per pixel; sampling runs the network once per pixel, reusing the rows above.

Labels (``--conditional``). The PixelCNN learns p(x | y) with a class bias in every masked
layer; with the training split's class frequencies as p(y) it is a model of (x, y), so it is
also a classifier, by Bayes' rule over its ten exact likelihoods, and ``log_prob(x)`` without
labels is the exact marginal log p(x). A completion asked for no label draws the label from
p(y | the given top half), exact too (raster order: the top half's likelihood is the first
half of the chain rule).
"""
import math

import minigen as mg
import minigen.functional as F
from minigen import backend, nn, optim
from minigen.data.completion import check_given, hidden_mask
from minigen.data.encoding import pixel_levels, unit_levels
from minigen.models import judge
from minigen.models.checks import check_network_labels
from minigen.models.loop import Family
from minigen.models.text import EVAL_SAMPLES, SAMPLE_SEED, TextModel, refuse_the_other_kind
from minigen.nn.conv import VisibleTapsConv
from minigen.objectives import autoregressive as A
from minigen.viz import pixelcnn as viz_pixelcnn


class PixelCNN(nn.Module):
    """A 7x7 mask-A convolution (each pixel sees only those before it), residual 3x3 mask-B
    blocks (h + conv_B(relu(h))), two 1x1 convolutions to the logits: one per pixel for binary
    pixels (``levels`` = 2: a Bernoulli logit), else ``levels`` per pixel (a softmax over the
    pixel's intensities). The input is the pixel's level in [0, 1].

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
        check_network_labels(self, labels, self.num_classes is not None)
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
        h = self.first(2 * x[:, :, band(self.first):r + 1] - 1)[:, :, -1:] + first   # (N, w, 1, W): row r
        maps[0][:, :, r:r + 1] = h.data
        for k, (conv, bias) in enumerate(zip(self.blocks, rest), start=1):
            below = mg.tensor(maps[k - 1][:, :, band(conv):r + 1], dtype=x.dtype)   # (N, w, rows, W): the layer below
            h = h + self.drop(conv(F.relu(below))[:, :, -1:]) + bias   # (N, w, 1, W)
            maps[k][:, :, r:r + 1] = h.data
        h = F.relu(self.hidden(F.relu(h)))                       # (N, w, 1, W)
        return self.out(h)[:, :, 0]                              # (N, 1 or levels, W)


# ----- settings: every default of `minigen train autoregressive --data digits-binary` -----
RECIPES = {
    # chosen on a holdout: RESULTS.md, "PixelCNN"
    "pixelcnn": {"steps": 600, "batch_size": 64, "lr": 2e-3, "width": 64, "blocks": 5, "dropout": 0.2,
                 "weight_decay": 0.0, "betas": [0.9, 0.999], "lr_schedule": "cosine", "lr_warmup": 50,
                 "max_grad_norm": 1.0, "ema": None, "eval_samples": None,   # None: 1,000 on 8x8 images, else 0
                 "candidates": 64},   # fills per image to resample a hole's completion from
}
# chosen on a holdout: RESULTS.md, "PixelCNN" (conditional)
CONDITIONAL_RECIPES = {"pixelcnn": {"steps": 900, "dropout": 0.1}}


class PixelCNNModel(Family):
    """`minigen train autoregressive --data digits-binary|digits|idx:PATH [--conditional]`:
    maximum likelihood in raster order, AdamW."""

    RECIPES = RECIPES
    CONDITIONAL_RECIPES = CONDITIONAL_RECIPES
    DATA = ("digits-binary", "digits", "idx:")
    CONDITIONAL = True
    SAMPLE_OPTIONS = ("temperature", "given", "mask", "label")

    @classmethod
    def resolve(cls, config, strict=False):
        refuse_the_other_kind(cls, config, "images", "text", TextModel.RECIPES)
        return super().resolve(config, strict)

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        s = self.settings
        self.shape = tuple(train.shape)
        if self.shape[0] != 1:
            raise ValueError(f"autoregressive: pixelcnn takes one-channel images, got shape {self.shape}")
        self.levels = train.info.get("levels", 2)                # idx: binarised, 2 levels
        self.net = PixelCNN(s["width"], s["blocks"], dropout=s["dropout"], num_classes=self.num_classes,
                            levels=self.levels)
        if self.num_classes:                                     # p(y): the training split's frequencies
            counts = backend.host.bincount(train.labels, minlength=self.num_classes)
            self.log_prior = mg.tensor(counts / counts.sum(), dtype="float64").log()   # (C,)
        self.modules = {"net": self.net}
        betas = tuple(s["betas"])
        self.optimizers = {"net": optim.AdamW(self.net.parameters(), config.lr, betas, weight_decay=s["weight_decay"])}
        self.start()

    def pixels(self, images):
        """Host images in the data's own values -> the model's pixels, levels in [0, 1]."""
        return pixel_levels(images, self.train_data, self.levels)

    def arrays(self):
        labels = (self.train_data.labels,) if self.config.conditional else ()
        return (self.pixels(self.train_data.images),) + labels

    # ----- training: the exact likelihood, every pixel in one pass -----
    def step(self, batch):
        x, *labels = batch                                       # (B, 1, H, W) [, (B,) when conditional]
        loss = self.nll(x, *labels).mean() * (1.0 / math.prod(self.shape))   # nats per pixel
        self.update(loss, self.optimizers["net"])
        return {"nll": loss}

    def nll(self, x, labels=None, rows=None):
        """-log p(image) per image (N,) for x (N, 1, H, W) Tensor of the model's pixels;
        -log p(image | label) for a conditional model, labels (N,) ints. ``rows``: of the first
        ``rows`` rows only (the first rows * W terms of the chain rule: exact, they depend on
        nothing below)."""
        logits = self.net(x, labels)                             # (N, 1 or K, H, W)
        if rows is not None:
            logits, x = logits[:, :, :rows], x[:, :, :rows]      # (N, 1 or K, rows, W)
        if self.levels == 2:
            return A.bernoulli_nll(logits, x)
        n, k = logits.shape[:2]                                  # K levels: the pixels are a sequence of
        levels = x.xp.rint(x.data * (k - 1)).astype("int64")     # tokens, scored by a softmax each
        return A.sequence_nll(logits.reshape(n, k, -1).transpose(0, 2, 1), levels.reshape(n, -1))

    def log_prob(self, images, labels=None, batch_size=1000):
        """log p(x) in nats of images (N, 1, H, W) in the data's own values, exact: a float64
        NumPy array (N,). A conditional run: log p(x | labels) for ``labels`` (N,) ints, and
        without them the marginal log p(x) = logsumexp_y (log p(x | y) + log p(y))."""
        x = self.pixels(self.check_images(images, "log_prob"))
        labels = self.check_labels(labels, len(x), "log_prob", required=False)
        if labels is None and self.config.conditional:
            joint = mg.tensor(self.class_log_likelihoods(x, batch_size=batch_size), dtype="float64")
            return A.log_marginal(joint, self.log_prior).numpy()
        return self.image_log_likelihood(x, labels, batch_size=batch_size)

    def image_log_likelihood(self, images, labels=None, rows=None, batch_size=1000):
        """log p(x) (or log p(x | labels), labels (N,) host ints) of host images (N, 1, H, W) of
        the model's pixels, of their first ``rows`` rows when given: a NumPy float64 array (N,)."""
        dtype = next(self.net.parameters()).dtype                # float32, or float64 (tests)
        device, parts = self.config.device, []
        with mg.no_grad(), self.averaged():
            for i in range(0, len(images), batch_size):
                batch = mg.tensor(images[i:i + batch_size], dtype=dtype, device=device)
                y = None if labels is None else backend.to_device(labels[i:i + batch_size], device)
                parts.append(-self.nll(batch, y, rows).numpy())
        return backend.host.concatenate(parts).astype("float64")

    def class_log_likelihoods(self, images, rows=None, batch_size=1000):
        """log p(x | y) for every class y of a conditional run: (N, C) float64 host array, of
        host images (N, 1, H, W) of the model's pixels (their first ``rows`` rows when given)."""
        host = backend.host
        return host.stack([self.image_log_likelihood(images, host.full(len(images), y, dtype="int64"), rows,
                                                     batch_size) for y in range(self.num_classes)], axis=1)

    # ----- sampling: one pixel at a time, in raster order -----
    def sample(self, n, seed, **options):
        """n images (n, 1, H, W) float32 in [0, 1] (binary: {0, 1}; the grey digits: k / 16),
        drawn with a private generator seeded by ``seed``. Options: temperature; given + mask
        (complete the hidden bottom rows of the given images: ``complete``); label (a conditional
        run: images of that class; without it classes 0, 1, ..., C-1 in turn, and a completion
        draws its label from p(y | the given half))."""
        self.check_options(options)
        if ("given" in options) != ("mask" in options):
            raise ValueError("--given and --mask go together")
        temperature, label = options.get("temperature", 1.0), options.get("label")
        if "given" in options:
            labels = None if label is None else self.sample_labels(n, label)
            return self.complete(options["given"], options["mask"], n, seed, temperature, labels)
        labels = self.sample_labels(n, label) if self.config.conditional else None
        blank = backend.host.zeros((n,) + self.shape, dtype="float32")
        return self.fill(blank, blank == 0, backend.private_generator(seed), temperature, labels)[0]

    def complete(self, given, mask, n, seed, temperature=1.0, labels=None):
        """The hidden pixels of ``given`` (n or 1 images, float32 (N, 1, H, W) in [0, 1]) filled in, in
        raster order. When every hidden pixel comes after every given one (whole rows at the bottom,
        say) each draw is conditioned exactly on all the given pixels. Otherwise (a hole) the pixels
        given after the hole are seen only through importance resampling: ``candidates`` fills per
        image, each weighted by w = p(x) / q(fill), the likelihood of the given pixels after the
        hole's start (q: the probability of the raster-order draws), and one fill drawn per image
        with probability w / sum w: exact as the candidates grow, toward the untempered model.
        A conditional run completes image i as class labels[i], or, without labels, draws each
        fill's label from p(y | the given rows above the first hidden pixel) (weighted alike)."""
        images = unit_levels(check_given(given, n, self.shape, binary=self.train_data.binary), self.train_data,
                             self.levels)
        hidden = hidden_mask(images.shape, mask).reshape(n, -1)                     # (n, H W), raster order
        first = hidden.argmax(axis=1)                                               # each image's first hidden pixel
        exact = all(row[start:].all() for row, start in zip(hidden, first))       # nothing given after it
        rows = int(first.min()) // self.shape[2]                                    # rows given in every image
        k = 1 if exact else self.settings["candidates"]
        images, hidden = (a.repeat(k, axis=0) for a in (images, hidden.reshape(images.shape)))
        images[hidden] = 0.0                                                        # (n k, 1, H, W)
        rng = backend.private_generator(seed)
        if labels is not None:
            labels = backend.host.asarray(labels).repeat(k)
        elif self.config.conditional:
            labels = self.posterior_labels(images, rows, rng)
        images, log_q = self.fill(images, hidden, rng, temperature, labels)
        if exact:
            return images
        log_w = self.image_log_likelihood(images, labels) - self.image_log_likelihood(images, labels, rows) - log_q
        pick = A.draw(F.softmax(mg.tensor(log_w.reshape(n, k)), axis=1), rng)       # (n,): SIR
        return images.reshape(n, k, *self.shape)[backend.host.arange(n), backend.to_host(pick)]

    def posterior_labels(self, images, rows, rng):
        """One label per host image (N, 1, H, W) of the model's pixels, drawn from p(y | its first
        ``rows`` rows)."""
        top = mg.tensor(self.class_log_likelihoods(images, rows), dtype="float64")   # (N, C): log p(top | y)
        posterior = A.bayes_posterior(top, self.log_prior).exp()                       # (N, C)
        return backend.to_host(A.draw(posterior, rng))                                 # (N,)

    def fill(self, images, hidden, rng, temperature, labels=None, batch_size=1000):
        """Draw the ``hidden`` pixels (booleans like images) of host images (N, 1, H, W), in raster
        order, with the host generator ``rng`` (of the classes ``labels``, N ints, for a conditional
        run); returns the images and log q (N,), the log-probability of the draws. Each pixel's
        logits are ``PixelCNN.row_logits`` of its row: the network runs on a band of rows, reusing
        the maps of the rows above (exact: equal to the full forward pass)."""
        if not temperature > 0:
            raise ValueError(f"--temperature: must be > 0, got {temperature}")
        _, _, h, w = images.shape
        device, dtype, out, log_q = self.config.device, next(self.net.parameters()).dtype, [], []
        with mg.no_grad(), self.averaged():
            for i in range(0, len(images), batch_size):
                x = mg.tensor(images[i:i + batch_size], dtype=dtype, device=device)     # (b, 1, H, W)
                todo = backend.to_device(hidden[i:i + batch_size, 0], device)           # (b, H, W)
                y = None if labels is None else backend.to_device(
                    backend.host.asarray(labels[i:i + batch_size], dtype="int64"), device)
                maps = [x.xp.zeros((len(x), self.settings["width"], h, w), dtype=x.dtype)
                        for _ in range(1 + len(self.net.blocks))]
                drawn = x.xp.zeros(len(x))                                              # (b,): log q
                for r in range(h):
                    for c in backend.host.flatnonzero(hidden[i:i + batch_size, 0, r].any(axis=0)):
                        logits = self.net.row_logits(x, r, maps, y)[:, :, c]            # (b, 1 or K)
                        level, log_p = self.draw_pixel(logits, temperature, rng)        # (b,) each
                        x.data[:, 0, r, c] = x.xp.where(todo[:, r, c], level, x.data[:, 0, r, c])
                        drawn += x.xp.where(todo[:, r, c], log_p, 0.0)
                    self.net.row_logits(x, r, maps, y)                  # row r's maps, every pixel drawn
                out.append(x.numpy())
                log_q.append(backend.to_host(drawn))
        host = backend.host
        return host.concatenate(out).astype("float32"), host.concatenate(log_q).astype("float64")

    def draw_pixel(self, logits, temperature, rng):
        """One pixel of each image from its logits (b, 1) (binary: 1 with probability sigmoid(l / T))
        or (b, K) (level k with probability softmax(l / T)_k): its level in [0, 1] and the log of
        the probability it was drawn with, (b,) arrays each."""
        if self.levels == 2:
            p = F.sigmoid(logits[:, 0] * (1.0 / temperature)).data                      # (b,)
            u = logits.xp.asarray(backend.to_device(rng.random(len(p)), self.config.device))
            level = (u < p).astype(logits.dtype)                                          # log p(level):
            return level, -F.softplus(logits[:, 0] * ((1 - 2 * level) / temperature)).data   # -softplus(-+l/T)
        k = A.draw(A.sampling_distribution(logits, temperature), rng)                      # (b,)
        log_p = F.log_softmax(logits * (1.0 / temperature), axis=1).data[logits.xp.arange(len(k)), k]
        return (k * (1.0 / (self.levels - 1))).astype(logits.dtype), log_p

    # ----- evaluation -----
    def evaluate(self):
        """The exact test NLL per image and per pixel (a conditional run: also the marginal and
        the model as a Bayes classifier); the judge's verdict on samples and on completions of
        the test digits' bottom halves."""
        images = self.test_data.images
        if self.config.conditional:
            result = self.evaluate_classifier(images, self.test_data.labels)
        else:
            result = {"nll": float(-self.log_prob(images).mean())}
        result.update(nll_per_token=result["nll"] / math.prod(self.shape), test_images=len(images))
        count = self.settings["eval_samples"]
        count = (EVAL_SAMPLES if math.prod(self.shape) <= 64 else 0) if count is None else count
        if not count:
            result["note"] = ("no sample or completion metrics: eval_samples is 0 (the default for images "
                              "larger than 8x8, where drawing pixel by pixel is slow; set eval_samples)")
            return result
        samples = self.sample(count, SAMPLE_SEED)                                  # in [0, 1]
        labels = self.sample_labels(count) if self.config.conditional else None      # what sample() drew
        result.update(judge.image_sample_metrics(samples, self.config.data, self.train_data, self.test_data,
                                                 labels=labels))
        complete = lambda given, mask: self.sample(len(given), SAMPLE_SEED, given=given, mask=mask)   # noqa: E731
        result.update(judge.completion_metrics(complete, self.config.data, self.test_data, "bottom"))
        return result

    def evaluate_classifier(self, images, labels):
        """A conditional run on test images and their labels: ``nll`` = -log p(x | y) (exact),
        ``nll_marginal`` = -log p(x), and the model as a classifier by Bayes' rule: ``bayes_accuracy``,
        ``bayes_nll`` = -log p(y | x), ``bayes_accuracy_top_half`` (from the top half alone),
        next to ``judge_accuracy``, the discriminative classifier's on the same digits."""
        x = self.pixels(self.check_images(images, "evaluate"))
        joint = mg.tensor(self.class_log_likelihoods(x), dtype="float64")                # (N, C): log p(x | y)
        top = mg.tensor(self.class_log_likelihoods(x, rows=self.shape[1] - self.shape[1] // 2), dtype="float64")
        posterior = A.bayes_posterior(joint, self.log_prior).numpy()                     # (N, C): log p(y | x)
        each = backend.host.arange(len(labels))
        return {"nll": float(-joint.numpy()[each, labels].mean()),
                "nll_marginal": float(-A.log_marginal(joint, self.log_prior).numpy().mean()),
                "bayes_accuracy": float((posterior.argmax(axis=1) == labels).mean()),
                "bayes_accuracy_top_half": float((A.bayes_posterior(top, self.log_prior).numpy().argmax(axis=1)
                                                  == labels).mean()),
                "bayes_nll": float(-posterior[each, labels].mean()), "bayes_prior": "training-split class frequencies",
                "judge_accuracy": judge.digit_judge(self.config.data).accuracy}

    def figure(self):
        return viz_pixelcnn.figure(self)

"""VAEs: an encoder q(z | x), a latent code z, a decoder p(x | z) (objectives/elbo.py).

    JoinLabel                   --conditional: a label's learned embedding joined to a network's input
    MLPEncoder / MLPDecoder     any images, flattened (the default: 8x8 digits)
    ConvEncoder / ConvDecoder   images (N, C, S, S), S a multiple of 4 (28x28 IDX files);
                                ConvTranspose2d layers in the decoder
    VAETrainer                  the training step (ELBO or IWAE), sampling, reconstructions,
                                latent interpolation, log_prob, evaluation, the figure

One training step (``VAETrainer.train_step``), for a batch x (B, C, H, W):

    1. the encoder gives mu, log sigma^2 (B, d): the sketch of each x, as a distribution;
    2. k reparameterised codes z = mu + sigma * eps (k, B, d) (k = 1 unless ``samples`` says);
    3. the decoder paints each code: logits (Bernoulli) or means (Gaussian), (k B, C, H, W);
    4. --loss elbo: maximise mean_k log p(x | z) - beta KL(q || N(0, I)) (the KL in closed form);
       --loss iwae: maximise L_k = log mean_k p(x, z) / q(z | x);
       the KL weight beta warms up from 0 to 1 over the first tenth of the steps;
       one AdamW step on both networks, with a cosine learning-rate decay to 0.

The likelihood follows the data: Bernoulli for digits-binary; for idx: files too, their pixels
binarised at 0 (half-way up the [-1, 1] scale), as the VAE literature's binarised MNIST (a
Bernoulli decoder's draws are crisp digits, a Gaussian's fixed-variance noise is not); Gaussian
with a learned, floored variance per pixel for digits (17 grey levels in [-1, 1]).

Sampling draws z ~ N(0, I) and paints it: binary data gets binary draws from the decoder's
Bernoulli probabilities (what the model says a digit is, noise and all); Gaussian data gets
the decoder's mean (a draw would add independent static to every pixel, nothing of the digit).

The conditional VAE (``--conditional``, Sohn et al. 2015) learns p(x | y) for labelled data: each
network has a learned embedding of the label y (``JoinLabel``, ``label_dim`` numbers a class)
joined to its input, the pixels of the encoder, q(z | x, y), and the code of the decoder,
p(x | z, y); the prior stays N(0, I). Its ELBO bounds log p(x | y) (objectives/elbo.py). Sampling
paints each z as a class: ``--label K``, or the classes 0, 1, ..., 9 in turn; the likelihood
(log_prob, eval's nll_iwae, and nll_iwae_per_label) is log p(x | y) given the images' labels.

Evaluation (``minigen eval``): the k = 1000 importance-weighted estimate of -log p(x) on the
test split (nll_iwae), the ELBO and its two terms from the same 1,000 draws per image, the
active latent dimensions, and the image sample metrics every family reports (judge.py) on
1,000 prior samples. All draws come from private generators with fixed seeds: the same run
gives the same numbers every time. On idx: data (28x28, 10,000 test images) eval takes 100
draws on the first 500 test images instead (``eval_k``, ``eval_images``); log_prob keeps 1,000.
"""
import contextlib
import math
import operator
import reprlib

import minigen as mg
import minigen.functional as F
from minigen import backend, nn, optim
from minigen.data import DataLoader
from minigen.models import judge
from minigen.objectives import elbo as E
from minigen.runs import TourStop, Trainer, check_network_labels, endless
from minigen.viz import figure, image_grid


# ----- networks -----
class JoinLabel(nn.Module):
    """(h, y) -> h with a learned embedding (classes, dim) of the labels y (N,) joined on:
    features (N, F) -> (N, F + dim); images or feature maps (N, C, H, W) -> (N, C + dim, H, W),
    the embedding the same at every pixel (extra input channels). Followed by a Linear layer it
    adds a learned vector per class, as a one-hot input would; the table is what the label
    gradients reach (tests/test_vae.py), and conv inputs get ``dim`` channels, not one per class."""

    def __init__(self, classes, dim):
        super().__init__()
        self.embedding = nn.Embedding(classes, dim)

    def forward(self, h, y):
        e = self.embedding(y)                                       # (N, dim)
        if h.ndim == 4:
            e = e.reshape(*e.shape, 1, 1) * mg.ones(1, 1, *h.shape[2:], dtype=h.dtype, device=h.device)
        return mg.concat([h, e], axis=1)                            # (N, F + dim) or (N, C + dim, H, W)


def join_label(net, h, y):
    """h with the labels y joined on (``net.label``, a JoinLabel) in a conditional network; h as
    it is in an unconditional one. Labels missing for the first, or given to the second: refused."""
    conditional = hasattr(net, "label")
    check_network_labels(f"vae {type(net).__name__}", conditional, y, "the labels y (N,) of its inputs")
    return net.label(h, y) if conditional else h


class MLPEncoder(nn.Module):
    """x (N, *shape) -> (mu, log_var), each (N, z_dim), through ``depth`` hidden ReLU layers.

    ``classes`` > 0: conditional, q(z | x, y): forward(x, y) with the labels y (N,) of x, whose
    embedding (``label_dim``) is joined to the flattened pixels."""

    def __init__(self, shape, z_dim, hidden=256, depth=2, dropout=0.0, classes=0, label_dim=10):
        super().__init__()
        self.z_dim = z_dim
        layers, width = [], math.prod(shape)
        if classes:
            self.label, width = JoinLabel(classes, label_dim), width + label_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.body = nn.Sequential(*layers, nn.Linear(width, 2 * z_dim))

    def forward(self, x, y=None):
        h = join_label(self, x.reshape(x.shape[0], -1), y)         # (N, pixels [+ label_dim])
        out = self.body(h)                                          # (N, 2d)
        return out[:, :self.z_dim], out[:, self.z_dim:]           # (N, d), (N, d)


class MLPDecoder(nn.Module):
    """z (M, z_dim) -> (M, *shape): Bernoulli logits or Gaussian means, through ``depth`` ReLU layers.

    A Gaussian decoder also learns one log-variance per pixel (``log_var``, of ``shape``).
    ``classes`` > 0: conditional, p(x | z, y): forward(z, y), the labels' embedding joined to z."""

    def __init__(self, shape, z_dim, hidden=256, depth=2, dropout=0.0, learn_variance=False,
                 classes=0, label_dim=10):
        super().__init__()
        self.shape = tuple(shape)
        layers, width = [], z_dim
        if classes:
            self.label, width = JoinLabel(classes, label_dim), width + label_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.body = nn.Sequential(*layers, nn.Linear(width, math.prod(self.shape)))
        if learn_variance:
            self.log_var = nn.Parameter(mg.zeros(*self.shape))

    def forward(self, z, y=None):
        h = join_label(self, z, y)                                  # (M, d [+ label_dim])
        return self.body(h).reshape(z.shape[0], *self.shape)      # (M, C, H, W)


class ConvEncoder(nn.Module):
    """x (N, C, S, S) -> (mu, log_var) (N, z_dim): Conv 4/2/1 -> ReLU -> Conv 4/2/1 -> ReLU -> Linear.

    ``classes`` > 0: conditional, forward(x, y): the labels' embedding joins x as extra channels."""

    def __init__(self, shape, z_dim, width=32, classes=0, label_dim=10):
        super().__init__()
        channels, size = shape[0], shape[1]
        if size % 4 or shape[1] != shape[2]:
            raise ValueError(f"vae: --model conv needs square images whose side is a multiple of 4, got {shape}")
        self.z_dim = z_dim
        if classes:
            self.label, channels = JoinLabel(classes, label_dim), channels + label_dim
        self.down1 = nn.Conv2d(channels, width, 4, stride=2, padding=1)
        self.down2 = nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)
        self.head = nn.Linear(2 * width * (size // 4) ** 2, 2 * z_dim)

    def forward(self, x, y=None):
        h = join_label(self, x, y)                                  # (N, C [+ label_dim], S, S)
        h = F.relu(self.down1(h))                                  # (N, w, S/2, S/2)
        h = F.relu(self.down2(h))                                  # (N, 2w, S/4, S/4)
        out = self.head(h.reshape(x.shape[0], -1))                  # (N, 2d)
        return out[:, :self.z_dim], out[:, self.z_dim:]


class ConvDecoder(nn.Module):
    """z (M, z_dim) -> (M, C, S, S): Linear -> (2w, S/4, S/4) -> ReLU -> ConvTranspose 4/2/1 -> ReLU
    -> ConvTranspose 4/2/1 (logits or means; a Gaussian decoder also learns ``log_var``).
    ``classes`` > 0: conditional, forward(z, y), the labels' embedding joined to z."""

    def __init__(self, shape, z_dim, width=32, learn_variance=False, classes=0, label_dim=10):
        super().__init__()
        self.shape = tuple(shape)
        channels, size = shape[0], shape[1]
        self.width, self.side = width, size // 4
        if classes:
            self.label = JoinLabel(classes, label_dim)
        self.project = nn.Linear(z_dim + (label_dim if classes else 0), 2 * width * self.side ** 2)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1)
        self.up2 = nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1)
        if learn_variance:
            self.log_var = nn.Parameter(mg.zeros(*self.shape))

    def forward(self, z, y=None):
        h = F.relu(self.project(join_label(self, z, y))).reshape(z.shape[0], 2 * self.width, self.side, self.side)  # (M, 2w, S/4, S/4)
        h = F.relu(self.up1(h))                                    # (M, w, S/2, S/2)
        return self.up2(h)                                          # (M, C, S, S)


def repeat(x, k):
    """x (N, ...) -> (k N, ...): k copies, one per draw of z (draw-major, as z.reshape(k N, d))."""
    return x if k == 1 else mg.concat([x] * k)


# ----- settings -----
def default_settings(model, data):
    """What `minigen train vae` uses when nothing else is said (config.extra overrides any of it)."""
    return {
        "z_dim": 16 if model == "mlp" else 32,
        "hidden": 256,               # hidden units of each MLP layer
        "depth": 2,                  # hidden layers of the MLPs
        "width": 32,                 # channels of the conv networks
        "dropout": 0.2,              # in the MLPs' hidden layers, training only
        "likelihood": "gaussian" if data == "digits" else "bernoulli",
        "min_log_var": math.log(0.05 ** 2),    # Gaussian: pixel std >= 0.05 on the [-1, 1] scale
        "samples": 1,                # draws of z per example and step (--loss iwae: 5 unless given)
        "beta": 1.0,                 # the KL weight after warm-up
        "warmup": 0.1,               # the fraction of the steps over which the KL weight rises from 0 to beta
        "weight_decay": 0.0,         # AdamW's decoupled weight decay
        "min_lr": 0.0,               # the cosine schedule's end
        "ema": 0.0,                  # decay of an average of the weights used to evaluate and sample; 0 = none
        "label_dim": 10,             # --conditional: the size of each network's label embedding
        # minigen eval's importance samples and test images (None: all). 28x28 IDX test sets are
        # large and each draw is a conv decoder pass: there, 100 draws on the first 500 images
        "eval_k": 100 if data.startswith("idx:") else 1000,
        "eval_images": 500 if data.startswith("idx:") else None,
    }


class VAETrainer(Trainer):
    """`minigen train vae`: the encoder and decoder, one Adam optimizer, the step, and the rest.

    ``self.settings`` (= config.extra, so recorded in config.json): see ``default_settings``.
    """

    DEFAULTS = {
        "mlp": {"steps": 20000, "batch_size": 64, "lr": 1e-3, "loss": "elbo"},
        "conv": {"steps": 2000, "batch_size": 64, "lr": 1e-3, "loss": "elbo"},
    }
    # --conditional: 10,000 steps did as well as 20,000 on the holdout (tools/vae_holdout.py
    # --conditional: label accuracy 0.967 against 0.969, Frechet 10.31 against 10.65), in half the time
    CONDITIONAL_DEFAULTS = {"mlp": {"steps": 10000}}
    LOSSES = ("elbo", "iwae")
    DATA = ("digits-binary", "digits", "idx:")
    TOUR = (TourStop("digits-binary", "mlp", steps=2000, quick_steps=60, metric="nll_iwae"),
            TourStop("digits-binary", "mlp", steps=2000, quick_steps=60, metric="label_accuracy",
                     conditional=True))
    CONDITIONAL = True

    IWAE_K = 1000           # importance samples per image for nll_iwae and log_prob
    IWAE_SEED = 4321        # their eps
    SAMPLE_SEED = 1234      # the z (and the Bernoulli draws) of evaluation samples

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        s = {**default_settings(config.model, config.data), **config.extra}
        if s["likelihood"] not in ("bernoulli", "gaussian"):
            raise ValueError(f"vae: likelihood must be 'bernoulli' or 'gaussian', got {s['likelihood']!r}")
        if config.loss == "iwae" and "samples" not in config.extra:
            s["samples"] = 5
        self.settings = config.extra = s
        self.shape = tuple(train.shape)
        self.bernoulli = s["likelihood"] == "bernoulli"
        gaussian = not self.bernoulli
        labels = {"classes": train.num_classes if config.conditional else 0, "label_dim": s["label_dim"]}
        if config.model == "conv":
            self.encoder = ConvEncoder(self.shape, s["z_dim"], s["width"], **labels)
            self.decoder = ConvDecoder(self.shape, s["z_dim"], s["width"], learn_variance=gaussian, **labels)
        else:
            self.encoder = MLPEncoder(self.shape, s["z_dim"], s["hidden"], s["depth"], s["dropout"], **labels)
            self.decoder = MLPDecoder(self.shape, s["z_dim"], s["hidden"], s["depth"], s["dropout"],
                                      learn_variance=gaussian, **labels)
        self.encoder.to(config.device)
        self.decoder.to(config.device)
        self.modules = {"encoder": self.encoder, "decoder": self.decoder}
        params = [*self.encoder.parameters(), *self.decoder.parameters()]
        self.optimizers = {"vae": optim.AdamW(params, lr=config.lr, weight_decay=s["weight_decay"])}
        # averaged weights (checkpointed with the optimizers: they have state_dict/load_state_dict)
        self.averages = [optim.EMA(m, s["ema"]) for m in (self.encoder, self.decoder)] if s["ema"] else []
        self.optimizers.update(zip(("encoder_ema", "decoder_ema"), self.averages))
        self.train_x = self.to_model(train.images)

    # ----- the data as the model sees it -----
    def to_model(self, images):
        """Images in the data's values -> what the likelihood models: binary pixels (binarised at
        the middle of the value range when the data is not binary already), or the values as they are."""
        if not self.bernoulli or self.train_data.binary:
            return images.astype("float32")
        low, high = self.train_data.value_range
        return (images > (low + high) / 2).astype("float32")

    def to_picture(self, values):
        """Decoder probabilities (Bernoulli) or means (Gaussian, in the data's values) -> [0, 1]."""
        if self.bernoulli:
            return values.astype("float32")
        return self.train_data.to_unit(values)

    def label_tensor(self, labels, n, where):
        """The labels of n images as an int64 Tensor for a conditional run, None for an unconditional
        one. Refused: labels missing for a conditional run, given to an unconditional one, or not
        one class (an integer from 0 to C - 1) per image."""
        if not self.config.conditional:
            if labels is not None:
                raise ValueError(f"vae {where}: labels= is for conditional runs; this one was trained "
                                 f"without --conditional")
            return None
        classes = self.train_data.num_classes
        if labels is None:
            raise ValueError(f"vae {where}: this run is conditional (trained with --conditional): give "
                             f"labels=, one class from 0 to {classes - 1} per image")
        try:
            ys = [operator.index(k) for k in labels]
        except TypeError:
            ys = None
        if ys is None or len(ys) != n or not all(0 <= k < classes for k in ys):
            raise ValueError(f"vae {where}: labels= must give one class per image, integers from 0 to "
                             f"{classes - 1}, for {n} images; got {reprlib.repr(labels)}")
        return mg.tensor(ys, dtype="int64", device=self.config.device)

    def log_likelihood(self, out, x):
        """log p(x | z) per example from the decoder's output ``out`` and x, both (M, C, H, W) -> (M,)."""
        if self.bernoulli:
            return E.bernoulli_log_likelihood(out, x)
        return E.gaussian_log_likelihood(x, out, self.decoder.log_var, self.settings["min_log_var"])

    # ----- training -----
    def batches(self):
        """Batches (x,), or (x, y) with the labels y (B,) for a conditional run."""
        arrays = (self.train_x, self.train_data.labels) if self.config.conditional else (self.train_x,)
        loader = DataLoader(*arrays, batch_size=self.config.batch_size, shuffle=True,
                            seed=self.config.seed, drop_last=True, device=self.config.device)
        return endless(loader, self.step_count)

    def objective(self, x, k, beta, y=None):
        """(the objective per example (B,), log p(x | z[, y]) (k, B), KL (B,)) for x (B, C, H, W)
        and, for a conditional run, its labels y (B,): q(z | x, y) and p(x | z, y)."""
        mu, log_var = self.encoder(x, y)                                   # (B, d), (B, d)
        eps = mg.randn(k, *mu.shape, device=self.config.device)           # (k, B, d)
        z = E.reparameterize(mu, log_var, eps)                              # (k, B, d)
        y_k = None if y is None else repeat(y, k)                           # (k B,)
        out = self.decoder(z.reshape(k * x.shape[0], mu.shape[1]), y_k)    # (k B, C, H, W)
        ll = self.log_likelihood(out, repeat(x, k)).reshape(k, x.shape[0])  # (k, B)
        kl = E.kl_standard_normal(mu, log_var)                              # (B,)
        if self.config.loss == "iwae":
            bound = E.iwae_bound(E.log_importance_weights(ll, z, mu, log_var, beta))
        else:
            bound = E.elbo(ll.mean(axis=0), kl, beta)
        return bound, ll, kl

    def kl_weight(self):
        """beta for this step: warmed up linearly over the first ``warmup`` fraction of the steps."""
        s = self.settings
        return E.kl_weight(self.step_count, s["beta"], round(s["warmup"] * self.config.steps))

    def train_step(self, batch):
        x, *y = batch                                                       # (B, C, H, W) [, (B,)]
        s, opt = self.settings, self.optimizers["vae"]
        opt.lr = optim.warmup_cosine(self.step_count, self.config.lr, 0, self.config.steps, s["min_lr"])
        bound, ll, kl = self.objective(x, s["samples"], self.kl_weight(), *y)
        loss = -bound.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        for average in self.averages:
            average.update()
        return {"loss": loss.item(), "reconstruction": -ll.mean().item(), "kl": kl.mean().item()}

    # ----- the code of an image, and back -----
    def encode(self, images, labels=None):
        """Posterior means and log-variances (NumPy (N, d) each) of images in the data's values
        (and, for a conditional run, their labels: q(z | x, y))."""
        x = mg.tensor(self.to_model(images), device=self.config.device)
        y = self.label_tensor(labels, len(images), "encode")
        with mg.no_grad(), self.evaluating():
            mu, log_var = self.encoder(x, y)
        return mu.numpy(), log_var.numpy()

    def decode(self, z, labels=None):
        """Pictures in [0, 1] (Bernoulli probabilities, or Gaussian means) of codes z (N, d)
        (painted as the classes ``labels``, one per code, for a conditional run)."""
        y = self.label_tensor(labels, len(z), "decode")
        with mg.no_grad(), self.evaluating():
            out = mg.concat([self.decoder(mg.tensor(z[i:i + 500], device=self.config.device),
                                          None if y is None else y[i:i + 500])
                             for i in range(0, len(z), 500)])
            values = F.sigmoid(out) if self.bernoulli else out
        return self.to_picture(values.numpy())

    def reconstruct(self, images, labels=None):
        """The decoder's picture (in [0, 1]) of each image's posterior mean code."""
        return self.decode(self.encode(images, labels)[0], labels)

    def interpolate(self, first, second, steps=10):
        """Pictures (steps, C, H, W) along the straight line between the posterior means of two
        images (C, H, W) in the data's values: a latent walk from the first to the second."""
        a = mg.tensor(self.encode(first[None])[0])                         # (1, d)
        b = mg.tensor(self.encode(second[None])[0])
        t = mg.arange(steps, dtype="float32").reshape(steps, 1) * (1.0 / (steps - 1))   # (steps, 1)
        return self.decode((a * (1 - t) + b * t).numpy())

    @contextlib.contextmanager
    def evaluating(self):
        """A context for using the model: the networks in eval mode (no dropout) and, when an
        average of the weights is kept, with the averaged weights; as they were afterwards."""
        was = [m.training for m in self.modules.values()]
        with contextlib.ExitStack() as stack:
            for average in self.averages:
                stack.enter_context(average.average_parameters())
            for m in self.modules.values():
                m.eval()
            try:
                yield
            finally:
                for m, training in zip(self.modules.values(), was):
                    m.train(training)

    # ----- sampling -----
    def sample(self, n, seed, **options):
        """n images (n, C, H, W) float32 in [0, 1] from z ~ N(0, I): binary draws for Bernoulli data,
        the decoder's means for Gaussian data. z and the draws come from a private generator
        seeded by ``seed`` (the same samples on every device; the training generator is untouched).

        A conditional run paints each z as a class y, p(x | z, y): ``label=K`` (--label K) for all
        of them, or without it the classes 0, 1, ..., 9, 0, 1, ... in turn (``sample_labels``)."""
        self.refuse_unconditional(options)
        label = options.pop("label", None)
        if options:
            takes = "--n, --seed and --label" if self.config.conditional else "--n and --seed"
            raise NotImplementedError(f"vae: sampling takes no options beyond {takes}, got "
                                      f"{', '.join('--' + k.replace('_', '-') for k in sorted(options))}")
        labels = self.sample_labels(n, label) if self.config.conditional else None
        generator = backend.private_generator(seed)
        z = generator.standard_normal((n, self.settings["z_dim"])).astype("float32")
        pictures = self.decode(z, labels)
        if self.bernoulli:
            return (generator.random(pictures.shape) < pictures).astype("float32")
        return pictures

    # ----- likelihood and evaluation -----
    def check_images(self, images, where):
        """Refuse images that are not (N, C, H, W) like the run's data, or not binary when it is."""
        shape = getattr(images, "shape", None)
        if shape is None or len(shape) != 4 or tuple(shape[1:]) != self.shape:
            raise ValueError(f"vae {where}: expected images of shape (N, {', '.join(map(str, self.shape))}) "
                             f"in the data's values, got {shape}")
        if self.train_data.binary and not ((images == 0) | (images == 1)).all():
            raise ValueError(f"vae {where}: {self.config.data} images are binary; pixels must be 0 or 1")

    def bounds(self, images, k=None, chunk=20, labels=None):
        """Per image of ``images`` (data values): the k-draw IWAE estimate of log p(x), and, from the
        same draws, E_q log p(x | z) and the analytic KL. NumPy (N,) arrays, in nats; deterministic
        (eps from a private generator seeded by IWAE_SEED, drawn chunk after chunk). A conditional
        run needs the images' ``labels`` and gives log p(x | y), E_q log p(x | z, y), KL(q(z | x, y) || p(z))."""
        self.check_images(images, "log_prob")
        y_all = self.label_tensor(labels, len(images), "log_prob")
        k = self.IWAE_K if k is None else k
        generator = backend.private_generator(self.IWAE_SEED)
        x_all = self.to_model(images)
        iwae, recon, kl = [], [], []
        with mg.no_grad(), self.evaluating():
            for i in range(0, len(x_all), chunk):
                x = mg.tensor(x_all[i:i + chunk], device=self.config.device)      # (c, C, H, W)
                y = None if y_all is None else y_all[i:i + chunk]                  # (c,)
                n = x.shape[0]
                mu, log_var = self.encoder(x, y)                                   # (c, d)
                eps = generator.standard_normal((k,) + tuple(mu.shape)).astype("float32")
                z = E.reparameterize(mu, log_var, mg.tensor(eps, device=self.config.device))   # (k, c, d)
                y_k = None if y is None else repeat(y, k)                           # (k c,)
                out = self.decoder(z.reshape(k * n, mu.shape[1]), y_k)             # (k c, C, H, W)
                ll = self.log_likelihood(out, repeat(x, k)).reshape(k, n)         # (k, c)
                iwae.append(E.iwae_bound(E.log_importance_weights(ll, z, mu, log_var)))
                recon.append(ll.mean(axis=0))
                kl.append(E.kl_standard_normal(mu, log_var))
        return tuple(mg.concat(parts).numpy().astype("float64") for parts in (iwae, recon, kl))

    def log_prob(self, images, labels=None):
        """log p(x) per image (NumPy (N,), nats): the k = 1000 importance-weighted estimate; for a
        conditional run log p(x | y), and ``labels`` (one class per image) are required."""
        return self.bounds(images, labels=labels)[0]

    def active_units(self, images, threshold=0.01, labels=None):
        """Latent dimensions u with Cov_x(E_q[z_u | x]) > threshold (Burda et al. 2016)."""
        mu, _ = self.encode(images, labels)
        return int((mu.var(axis=0) > threshold).sum())

    def evaluate(self):
        """The test-split metrics; a conditional run's NLL is -log p(x | y) with the test labels,
        also per label (``nll_iwae_per_label``), and its 1,000 samples (100 of each class) add
        ``label_accuracy``."""
        test = self.test_data.images[:self.settings["eval_images"]]
        labels = self.test_data.labels[:len(test)] if self.config.conditional else None
        iwae, recon, kl = self.bounds(test, k=self.settings["eval_k"], labels=labels)
        result = {"nll_iwae": float(-iwae.mean()), "neg_elbo": float((kl - recon).mean()),
                  "reconstruction": float(-recon.mean()), "kl": float(kl.mean()),
                  "active_units": self.active_units(test, labels=labels), "z_dim": self.settings["z_dim"],
                  "iwae_k": self.settings["eval_k"], "test_size": len(test)}
        if self.config.conditional:
            result["nll_iwae_per_label"] = [float(-iwae[labels == c].mean()) if (labels == c).any() else None
                                            for c in range(self.train_data.num_classes)]
        samples = self.sample(1000, self.SAMPLE_SEED)                           # in [0, 1]
        asked = self.sample_labels(1000) if self.config.conditional else None
        result.update(judge.image_sample_metrics(samples, self.config.data, self.train_data, self.test_data,
                                                 labels=asked))
        return result

    # ----- the picture -----
    def unconditional_panels(self):
        """[(title, images in [0, 1])]: draws and their means from the same codes, a latent walk."""
        generator = backend.private_generator(0)
        z = generator.standard_normal((40, self.settings["z_dim"])).astype("float32")
        means = self.decode(z)
        panels = [("samples: z ~ N(0, I), decoder means", means)]
        if self.bernoulli:
            draws = (generator.random(means.shape) < means).astype("float32")
            panels = [("samples: binary draws", draws), ("the same codes: Bernoulli means", means)]
        test, labels = self.test_data.images, self.test_data.labels
        if labels is None:
            first, second, title = 0, 1, "latent walk: test image 0 -> test image 1"
        else:
            first, second = int((labels == 0).argmax()), int((labels == 1).argmax())
            title = "latent walk: the first test 0 -> the first test 1 (posterior means, decoded)"
        panels.append((title, self.interpolate(test[first], test[second], steps=10)))
        return panels

    def conditional_panels(self):
        """[(title, images in [0, 1])]: samples, class k in column k; four codes painted as each class."""
        classes = self.train_data.num_classes
        kind = "binary draws" if self.bernoulli else "decoder means"
        panels = [(f"samples ({kind}) of the classes 0-{classes - 1}, one per column", self.sample(4 * classes, 0))]
        z = backend.private_generator(0).standard_normal((4, self.settings["z_dim"])).astype("float32")
        styles = self.decode(z.repeat(classes, axis=0), self.sample_labels(4 * classes))
        panels.append(("one code z per row, painted as each class: p(x | z, y)"
                       + (", Bernoulli means" if self.bernoulli else ""), styles))
        return panels

    def save_figure(self, path):
        """samples.png: prior samples (draws, and for Bernoulli data the probabilities they were
        drawn from), and a latent walk between two test digits. A conditional run instead shows
        its samples with a class per column, and four codes (rows) each painted as every class."""
        panels = self.conditional_panels() if self.config.conditional else self.unconditional_panels()
        fig = figure(figsize=(6, 1.9 * len(panels) + 0.3))
        rows = [math.ceil(len(images) / 10) for _, images in panels]                 # a grid 10 wide
        axes = fig.subplots(len(panels), 1, gridspec_kw={"height_ratios": rows})
        for ax, (title, images) in zip(axes, panels):
            ax.imshow(image_grid(images, nrow=10), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.set_axis_off()
        kind = ", conditional" if self.config.conditional else ""
        fig.suptitle(f"VAE ({self.config.model}, {self.config.loss}{kind}) on {self.config.data}", fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=100)


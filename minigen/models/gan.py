"""GANs: a generator and a discriminator trained against each other (objectives/minimax.py).

    MLPGenerator / MLPDiscriminator   2-D points (8gaussians, swissroll); any data, flattened
    DCGenerator / DCDiscriminator     images (N, C, S, S), S a multiple of 4: 8x8 digits, 28x28 IDX
    LabelledNoise / Projection        how G and D of a conditional GAN see the label (below)
    GANTrainer                        the alternating game, sampling, evaluation, the figure

One training step (``GANTrainer.train_step``):

    1. the discriminator (or critic) step: fakes G(z) made without a graph through G, the
       discriminator's loss on a real batch and the fakes, one Adam step on D's weights;
    2. the generator step, every ``n_critic``-th step (1 for the minimax losses, 5 for
       WGAN-GP): fresh fakes, the generator's loss through a frozen D, one Adam step on G's.

So ``--steps`` counts discriminator updates; G is updated steps / n_critic times.

Conditional GANs (``--conditional``: p(x | y) for labelled images, y a class 0..C-1). Both
networks see the label, in two different ways:

    G(z, y)   the label's learned embedding (N, label_dim) joined to z: G's input is
              [z, embed_G(y)] (Mirza & Osindero, 2014). Nothing else in G changes.
    D(x, y)   a projection discriminator (Miyato & Koyama, 2018):
                  D(x, y) = psi(phi(x)) + <embed_D(y), phi(x)>
              phi(x) (N, F): D's last hidden features (flattened, for the DCGAN); psi: D's own
              output layer; the class term: an inner product with a learned vector per class
              (``Projection``). Why: the optimal D's logit is log p_data(x, y) / p_g(x, y) =
              log p_data(x) / p_g(x) + log p_data(y | x) / p_g(y | x); when both class
              posteriors are softmaxes of linear functions of phi(x), the second log ratio is
              <v_y, phi(x)> plus a term without y, so D's form is that of the ideal one. Joining
              the label to x instead tells D the class only at its first layer. And embed_D
              starts at 0, where D is the unconditional discriminator, and D(x, y) stays a
              function of one sample, as the gradient penalty needs.
    training  fakes are drawn for the labels of the real batch, so D compares real and fake
              digits of the same classes, and WGAN-GP's interpolates x_hat = a x + (1 - a)
              G(z, y) lie between two samples of class y: the penalty is on grad_x D(x_hat, y).
    sampling  ``sample(n, seed)`` draws the classes 0, 1, ..., C-1 in turn (a 10-column grid has
              one class per column); ``sample(n, seed, label=K)`` only class K.

Evaluation (``minigen eval``) draws samples from fixed noise and compares them with the test
split (minigen/metrics.py): modes covered and high-quality share on 8gaussians, energy
distance on 2-D data; on labelled images, what the project's digits classifier makes of
them (class entropy, confidence) and the Frechet distance of its features, and for a
conditional run the label accuracy (the share of samples the judge assigns to the class they
were drawn for, 100 per class). Each number comes with its floor: the value true samples
get (minigen/models/judge.py, shared by every family).
"""
import functools
import math

import minigen as mg
import minigen.functional as F
from minigen import backend, nn, optim
from minigen.data import DataLoader
from minigen.models import judge
from minigen.objectives.minimax import LOSSES, gradient_penalty
from minigen.runs import TourStop, Trainer, check_network_labels, endless
from minigen.viz import figure, save_image_grid


# ----- networks -----
# Each takes ``num_classes`` (None: unconditional, the default) and then ``labels`` (N,) ints.
def check_labels(net, labels):
    """Labels (N,) for a conditional network, none for an unconditional one (runs.check_network_labels)."""
    check_network_labels(type(net).__name__, net.num_classes is not None, labels,
                         f"labels (N,) from 0 to {(net.num_classes or 0) - 1}")


class LabelledNoise(nn.Module):
    """G's input: z (N, z_dim) and y (N,) -> [z, embed(y)] (N, z_dim + label_dim).

    ``num_classes`` None: z alone (an unconditional G), and ``width`` = z_dim.
    """

    def __init__(self, z_dim, num_classes=None, label_dim=16):
        super().__init__()
        self.num_classes = num_classes
        self.width = z_dim if num_classes is None else z_dim + label_dim
        if num_classes is not None:
            self.embed = nn.Embedding(num_classes, label_dim)     # N(0, 1) rows: the scale of z

    def forward(self, z, labels=None):
        check_labels(self, labels)
        if self.num_classes is None:
            return z                                              # (N, z)
        return mg.concat([z, self.embed(labels)], axis=1)        # (N, z + label_dim)


class Projection(nn.Module):
    """The projection discriminator's class term: features h (N, F), labels y (N,) -> <e_y, h> (N,).

    e_y: row y of a (num_classes, F) table, initialised to 0 (D starts as the unconditional one).
    """

    def __init__(self, num_classes, features):
        super().__init__()
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, features)
        nn.init.zeros_(self.embed.weight)

    def forward(self, h, labels):
        check_labels(self, labels)
        return (self.embed(labels) * h).sum(axis=1)               # (N,)


class MLPGenerator(nn.Module):
    """z (N, z_dim) [, y (N,)] -> samples (N, *shape) through ``depth`` hidden ReLU layers.

    2-D points come out as they are (unbounded); images get a tanh, into [-1, 1].
    """

    def __init__(self, z_dim, shape, hidden=128, depth=2, bounded=False, num_classes=None, label_dim=16):
        super().__init__()
        self.shape, self.bounded = tuple(shape), bounded
        self.input = LabelledNoise(z_dim, num_classes, label_dim)
        layers, width = [], self.input.width
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.body = nn.Sequential(*layers, nn.Linear(width, math.prod(self.shape)))

    def forward(self, z, labels=None):
        x = self.body(self.input(z, labels))                      # (N, prod(shape))
        if self.bounded:
            x = F.tanh(x)
        return x.reshape(z.shape[0], *self.shape)                # (N, *shape)


class MLPDiscriminator(nn.Module):
    """x (N, *shape) [, y (N,)] -> one logit per sample (N,), through ``depth`` hidden LeakyReLU(0.2)
    layers; conditional: plus the projection of the last hidden layer on y's vector."""

    def __init__(self, shape, hidden=128, depth=2, num_classes=None):
        super().__init__()
        self.num_classes = num_classes
        layers, width = [], math.prod(shape)
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.body = nn.Sequential(*layers, nn.Linear(width, 1))   # the last layer is psi
        if num_classes is not None:
            self.projection = Projection(num_classes, width)

    def forward(self, x, labels=None):
        check_labels(self, labels)
        x = x.reshape(x.shape[0], -1)                             # (N, prod(shape))
        if self.num_classes is None:
            return self.body(x).reshape(x.shape[0])               # (N,)
        h = self.body[:-1](x)                                     # (N, hidden): phi(x)
        return self.body[-1](h).reshape(x.shape[0]) + self.projection(h, labels)   # (N,)


class DCGenerator(nn.Module):
    """DCGAN's generator: z (N, z_dim) [, y (N,)] -> images (N, C, S, S) in [-1, 1], S = 4 * S0.

    z (conditional: [z, embed(y)]) as a 1x1 image -> ConvTranspose (kernel S0) -> (2w, S0, S0) -> BatchNorm, ReLU
    -> ConvTranspose 4/2/1 -> (w, 2 S0, 2 S0) -> BatchNorm, ReLU -> ConvTranspose 4/2/1 -> tanh.
    S0 = 2 for 8x8 digits, 7 for 28x28 MNIST.
    """

    def __init__(self, z_dim, channels, size, width=64, num_classes=None, label_dim=16):
        super().__init__()
        if size % 4:
            raise ValueError(f"DCGenerator: the image size must be a multiple of 4, got {size}")
        self.input = LabelledNoise(z_dim, num_classes, label_dim)
        self.project = nn.ConvTranspose2d(self.input.width, 2 * width, size // 4, bias=False)
        self.norm1 = nn.BatchNorm2d(2 * width)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(width)
        self.up2 = nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1)

    def forward(self, z, labels=None):
        h = self.input(z, labels)                                 # (N, z [+ label_dim])
        h = h.reshape(h.shape[0], h.shape[1], 1, 1)               # (N, z [+ label_dim], 1, 1)
        h = F.relu(self.norm1(self.project(h)))                   # (N, 2w, S/4, S/4)
        h = F.relu(self.norm2(self.up1(h)))                       # (N, w, S/2, S/2)
        return F.tanh(self.up2(h))                                # (N, C, S, S)


class DCDiscriminator(nn.Module):
    """DCGAN's discriminator: images (N, C, S, S) [, y (N,)] -> one logit per image (N,).

    Conv 4/2/1 -> LeakyReLU(0.2) -> Conv 4/2/1 -> LeakyReLU(0.2) -> Conv (kernel S/4) to 1x1.
    No BatchNorm: each image's logit depends on that image alone, which the gradient
    penalty of WGAN-GP needs (a per-sample gradient), and the minimax losses do not mind.
    The last conv sees the whole (2w, S/4, S/4) map: it is psi, a linear function of the
    flattened map phi(x); conditional: plus the projection of phi(x) on y's vector.
    """

    def __init__(self, channels, size, width=64, num_classes=None):
        super().__init__()
        self.num_classes = num_classes
        self.down1 = nn.Conv2d(channels, width, 4, stride=2, padding=1)
        self.down2 = nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)
        self.head = nn.Conv2d(2 * width, 1, size // 4)
        if num_classes is not None:
            self.projection = Projection(num_classes, 2 * width * (size // 4) ** 2)

    def forward(self, x, labels=None):
        check_labels(self, labels)
        n = x.shape[0]
        h = F.leaky_relu(self.down1(x), 0.2)                      # (N, w, S/2, S/2)
        h = F.leaky_relu(self.down2(h), 0.2)                      # (N, 2w, S/4, S/4)
        logits = self.head(h).reshape(n)                          # (N,)
        if self.num_classes is None:
            return logits
        return logits + self.projection(h.reshape(n, -1), labels)    # (N,)


# ----- settings -----
# What `minigen train gan` does when nothing else is said: per model, per loss. steps and lr
# are filled in here (the family's DEFAULTS leave them to the loss); everything else is
# recorded in config.extra, where any value can be overridden (tutorials and tests do).
RECIPES = {
    "mlp": {
        # two hidden layers of 256; D learns twice as fast as G (two time scales), and the
        # learning rate decays linearly to 0, which is what lets the samples settle on the modes
        "nonsaturating": {"steps": 6000, "lr": 2e-4, "g_width": 256, "d_width": 256, "d_lr_scale": 2.0},
        # 5 critic steps per G step, Adam betas (0.5, 0.9) as in the WGAN-GP paper; the critic is
        # a smooth function, so it tolerates (and needs, to move G far enough) a larger lr
        "wgan-gp": {"steps": 10000, "lr": 1e-3, "g_width": 128, "d_width": 128, "d_lr_scale": 1.0,
                    "betas": [0.5, 0.9], "n_critic": 5, "gp_weight": 0.1},
    },
    "dcgan": {
        "nonsaturating": {"steps": 3000, "lr": 2e-4, "g_width": 32, "d_width": 32, "d_lr_scale": 2.0},
        # the WGAN-GP paper's settings (lambda 10, 5 critic steps, betas (0.5, 0.9)): it runs, but
        # unlike the three recipes above it has no quality target and has not been tuned
        "wgan-gp": {"steps": 5000, "lr": 2e-4, "g_width": 32, "d_width": 32, "d_lr_scale": 1.0,
                    "betas": [0.5, 0.9], "n_critic": 5, "gp_weight": 10.0},
    },
}
RECIPES["mlp"]["minimax"] = RECIPES["mlp"]["nonsaturating"]      # the same game, the other G loss
RECIPES["dcgan"]["minimax"] = RECIPES["dcgan"]["nonsaturating"]


def default_settings(model, loss, data, conditional=False):
    """The settings of a run (before config.extra overrides them), steps and lr included."""
    images = data not in ("8gaussians", "swissroll")
    settings = {
        "z_dim": 2 if model == "mlp" and not images else 32,
        "g_width": 256,              # G's hidden units (mlp) or channels (dcgan)
        "d_width": 256,              # D's
        "depth": 2,                  # hidden layers (mlp)
        "betas": [0.5, 0.999],       # Adam's, for both networks (DCGAN's choice)
        "d_lr_scale": 1.0,           # D's learning rate = lr * d_lr_scale
        "lr_decay": "linear",        # "linear": lr * (1 - step / steps); "none": constant
        "n_critic": 1,               # D steps per G step
        "gp_weight": 10.0,           # WGAN-GP's penalty weight (lambda)
        "ema": 0.0,                  # decay of an EMA of G's weights used for sampling; 0 = none
    }
    settings.update(RECIPES[model][loss])
    if conditional:
        settings["label_dim"] = 16   # the width of G's label embedding, joined to z
    return settings


class GANTrainer(Trainer):
    """`minigen train gan`: G and D, their Adam optimizers (and an optional EMA of G's weights,
    used for sampling and checkpointed with the optimizers), the alternating step, samples.

    ``self.settings`` (= config.extra, so recorded in config.json): see ``default_settings``.
    """

    # steps and lr: None here, filled in per loss from RECIPES (a WGAN-GP run needs other ones)
    DEFAULTS = {
        "mlp": {"steps": None, "batch_size": 256, "lr": None, "loss": "nonsaturating"},
        "dcgan": {"steps": None, "batch_size": 64, "lr": None, "loss": "nonsaturating"},
    }
    LOSSES = tuple(LOSSES)
    DATA = ("8gaussians", "swissroll", "digits", "idx:")
    CONDITIONAL = True
    TOUR = (TourStop("8gaussians", "mlp", steps=3000, quick_steps=200, metric="modes", loss="nonsaturating"),
            TourStop("digits", "dcgan", steps=1500, quick_steps=60, metric="class_entropy", loss="nonsaturating"),
            TourStop("digits", "dcgan", steps=1000, quick_steps=40, metric="label_accuracy", loss="nonsaturating",
                     conditional=True))

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        s = {**default_settings(config.model, config.loss, config.data, config.conditional), **config.extra}
        steps, lr = s.pop("steps"), s.pop("lr")
        config.steps = steps if config.steps is None else config.steps
        config.lr = lr if config.lr is None else config.lr
        self.settings = config.extra = s
        shape = tuple(train.shape)
        self.images = train.kind == "images"
        classes = train.num_classes if config.conditional else None       # None: unconditional
        label = {"num_classes": classes, "label_dim": s["label_dim"]} if classes else {}
        if config.model == "dcgan":
            if not self.images:
                raise ValueError(f"gan: --model dcgan needs images; {config.data} is {train.kind}; use --model mlp")
            channels, size = shape[0], shape[1]
            self.G = DCGenerator(s["z_dim"], channels, size, s["g_width"], **label)
            self.D = DCDiscriminator(channels, size, s["d_width"], num_classes=classes)
        else:
            self.G = MLPGenerator(s["z_dim"], shape, s["g_width"], s["depth"], bounded=self.images, **label)
            self.D = MLPDiscriminator(shape, s["d_width"], s["depth"], num_classes=classes)
        self.G.to(config.device)
        self.D.to(config.device)
        self.d_loss_fn, self.g_loss_fn = LOSSES[config.loss]
        betas = tuple(s["betas"])
        self.modules = {"generator": self.G, "discriminator": self.D}
        self.optimizers = {"generator": optim.Adam(self.G.parameters(), lr=config.lr, betas=betas),
                           "discriminator": optim.Adam(self.D.parameters(), lr=config.lr, betas=betas)}
        self.ema = optim.EMA(self.G, s["ema"]) if s["ema"] else None
        if self.ema is not None:  # checkpointed with the optimizers (it has state_dict/load_state_dict)
            self.optimizers["generator_ema"] = self.ema
        self.last_g_loss = float("nan")

    # ----- training -----
    def batches(self):
        """(images,) batches, or (images, labels) for a conditional run: the same order either way."""
        arrays = (self.train_data.data,) + ((self.train_data.labels,) if self.config.conditional else ())
        loader = DataLoader(*arrays, batch_size=self.config.batch_size, shuffle=True,
                            seed=self.config.seed, drop_last=True, device=self.config.device)
        return endless(loader, self.step_count)

    def noise(self, n):
        return mg.randn(n, self.settings["z_dim"], device=self.config.device)

    def learning_rate(self):
        """The learning rate of this step: linear decay to 0 over the run, or constant."""
        if self.settings["lr_decay"] == "linear":
            return self.config.lr * (1 - self.step_count / self.config.steps)
        return self.config.lr

    def train_step(self, batch):
        real, labels = batch if self.config.conditional else (batch[0], None)   # (B, *shape), (B,) or None
        n = real.shape[0]
        lr = self.learning_rate()
        opt_d, opt_g = self.optimizers["discriminator"], self.optimizers["generator"]
        opt_g.lr, opt_d.lr = lr, lr * self.settings["d_lr_scale"]

        # 1. the discriminator (critic): tell real from fake; G is not differentiated here
        # (a conditional run makes its fakes for the real batch's labels: D judges both with them)
        with mg.no_grad():
            fake = self.G(self.noise(n), labels)                       # (B, *shape)
        both = None if labels is None else mg.concat([labels, labels])  # (2B,)
        logits = self.D(mg.concat([real, fake]), both)                 # (2B,): one pass for both
        d_loss = self.d_loss_fn(logits[:n], logits[n:])
        if self.config.loss == "wgan-gp":   # grad_x D(x_hat, y): real and fake of class y, mixed
            critic = functools.partial(self.D, labels=labels)
            d_loss = d_loss + self.settings["gp_weight"] * gradient_penalty(critic, real, fake)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()

        # 2. the generator, every n_critic-th step, through a frozen discriminator
        if (self.step_count + 1) % self.settings["n_critic"] == 0:
            self.D.requires_grad_(False)
            g_loss = self.g_loss_fn(self.D(self.G(self.noise(n), labels), labels))
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            self.D.requires_grad_(True)
            if self.ema is not None:
                self.ema.update()
            self.last_g_loss = g_loss.item()
        return {"D": d_loss.item(), "G": self.last_g_loss}

    # ----- sampling -----
    def generate(self, z, labels=None):
        """G(z[, y]) with the averaged weights when an EMA is kept; no graph."""
        with mg.no_grad():
            if self.ema is None:
                return self.G(z, labels)
            with self.ema.average_parameters():
                return self.G(z, labels)

    def sample(self, n, seed, **options):
        """n samples as a NumPy array: points (n, 2), or images (n, C, H, W) in [0, 1].

        z is drawn from a private generator seeded by ``seed`` (the same z on every device,
        and the training generator is left alone). A conditional run draws class ``label``
        (--label K), or without it the classes 0, 1, ..., C-1 in turn (``sample_labels``).
        """
        self.refuse_unconditional(options)
        label = options.pop("label", None)
        if options:
            takes = "--n, --seed and --label" if self.config.conditional else "--n and --seed"
            raise NotImplementedError(f"gan: sampling takes no options beyond {takes}, got "
                                      f"{', '.join('--' + k.replace('_', '-') for k in sorted(options))}")
        labels = self.sample_labels(n, label) if self.config.conditional else None
        z = backend.fixed_normal((n, self.settings["z_dim"]), seed)
        device, chunks = self.config.device, []
        for i in range(0, n, 500):
            y = None if labels is None else mg.tensor(labels[i:i + 500], dtype="int64", device=device)
            chunks.append(self.generate(mg.tensor(z[i:i + 500], device=device), y))
        return self.train_data.to_unit(mg.concat(chunks).numpy())

    # ----- evaluation -----
    SAMPLE_SEED = 1234      # z for evaluation samples

    def evaluate(self):
        if not self.images:
            samples = self.sample(len(self.test_data), self.SAMPLE_SEED)       # 2,500 points
            return judge.point_sample_metrics(samples, self.config.data, self.test_data)
        samples = self.sample(1000, self.SAMPLE_SEED)                           # in [0, 1]
        labels = self.sample_labels(1000) if self.config.conditional else None   # 100 of each class
        return judge.image_sample_metrics(samples, self.config.data, self.train_data, self.test_data, labels=labels)

    # ----- the picture -----
    def save_figure(self, path):
        if self.images:
            kind = "conditional samples, a class per column" if self.config.conditional else "samples"
            save_image_grid(self.sample(100, 0), path, nrow=10,
                            title=f"GAN ({self.config.model}, {self.config.loss}) {kind}")
            return
        fig = figure(figsize=(4.5, 4.5))
        ax = fig.subplots()
        limit = max(3.0, 1.05 * float(abs(self.test_data.points).max()))          # swissroll reaches 3.2
        plot_points(ax, self, self.test_data.points, 1000, limit=limit)
        ax.set_title(f"GAN ({self.config.loss}) on {self.config.data}, step {self.step_count}", fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=100)


def plot_points(ax, trainer, data, n=1000, limit=3.0, surface=True, colorbar=True):
    """Samples (orange) over data (grey) on ``ax``, with D's opinion of every point behind them:
    D(x) = P(real) on a fixed 0..1 scale (red = real), or the WGAN critic's score f(x)."""
    if surface:
        k, device = 121, trainer.config.device
        line = mg.arange(k, dtype="float32", device=device) * (2 * limit / (k - 1)) - limit
        xs = (line.reshape(1, k) + mg.zeros(k, 1, device=device)).reshape(k * k)
        ys = (line.reshape(k, 1) + mg.zeros(1, k, device=device)).reshape(k * k)
        wgan = trainer.config.loss == "wgan-gp"
        with mg.no_grad():
            scores = trainer.D(mg.stack([xs, ys], axis=1))                       # (k*k,)
            values = (scores if wgan else F.sigmoid(scores)).reshape(k, k).numpy()   # rows: y, columns: x
        scale = {} if wgan else {"vmin": 0.0, "vmax": 1.0}
        image = ax.imshow(values, extent=(-limit, limit, -limit, limit), origin="lower", cmap="RdBu_r",
                          alpha=0.6, **scale)
        if colorbar:
            ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="critic f(x)" if wgan else "D(x) = P(real)")
    ax.scatter(data[:n, 0], data[:n, 1], s=2, c="0.3", label="data")
    samples = trainer.sample(n, 0)
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:orange", label="samples")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, markerscale=4)

"""GANs: a generator and a discriminator trained against each other (objectives/minimax.py).

    MLPGenerator / MLPDiscriminator   2-D points (8gaussians, swissroll); any data, flattened
    DCGenerator / DCDiscriminator     images (N, C, S, S), S a multiple of 4: 8x8 digits, 28x28 IDX
    GANTrainer                        the alternating game, sampling, evaluation, the figure

One training step (``GANTrainer.train_step``):

    1. the discriminator (or critic) step: fakes G(z) made without a graph through G, the
       discriminator's loss on a real batch and the fakes, one Adam step on D's weights;
    2. the generator step, every ``n_critic``-th step (1 for the minimax losses, 5 for
       WGAN-GP): fresh fakes, the generator's loss through a frozen D, one Adam step on G's.

So ``--steps`` counts discriminator updates; G is updated steps / n_critic times.

Evaluation (``minigen eval``) draws samples from fixed noise and compares them with the test
split (minigen/metrics.py): modes covered and high-quality share on 8gaussians, energy
distance on 2-D data; on labelled images, what the project's digits classifier makes of
them (class entropy, confidence) and the Frechet distance of its features. Each number comes
with its floor: the value true samples get (minigen/models/judge.py, shared by every family).
"""
import math

import minigen as mg
import minigen.functional as F
from minigen import backend, nn, optim
from minigen.data import DataLoader
from minigen.models import judge
from minigen.objectives.minimax import LOSSES, gradient_penalty
from minigen.runs import TourStop, Trainer, endless
from minigen.viz import figure, save_image_grid


# ----- networks -----
class MLPGenerator(nn.Module):
    """z (N, z_dim) -> samples (N, *shape) through ``depth`` hidden ReLU layers.

    2-D points come out as they are (unbounded); images get a tanh, into [-1, 1].
    """

    def __init__(self, z_dim, shape, hidden=128, depth=2, bounded=False):
        super().__init__()
        self.shape, self.bounded = tuple(shape), bounded
        layers, width = [], z_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.body = nn.Sequential(*layers, nn.Linear(width, math.prod(self.shape)))

    def forward(self, z):
        x = self.body(z)                                          # (N, prod(shape))
        if self.bounded:
            x = F.tanh(x)
        return x.reshape(z.shape[0], *self.shape)                # (N, *shape)


class MLPDiscriminator(nn.Module):
    """x (N, *shape) -> one logit per sample (N,), through ``depth`` hidden LeakyReLU(0.2) layers."""

    def __init__(self, shape, hidden=128, depth=2):
        super().__init__()
        layers, width = [], math.prod(shape)
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.body = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, x):
        return self.body(x.reshape(x.shape[0], -1)).reshape(x.shape[0])     # (N,)


class DCGenerator(nn.Module):
    """DCGAN's generator: z (N, z_dim) -> images (N, C, S, S) in [-1, 1], S = 4 * S0.

    z as a 1x1 image -> ConvTranspose (kernel S0) -> (2w, S0, S0) -> BatchNorm, ReLU
    -> ConvTranspose 4/2/1 -> (w, 2 S0, 2 S0) -> BatchNorm, ReLU -> ConvTranspose 4/2/1 -> tanh.
    S0 = 2 for 8x8 digits, 7 for 28x28 MNIST.
    """

    def __init__(self, z_dim, channels, size, width=64):
        super().__init__()
        if size % 4:
            raise ValueError(f"DCGenerator: the image size must be a multiple of 4, got {size}")
        self.z_dim = z_dim
        self.project = nn.ConvTranspose2d(z_dim, 2 * width, size // 4, bias=False)
        self.norm1 = nn.BatchNorm2d(2 * width)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(width)
        self.up2 = nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1)

    def forward(self, z):
        h = z.reshape(z.shape[0], self.z_dim, 1, 1)              # (N, z, 1, 1)
        h = F.relu(self.norm1(self.project(h)))                   # (N, 2w, S/4, S/4)
        h = F.relu(self.norm2(self.up1(h)))                       # (N, w, S/2, S/2)
        return F.tanh(self.up2(h))                                # (N, C, S, S)


class DCDiscriminator(nn.Module):
    """DCGAN's discriminator: images (N, C, S, S) -> one logit per image (N,).

    Conv 4/2/1 -> LeakyReLU(0.2) -> Conv 4/2/1 -> LeakyReLU(0.2) -> Conv (kernel S/4) to 1x1.
    No BatchNorm: each image's logit depends on that image alone, which the gradient
    penalty of WGAN-GP needs (a per-sample gradient), and the minimax losses do not mind.
    """

    def __init__(self, channels, size, width=64):
        super().__init__()
        self.down1 = nn.Conv2d(channels, width, 4, stride=2, padding=1)
        self.down2 = nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)
        self.head = nn.Conv2d(2 * width, 1, size // 4)

    def forward(self, x):
        h = F.leaky_relu(self.down1(x), 0.2)                      # (N, w, S/2, S/2)
        h = F.leaky_relu(self.down2(h), 0.2)                      # (N, 2w, S/4, S/4)
        return self.head(h).reshape(x.shape[0])                   # (N,)


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


def default_settings(model, loss, data):
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
    TOUR = (TourStop("8gaussians", "mlp", steps=3000, quick_steps=200, metric="modes", loss="nonsaturating"),
            TourStop("digits", "dcgan", steps=1500, quick_steps=60, metric="class_entropy", loss="nonsaturating"))

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        s = {**default_settings(config.model, config.loss, config.data), **config.extra}
        steps, lr = s.pop("steps"), s.pop("lr")
        config.steps = steps if config.steps is None else config.steps
        config.lr = lr if config.lr is None else config.lr
        self.settings = config.extra = s
        shape = tuple(train.shape)
        self.images = train.kind == "images"
        if config.model == "dcgan":
            if not self.images:
                raise ValueError(f"gan: --model dcgan needs images; {config.data} is {train.kind}; use --model mlp")
            channels, size = shape[0], shape[1]
            self.G = DCGenerator(s["z_dim"], channels, size, s["g_width"])
            self.D = DCDiscriminator(channels, size, s["d_width"])
        else:
            self.G = MLPGenerator(s["z_dim"], shape, s["g_width"], s["depth"], bounded=self.images)
            self.D = MLPDiscriminator(shape, s["d_width"], s["depth"])
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
        loader = DataLoader(self.train_data.data, batch_size=self.config.batch_size, shuffle=True,
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
        (real,) = batch                                                # (B, *shape)
        n = real.shape[0]
        lr = self.learning_rate()
        opt_d, opt_g = self.optimizers["discriminator"], self.optimizers["generator"]
        opt_g.lr, opt_d.lr = lr, lr * self.settings["d_lr_scale"]

        # 1. the discriminator (critic): tell real from fake; G is not differentiated here
        with mg.no_grad():
            fake = self.G(self.noise(n))                               # (B, *shape)
        logits = self.D(mg.concat([real, fake]))                       # (2B,): one pass for both
        d_loss = self.d_loss_fn(logits[:n], logits[n:])
        if self.config.loss == "wgan-gp":
            d_loss = d_loss + self.settings["gp_weight"] * gradient_penalty(self.D, real, fake)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()

        # 2. the generator, every n_critic-th step, through a frozen discriminator
        if (self.step_count + 1) % self.settings["n_critic"] == 0:
            self.D.requires_grad_(False)
            g_loss = self.g_loss_fn(self.D(self.G(self.noise(n))))
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            self.D.requires_grad_(True)
            if self.ema is not None:
                self.ema.update()
            self.last_g_loss = g_loss.item()
        return {"D": d_loss.item(), "G": self.last_g_loss}

    # ----- sampling -----
    def generate(self, z):
        """G(z) with the averaged weights when an EMA is kept; no graph."""
        with mg.no_grad():
            if self.ema is None:
                return self.G(z)
            with self.ema.average_parameters():
                return self.G(z)

    def sample(self, n, seed, **options):
        """n samples as a NumPy array: points (n, 2), or images (n, C, H, W) in [0, 1].

        z is drawn from a private generator seeded by ``seed`` (the same z on every device,
        and the training generator is left alone).
        """
        if options:
            raise NotImplementedError(f"gan: sampling takes no options, got {sorted(options)}")
        z = backend.fixed_normal((n, self.settings["z_dim"]), seed)
        x = mg.concat([self.generate(mg.tensor(z[i:i + 500], device=self.config.device))
                       for i in range(0, n, 500)]).numpy()
        return self.train_data.to_unit(x)

    # ----- evaluation -----
    SAMPLE_SEED = 1234      # z for evaluation samples

    def evaluate(self):
        if not self.images:
            samples = self.sample(len(self.test_data), self.SAMPLE_SEED)       # 2,500 points
            return judge.point_sample_metrics(samples, self.config.data, self.test_data)
        samples = self.sample(1000, self.SAMPLE_SEED)                           # in [0, 1]
        return judge.image_sample_metrics(samples, self.config.data, self.train_data, self.test_data)

    # ----- the picture -----
    def save_figure(self, path):
        if self.images:
            save_image_grid(self.sample(100, 0), path, nrow=10,
                            title=f"GAN ({self.config.model}, {self.config.loss}) samples")
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

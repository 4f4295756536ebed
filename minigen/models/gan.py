"""GANs: a generator G and a discriminator D trained against each other (objectives/minimax.py).

    MLPGenerator / MLPDiscriminator   2-D points (8gaussians, swissroll); any data, flattened
    DCGenerator / DCDiscriminator     images (N, C, S, S), S a multiple of 4: 8x8 digits, 28x28 IDX
    LabelledNoise / Projection        how G and D of a conditional GAN see the label (below)
    GAN                               the game (``step``), the sampler, evaluation

One training step (``GAN.step``) is Goodfellow et al.'s Algorithm 1, with k = n_critic:

    1. the discriminator (or critic): a real batch x and fakes G(z), made without a graph
       through G; D's loss on both (WGAN-GP: plus the gradient penalty); one Adam step on D;
    2. every n_critic-th step (1 for the minimax losses, 5 for WGAN-GP), the generator: fresh
       fakes, G's loss through a frozen D, one Adam step on G.

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
    captions  (--captions) a caption's words through a text encoder (models/captions.py) take the
              label's place in both: G's [z, enc_G(caption)], D's <enc_D(caption), phi(x)>; each
              attribute word is dropped at p_attribute, the whole caption at p_uncond (the empty prompt).

Evaluation (``minigen eval``) scores samples from fixed noise against the test split, each
number with its floor, the value true samples get (models/judge.py): modes covered and
high-quality share on 8gaussians, energy distance on 2-D data; on labelled images, what the
digits classifier makes of them (class entropy, confidence, Frechet distance of its features),
and for a conditional run the label accuracy.
"""
import functools
import math

import minigen as mg
import minigen.functional as F
from minigen import backend, nn, optim
from minigen.data.captions import VOCABULARY
from minigen.models import judge
from minigen.models.captions import condition_table, drop_words
from minigen.models.checks import check_network_labels
from minigen.models.loop import Family
from minigen.objectives import minimax
from minigen.viz import gan as viz_gan


# ----- networks -----
# Each takes ``num_classes`` (None: unconditional, the default; the caption vocabulary: captions)
# and then ``labels`` (N,) ints (captions: their word ids (N, 5)).
class LabelledNoise(nn.Module):
    """G's input: z (N, z_dim) and y (N,) -> [z, embed(y)] (N, z_dim + label_dim).

    ``num_classes`` None: z alone (an unconditional G), and ``width`` = z_dim.
    """

    def __init__(self, z_dim, num_classes=None, label_dim=16):
        super().__init__()
        self.num_classes = num_classes
        self.width = z_dim if num_classes is None else z_dim + label_dim
        self.embed = condition_table(num_classes, label_dim)      # an Embedding's N(0, 1) rows: z's scale

    def forward(self, z, labels=None):
        check_network_labels(self, labels, self.num_classes is not None)
        if self.num_classes is None:
            return z                                              # (N, z)
        return mg.concat([z, self.embed(labels)], axis=1)        # (N, z + label_dim)


class Projection(nn.Module):
    """The projection discriminator's class term: features h (N, F), labels y (N,) -> <e_y, h> (N,).

    e_y: row y of a (num_classes, F) table (or a caption's encoding), initialised to 0 (D starts as
    the unconditional one).
    """

    def __init__(self, num_classes, features):
        super().__init__()
        self.num_classes = num_classes
        self.embed = condition_table(num_classes, features, zero=True)

    def forward(self, h, labels):
        check_network_labels(self, labels, self.num_classes is not None)
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
        check_network_labels(self, labels, self.num_classes is not None)
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
        check_network_labels(self, labels, self.num_classes is not None)
        n = x.shape[0]
        h = F.leaky_relu(self.down1(x), 0.2)                      # (N, w, S/2, S/2)
        h = F.leaky_relu(self.down2(h), 0.2)                      # (N, 2w, S/4, S/4)
        logits = self.head(h).reshape(n)                          # (N,)
        if self.num_classes is None:
            return logits
        return logits + self.projection(h.reshape(n, -1), labels)    # (N,)


# ----- settings -----
# Every default of `minigen train gan`, per model and loss (--loss minimax plays the same game
# as nonsaturating with the other G loss, so it takes the same recipe); any of them can be
# overridden by name: make("gan", "8gaussians", g_width=64, lr_schedule="constant").
GAME = {"betas": [0.5, 0.999],      # Adam's, for both networks (DCGAN's choice)
        "d_lr_scale": 2.0,          # D's learning rate = lr * d_lr_scale: D keeps up with G
        "lr_schedule": "linear",    # lr decays to 0 over the run: the samples settle on the modes
        "n_critic": 1,              # D steps per G step
        "gp_weight": 10.0,          # WGAN-GP's penalty weight (lambda)
        "ema": 0.0}                 # decay of an average of G's weights to sample with; 0: none
WGAN_GP = {**GAME, "betas": [0.5, 0.9], "d_lr_scale": 1.0, "n_critic": 5}   # as the WGAN-GP paper
RECIPES = {
    "mlp": {   # g_width, d_width: hidden units; depth: hidden layers; z_dim 32 on images (recipe())
        "nonsaturating": {**GAME, "steps": 6000, "batch_size": 256, "lr": 2e-4, "z_dim": 2,
                          "g_width": 256, "d_width": 256, "depth": 2},
        # the critic is a smooth function: it tolerates (and needs, to move G far enough) a larger lr
        "wgan-gp": {**WGAN_GP, "steps": 10000, "batch_size": 256, "lr": 1e-3, "z_dim": 2,
                    "g_width": 128, "d_width": 128, "depth": 2, "gp_weight": 0.1},
    },
    "dcgan": {   # g_width, d_width: channels
        "nonsaturating": {**GAME, "steps": 3000, "batch_size": 64, "lr": 2e-4, "z_dim": 32,
                          "g_width": 32, "d_width": 32},
        # the WGAN-GP paper's settings: it runs, but has no quality target and has not been tuned
        "wgan-gp": {**WGAN_GP, "steps": 5000, "batch_size": 64, "lr": 2e-4, "z_dim": 32,
                    "g_width": 32, "d_width": 32},
    },
}
LABEL_DIM = 16   # the width of G's label embedding; chosen on a holdout: RESULTS.md, "GAN"


class GAN(Family):
    """`minigen train gan`: G and D, an Adam optimizer each, and the game between them."""

    RECIPES = RECIPES
    LOSSES = ("nonsaturating", "minimax", "wgan-gp")
    DATA = ("8gaussians", "swissroll", "digits", "idx:")
    CONDITIONAL = True
    CAPTIONS = {"p_attribute": 0.2, "p_uncond": 0.1}   # --captions: word and caption drop rates (RESULTS.md, "Captions")
    SAMPLE_OPTIONS = ("label", "prompt")
    AVERAGED = ("generator",)
    SAMPLE_SEED = 1234      # the noise of evaluation samples

    @classmethod
    def recipe(cls, model, loss, data, conditional):
        """RECIPES[model][loss], with a wider z on images and a label embedding when conditional."""
        settings = dict(cls.RECIPES[model]["nonsaturating" if loss == "minimax" else loss])
        if data not in ("8gaussians", "swissroll"):
            settings["z_dim"] = 32
        if conditional:
            settings["label_dim"] = LABEL_DIM
        return settings

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        s, shape = self.settings, tuple(train.shape)
        classes = VOCABULARY if config.captions else self.num_classes
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
        self.d_loss, self.g_loss = minimax.LOSSES[config.loss]
        betas = tuple(s["betas"])
        self.modules = {"generator": self.G, "discriminator": self.D}
        self.optimizers = {"generator": optim.Adam(self.G.parameters(), lr=config.lr, betas=betas),
                           "discriminator": optim.Adam(self.D.parameters(), lr=config.lr, betas=betas)}
        self.lr_scale = {"discriminator": s["d_lr_scale"]}
        self.last_g_loss = float("nan")     # G's loss, reported on the steps that do not update G
        self.start()

    def noise(self, n):
        return mg.randn(n, self.settings["z_dim"], device=self.config.device)     # z ~ N(0, I)

    def step(self, batch):
        real, labels, n = batch[0], batch[1] if len(batch) > 1 else None, batch[0].shape[0]   # (B, *shape), (B,)
        if self.config.captions:                                            # (B, 5), some words dropped
            s = self.settings
            labels = drop_words(labels, mg.rand(n, 3, device=self.config.device), s["p_attribute"], s["p_uncond"])

        # 1. the discriminator (critic): tell real from fake; G is not differentiated here
        # (a conditional run makes its fakes for the real batch's labels: D judges both with them)
        with mg.no_grad():
            fake = self.G(self.noise(n), labels)                       # (B, *shape)
        both = None if labels is None else mg.concat([labels, labels])  # (2B,)
        logits = self.D(mg.concat([real, fake]), both)                 # (2B,): one pass for both
        d_loss = self.d_loss(logits[:n], logits[n:])
        if self.config.loss == "wgan-gp":   # grad_x D(x_hat, y): real and fake of class y, mixed
            critic = functools.partial(self.D, labels=labels)
            d_loss = d_loss + self.settings["gp_weight"] * minimax.gradient_penalty(critic, real, fake)
        self.update(d_loss, self.optimizers["discriminator"])

        # 2. the generator, every n_critic-th step, through a frozen discriminator
        if (self.step_count + 1) % self.settings["n_critic"] == 0:
            self.D.requires_grad_(False)
            g_loss = self.g_loss(self.D(self.G(self.noise(n), labels), labels))
            self.update(g_loss, self.optimizers["generator"])
            self.D.requires_grad_(True)
            self.last_g_loss = g_loss
        return {"D": d_loss, "G": self.last_g_loss}

    def sample(self, n, seed, **options):
        """n samples as a NumPy array: points (n, 2), or images (n, C, H, W) in [0, 1].

        z is drawn from a private generator seeded by ``seed`` (the same z on every device,
        and the training generator is left alone). A conditional run draws class ``label``
        (--label K), or without it the classes 0, 1, ..., C-1 in turn (``sample_labels``); a captioned
        run ``prompt``, one caption or a list of n (``Checks.condition``).
        """
        self.check_options(options)
        labels = self.condition(n, options.get("label"), options.get("prompt"))
        z = backend.fixed_normal((n, self.settings["z_dim"]), seed)
        device, chunks = self.config.device, []
        with self.averaged(), mg.no_grad():
            for i in range(0, n, 500):
                y = None if labels is None else mg.tensor(labels[i:i + 500], dtype="int64", device=device)
                chunks.append(self.G(mg.tensor(z[i:i + 500], device=device), y))
        return self.train_data.to_unit(mg.concat(chunks).numpy())

    def evaluate(self):
        if not self.images:
            samples = self.sample(len(self.test_data), self.SAMPLE_SEED)       # 2,500 points
            return judge.point_sample_metrics(samples, self.config.data, self.test_data)
        samples = self.sample(1000, self.SAMPLE_SEED)                           # in [0, 1]
        labels = self.sample_labels(1000) if self.num_classes or self.captions else None   # 100 of each class
        result = judge.image_sample_metrics(samples, self.config.data, self.train_data, self.test_data, labels=labels)
        if self.captions:
            result.update(judge.caption_metrics(lambda prompts: self.sample(len(prompts), self.SAMPLE_SEED,
                                                                            prompt=prompts), self.captions, self.train_data))
        return result

    def figure(self):
        return viz_gan.figure(self)

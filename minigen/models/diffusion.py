"""Diffusion models: a network that predicts the noise in a noised example (objectives/denoising.py).

    sinusoidal_embedding   the level t as a vector of sines and cosines
    conditioning           what every block of a network is told: the level t and, for a
                           conditional network, the label y (a row C of its table: "no label")
    PointMLP               eps_theta for 2-D points: SiLU layers, the time embedding added to each
    ResidualMLP            eps_theta for small images, flattened (8x8 digits): residual blocks
    UNet                   eps_theta for images (N, C, S, S), S a multiple of 4: GroupNorm, SiLU,
                           two downsamplings, skip connections, the time embedding in every block
    reverse                the samplers, DDPM (ancestral) and DDIM, on any sub-sequence of levels,
                           with inpainting (replacement, resampling, reconstruction guidance);
                           it takes any noise predictor (tests give it the exact one)
    DiffusionTrainer       `minigen train diffusion`: the training step, EMA, sampling, evaluation

One training step: a batch x_0, one level t ~ U{1..T} and fresh noise eps ~ N(0, I) per example,
x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, loss = mean (eps - eps_theta(x_t, t))^2; one Adam
step (warm-up, then cosine decay of the learning rate), then the EMA of the weights moves.
Sampling always uses the EMA weights.

Conditional runs (--conditional, labelled images): the networks also take a label y, embedded
beside t; each training label is replaced by "no label" with probability p_uncond, so that one
network learns both eps(x, y) and eps(x); sampling mixes the two with classifier-free guidance
(objectives/denoising.py: guided_eps), W = settings["guidance"] unless --guidance says otherwise.
"""
import math
import time

import minigen as mg
import minigen.functional as F
from minigen import backend, nn, ops, optim
from minigen.data import DataLoader
from minigen.models import judge
from minigen.data.completion import check_given, half_mask
from minigen.objectives import denoising as D
from minigen.runs import TourStop, Trainer, check_network_labels, endless
from minigen.viz import figure, image_grid


# ----- the level t as a vector -----
def sinusoidal_embedding(t, dim, max_period=10000.0):
    """t (B,) float -> (B, dim): [sin(t f_k), cos(t f_k)], f_k = max_period^(-k / (dim/2)),
    k = 0..dim/2 - 1 (Vaswani et al.'s positions): nearby levels get nearby vectors."""
    if dim % 2:
        raise ValueError(f"sinusoidal_embedding: dim must be even, got {dim}")
    half = dim // 2
    k = mg.arange(half, dtype=t.dtype, device=t.device)                          # (dim/2,)
    freqs = (k * (-math.log(max_period) / half)).exp()                           # (dim/2,)
    angles = t.reshape(t.shape[0], 1) * freqs.reshape(1, half)                   # (B, dim/2)
    return mg.concat([ops.sin(angles), ops.cos(angles)], axis=1)                      # (B, dim)


class TimeMLP(nn.Module):
    """t (B,) -> (B, width): the sinusoidal embedding through Linear, SiLU, Linear."""

    def __init__(self, width, emb_dim=64):
        super().__init__()
        self.emb_dim = emb_dim
        self.body = nn.Sequential(nn.Linear(emb_dim, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, t):
        return self.body(sinusoidal_embedding(t, self.emb_dim))                 # (B, width)


def conditioning(time, label, t, y):
    """SiLU(time(t) + label(y)), (B or 1, W): the embedding every block of a network adds.

    ``label``: an nn.Embedding of C + 1 rows for a conditional network (rows 0..C-1 the classes,
    row C "no label"), None for an unconditional one, which takes no y.
    """
    classes = None if label is None else label.num_embeddings - 1
    check_network_labels("diffusion", label is not None, y,
                         f"labels y (N,), each a class 0..C-1 or C for no label (C = {classes})")
    if label is None:
        return F.silu(time(t))
    return F.silu(time(t) + label(y))                                          # (B, W)


# ----- noise predictors eps_theta(x_t, t) -----
class PointMLP(nn.Module):
    """x (B, D), t (B,) -> eps (B, D): ``depth`` layers h = SiLU(W h + b + U_k temb). Unconditional
    only (2-D points come without labels): it refuses a label y.

    (Here and below t may also be (1,), one level for the whole batch: its embedding broadcasts.)
    """

    def __init__(self, dim=2, hidden=128, depth=4, emb_dim=64):
        super().__init__()
        self.hidden, self.depth = hidden, depth
        self.time = TimeMLP(hidden, emb_dim)
        self.time_proj = nn.Linear(hidden, depth * hidden)   # one U_k per layer, in one product
        self.layers = nn.Sequential(*[nn.Linear(dim if k == 0 else hidden, hidden) for k in range(depth)])
        self.out = nn.Linear(hidden, dim)

    def forward(self, x, t, y=None):
        temb = self.time_proj(conditioning(self.time, None, t, y))              # (B or 1, depth * H)
        h = x                                                                    # (B, D)
        for k, layer in enumerate(self.layers):
            h = F.silu(layer(h) + temb[:, k * self.hidden:(k + 1) * self.hidden])   # (B, H)
        return self.out(h)                                                       # (B, D)


class ResidualBlock(nn.Module):
    """h (B, W), temb (B, W) -> h + Linear(SiLU(Linear(LayerNorm(h)) + U temb))."""

    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width)
        self.time = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, h, temb):
        a = F.silu(self.fc1(self.norm(h)) + self.time(temb))                    # (B, W)
        return h + self.fc2(a)                                                   # (B, W)


class ResidualMLP(nn.Module):
    """x (B, C, H, W), t (B,) [, y (B,) labels] -> eps of the same shape, through the flattened
    pixels. ``num_classes``: a conditional network, whose label embedding enters beside t's."""

    def __init__(self, shape, width=256, blocks=3, emb_dim=64, num_classes=None):
        super().__init__()
        self.shape = tuple(shape)
        self.time = TimeMLP(width, emb_dim)
        self.label = None if num_classes is None else nn.Embedding(num_classes + 1, width)
        self.inp = nn.Linear(math.prod(self.shape), width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, math.prod(self.shape))

    def forward(self, x, t, y=None):
        temb = conditioning(self.time, self.label, t, y)                         # (B or 1, W)
        h = self.inp(x.reshape(x.shape[0], -1))                                  # (B, W)
        for block in self.blocks:
            h = block(h, temb)                                                   # (B, W)
        return self.out(F.silu(self.norm(h))).reshape(x.shape)                   # (B, C, H, W)


class ConvBlock(nn.Module):
    """The U-Net's residual block: x (B, Cin, S, S), temb (B, E) -> (B, Cout, S, S).

    GroupNorm, SiLU, 3x3 conv; add a projection of temb to every pixel; GroupNorm, SiLU, 3x3
    conv; plus x (through a 1x1 conv when the channel counts differ).
    """

    def __init__(self, cin, cout, emb):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups(cin), cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(emb, cout)
        self.norm2 = nn.GroupNorm(groups(cout), cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))                                    # (B, Cout, S, S)
        h = h + self.time(temb).reshape(temb.shape[0], -1, 1, 1)                 # (B, Cout, S, S)
        h = self.conv2(F.silu(self.norm2(h)))                                    # (B, Cout, S, S)
        return h + (x if self.skip is None else self.skip(x))


def groups(channels):
    """GroupNorm's group count: 8 groups where the channels allow it, else one per channel."""
    return math.gcd(8, channels)


class UNet(nn.Module):
    """x (B, C, S, S), t (B,) [, y (B,)] -> eps (B, C, S, S); S a multiple of 4 (8x8 digits, 28x28
    MNIST); ``num_classes``: conditional, as ResidualMLP.

        S:    in conv -> block(w)  ---------------------------------skip---> block(3w -> w) -> out conv
        S/2:          stride-2 conv -> block(2w) -------skip---> block(4w -> 2w) -> up (2w)
        S/4:                           stride-2 conv -> block(2w) -> up (2w)
    """

    def __init__(self, shape, width=32, emb_dim=64, num_classes=None):
        super().__init__()
        channels, size = shape[0], shape[1]
        if size % 4 or shape[1] != shape[2]:
            raise ValueError(f"UNet: needs square images of a side divisible by 4, got shape {tuple(shape)}")
        w = width
        self.time = TimeMLP(4 * w, emb_dim)
        self.label = None if num_classes is None else nn.Embedding(num_classes + 1, 4 * w)
        self.inp = nn.Conv2d(channels, w, 3, padding=1)
        self.block1 = ConvBlock(w, w, 4 * w)
        self.down1 = nn.Conv2d(w, w, 3, stride=2, padding=1)
        self.block2 = ConvBlock(w, 2 * w, 4 * w)
        self.down2 = nn.Conv2d(2 * w, 2 * w, 3, stride=2, padding=1)
        self.middle = ConvBlock(2 * w, 2 * w, 4 * w)
        self.up2 = nn.ConvTranspose2d(2 * w, 2 * w, 4, stride=2, padding=1)
        self.block3 = ConvBlock(4 * w, 2 * w, 4 * w)
        self.up1 = nn.ConvTranspose2d(2 * w, 2 * w, 4, stride=2, padding=1)
        self.block4 = ConvBlock(3 * w, w, 4 * w)
        self.norm = nn.GroupNorm(groups(w), w)
        self.out = nn.Conv2d(w, channels, 3, padding=1)

    def forward(self, x, t, y=None):
        temb = conditioning(self.time, self.label, t, y)                         # (B or 1, 4w)
        h1 = self.block1(self.inp(x), temb)                                      # (B, w, S, S)
        h2 = self.block2(self.down1(h1), temb)                                   # (B, 2w, S/2, S/2)
        m = self.middle(self.down2(h2), temb)                                    # (B, 2w, S/4, S/4)
        u2 = self.block3(mg.concat([self.up2(m), h2], axis=1), temb)             # (B, 2w, S/2, S/2)
        u1 = self.block4(mg.concat([self.up1(u2), h1], axis=1), temb)            # (B, w, S, S)
        return self.out(F.silu(self.norm(u1)))                                   # (B, C, S, S)


# ----- the samplers -----
def reverse(eps_fn, x, alpha_bars, levels, sampler="ddpm", noise=None, clip=None, known=None, keep=None,
            resample=1, reconstruction=0.0):
    """Run the reverse process from x at level levels[0] down to level 0; returns the list of
    states [x_{levels[0]}, ..., x_0] (Tensors shaped like x).

    eps_fn(x_t, t) -> the predicted noise (t an int level); alpha_bars: abar_0..abar_T;
    levels: decreasing, e.g. D.timesteps(T, K). sampler "ddpm" (ancestral, posterior variance)
    or "ddim" (eta = 0, deterministic). noise(shape) -> a fresh N(0, I) Tensor (DDPM's steps, and
    the noising of known pixels). Inpainting: ``known`` holds clean data and ``keep`` is a
    boolean array (True where ``known`` is kept); after every step the kept pixels are replaced by
    ``known`` noised to the new level (RePaint's simple form), and at level 0 by ``known`` itself.
    ``resample`` = U > 1 (RePaint's resampling, jump length 1): each step t -> s of an inpainting
    is taken U times, the merged x_s noised back to level t (a draw of q(x_t | x_s)) in between,
    so that the filled-in pixels have U chances to agree with the kept ones; U network passes a step.
    ``reconstruction`` = w > 0: each step of an inpainting also takes reconstruction guidance
    (``known_guided_eps``), a backward pass through the network with every pass.
    """
    if sampler not in ("ddpm", "ddim"):
        raise ValueError(f"--sampler: must be ddpm or ddim, got {sampler!r}")
    states = [x]
    for t, s in zip(levels, list(levels[1:]) + [0]):
        abar_t = mg.tensor(alpha_bars[t], dtype=x.dtype, device=x.device)
        abar_s = mg.tensor(alpha_bars[s], dtype=x.dtype, device=x.device)
        x_t = x
        repeats = resample if known is not None and s > 0 else 1
        for r in range(repeats):
            if r:                                                 # back to level t, from the merged x_s
                x_t = D.q_sample(x, noise(x.shape), abar_t / abar_s)
            if known is not None and reconstruction:
                eps = known_guided_eps(eps_fn, x_t, t, abar_t, known, keep, reconstruction)
            else:
                eps = eps_fn(x_t, t)
            if sampler == "ddpm":
                x = D.ddpm_step(x_t, eps, abar_t, abar_s, noise(x.shape), clip)
            else:
                x = D.ddim_step(x_t, eps, abar_t, abar_s, clip=clip)
            if known is not None:
                level = known if s == 0 else D.q_sample(known, noise(x.shape), abar_s)
                x = mg.where(keep, level, x)
        states.append(x)
    return states


def known_guided_eps(eps_fn, x_t, t, abar_t, known, keep, weight):
    """Reconstruction guidance (objectives/denoising.py): the noise that x~_0 = x^_0 - w sqrt(abar_t)
    grad_{x_t} L implies, L = 1/2 ||x^_0 - known||^2 on the kept pixels; grad L through eps_fn."""
    with mg.enable_grad():
        x_t = mg.tensor(x_t.data, dtype=x_t.dtype, device=x_t.device, requires_grad=True)
        x0 = D.predict_x0(x_t, eps_fn(x_t, t), abar_t)
        grad, = mg.grad(D.reconstruction_loss(x0, known, keep), x_t)
    x0 = D.reconstruction_guided_x0(x0.detach(), grad, abar_t, weight)
    return D.predict_eps(x_t.detach(), x0, abar_t)


# ----- settings -----
# What `minigen train diffusion` does when nothing else is said, per model and kind of data;
# all of it is recorded in config.extra, where any value can be overridden.
RECIPES = {
    # the PyTorch twin's recipe, but lr 2e-3: on a holdout of the training points (seed 0) it gave
    # 8gaussians a high-quality share of 0.993 / 0.968 (DDPM / DDIM-50) against 0.979 / 0.951 with
    # 1e-3, and swissroll the same energy distance (wider layers or T = 200 did worse there)
    ("mlp", "points"): {"steps": 6000, "batch_size": 512, "lr": 2e-3, "T": 100, "schedule": "linear",
                        "beta_start": 1e-3, "beta_end": 0.2, "hidden": 128, "depth": 4},
    # chosen on a holdout of the training digits (tools/diffusion_holdout.py): the cosine schedule
    # and lr 3e-3 (DDIM-50 Frechet distance 15.7 there, against 22.1 for linear betas and lr 1e-3)
    ("mlp", "images"): {"steps": 4000, "batch_size": 128, "lr": 3e-3, "T": 1000, "schedule": "cosine",
                        "beta_start": 1e-4, "beta_end": 0.02, "width": 256, "blocks": 3},
    ("unet", "images"): {"steps": 3000, "batch_size": 64, "lr": 1e-3, "T": 1000, "schedule": "linear",
                         "beta_start": 1e-4, "beta_end": 0.02, "width": 32},
}
# resample: RePaint's U for completions (--given); reconstruction: the weight w of reconstruction
# guidance in every completion step (objectives/denoising.py; 0: replacement alone). Replacement
# alone, on the conditional default's no-label branch, fills in the bottom half of the 360 test
# digits right 0.53 of the time with U = 1, 0.62 with 5, 0.65 with 10, 0.67 with 20 (DDPM, 50
# levels). U and w chosen on a holdout of the training digits (tools/diffusion_completion_holdout.py:
# the unconditional default on the first 1,077, the last 360 completed; seeds 0 / 1; DDPM, 50 levels):
#   w = 0: U = 10 0.750 / 0.747 (more levels did worse: 250 levels U = 2 0.636, 1000 levels 0.600)
#   U = 5: w = 5 0.872 / 0.869, 10 0.869 / 0.883, 15 0.892 / 0.867, 20 0.886 / 0.872, 30 - / 0.858
#   U = 10: w = 10 0.869 / 0.869, 20 0.869 / 0.869;  U = 1: w = 20 0.839 / 0.836
# U = 5, w = 15: the best mean, in the middle of a flat top (w 5-20), half the passes of U = 10.
# On the test split, seeds 0 / 1 / 2: 0.853 / 0.850 / 0.878 (U = 10 alone: 0.772 / 0.761 / 0.769);
# the conditional default's no-label branch (seed 0): 0.772, against 0.65 with U = 10 alone.
COMMON = {"emb_dim": 64, "ema": 0.999, "warmup": 200, "min_lr": 0.0, "clip": True, "resample": 5,
          "reconstruction": 15.0}
# --conditional adds p_uncond, the rate at which a training label is replaced by "no label", and
# guidance, the default W of classifier-free guidance (sample --guidance overrides it); on digits
# T = 500 levels, as the two network passes a guided step costs would double the evaluation's
# DDPM pass. Chosen on a holdout of the training digits (tools/diffusion_guidance_holdout.py,
# seed 0, 100 samples a class; the unconditional default scores DDIM-50 15.7 there, floor 7.87):
#   DDIM-50, label accuracy / Frechet distance   W = 0        0.5          1            2            3
#   p_uncond 0.1, T = 1000                         0.963 13.15  0.997 8.28   0.999 7.37   0.999 7.81   1.000 8.55
#   p_uncond 0.2, T = 1000                         0.945 13.52  0.995 8.56   0.999 7.42   0.999 7.50   0.999 8.09
#   p_uncond 0.1, T = 500                          0.965 13.16  0.997 8.30   0.999 7.40   1.000 7.87
#   ... DDPM (500 steps), W = 1: 0.998 / 8.18
# W = 1: the lowest Frechet distance, the class right 99.9% of the time; the within-class spread
# falls from 0.97 (W = 0) to 0.87 of the real digits' and stays there for larger W.
CONDITIONAL = {"p_uncond": 0.1, "guidance": 1.0}
CONDITIONAL_RECIPES = {("mlp", "images"): {"T": 500}}


def default_settings(model, kind, conditional=False):
    """Every setting of a run on data of ``kind`` ("points" or "images"), steps and lr included."""
    if (model, kind) not in RECIPES:
        raise ValueError(f"diffusion: --model {model} needs images; this data is 2-D points; use --model mlp")
    if not conditional:
        return {**COMMON, **RECIPES[model, kind]}
    return {**COMMON, **RECIPES[model, kind], **CONDITIONAL, **CONDITIONAL_RECIPES.get((model, kind), {})}


def check_guidance(guidance):
    """The guidance weight W: a finite number >= 0 (0: the conditional model alone)."""
    if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or not 0 <= guidance < math.inf:
        raise ValueError(f"--guidance: the guidance weight must be a number >= 0 (0: the conditional "
                         f"model alone), got {guidance!r}")
    return float(guidance)


class DiffusionTrainer(Trainer):
    """`minigen train diffusion`: eps_theta, its Adam optimizer with warm-up and cosine decay, an
    EMA of its weights (used for sampling), the denoising step, DDPM and DDIM samples.

    ``self.settings`` (= config.extra, so recorded in config.json): see RECIPES and COMMON.
    """

    DEFAULTS = {"mlp": {"steps": None, "batch_size": None, "lr": None},
                "unet": {"steps": None, "batch_size": None, "lr": None}}
    DATA = ("8gaussians", "swissroll", "digits", "idx:")
    CONDITIONAL = True
    # the tour's digits run has T = 100 levels (not 1000) so that its evaluation, DDPM with all T
    # steps on 1,000 digits, takes seconds; its completions are neither resampled (resample 1) nor
    # guided (reconstruction 0), as before either came, so that filling in the 360 test digits
    # stays cheap (no backward passes). The conditional
    # run: T = 50 and 1,000 steps, as each of its guided DDPM steps is two network passes
    TOUR = (TourStop("8gaussians", "mlp", steps=3000, quick_steps=60, metric="hq_share",
                     extra={"warmup": 100}),
            TourStop("digits", "mlp", steps=1500, quick_steps=30, metric="ddim_frechet_distance",
                     extra={"warmup": 100, "T": 100, "resample": 1,
                            "reconstruction": 0.0}),
            TourStop("digits", "mlp", steps=1000, quick_steps=30, metric="ddim_label_accuracy",
                     extra={"warmup": 100, "T": 50, "resample": 1, "reconstruction": 0.0}, conditional=True))

    @classmethod
    def default_model(cls, data):
        """mlp for every data set: on 2-D points, and on images (the residual MLP met the digit targets)."""
        return "mlp"

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        self.images = train.kind == "images"
        s = {**default_settings(config.model, "images" if self.images else "points", config.conditional),
             **config.extra}
        for key in ("steps", "batch_size", "lr"):
            value = s.pop(key)
            if getattr(config, key) is None:
                setattr(config, key, value)
        self.settings = config.extra = s
        self.alpha_bars = D.schedule(s["schedule"], s["T"], s["beta_start"], s["beta_end"])
        shape = tuple(train.shape)
        # a conditional network's label table has a row per class and one more, "no label"
        classes = self.null = train.num_classes if config.conditional else None
        if config.conditional:
            check_guidance(s["guidance"])
        if isinstance(s["resample"], bool) or not isinstance(s["resample"], int) or s["resample"] < 1:
            raise ValueError(f"diffusion: resample (RePaint's U for completions) must be an integer >= 1, "
                             f"got {s['resample']!r}")
        w = s["reconstruction"]
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w < math.inf:
            raise ValueError(f"diffusion: reconstruction (the weight of reconstruction guidance in completions) "
                             f"must be a number >= 0 (0: replacement alone), got {w!r}")
        if config.model == "unet":
            self.net = UNet(shape, s["width"], s["emb_dim"], classes)
        elif self.images:
            self.net = ResidualMLP(shape, s["width"], s["blocks"], s["emb_dim"], classes)
        else:
            self.net = PointMLP(shape[0], s["hidden"], s["depth"], s["emb_dim"])
        self.net.to(config.device)
        self.modules = {"eps_model": self.net}
        adam = optim.Adam(self.net.parameters(), lr=config.lr)
        self.schedule = optim.WarmupCosine(adam, min(s["warmup"], config.steps), max(config.steps, 1), s["min_lr"])
        self.ema = optim.EMA(self.net, s["ema"])
        self.optimizers = {"eps_model": adam, "lr_schedule": self.schedule, "eps_model_ema": self.ema}
        # abar_t for every level, on the device, for the training step's gather
        self.abar_table = mg.tensor(self.alpha_bars, device=config.device)      # (T + 1,)

    # ----- training -----
    def batches(self):
        labels = (self.train_data.labels,) if self.config.conditional else ()
        loader = DataLoader(self.train_data.data, *labels, batch_size=self.config.batch_size, shuffle=True,
                            seed=self.config.seed, drop_last=True, device=self.config.device)
        return endless(loader, self.step_count)

    def time_input(self, t):
        """The network's view of levels t (an int array (B,)): t scaled to 0..1000, as a Tensor."""
        return mg.tensor(t * (1000.0 / self.settings["T"]), device=self.config.device)

    def train_step(self, batch):
        x0 = batch[0]                                                            # (B, *shape)
        n, T = x0.shape[0], self.settings["T"]
        u = mg.rand(n, device=self.config.device).data                           # (B,) in [0, 1)
        t = x0.xp.minimum((u * T).astype("int64") + 1, T)                        # (B,) in 1..T
        abar = self.abar_table[t].reshape(n, *([1] * (x0.ndim - 1)))             # (B, 1, ...)
        labels = None
        if self.config.conditional:                                              # (B,), some "no label"
            labels = D.drop_labels(batch[1], mg.rand(n, device=self.config.device), self.settings["p_uncond"],
                                   self.null)
        eps = mg.randn(*x0.shape, device=self.config.device)                     # (B, *shape)
        loss = D.simple_loss(self.net(D.q_sample(x0, eps, abar), self.time_input(t), labels), eps)
        opt = self.optimizers["eps_model"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        self.schedule.step()
        # the average's warm-up: decay (1 + k) / (10 + k) at step k until that reaches the set one
        # (0.999 at k = 8,991: so in runs of a few thousand steps the average spans about the last
        # tenth of the run), so that no run is sampled from weights mostly its initialisation
        self.ema.decay = min(self.settings["ema"], (1 + self.step_count) / (10 + self.step_count))
        self.ema.update()
        return {"loss": loss.item()}

    # ----- sampling -----
    def eps_fn(self, x, t, labels=None, guidance=0.0):
        """eps_theta(x, t) for every example at the one level t (no graph; call under the EMA);
        for a conditional network, of labels (B,) (an int Tensor), guided with weight ``guidance``.

        The level is given once, (1,): its embedding broadcasts over the batch (the networks add
        it), which spares the time layers' work for every example. Guidance asks for eps(x, y)
        and eps(x, no label) in one call on the batch twice over."""
        level = self.time_input(x.xp.full((1,), t, dtype="int64"))
        if labels is None or guidance == 0:
            return self.net(x, level, labels)
        n = x.shape[0]
        unlabelled = mg.tensor(x.xp.full((n,), self.null, dtype="int64"), device=x.device)
        both = self.net(mg.concat([x, x]), level, mg.concat([labels, unlabelled]))   # (2B, *shape)
        return D.guided_eps(both[:n], both[n:], guidance)

    def run_reverse(self, n, seed, sampler="ddpm", sample_steps=None, given=None, mask=None, labels=None,
                    guidance=0.0):
        """The states of the reverse process, [x_T, ..., x_0], in the model's own value range;
        labels: a list of n ints for a conditional run (``self.null``: no label), guided by W = guidance."""
        T = self.settings["T"]
        if sample_steps is None:
            sample_steps = T if sampler == "ddpm" else min(50, T)
        levels = D.timesteps(T, sample_steps)
        gen = backend.private_generator(seed)
        shape = (n,) + tuple(self.train_data.shape)
        device = self.config.device

        def noise(shape):
            return mg.tensor(gen.standard_normal(shape), device=device)

        known = keep = None
        if given is not None:
            given = check_given(given, n, self.train_data.shape, self.train_data.binary)
            known = mg.tensor(self.train_data.from_unit(given), device=device)   # (N, C, H, W)
            keep = backend.to_device(~half_mask(shape, mask), device)
        clip = self.train_data.value_range if self.images and self.settings["clip"] else None
        eps_fn = self.eps_fn
        if labels is not None:
            labels = mg.tensor(labels, dtype="int64", device=device)                # (N,)
            eps_fn = lambda x, t: self.eps_fn(x, t, labels, guidance)          # noqa: E731
        x = noise(shape)
        with mg.no_grad(), self.ema.average_parameters():
            return reverse(eps_fn, x, self.alpha_bars, levels, sampler, noise, clip, known, keep,
                           self.settings["resample"], float(self.settings["reconstruction"]))

    def sample(self, n, seed, sampler="ddpm", sample_steps=None, given=None, mask=None, label=None,
               guidance=None, **options):
        """n samples as a NumPy array: points (n, 2), or images (n, C, H, W) in [0, 1].

        sampler: "ddpm" (default: T ancestral steps) or "ddim" (deterministic; 50 steps by default, T if T < 50);
        sample_steps: the number of levels visited (any sub-sequence of 1..T). given (N, C, H, W)
        in [0, 1] with mask "top"|"bottom"|"left"|"right": fill in that half, keep the rest exactly
        (each step taken settings["resample"] times: RePaint's resampling, with reconstruction
        guidance of weight settings["reconstruction"]). Conditional runs:
        label K (all of class K; without it the classes 0..C-1 in turn), guided with weight
        guidance (default: settings["guidance"]); completions without a label use the network's
        "no label" branch, the unconditional model.
        """
        self.check_options(options, sampler, given, mask, sample_steps, label, guidance)
        labels, guidance = self.conditions(n, given, label, guidance)
        x = self.run_reverse(n, seed, sampler, sample_steps, given, mask, labels, guidance)[-1].numpy()
        return self.train_data.to_unit(x)

    def conditions(self, n, given=None, label=None, guidance=None):
        """(labels, W) for n samples: (None, 0) for an unconditional run; else a list of n labels
        (--label K, the classes in turn, or "no label" for a completion without --label) and the
        guidance weight."""
        if not self.config.conditional:
            return None, 0.0
        if given is not None and label is None:
            return [self.null] * n, 0.0
        return self.sample_labels(n, label), self.settings["guidance"] if guidance is None else guidance

    def check_options(self, options, sampler, given, mask, sample_steps, label=None, guidance=None):
        """Refuse the options of other families and inconsistent ones, before any sampling."""
        self.refuse_unconditional({k: v for k, v in (("label", label), ("guidance", guidance)) if v is not None})
        if options:
            flags = ", ".join("--" + k.replace("_", "-") for k in sorted(options))
            raise NotImplementedError(f"diffusion: sampling takes no {flags} (it takes --sampler, "
                                      f"--sample-steps, --given and --mask; conditional runs --label and --guidance)")
        if guidance is not None:
            check_guidance(guidance)
            if given is not None and label is None:
                raise ValueError("--guidance: a completion without --label uses the model's no-label branch; "
                                 "give --label K to guide it toward class K")
        if sampler not in ("ddpm", "ddim"):
            raise ValueError(f"--sampler: must be ddpm or ddim, got {sampler!r}")
        if (given is None) != (mask is None):
            raise ValueError("--given and --mask go together: the images to complete and the half to fill in")
        if given is not None and not self.images:
            raise ValueError(f"--given: inpainting needs images; {self.config.data} is 2-D points")
        if sample_steps is not None and not 1 <= sample_steps <= self.settings["T"]:
            raise ValueError(f"--sample-steps: must be between 1 and T = {self.settings['T']}, got {sample_steps}")

    # ----- evaluation -----
    SAMPLE_SEED = 1234

    # each step resampled (settings["resample"]) and guided (settings["reconstruction"])
    COMPLETION = {"sampler": "ddpm", "sample_steps": 50}

    def evaluate(self):
        """The sample metrics of DDPM (T steps) and, prefixed ddim_, of DDIM with 50 steps, each
        with its floor and its sampling time; 2,500 points (the test split) or 1,000 images.
        Conditional runs: 100 images of each class, guided with the default W (``guidance``), and
        their label_accuracy. Images: also completion_accuracy, the 360 test digits with their
        bottom half filled in (DDPM with 50 levels, each resampled and guided; a conditional run's
        no-label branch)."""
        data, train_data, test_data = self.config.data, self.train_data, self.test_data
        if self.images and train_data.labels is None:   # no classifier to judge them: no samples
            return {**judge.image_sample_metrics(None, data, train_data, test_data),
                    **judge.image_sample_metrics(None, data, train_data, test_data, "ddim_"),
                    **judge.completion_metrics(None, data, test_data)}
        labels, guidance = self.conditions(1000)
        result = {"guidance": guidance} if self.config.conditional else {}
        for sampler, prefix in (("ddpm", ""), ("ddim", "ddim_")):
            start = time.perf_counter()
            if self.images:
                x = self.sample(1000, self.SAMPLE_SEED, sampler=sampler)             # in [0, 1]
                backend.synchronize(self.config.device)
                seconds = time.perf_counter() - start
                result.update(judge.image_sample_metrics(x, data, train_data, test_data, prefix=prefix,
                                                         labels=labels))
            else:
                x = self.sample(len(self.test_data), self.SAMPLE_SEED, sampler=sampler)
                seconds = time.perf_counter() - start
                result.update(judge.point_sample_metrics(x, self.config.data, self.test_data, prefix=prefix))
            result[prefix + "sample_seconds"] = round(seconds, 2)
        result["ddim_steps"] = min(50, self.settings["T"])
        if self.images:
            start = time.perf_counter()
            result.update(judge.completion_metrics(self.complete, data, test_data))
            result["completion_seconds"] = round(time.perf_counter() - start, 2)
        return result

    def complete(self, given, mask):
        """``given`` (N, C, H, W) in [0, 1] with its ``mask`` half filled in, as evaluate scores it."""
        steps = min(self.COMPLETION["sample_steps"], self.settings["T"])
        return self.sample(len(given), self.SAMPLE_SEED, sampler=self.COMPLETION["sampler"], sample_steps=steps,
                           given=given, mask=mask)

    # ----- the picture -----
    def save_figure(self, path):
        """samples.png: samples, and one sample's reverse trajectory from noise to data (images:
        DDIM with 50 steps, 100 samples, 16 for images larger than 8x8, conditional runs a class
        per column, 100 or 20; points: DDPM)."""
        T = self.settings["T"]
        if self.images:
            small = self.train_data.shape[-1] <= 8
            n = 100 if small else 20 if self.config.conditional else 16
            columns = 10 if small or self.config.conditional else 4
            labels, guidance = self.conditions(n)                                 # classes 0..9 in turn
            K = min(50, T)
            states = self.run_reverse(n, 0, "ddim", K, labels=labels, guidance=guidance)   # [x_T, ..., x_0]
            levels = D.timesteps(T, K) + [0]
            fig = figure(figsize=(7.5, 9.0))
            top, strip = fig.subplots(2, 1, gridspec_kw={"height_ratios": [10, 1.4]})
            top.imshow(image_grid(self.train_data.to_unit(states[-1].numpy()), columns), cmap="gray_r",
                       vmin=0, vmax=1, interpolation="nearest")
            asked = f", class k in column k, guidance W = {guidance:g}" if self.config.conditional else ""
            top.set_title(f"diffusion ({self.config.model}) samples, DDIM {K} steps{asked}", fontsize=10)
            picks = [round(k * K / 9) for k in range(10)]                         # 10 snapshots, x_T..x_0
            one = mg.stack([states[k][0] for k in picks]).numpy()                 # (10, C, H, W)
            strip.imshow(image_grid(self.train_data.to_unit(one), 10), cmap="gray_r", vmin=0, vmax=1,
                         interpolation="nearest")
            strip.set_title("the first sample's reverse trajectory, t = " +
                            ", ".join(str(levels[k]) for k in picks), fontsize=8)
            for ax in (top, strip):
                ax.set_axis_off()
        else:
            states = self.run_reverse(1000, 0)                                    # [x_T, ..., x_0], DDPM
            levels = D.timesteps(T, T) + [0]
            fig = figure(figsize=(9.0, 6.5))
            grid = fig.add_gridspec(2, 5, height_ratios=[3, 1.2])
            main = fig.add_subplot(grid[0, 1:4])
            data = self.test_data.points[:1000]
            limit = max(3.0, 1.05 * float(abs(data).max()))
            paths = mg.stack([x[:3] for x in states]).numpy()                     # (T + 1, 3, 2)
            last = states[-1].numpy()                                             # (1000, 2)
            main.scatter(data[:, 0], data[:, 1], s=2, c="0.6", label="data")
            main.scatter(last[:, 0], last[:, 1], s=2, c="tab:orange", label=f"samples (DDPM, {T} steps)")
            for j in range(3):
                main.plot(paths[:, j, 0], paths[:, j, 1], lw=0.7, c="tab:blue", alpha=0.8,
                          label="reverse trajectories" if j == 0 else None)
            main.plot(paths[0, :, 0], paths[0, :, 1], "o", ms=3, c="tab:blue")   # where they started
            main.set_xlim(-limit, limit)
            main.set_ylim(-limit, limit)
            main.set_aspect("equal")
            main.legend(loc="upper right", fontsize=7, markerscale=4)
            main.set_title(f"diffusion on {self.config.data}, step {self.step_count}", fontsize=9)
            # the cloud at 5 levels, denser near the data, where the shape appears
            for j, level in enumerate((T, T // 2, T // 5, T // 10, 0)):
                k = T - level                                                     # states[k] is at this level
                ax = fig.add_subplot(grid[1, j])
                cloud = states[k].numpy()
                ax.scatter(cloud[:, 0], cloud[:, 1], s=1, c="tab:orange")
                ax.set_xlim(-limit, limit)
                ax.set_ylim(-limit, limit)
                ax.set_aspect("equal")
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(f"t = {levels[k]}", fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=100)

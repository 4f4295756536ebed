"""Diffusion models: a network eps_theta(x_t, t) that tells which noise was added to a noised
example (objectives/denoising.py derives the loss and the samplers).

Training, Ho et al.'s Algorithm 1: a batch x_0, a level t ~ Uniform{1..T} and noise eps ~ N(0, I)
per example, then a gradient step on ||eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t)||^2.
Sampling, their Algorithm 2 (DDPM), or DDIM in fewer steps: from x_T ~ N(0, I) down to x_0, one
network pass a step (denoising.reverse), with the averaged weights.

Conditional runs (--conditional): the networks also take labels; each training label becomes
"no label" with probability p_uncond, so that one network learns both eps(x, y) and eps(x), and
sampling mixes the two with classifier-free guidance of weight W (denoising.guided_eps). Captioned
runs (--captions) do the same with a caption's words ("a thick seven leaning right") through a small
text encoder (models/captions.py) in the label's place, each attribute word dropped at p_attribute.
"""
import math
import time
from functools import partial

import minigen as mg
import minigen.functional as F
from minigen import backend, nn, ops, optim
from minigen.data.captions import VOCABULARY
from minigen.data.completion import check_given, hidden_mask
from minigen.models import judge
from minigen.models.captions import condition_table, drop_words
from minigen.models.checks import check_network_labels, check_weight
from minigen.models.loop import Family
from minigen.objectives import denoising as D
from minigen.viz import diffusion as viz


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


def conditioning(time, label, t, labels):
    """SiLU(time(t) [+ label(labels)]), (B or 1, W): what every block of a network adds; ``label``, a
    conditional network's condition_table (C + 1 rows, row C "no label"; or a caption encoder), or None."""
    check_network_labels("diffusion", labels, label is not None)       # row C of label: "no label"
    return F.silu(time(t) if label is None else time(t) + label(labels))        # (B or 1, W)


# ----- noise predictors eps_theta(x_t, t) -----
class PointMLP(nn.Module):
    """x (B, D), t (B,) -> eps (B, D): ``depth`` layers h = SiLU(W h + b + U_k temb); unconditional
    (2-D points come without labels). Here and below t may be (1,): one level for the whole batch."""

    def __init__(self, dim=2, hidden=128, depth=4, emb_dim=64):
        super().__init__()
        self.hidden, self.depth = hidden, depth
        self.time = TimeMLP(hidden, emb_dim)
        self.time_proj = nn.Linear(hidden, depth * hidden)   # one U_k per layer, in one product
        self.layers = nn.Sequential(*[nn.Linear(dim if k == 0 else hidden, hidden) for k in range(depth)])
        self.out = nn.Linear(hidden, dim)

    def forward(self, x, t, labels=None):
        temb = self.time_proj(conditioning(self.time, None, t, labels))          # (B or 1, depth * H)
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
    """x (B, C, H, W), t (B,) [, labels (B,)] -> eps of the same shape, through the flattened
    pixels. ``num_classes``: a conditional network, whose label embedding enters beside t's (C classes,
    or the caption vocabulary: a caption's words (B, 5) then take the labels' place)."""

    def __init__(self, shape, width=256, blocks=3, emb_dim=64, num_classes=None):
        super().__init__()
        self.shape = tuple(shape)
        self.time = TimeMLP(width, emb_dim)
        self.label = condition_table(num_classes, width, null=True)
        self.inp = nn.Linear(math.prod(self.shape), width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, math.prod(self.shape))

    def forward(self, x, t, labels=None):
        temb = conditioning(self.time, self.label, t, labels)                    # (B or 1, W)
        h = self.inp(x.reshape(x.shape[0], -1))                                  # (B, W)
        for block in self.blocks:
            h = block(h, temb)                                                   # (B, W)
        return self.out(F.silu(self.norm(h))).reshape(x.shape)                   # (B, C, H, W)


class ConvBlock(nn.Module):
    """The U-Net's residual block: x (B, Cin, S, S), temb (B, E) -> (B, Cout, S, S): GroupNorm, SiLU,
    3x3 conv; plus a projection of temb at every pixel; GroupNorm, SiLU, 3x3 conv; plus x (through a
    1x1 conv when the channel counts differ). GroupNorm: gcd(8, channels) groups."""

    def __init__(self, cin, cout, emb):
        super().__init__()
        self.norm1 = nn.GroupNorm(math.gcd(8, cin), cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(emb, cout)
        self.norm2 = nn.GroupNorm(math.gcd(8, cout), cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))                                    # (B, Cout, S, S)
        h = h + self.time(temb).reshape(temb.shape[0], -1, 1, 1)                 # (B, Cout, S, S)
        h = self.conv2(F.silu(self.norm2(h)))                                    # (B, Cout, S, S)
        return h + (x if self.skip is None else self.skip(x))


class UNet(nn.Module):
    """x (B, C, S, S), t (B,) [, labels (B,)] -> eps (B, C, S, S); S a multiple of 4 (8x8 digits,
    28x28 MNIST); ``num_classes``: conditional, as ResidualMLP.

        S:    in conv -> block(w)  ---------------------------------skip---> block(3w -> w) -> out conv
        S/2:          stride-2 conv -> block(2w) -------skip---> block(4w -> 2w) -> up (2w)
        S/4:                           stride-2 conv -> block(2w) -> up (2w)
    """

    def __init__(self, shape, width=32, emb_dim=64, num_classes=None):
        super().__init__()
        if shape[1] % 4 or shape[1] != shape[2]:
            raise ValueError(f"UNet: needs square images of a side divisible by 4, got shape {tuple(shape)}")
        channels, w = shape[0], width
        self.time = TimeMLP(4 * w, emb_dim)
        self.label = condition_table(num_classes, 4 * w, null=True)
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
        self.norm = nn.GroupNorm(math.gcd(8, w), w)
        self.out = nn.Conv2d(w, channels, 3, padding=1)

    def forward(self, x, t, labels=None):
        temb = conditioning(self.time, self.label, t, labels)                    # (B or 1, 4w)
        h1 = self.block1(self.inp(x), temb)                                      # (B, w, S, S)
        h2 = self.block2(self.down1(h1), temb)                                   # (B, 2w, S/2, S/2)
        m = self.middle(self.down2(h2), temb)                                    # (B, 2w, S/4, S/4)
        u2 = self.block3(mg.concat([self.up2(m), h2], axis=1), temb)             # (B, 2w, S/2, S/2)
        u1 = self.block4(mg.concat([self.up1(u2), h1], axis=1), temb)            # (B, w, S, S)
        return self.out(F.silu(self.norm(u1)))                                   # (B, C, S, S)


# ----- settings: every default, per model and kind of data ("points": 8gaussians, swissroll) -----
RECIPES = {
    # lr 2e-3 (points): chosen on a holdout: RESULTS.md, "Diffusion"
    # schedule "cosine" and lr 3e-3 (images): chosen on a holdout: RESULTS.md, "Diffusion"
    "mlp": {"points": {"steps": 6000, "batch_size": 512, "lr": 2e-3, "T": 100, "schedule": "linear",
                       "beta_start": 1e-3, "beta_end": 0.2, "hidden": 128, "depth": 4},
            "images": {"steps": 4000, "batch_size": 128, "lr": 3e-3, "T": 1000, "schedule": "cosine",
                       "beta_start": 1e-4, "beta_end": 0.02, "width": 256, "blocks": 3}},
    "unet": {"images": {"steps": 3000, "batch_size": 64, "lr": 1e-3, "T": 1000, "schedule": "linear",
                        "beta_start": 1e-4, "beta_end": 0.02, "width": 32}},
}
# Adam, warmed up then cosine-decayed; averaged weights to sample with; x^_0 clipped to range; a
# completion takes each step ``resample`` times (RePaint's U), guided with weight ``reconstruction``
# resample 5 and reconstruction 15: chosen on a holdout: RESULTS.md, "Diffusion"
COMMON = {"emb_dim": 64, "ema": 0.999, "lr_schedule": "cosine", "lr_warmup": 200, "min_lr": 0.0,
          "clip": True, "resample": 5, "reconstruction": 15.0}
# --conditional: p_uncond (a label's dropout rate), guidance (the default W), T for the MLP on images
# p_uncond 0.1, guidance 1 and T = 500: chosen on a holdout: RESULTS.md, "Diffusion"
CONDITIONAL_SETTINGS = {"p_uncond": 0.1, "guidance": 1.0}
CONDITIONAL_RECIPES = {"mlp": {"images": {"T": 500}}}


class Diffusion(Family):
    """`minigen train diffusion`: eps_theta, Algorithm 1's step, DDPM and DDIM samples, completions."""

    RECIPES = RECIPES
    DATA = ("8gaussians", "swissroll", "digits", "idx:")
    CONDITIONAL = True
    CAPTIONS = {"p_attribute": 0.05, "guidance": 2.0}   # --captions; chosen on a holdout: RESULTS.md, "Captions"
    SAMPLE_OPTIONS = ("sampler", "sample_steps", "given", "mask", "label", "guidance", "prompt")
    SAMPLE_SEED = 1234    # evaluate's samples and completions

    @classmethod
    def recipe(cls, model, loss, data, conditional):
        kind = "points" if data in ("8gaussians", "swissroll") else "images"
        if kind not in cls.RECIPES[model]:
            raise ValueError(f"diffusion: --model {model} needs images; {data} is 2-D points; use --model mlp")
        guided = {**CONDITIONAL_SETTINGS, **CONDITIONAL_RECIPES.get(model, {}).get(kind, {})}
        return {**COMMON, **cls.RECIPES[model][kind], **(guided if conditional else {})}

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        s, U = self.settings, self.settings["resample"]
        if config.conditional or config.captions:
            check_weight(s["guidance"], "--guidance", "the guidance weight", "0: the conditional model alone")
        check_weight(s["reconstruction"], "diffusion: reconstruction", "the completions' guidance weight", "0: none")
        if isinstance(U, bool) or not isinstance(U, int) or U < 1:
            raise ValueError(f"diffusion: resample (RePaint's U for completions) must be an integer >= 1, got {U!r}")
        self.alpha_bars = D.schedule(s["schedule"], s["T"], s["beta_start"], s["beta_end"])   # abar_0..abar_T
        self.abar_table = mg.tensor(self.alpha_bars, device=config.device)      # (T + 1,): the step's gather
        shape, condition = tuple(train.shape), VOCABULARY if config.captions else self.num_classes
        if config.model == "unet":
            self.net = UNet(shape, s["width"], s["emb_dim"], condition)
        elif self.images:
            self.net = ResidualMLP(shape, s["width"], s["blocks"], s["emb_dim"], condition)
        else:
            self.net = PointMLP(shape[0], s["hidden"], s["depth"], s["emb_dim"])
        self.modules = {"eps_model": self.net}
        self.optimizers = {"eps_model": optim.Adam(self.net.parameters(), lr=config.lr)}
        self.start()

    def time_input(self, t):
        """The network's view of levels t (an int array (B,)): t scaled to 0..1000, as a Tensor."""
        return mg.tensor(t * (1000.0 / self.settings["T"]), device=self.config.device)

    # ----- training: Ho et al.'s Algorithm 1 -----
    def step(self, batch):
        x0 = batch[0]                                                            # (B, *shape)
        n, T, device = x0.shape[0], self.settings["T"], self.config.device
        t = x0.xp.minimum((mg.rand(n, device=device).data * T).astype("int64") + 1, T)   # (B,): t ~ U{1..T}
        labels, s = None, self.settings
        if self.config.conditional:                                              # (B,), some "no label"
            labels = D.drop_labels(batch[1], mg.rand(n, device=device), s["p_uncond"], self.num_classes)
        elif self.config.captions:                                               # (B, 5), some words dropped
            labels = drop_words(batch[1], mg.rand(n, 3, device=device), s["p_attribute"], s["p_uncond"])
        eps = mg.randn(*x0.shape, device=device)                                 # eps ~ N(0, I)
        abar = self.abar_table[t].reshape(n, *([1] * (x0.ndim - 1)))             # (B, 1, ...)
        loss = D.simple_loss(self.net(D.q_sample(x0, eps, abar), self.time_input(t), labels), eps)
        self.update(loss, self.optimizers["eps_model"])
        return {"loss": loss}

    # ----- sampling: Algorithm 2, or DDIM -----
    def sample(self, n, seed, **options):
        """n samples as a NumPy array: points (n, 2), or images (n, C, H, W) in [0, 1]. sampler "ddpm"
        (all T levels) or "ddim" (50), sample_steps levels; given (N, C, H, W) in [0, 1] and a mask of the pixels
        to fill in (hidden_mask); conditional runs: label K (default: the classes in turn), guidance W (default
        settings["guidance"]; a completion without a label: "no label"); captioned runs: prompt (Checks.condition)."""
        self.check_options(options)
        given, label, guidance = options.get("given"), options.get("label"), options.get("guidance")
        if guidance is not None:
            check_weight(guidance, "--guidance", "the guidance weight", "0: the conditional model alone")
            if given is not None and label is None and options.get("prompt") is None:
                raise ValueError("--guidance: a completion without --label (or --prompt) uses the model's no-label "
                                 "branch; give --label K (--prompt 'a seven', a captioned run) to guide it there")
        if (given is None) != (options.get("mask") is None):
            raise ValueError("--given and --mask go together: the images to complete and the pixels to fill in")
        if given is not None and not self.images:
            raise ValueError(f"--given: inpainting needs images; {self.config.data} is 2-D points")
        return self.train_data.to_unit(self.trajectory(n, seed, **options)[-1].numpy())

    def trajectory(self, n, seed, sampler="ddpm", sample_steps=None, given=None, mask=None, label=None,
                   guidance=None, prompt=None):
        """The states of the reverse process, [x_T, ..., x_0] (Tensors in the data's own values), for
        ``sample``'s options; completions take each step settings["resample"] times, guided."""
        T, device = self.settings["T"], self.config.device
        levels = D.timesteps(T, (T if sampler == "ddpm" else min(50, T)) if sample_steps is None else sample_steps)
        gen, shape = backend.private_generator(seed), (n,) + tuple(self.train_data.shape)

        def noise(shape):                                                        # a fresh N(0, I) draw
            return mg.tensor(gen.standard_normal(shape), device=device)
        known = keep = None
        if given is not None:
            given = check_given(given, n, self.train_data.shape, self.train_data.binary)
            known = mg.tensor(self.train_data.from_unit(given), device=device)   # (N, C, H, W)
            keep = backend.to_device(~hidden_mask(shape, mask), device)
        clip = self.train_data.value_range if self.images and self.settings["clip"] else None
        eps_fn = self.eps_fn
        if self.config.conditional or self.config.captions:   # what was asked; "no label" for completions
            unlabelled = given is not None and label is None and prompt is None
            labels = mg.tensor(self.condition(n, label, prompt, null=unlabelled), device=device)
            w = 0.0 if unlabelled else self.settings["guidance"] if guidance is None else guidance
            eps_fn = partial(self.eps_fn, labels=labels, guidance=w)
        x = noise(shape)                                                         # x_T ~ N(0, I)
        with mg.no_grad(), self.averaged():
            return D.reverse(eps_fn, x, self.alpha_bars, levels, sampler, noise, clip, known, keep,
                             self.settings["resample"], float(self.settings["reconstruction"]))

    def eps_fn(self, x, t, labels=None, guidance=0.0):
        """eps_theta(x, t) at one level t (given once, (1,): its embedding broadcasts), of labels (B,) or
        captions (B, 5) for a conditional network, guided with weight W: eps(x, y) and eps(x, none) in one call."""
        level = self.time_input(x.xp.full((1,), t, dtype="int64"))
        if labels is None or guidance == 0:
            return self.net(x, level, labels)
        n = x.shape[0]
        unlabelled = mg.tensor(self.condition(n, null=True), device=x.device)
        both = self.net(mg.concat([x, x]), level, mg.concat([labels, unlabelled]))   # (2B, *shape)
        return D.guided_eps(both[:n], both[n:], guidance)

    # ----- evaluation and the picture -----
    def evaluate(self):
        """The sample metrics (judge.py) of DDPM, and (ddim_) of DDIM-50, on 2,500 points or 1,000 images
        (100 a class), with their times; images: completion_accuracy (DDPM-50); captioned: caption_metrics."""
        data, train, test, steps = self.config.data, self.train_data, self.test_data, min(50, self.settings["T"])
        if self.images and train.labels is None:   # no classifier to judge them: no samples
            return {**judge.image_sample_metrics(None, data, train, test), **judge.completion_metrics(None, data, test),
                    **judge.image_sample_metrics(None, data, train, test, "ddim_")}
        labels = self.sample_labels(1000) if self.config.conditional or self.config.captions else None
        result = {"guidance": self.settings["guidance"]} if labels is not None else {}
        for sampler, prefix in (("ddpm", ""), ("ddim", "ddim_")):
            start = time.perf_counter()
            x = self.sample(1000 if self.images else len(test), self.SAMPLE_SEED, sampler=sampler)
            backend.synchronize(self.config.device)
            result[prefix + "sample_seconds"] = round(time.perf_counter() - start, 2)
            result.update(judge.image_sample_metrics(x, data, train, test, prefix, labels) if self.images
                          else judge.point_sample_metrics(x, data, test, prefix))
        result["ddim_steps"] = steps
        if self.images:
            start = time.perf_counter()
            result.update(judge.completion_metrics(lambda given, mask: self.sample(
                len(given), self.SAMPLE_SEED, sampler="ddpm", sample_steps=steps, given=given, mask=mask), data, test))
            result["completion_seconds"] = round(time.perf_counter() - start, 2)
        if self.config.captions:
            result.update(judge.caption_metrics(lambda prompts: self.sample(
                len(prompts), self.SAMPLE_SEED, sampler="ddim", prompt=prompts), self.captions, train))
        return result

    def figure(self):
        return viz.figure(self)

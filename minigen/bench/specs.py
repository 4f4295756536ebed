"""What each benchmarked training step computes: shapes, parameters, batch, learning rate.

Every contender (minigen, the hand-written NumPy baseline, PyTorch) builds its step from the
same ``Spec``: the same parameter arrays (float32, PyTorch layouts: Linear weight (out, in),
Conv2d weight (C_out, C_in, kh, kw)), the same batch, the same optimizer (plain SGD; Adam for
the GAN) and learning rate. So their gradients can be compared entry by entry before anything
is timed.

Parameter names are the ``named_parameters()`` names of the minigen and PyTorch modules.
"""
import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Spec:
    name: str                  # "mlp", "cnn", "gpt_block", "gan"
    title: str                 # one line for the table
    params: dict               # name -> float32 array (PyTorch layout)
    batch: dict                # name -> array (float32 inputs, int64 class targets)
    lr: float = 0.01
    extra: dict = field(default_factory=dict)   # step-specific settings (heads, ...)

    def astype(self, dtype):
        """The same spec with floating parameters and inputs cast to ``dtype`` (tests use float64)."""
        def cast(arrays):
            return {k: v.astype(dtype) if v.dtype.kind == "f" else v for k, v in arrays.items()}
        return Spec(self.name, self.title, cast(self.params), cast(self.batch), self.lr, dict(self.extra))


def _uniform(rng, shape, fan_in):
    """PyTorch's default init for Linear and Conv2d: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def _linear(rng, params, name, n_in, n_out):
    params[f"{name}.weight"] = _uniform(rng, (n_out, n_in), n_in)
    params[f"{name}.bias"] = _uniform(rng, (n_out,), n_in)


def _conv(rng, params, name, c_in, c_out, k):
    params[f"{name}.weight"] = _uniform(rng, (c_out, c_in, k, k), c_in * k * k)
    params[f"{name}.bias"] = _uniform(rng, (c_out,), c_in * k * k)


def _layer_norm(rng, params, name, n):
    # not the identity init (ones, zeros): a gradient check should see the affine part at work
    params[f"{name}.weight"] = (1 + 0.1 * rng.standard_normal(n)).astype(np.float32)
    params[f"{name}.bias"] = (0.1 * rng.standard_normal(n)).astype(np.float32)


def mlp(batch=128, sizes=(784, 512, 512, 10), seed=0):
    """784-512-512-10 (three Linear layers fc1..fc3), ReLU, cross-entropy, SGD."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        _linear(rng, params, f"fc{i + 1}", n_in, n_out)
    data = {"x": rng.standard_normal((batch, sizes[0])).astype(np.float32),
            "y": rng.integers(0, sizes[-1], batch).astype(np.int64)}
    title = f"MLP {'-'.join(map(str, sizes))}, batch {batch}"
    return Spec("mlp", title, params, data, extra={"sizes": tuple(sizes)})


def cnn(batch=64, size=28, width=32, classes=10, seed=0):
    """conv3x3 1->w pad 1 + ReLU, conv3x3 stride 2 w->2w pad 1 + ReLU, linear -> classes."""
    rng = np.random.default_rng(seed)
    params = {}
    _conv(rng, params, "conv1", 1, width, 3)
    _conv(rng, params, "conv2", width, 2 * width, 3)
    half = (size - 1) // 2 + 1                                # stride 2, pad 1, kernel 3
    _linear(rng, params, "fc", 2 * width * half * half, classes)
    data = {"x": rng.standard_normal((batch, 1, size, size)).astype(np.float32),
            "y": rng.integers(0, classes, batch).astype(np.int64)}
    title = f"CNN 1x{size}x{size} conv{width}-conv{2 * width}/2-fc{classes}, batch {batch}"
    return Spec("cnn", title, params, data, extra={"width": width, "size": size, "classes": classes})


def gpt_block(batch=16, seq=64, d_model=128, heads=4, seed=0):
    """One pre-norm transformer block, causal, GELU MLP (4x), MSE to a fixed target.

        h = x + attn.proj(attention(ln1(x)))          attention: one fused Linear attn.qkv, `heads` heads
        y = h + mlp.2(gelu(mlp.0(ln2(h))))            gelu: the tanh approximation (GPT-2)
        loss = mean((y - target)^2)

    This is minigen's nn.TransformerBlock (names as its named_parameters() gives them).
    """
    rng = np.random.default_rng(seed)
    params = {}
    _layer_norm(rng, params, "ln1", d_model)
    _linear(rng, params, "attn.qkv", d_model, 3 * d_model)
    _linear(rng, params, "attn.proj", d_model, d_model)
    _layer_norm(rng, params, "ln2", d_model)
    _linear(rng, params, "mlp.0", d_model, 4 * d_model)
    _linear(rng, params, "mlp.2", 4 * d_model, d_model)
    data = {"x": rng.standard_normal((batch, seq, d_model)).astype(np.float32),
            "target": rng.standard_normal((batch, seq, d_model)).astype(np.float32)}
    title = f"GPT block B{batch} T{seq} d{d_model} h{heads} causal"
    return Spec("gpt_block", title, params, data, extra={"heads": heads})


def gan(batch=256, z_dim=2, dim=2, hidden=128, seed=0):
    """minigen's MLP GAN as `minigen train gan --data 8gaussians` trains it: G z_dim-128-128-dim
    (ReLU), D dim-128-128-1 (LeakyReLU 0.2), non-saturating loss, Adam(lr 2e-4, betas (0.5, 0.999)).

    One step = a discriminator step on [real; G(z1)], then a generator step on G(z2). The noise
    is part of the batch (the same z for every contender); real points come from 8 Gaussians
    on a circle of radius 2, std 0.02.
    """
    rng = np.random.default_rng(seed)
    params = {}
    for net, n_in, n_out in (("G", z_dim, dim), ("D", dim, 1)):
        for k, (a, b) in zip((0, 2, 4), ((n_in, hidden), (hidden, hidden), (hidden, n_out))):
            _linear(rng, params, f"{net}.body.{k}", a, b)
    angles = 2 * np.pi * rng.integers(0, 8, batch) / 8
    real = 2 * np.stack([np.cos(angles), np.sin(angles)], axis=1) + 0.02 * rng.standard_normal((batch, 2))
    data = {"real": real.astype(np.float32),
            "z1": rng.standard_normal((batch, z_dim)).astype(np.float32),
            "z2": rng.standard_normal((batch, z_dim)).astype(np.float32)}
    title = f"GAN (MLP {z_dim}-{hidden}-{hidden}-{dim} / {dim}-{hidden}-{hidden}-1, Adam), batch {batch}"
    return Spec("gan", title, params, data, lr=2e-4,
                extra={"z_dim": z_dim, "dim": dim, "hidden": hidden, "betas": (0.5, 0.999), "eps": 1e-8})


STEPS = {"mlp": mlp, "cnn": cnn, "gpt_block": gpt_block, "gan": gan}


def gan_available():
    """The GAN step is benchmarked once minigen has its GAN model (minigen/models/gan.py)."""
    import importlib.util
    return importlib.util.find_spec("minigen.models.gan") is not None


def available():
    """The steps whose minigen model exists: all but the GAN, and the GAN when it is there."""
    return [name for name in STEPS if name != "gan" or gan_available()]


def tiny(name):
    """A small version of each step, for tests (same code paths, a fraction of the work)."""
    return {"mlp": lambda: mlp(batch=8, sizes=(20, 16, 12, 5)),
            "cnn": lambda: cnn(batch=3, size=9, width=4, classes=5),
            "gpt_block": lambda: gpt_block(batch=2, seq=5, d_model=16, heads=2),
            "gan": lambda: gan(batch=6, hidden=8)}[name]()

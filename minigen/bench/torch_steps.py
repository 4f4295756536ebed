"""The same training steps in PyTorch (optional contender: imported only when torch is there).

Modules use the parameter names of ``specs``, so one state dict loads into any contender.
float32 throughout; plain torch.optim.SGD; ``set_to_none`` zeroing (PyTorch's default).
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def torch_device(device):
    return "cuda" if device.startswith("cuda") else "cpu"


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.fc2 = nn.Linear(sizes[1], sizes[2])
        self.fc3 = nn.Linear(sizes[2], sizes[3])

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class CNN(nn.Module):
    def __init__(self, width, size, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        half = (size - 1) // 2 + 1
        self.fc = nn.Linear(2 * width * half * half, classes)

    def forward(self, x):
        h = F.relu(self.conv1(x))
        h = F.relu(self.conv2(h))
        return self.fc(h.flatten(1))


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)        # (B, H, T, D)
        return self.proj(o.transpose(1, 2).reshape(b, t, c))


class GPTBlock(nn.Module):
    """nanoGPT's pre-norm block; the same names as minigen's nn.TransformerBlock."""

    def __init__(self, d_model, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        h = x + self.attn(self.ln1(x))
        return h + self.mlp(self.ln2(h))


def build_model(spec):
    if spec.name == "mlp":
        return MLP(spec.extra["sizes"])
    if spec.name == "cnn":
        return CNN(spec.extra["width"], spec.extra["size"], spec.extra["classes"])
    if spec.name == "gpt_block":
        return GPTBlock(spec.params["ln1.weight"].shape[0], spec.extra["heads"])
    raise KeyError(f"torch: no model for step {spec.name!r}")


def loss_fn(name, model, batch):
    if name == "gpt_block":
        return F.mse_loss(model(batch["x"]), batch["target"])
    return F.cross_entropy(model(batch["x"]), batch["y"])


class TorchStep:
    """One training step of ``spec`` in PyTorch: zero_grad, forward, loss, backward, SGD."""

    label = "torch"

    def __init__(self, spec, device="cpu", model=None):
        self.name = spec.name  # not the spec: holding it would keep a second copy of the parameters
        self.device = device
        dev = torch_device(device)
        dtype = torch.from_numpy(next(iter(spec.params.values()))[:0]).dtype   # float32 (float64 in tests)
        self.model = (model or build_model(spec)).to(dev, dtype)
        names = {name for name, _ in self.model.named_parameters()}
        if names != set(spec.params):
            raise KeyError(f"torch {spec.name}: parameters {sorted(names)} != spec {sorted(spec.params)}")
        with torch.no_grad():
            for name, p in self.model.named_parameters():
                p.copy_(torch.from_numpy(np.ascontiguousarray(spec.params[name])))
        self.batch = {k: torch.from_numpy(np.ascontiguousarray(v)).to(dev) for k, v in spec.batch.items()}
        self.opt = torch.optim.SGD(self.model.parameters(), lr=spec.lr)

    def step(self):
        self.opt.zero_grad()
        loss_fn(self.name, self.model, self.batch).backward()
        self.opt.step()

    def sync(self):
        sync(self.device)

    def loss_and_grads(self):
        """Loss and gradients (NumPy, by parameter name) at the current parameters; no update."""
        self.opt.zero_grad()
        loss = loss_fn(self.name, self.model, self.batch)
        loss.backward()
        return loss.item(), {n: p.grad.detach().cpu().numpy() for n, p in self.model.named_parameters()}

    def parameters(self):
        return {n: p.detach().cpu().numpy() for n, p in self.model.named_parameters()}


class GAN(nn.Module):
    """minigen's MLPGenerator and MLPDiscriminator (depth 2), same names."""

    def __init__(self, z_dim, dim, hidden):
        super().__init__()
        self.G = nn.Module()
        self.G.body = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                    nn.Linear(hidden, dim))
        self.D = nn.Module()
        self.D.body = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                    nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def generate(self, z):
        return self.G.body(z)

    def discriminate(self, x):
        return self.D.body(x).reshape(x.shape[0])


class TorchGANStep(TorchStep):
    """The GAN step: D on [real; G(z1)] (non-saturating loss, Adam), then G on G(z2) through frozen D."""

    def __init__(self, spec, device="cpu"):
        e = spec.extra
        super().__init__(spec, device, model=GAN(e["z_dim"], e["dim"], e["hidden"]))
        m = self.model
        self.opt_d = torch.optim.Adam(m.D.parameters(), lr=spec.lr, betas=e["betas"], eps=e["eps"])
        self.opt_g = torch.optim.Adam(m.G.parameters(), lr=spec.lr, betas=e["betas"], eps=e["eps"])

    def d_loss(self):
        m, b = self.model, self.batch
        n = b["real"].shape[0]
        with torch.no_grad():
            fake = m.generate(b["z1"])
        logits = m.discriminate(torch.cat([b["real"], fake]))
        return F.softplus(-logits[:n]).mean() + F.softplus(logits[n:]).mean()

    def g_loss(self):
        return F.softplus(-self.model.discriminate(self.model.generate(self.batch["z2"]))).mean()

    def step(self):
        loss = self.d_loss()
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        self.model.D.requires_grad_(False)
        loss = self.g_loss()
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        self.model.D.requires_grad_(True)

    def loss_and_grads(self):
        self.model.zero_grad(set_to_none=True)
        d_loss = self.d_loss()
        d_loss.backward()
        self.model.D.requires_grad_(False)
        g_loss = self.g_loss()
        g_loss.backward()
        self.model.D.requires_grad_(True)
        return d_loss.item() + g_loss.item(), {n: p.grad.detach().cpu().numpy()
                                               for n, p in self.model.named_parameters()}


def torch_step(spec, device="cpu"):
    return TorchGANStep(spec, device) if spec.name == "gan" else TorchStep(spec, device)


def set_threads(n):
    torch.set_num_threads(n)


def version():
    return torch.__version__


def cuda_name():
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None

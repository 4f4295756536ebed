"""The benchmarked training steps in minigen, written as a user would write them.

MLP and CNN are small Modules here; the GPT block is minigen's own nn.TransformerBlock.
Each step is: zero_grad, forward, loss, backward, optimizer step (plain optim.SGD).
The GAN step is GAN.step of minigen/models/gan.py (MLP networks, the
non-saturating loss, Adam) with the noise given instead of drawn, so that every contender
sees the same z.
"""
import minigen as mg
import minigen.functional as F
from minigen import backend, nn, optim


class MLP(nn.Module):
    """sizes[0] -> sizes[1] -> sizes[2] -> sizes[3], ReLU between."""

    def __init__(self, sizes):
        super().__init__()
        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.fc2 = nn.Linear(sizes[1], sizes[2])
        self.fc3 = nn.Linear(sizes[2], sizes[3])

    def forward(self, x):
        h = F.relu(self.fc1(x))                             # (N, hidden)
        h = F.relu(self.fc2(h))                             # (N, hidden)
        return self.fc3(h)                                  # (N, classes)


class CNN(nn.Module):
    def __init__(self, width, size, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        half = (size - 1) // 2 + 1
        self.fc = nn.Linear(2 * width * half * half, classes)

    def forward(self, x):
        h = F.relu(self.conv1(x))                           # (N, w, H, W)
        h = F.relu(self.conv2(h))                           # (N, 2w, H/2, W/2)
        return self.fc(h.reshape(h.shape[0], -1))           # (N, classes)


def build_model(spec):
    if spec.name == "mlp":
        return MLP(spec.extra["sizes"])
    if spec.name == "cnn":
        return CNN(spec.extra["width"], spec.extra["size"], spec.extra["classes"])
    if spec.name == "gpt_block":
        return nn.TransformerBlock(spec.params["ln1.weight"].shape[0], spec.extra["heads"])
    raise KeyError(f"minigen: no model for step {spec.name!r}")


def loss_fn(name, model, batch):
    if name == "gpt_block":
        return F.mse_loss(model(batch["x"]), batch["target"])
    return F.cross_entropy(model(batch["x"]), batch["y"])


def load(model, spec, device):
    """``model`` on ``device`` in the spec's dtype, holding the spec's parameters."""
    model.to(device, next(iter(spec.params.values())).dtype)
    names = {name for name, _ in model.named_parameters()}
    if names != set(spec.params):
        raise KeyError(f"minigen {spec.name}: parameters {sorted(names)} != spec {sorted(spec.params)}")
    model.load_state_dict(spec.params)
    return model


class MinigenStep:
    """One training step of ``spec`` in minigen on ``device`` ("cpu" or "cuda:N")."""

    label = "minigen"

    def __init__(self, spec, device="cpu"):
        self.name = spec.name  # not the spec: holding it would keep a second copy of the parameters
        self.device = backend.normalize_device(device)
        self.model = load(build_model(spec), spec, self.device)
        self.batch = {k: mg.Tensor(v, dtype=v.dtype, device=self.device) for k, v in spec.batch.items()}
        self.opt = optim.SGD(self.model.parameters(), lr=spec.lr)

    def step(self):
        self.opt.zero_grad()
        loss_fn(self.name, self.model, self.batch).backward()
        self.opt.step()

    def sync(self):
        backend.synchronize(self.device)

    def loss_and_grads(self):
        """Loss and gradients (NumPy, by parameter name) at the current parameters; no update."""
        self.opt.zero_grad()
        loss = loss_fn(self.name, self.model, self.batch)
        loss.backward()
        return loss.item(), {n: p.grad.numpy() for n, p in self.model.named_parameters()}

    def parameters(self):
        return {n: p.numpy() for n, p in self.model.named_parameters()}


class GAN(nn.Module):
    """The generator and the discriminator under one roof (names G.* and D.*)."""

    def __init__(self, z_dim, dim, hidden):
        super().__init__()
        from minigen.models.gan import MLPDiscriminator, MLPGenerator
        self.G = MLPGenerator(z_dim, (dim,), hidden, depth=2)
        self.D = MLPDiscriminator((dim,), hidden, depth=2)


class MinigenGANStep:
    """GAN.step's arithmetic: a discriminator step on [real; G(z1)], then a
    generator step on G(z2) through the (updated, frozen) discriminator."""

    label = "minigen"

    def __init__(self, spec, device="cpu"):
        from minigen.objectives.minimax import LOSSES
        self.name = spec.name  # not the spec: holding it would keep a second copy of the parameters
        self.device = backend.normalize_device(device)
        e = spec.extra
        self.model = load(GAN(e["z_dim"], e["dim"], e["hidden"]), spec, self.device)
        self.G, self.D = self.model.G, self.model.D
        self.d_loss_fn, self.g_loss_fn = LOSSES["nonsaturating"]
        self.batch = {k: mg.Tensor(v, dtype=v.dtype, device=self.device) for k, v in spec.batch.items()}
        self.opt_d = optim.Adam(self.D.parameters(), lr=spec.lr, betas=e["betas"], eps=e["eps"])
        self.opt_g = optim.Adam(self.G.parameters(), lr=spec.lr, betas=e["betas"], eps=e["eps"])

    def discriminator_loss(self):
        real, n = self.batch["real"], self.batch["real"].shape[0]
        with mg.no_grad():
            fake = self.G(self.batch["z1"])                                # (B, dim)
        logits = self.D(mg.concat([real, fake]))                           # (2B,): one pass for both
        return self.d_loss_fn(logits[:n], logits[n:])

    def step(self):
        d_loss = self.discriminator_loss()
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        self.D.requires_grad_(False)                                       # D is frozen for G's step
        g_loss = self.g_loss_fn(self.D(self.G(self.batch["z2"])))
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)

    def sync(self):
        backend.synchronize(self.device)

    def loss_and_grads(self):
        """Both losses (summed) and both networks' gradients at the current parameters."""
        self.model.zero_grad()
        d_loss = self.discriminator_loss()
        d_loss.backward()
        self.D.requires_grad_(False)
        g_loss = self.g_loss_fn(self.D(self.G(self.batch["z2"])))
        g_loss.backward()
        self.D.requires_grad_(True)
        return d_loss.item() + g_loss.item(), {n: p.grad.numpy() for n, p in self.model.named_parameters()}

    def parameters(self):
        return {n: p.numpy() for n, p in self.model.named_parameters()}


def minigen_step(spec, device="cpu"):
    return MinigenGANStep(spec, device) if spec.name == "gan" else MinigenStep(spec, device)

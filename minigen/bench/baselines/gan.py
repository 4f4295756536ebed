"""One GAN training step written by hand (the MLP GAN of minigen/models/gan.py, non-saturating
loss, Adam): a discriminator step, then a generator step. No autograd.

    G: z -> Linear -> ReLU -> Linear -> ReLU -> Linear -> x          (G.body.0, .2, .4)
    D: x -> Linear -> LeakyReLU(0.2) -> Linear -> LeakyReLU(0.2) -> Linear -> logit   (D.body.0, .2, .4)

    1. fake = G(z1) (no gradient through G); l = D([real; fake]) in one pass
       d_loss = mean softplus(-l_real) + mean softplus(l_fake)
       dl_real = -sigmoid(-l_real) / n,  dl_fake = sigmoid(l_fake) / n;  Adam step on D
    2. l = D(G(z2)) with the *updated* D;  g_loss = mean softplus(-l)
       dl = -sigmoid(-l) / n, back through D (inputs only: D is frozen) and G;  Adam step on G

softplus(x) = logaddexp(0, x); sigmoid(-x) = 1 - sigmoid(x). ``xp`` is numpy (or cupy).
"""
import numpy as np


LAYERS = (0, 2, 4)   # the Linear layers' indices in the nn.Sequential body


def activate(x, slope, xp):
    """ReLU (slope 0) or LeakyReLU(slope): max(x, slope * x) for 0 <= slope < 1."""
    return xp.maximum(x, slope * x) if slope else xp.maximum(x, 0)


def activate_backward(g, h, slope, xp):
    """Through the activation whose output was h (h > 0 exactly where its input was)."""
    return g * (h > 0) if slope == 0 else xp.where(h > 0, g, slope * g)


def mlp_forward(params, prefix, x, slope, xp):
    """Three Linear layers with the activation between. Returns the output and each
    layer's input (kept for the backward)."""
    inputs = []
    for i, k in enumerate(LAYERS):
        inputs.append(x)
        x = x @ params[f"{prefix}.body.{k}.weight"].T + params[f"{prefix}.body.{k}.bias"]
        if i < len(LAYERS) - 1:
            x = activate(x, slope, xp)
    return x, inputs


def mlp_backward(params, prefix, g, inputs, slope, xp, want_params=True, want_input=True):
    """Back through mlp_forward from d output ``g``: (d input or None, {name: gradient})."""
    grads = {}
    for i in reversed(range(len(LAYERS))):
        name = f"{prefix}.body.{LAYERS[i]}"
        if want_params:
            grads[f"{name}.weight"] = g.T @ inputs[i]
            grads[f"{name}.bias"] = g.sum(axis=0)
        if i == 0 and not want_input:
            return None, grads
        g = g @ params[f"{name}.weight"]
        if i > 0:
            g = activate_backward(g, inputs[i], slope, xp)
    return g, grads


def sigmoid(x, xp):
    return 0.5 * (1 + xp.tanh(0.5 * x))      # = 1 / (1 + exp(-x)), without overflow


class Adam:
    """torch.optim.Adam's update: p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)."""

    def __init__(self, params, names, lr, betas, eps, xp):
        self.params, self.names, self.lr, self.betas, self.eps, self.xp = params, names, lr, betas, eps, xp
        self.m = {k: xp.zeros_like(params[k]) for k in names}
        self.v = {k: xp.zeros_like(params[k]) for k in names}
        self.t = 0

    def step(self, grads):
        xp, (b1, b2) = self.xp, self.betas
        self.t += 1
        for k in self.names:
            g, m, v = grads[k], self.m[k], self.v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = xp.sqrt(v)
            denom /= (1 - b2 ** self.t) ** 0.5
            denom += self.eps
            self.params[k] -= (self.lr / (1 - b1 ** self.t)) * (m / denom)


class GANStep:
    def __init__(self, params, lr, betas, eps, xp=np, slope=0.2):
        self.xp = xp
        self.slope = slope
        self.params = {k: xp.array(v) for k, v in params.items()}
        self.names = {net: [k for k in params if k.startswith(net + ".")] for net in ("G", "D")}
        self.opt = {net: Adam(self.params, names, lr, betas, eps, xp) for net, names in self.names.items()}

    def discriminator_grads(self, real, z):
        xp, p, n = self.xp, self.params, real.shape[0]
        fake, _ = mlp_forward(p, "G", z, 0, xp)                            # no backward through G
        logits, inputs = mlp_forward(p, "D", xp.concatenate([real, fake]), self.slope, xp)
        l_real, l_fake = logits[:n, 0], logits[n:, 0]
        loss = xp.logaddexp(0, -l_real).mean() + xp.logaddexp(0, l_fake).mean()
        dl = xp.concatenate([-sigmoid(-l_real, xp), sigmoid(l_fake, xp)])[:, None] / n
        _, grads = mlp_backward(p, "D", dl, inputs, self.slope, xp, want_input=False)
        return loss, grads

    def generator_grads(self, z):
        xp, p, n = self.xp, self.params, z.shape[0]
        fake, g_inputs = mlp_forward(p, "G", z, 0, xp)
        logits, d_inputs = mlp_forward(p, "D", fake, self.slope, xp)
        loss = xp.logaddexp(0, -logits[:, 0]).mean()
        dl = -sigmoid(-logits, xp) / n
        dfake, _ = mlp_backward(p, "D", dl, d_inputs, self.slope, xp, want_params=False)   # D frozen
        _, grads = mlp_backward(p, "G", dfake, g_inputs, 0, xp, want_input=False)
        return loss, grads

    def loss_and_grads(self, real, z1, z2):
        """Both losses (summed) and both networks' gradients at the current parameters."""
        d_loss, d_grads = self.discriminator_grads(real, z1)
        g_loss, g_grads = self.generator_grads(z2)
        return d_loss + g_loss, {**d_grads, **g_grads}

    def step(self, real, z1, z2):
        d_loss, d_grads = self.discriminator_grads(real, z1)
        self.opt["D"].step(d_grads)
        g_loss, g_grads = self.generator_grads(z2)                         # through the updated D
        self.opt["G"].step(g_grads)
        return d_loss, g_loss

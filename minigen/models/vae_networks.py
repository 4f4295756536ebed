"""The VAE's networks (models/vae.py trains them): an encoder x -> (mu, log sigma^2) of q(z | x) and
a decoder z -> the logits or means of p(x | z), as MLPs or as small convolutional networks; a
conditional pair (Sohn et al. 2015) joins a learned embedding of the label to each one's input.
"""
import math

import minigen as mg
import minigen.functional as F
from minigen import nn
from minigen.models.checks import check_network_labels


class JoinLabel(nn.Module):
    """(h, labels (N,)) -> h with the labels' learned embedding (dim) joined on: (N, F) -> (N, F + dim);
    (N, C, H, W) -> (N, C + dim, H, W), the same at every pixel. A one-hot input, learned."""

    def __init__(self, num_classes, dim):
        super().__init__()
        self.embedding = nn.Embedding(num_classes, dim)

    def forward(self, h, labels):
        e = self.embedding(labels)                                  # (N, dim)
        if h.ndim == 4:
            e = e.reshape(*e.shape, 1, 1) * mg.ones(1, 1, *h.shape[2:], dtype=h.dtype, device=h.device)
        return mg.concat([h, e], axis=1)                            # (N, F + dim) or (N, C + dim, H, W)


def join_label(net, h, labels):
    """h with the labels joined on (``net.label``, a JoinLabel) in a conditional network, h as it
    is in an unconditional one; labels missing for the first, or given to the second: refused."""
    check_network_labels(net, labels, hasattr(net, "label"))
    return h if labels is None else net.label(h, labels)


def mlp(sizes, dropout):
    """Linear layers through ``sizes``, each but the last followed by ReLU and dropout."""
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers, nn.Linear(*sizes[-2:]))


class MLPEncoder(nn.Module):
    """x (N, *shape) -> (mu, log_var), each (N, z_dim), through ``depth`` hidden ReLU layers.
    ``num_classes``: conditional, q(z | x, y), the labels' embedding joined to the pixels."""

    def __init__(self, shape, z_dim, hidden=256, depth=2, dropout=0.0, num_classes=None, label_dim=10):
        super().__init__()
        self.z_dim = z_dim
        width = math.prod(shape)
        if num_classes is not None:
            self.label, width = JoinLabel(num_classes, label_dim), width + label_dim
        self.body = mlp([width] + [hidden] * depth + [2 * z_dim], dropout)

    def forward(self, x, labels=None):
        out = self.body(join_label(self, x.reshape(x.shape[0], -1), labels))   # (N, 2d)
        return out[:, :self.z_dim], out[:, self.z_dim:]           # (N, d), (N, d)


class MLPDecoder(nn.Module):
    """z (M, z_dim) -> (M, *shape): Bernoulli logits or Gaussian means (and a learned log-variance
    per pixel, ``log_var``). ``num_classes``: conditional, p(x | z, y), the labels joined to z."""

    def __init__(self, shape, z_dim, hidden=256, depth=2, dropout=0.0, learn_variance=False,
                 num_classes=None, label_dim=10):
        super().__init__()
        self.shape = tuple(shape)
        if num_classes is not None:
            self.label, z_dim = JoinLabel(num_classes, label_dim), z_dim + label_dim
        self.body = mlp([z_dim] + [hidden] * depth + [math.prod(self.shape)], dropout)
        if learn_variance:
            self.log_var = nn.Parameter(mg.zeros(*self.shape))

    def forward(self, z, labels=None):
        h = join_label(self, z, labels)                             # (M, d [+ label_dim])
        return self.body(h).reshape(z.shape[0], *self.shape)      # (M, C, H, W)


class ConvEncoder(nn.Module):
    """x (N, C, S, S) -> (mu, log_var) (N, z_dim): Conv 4/2/1 -> ReLU -> Conv 4/2/1 -> ReLU -> Linear.
    ``num_classes``: conditional, the labels' embedding joins x as extra channels."""

    def __init__(self, shape, z_dim, width=32, num_classes=None, label_dim=10):
        super().__init__()
        channels, size = shape[0], shape[1]
        if size % 4 or shape[1] != shape[2]:
            raise ValueError(f"vae: --model conv needs square images whose side is a multiple of 4, got {shape}")
        self.z_dim = z_dim
        if num_classes is not None:
            self.label, channels = JoinLabel(num_classes, label_dim), channels + label_dim
        self.down1 = nn.Conv2d(channels, width, 4, stride=2, padding=1)
        self.down2 = nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)
        self.head = nn.Linear(2 * width * (size // 4) ** 2, 2 * z_dim)

    def forward(self, x, labels=None):
        h = join_label(self, x, labels)                             # (N, C [+ label_dim], S, S)
        h = F.relu(self.down1(h))                                  # (N, w, S/2, S/2)
        h = F.relu(self.down2(h))                                  # (N, 2w, S/4, S/4)
        out = self.head(h.reshape(x.shape[0], -1))                  # (N, 2d)
        return out[:, :self.z_dim], out[:, self.z_dim:]


class ConvDecoder(nn.Module):
    """z (M, z_dim) -> (M, C, S, S): Linear -> ReLU -> ConvTranspose 4/2/1 -> ReLU -> ConvTranspose
    4/2/1 (logits or means, and ``log_var``). ``num_classes``: conditional, the labels joined to z."""

    def __init__(self, shape, z_dim, width=32, learn_variance=False, num_classes=None, label_dim=10):
        super().__init__()
        self.shape = tuple(shape)
        channels, size = shape[0], shape[1]
        self.width, self.side = width, size // 4
        if num_classes is not None:
            self.label, z_dim = JoinLabel(num_classes, label_dim), z_dim + label_dim
        self.project = nn.Linear(z_dim, 2 * width * self.side ** 2)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1)
        self.up2 = nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1)
        if learn_variance:
            self.log_var = nn.Parameter(mg.zeros(*self.shape))

    def forward(self, z, labels=None):
        h = self.project(join_label(self, z, labels))               # (M, 2w S/4 S/4)
        h = F.relu(h).reshape(z.shape[0], 2 * self.width, self.side, self.side)   # (M, 2w, S/4, S/4)
        h = F.relu(self.up1(h))                                    # (M, w, S/2, S/2)
        return self.up2(h)                                          # (M, C, S, S)

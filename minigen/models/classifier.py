"""The discriminative baseline, p(y | x), and its generative twin, p(x | y).

A discriminative model answers "which class is this?"; it never learns what a digit
looks like, so it cannot draw one. The Bernoulli model at the bottom answers "what does a
digit of class y look like?" by counting pixels; Bayes' rule turns that into a
classifier, and sampling its pixels draws new digits.
"""
import math

import minigen as mg
import minigen.functional as F
from minigen import backend, nn, optim
from minigen.models.loop import Family
from minigen.viz import image_grid_figure


class MLPClassifier(nn.Module):
    """(N, 1, H, W) -> 10 logits through two hidden ReLU layers."""

    def __init__(self, in_features=64, hidden=256, classes=10, dropout=0.25):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.head = nn.Linear(hidden, classes)

    def features(self, x):
        return self.body(x.reshape(x.shape[0], -1))              # (N, hidden)

    def forward(self, x):
        return self.head(self.features(x))                       # (N, classes)


class CNNClassifier(nn.Module):
    """Two 3x3 convolutions, a 2x2 max pool, then a small MLP head."""

    def __init__(self, channels=1, size=8, classes=10, width=16, hidden=128, dropout=0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.fc = nn.Linear(2 * width * (size // 2) ** 2, hidden)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, classes)

    def features(self, x):
        h = F.relu(self.conv1(x))                                # (N, w, H, W)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)               # (N, 2w, H/2, W/2)
        return F.relu(self.fc(h.reshape(h.shape[0], -1)))        # (N, hidden)

    def forward(self, x):
        return self.head(self.drop(self.features(x)))            # (N, classes)


def random_shift(images, generator, max_shift=1, background=-1.0):
    """Move each image by up to ``max_shift`` pixels in x and y (a fair augmentation)."""
    xp = images.xp
    n, c, h, w = images.shape
    s = max_shift
    padded = xp.pad(images.data, ((0, 0), (0, 0), (s, s), (s, s)), constant_values=background)
    dy = xp.asarray(generator.integers(0, 2 * s + 1, n))
    dx = xp.asarray(generator.integers(0, 2 * s + 1, n))
    rows = (dy[:, None] + xp.arange(h))[:, None, :, None]       # (N, 1, H, 1)
    cols = (dx[:, None] + xp.arange(w))[:, None, None, :]       # (N, 1, 1, W)
    batch = xp.arange(n)[:, None, None, None]
    chans = xp.arange(c)[None, :, None, None]
    return mg.tensor(padded[batch, chans, rows, cols], device=images.device)


class Classifier(Family):
    """`minigen train classifier`: p(y | x) by cross-entropy, AdamW at a constant learning rate;
    grey images are shifted by up to a pixel each step (a fair augmentation)."""

    RECIPES = {
        "mlp": {"steps": 3000, "batch_size": 64, "lr": 1e-3, "weight_decay": 1e-4, "augment": True},
        "cnn": {"steps": 1500, "batch_size": 64, "lr": 1e-3, "weight_decay": 1e-4, "augment": True,
                "width": 16},
    }
    DATA = ("digits", "digits-binary", "idx:")

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        c, h, w = train.shape
        s = self.settings
        if config.model == "mlp":
            self.net = MLPClassifier(in_features=c * h * w)
        else:
            self.net = CNNClassifier(channels=c, size=h, width=s["width"])
        self.modules = {"net": self.net}
        self.optimizers = {"net": optim.AdamW(self.net.parameters(), lr=config.lr, weight_decay=s["weight_decay"])}
        self.augment = s["augment"] and not train.binary
        self.start()

    def arrays(self):
        return self.train_data.images, self.train_data.labels

    def step(self, batch):
        x, y = batch                                             # (B, C, H, W), (B,)
        if self.augment:
            x = random_shift(x, backend.generator(self.config.device))
        loss = F.cross_entropy(self.net(x), y.data)
        self.update(loss, self.optimizers["net"])
        return {"loss": loss}

    def predict(self, images, batch_size=500):
        """Class probabilities (N, 10) as a Tensor."""
        with mg.no_grad():
            chunks = [F.softmax(self.net(mg.tensor(images[i:i + batch_size], device=self.config.device)))
                      for i in range(0, len(images), batch_size)]
        return mg.concat(chunks)

    def evaluate(self):
        test = self.test_data
        probs = self.predict(test.images).numpy()
        labels = test.labels
        picked = probs[range(len(labels)), labels]
        return {"accuracy": float((probs.argmax(1) == labels).mean()),
                "nll_nats": float(-sum(math.log(max(p, 1e-12)) for p in picked) / len(labels)),
                "test_size": int(len(labels))}

    def figure(self):
        test = self.test_data
        images = test.images[:40]
        predicted = self.predict(images).numpy().argmax(1)
        labels = [f"{p}" if p == t else f"{p}≠{t}" for p, t in zip(predicted, test.labels[:40])]
        return image_grid_figure(test.to_unit(images), nrow=10, labels=labels,
                                 title="test digits, predicted class (≠ true when wrong)")


class BernoulliBayes:
    """p(x | y) = prod_j theta_yj^x_j (1 - theta_yj)^(1 - x_j): one coin per pixel and class.

    Fitting is counting: theta_yj = (ones at pixel j in class y + 1) / (images of y + 2)
    (the +1/+2 is Laplace smoothing, so no pixel is ever impossible).
    Classify with Bayes' rule: argmax_y log p(y) + log p(x | y). Generate: pick y, flip coins.
    """

    def __init__(self, classes=10):
        self.classes = classes

    def fit(self, images, labels):
        """images (N, ...) in {0, 1}, labels (N,) -> self."""
        x = mg.tensor(images.reshape(len(images), -1))
        onehot = mg.tensor((labels[:, None] == mg.arange(self.classes).numpy()[None, :]).astype("float32"))
        counts = onehot.sum(axis=0)                                          # (C,)
        if (counts.numpy() == 0).any():
            missing = [int(k) for k in (counts.numpy() == 0).nonzero()[0]]
            raise ValueError(f"BernoulliBayes.fit: no training images of class(es) {missing}")
        self.log_prior = (counts / counts.sum()).log()                       # (C,)
        self.theta = (onehot.T @ x + 1) / (counts.reshape(-1, 1) + 2)        # (C, D)
        self.shape = images.shape[1:]
        return self

    def log_joint(self, images):
        """log p(x, y) for every class: (N, C)."""
        x = mg.tensor(images.reshape(len(images), -1))
        return x @ self.theta.log().T + (1 - x) @ (1 - self.theta).log().T + self.log_prior

    def predict(self, images):
        return self.log_joint(images).numpy().argmax(1)

    def sample(self, labels, seed=0):
        """One image per requested label, pixels drawn from the class's coins (a private
        generator seeded by ``seed``: the global random stream is left alone)."""
        theta = self.theta[labels]                                           # (N, D)
        flips = mg.tensor(backend.private_generator(seed).random(theta.shape))
        return (flips < theta).numpy().astype("float32").reshape((len(labels),) + self.shape)

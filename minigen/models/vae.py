"""VAEs: an encoder q(z | x), a latent code z, a decoder p(x | z) (objectives/elbo.py).

One training step, Kingma & Welling's Algorithm 1 (``VAE.step``, ``VAE.objective``), on a batch x:

    1. encode: mu, log sigma^2 (B, d) = encoder(x), each x's sketch as a distribution q(z | x);
    2. reparameterise: z = mu + sigma * eps, eps ~ N(0, I): k draws (k, B, d) (k: ``samples``);
    3. decode: the logits (Bernoulli) or means (Gaussian) of p(x | z), (k B, C, H, W);
    4. the bound: --loss elbo, mean_k log p(x | z) - beta KL(q || N(0, I)) (the KL in closed form,
       beta rising from 0 to 1 over ``kl_warmup`` of the steps); --loss iwae, log mean_k p(x, z) / q(z | x);
    5. one AdamW step up the bound, on both networks (the learning rate on a cosine down to 0).

The likelihood: Gaussian, with a learned and floored variance per pixel, for digits (17 grey
levels); Bernoulli otherwise, idx: pixels binarised half-way up their range (binarised MNIST).
A sample paints z ~ N(0, I): binary draws from the decoder's probabilities (what the model says
a digit is, noise and all), or the decoder's Gaussian means (a draw would only add static).

The conditional VAE (--conditional, Sohn et al. 2015) learns p(x | y): each network joins a
learned embedding of the label (``JoinLabel``) to its input, q(z | x, y) and p(x | z, y); the
prior stays N(0, I), and the bound is one on log p(x | y). ``evaluate``: the k = 1000
importance-weighted -log p(x) of the test split (nll_iwae), the ELBO's terms from the same draws,
the active latent dimensions and the judge's sample metrics, all from fixed seeds.

The networks are in vae_networks.py. A completion (``--given``, ``--mask``: any hidden pixels)
is a draw from the model's own p(hidden | given), by Mattei & Frellsen's Metropolis-within-Gibbs
chain (E.impute), exact as the chain runs on.
"""
import math

import minigen as mg
import minigen.functional as F
from minigen import backend, optim
from minigen.data.completion import check_given, hidden_mask
from minigen.models import judge
from minigen.models.loop import Family
from minigen.models.vae_networks import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from minigen.objectives import elbo as E
from minigen.viz import vae as viz_vae


def repeat(x, k):
    """x (N, ...) -> (k N, ...): k copies, one per draw of z (draw-major, as z.reshape(k N, d))."""
    return x if k == 1 else mg.concat([x] * k)


# ----- settings -----
COMMON = {
    "hidden": 256, "depth": 2,            # the MLPs: units of each hidden layer, hidden layers
    "width": 32, "dropout": 0.2,          # the conv networks' channels; the MLPs' dropout (in training)
    "min_log_var": math.log(0.05 ** 2),   # Gaussian likelihood: pixel std >= 0.05 on the [-1, 1] scale
    "samples": 1,                         # draws of z per example and step (--loss iwae: 5 unless given)
    "beta": 1.0, "kl_warmup": 0.1,        # the KL weight, reached from 0 over this fraction of the steps
    "weight_decay": 0.0,                  # AdamW's decoupled weight decay
    "lr_schedule": "cosine", "lr_warmup": 0, "min_lr": 0.0,   # the learning rate: a cosine from lr to min_lr
    "ema": 0.0,                           # decay of the weight average to evaluate and sample with; 0: none
    "label_dim": 10,                      # --conditional: the size of each network's label embedding
    "complete_steps": 300,                # completions (--given, --mask): steps of E.impute's chain
}


class VAE(Family):
    """`minigen train vae`: the encoder and decoder, one AdamW optimizer, the bound, the sampler."""

    RECIPES = {"mlp": {"steps": 20000, "batch_size": 64, "lr": 1e-3, "z_dim": 16, **COMMON},
               "conv": {"steps": 2000, "batch_size": 64, "lr": 1e-3, "z_dim": 32, **COMMON}}
    CONDITIONAL_RECIPES = {"mlp": {"steps": 10000}}   # chosen on a holdout: RESULTS.md, "VAE"
    LOSSES = ("elbo", "iwae")
    DATA = ("digits-binary", "digits", "idx:")
    CONDITIONAL = True
    SAMPLE_OPTIONS = ("label", "given", "mask")

    IWAE_K = 1000           # importance samples per image for nll_iwae and log_prob
    IWAE_SEED = 4321        # their eps
    SAMPLE_SEED = 1234      # the z (and the Bernoulli draws) of evaluation samples

    @classmethod
    def recipe(cls, model, loss, data, conditional):
        idx = data.startswith("idx:")
        return {**super().recipe(model, loss, data, conditional),
                "likelihood": "gaussian" if data == "digits" else "bernoulli",
                "samples": 5 if loss == "iwae" else 1,
                # minigen eval's draws and test images (None: all): fewer on large 28x28 IDX test sets
                "eval_k": 100 if idx else 1000, "eval_images": 500 if idx else None}

    def __init__(self, config, train, test):
        super().__init__(config, train, test)
        s = self.settings
        if s["likelihood"] not in ("bernoulli", "gaussian"):
            raise ValueError(f"vae: likelihood must be 'bernoulli' or 'gaussian', got {s['likelihood']!r}")
        self.shape = tuple(train.shape)
        self.bernoulli = s["likelihood"] == "bernoulli"
        labels = {"num_classes": self.num_classes, "label_dim": s["label_dim"]}
        variance = {"learn_variance": not self.bernoulli, **labels}
        if config.model == "conv":
            self.encoder = ConvEncoder(self.shape, s["z_dim"], s["width"], **labels)
            self.decoder = ConvDecoder(self.shape, s["z_dim"], s["width"], **variance)
        else:
            layers = (s["hidden"], s["depth"], s["dropout"])
            self.encoder = MLPEncoder(self.shape, s["z_dim"], *layers, **labels)
            self.decoder = MLPDecoder(self.shape, s["z_dim"], *layers, **variance)
        self.modules = {"encoder": self.encoder, "decoder": self.decoder}
        params = [*self.encoder.parameters(), *self.decoder.parameters()]
        self.optimizers = {"vae": optim.AdamW(params, lr=config.lr, weight_decay=s["weight_decay"])}
        self.train_x = self.to_model(train.images)
        self.start()

    def arrays(self):
        return (self.train_x,) + ((self.train_data.labels,) if self.config.conditional else ())

    def to_model(self, images):
        """Images in the data's values -> what the likelihood models: binary pixels (binarised
        half-way up the value range if need be), or the values as they are."""
        if not self.bernoulli or self.train_data.binary:
            return images.astype("float32")
        low, high = self.train_data.value_range
        return (images > (low + high) / 2).astype("float32")

    # ----- the bound and the training step -----
    def log_likelihood(self, out, x):
        """log p(x | z) per example from the decoder's output ``out`` and x, both (M, C, H, W) -> (M,)."""
        if self.bernoulli:
            return E.bernoulli_log_likelihood(out, x)
        return E.gaussian_log_likelihood(x, out, self.decoder.log_var, self.settings["min_log_var"])

    def objective(self, x, labels=None, k=1, beta=1.0, loss="elbo", generator=None):
        """(the bound (B,), log p(x | z) (k, B), KL (B,)) of x (B, C, H, W) [given its labels (B,)]:
        ``loss`` elbo or iwae, k draws of z, the KL weighted by beta; eps from ``generator`` if given."""
        mu, log_var = self.encoder(x, labels)                               # 1. q(z | x): (B, d) each
        shape = (k, *mu.shape)
        eps = mg.randn(*shape, device=self.config.device) if generator is None else \
            mg.tensor(generator.standard_normal(shape).astype("float32"), device=self.config.device)
        z = E.reparameterize(mu, log_var, eps)                              # 2. z = mu + sigma eps (k, B, d)
        labels_k = None if labels is None else repeat(labels, k)            # (k B,)
        out = self.decoder(z.reshape(k * x.shape[0], mu.shape[1]), labels_k)   # 3. p(x | z): (k B, C, H, W)
        ll = self.log_likelihood(out, repeat(x, k)).reshape(k, x.shape[0])  # (k, B)
        kl = E.kl_standard_normal(mu, log_var)                              # (B,)
        if loss == "iwae":                                                  # 4. the bound
            return E.iwae_bound(E.log_importance_weights(ll, z, mu, log_var, beta)), ll, kl
        return E.elbo(ll.mean(axis=0), kl, beta), ll, kl

    def kl_weight(self):
        """beta for this step: warmed up linearly over the first ``kl_warmup`` fraction of the steps."""
        s = self.settings
        return E.kl_weight(self.step_count, s["beta"], round(s["kl_warmup"] * self.config.steps))

    def step(self, batch):
        x, *labels = batch                                                  # (B, C, H, W) [, (B,)]
        bound, ll, kl = self.objective(x, *labels, k=self.settings["samples"], beta=self.kl_weight(),
                                       loss=self.config.loss)
        loss = -bound.mean()
        self.update(loss, self.optimizers["vae"])                           # 5. one step up the bound
        return {"loss": loss, "reconstruction": -ll.detach().mean(), "kl": kl.detach().mean()}

    # ----- the code of an image, and back -----
    def encode(self, images, labels=None):
        """Posterior means and log-variances (NumPy (N, d) each) of images [and their labels]."""
        x = mg.tensor(self.to_model(images), device=self.config.device)
        labels = self.check_labels(labels, len(images), "encode")           # (N,) host ints
        with mg.no_grad(), self.averaged():
            mu, log_var = self.encoder(x, labels)
        return mu.numpy(), log_var.numpy()

    def decode(self, z, labels=None):
        """Pictures in [0, 1] (Bernoulli probabilities or Gaussian means) of codes z (N, d) [as ``labels``]."""
        labels = self.check_labels(labels, len(z), "decode")
        with mg.no_grad(), self.averaged():
            out = mg.concat([self.decoder(mg.tensor(z[i:i + 500], device=self.config.device),
                                          None if labels is None else labels[i:i + 500])
                             for i in range(0, len(z), 500)])
        return F.sigmoid(out).numpy() if self.bernoulli else self.train_data.to_unit(out.numpy())

    def interpolate(self, first, second, steps=10):
        """Pictures (steps, C, H, W) along the straight line between the posterior means of two
        images (C, H, W) in the data's values: a latent walk from the first to the second."""
        a, b = (mg.tensor(self.encode(image[None])[0]) for image in (first, second))   # (1, d) each
        t = mg.arange(steps, dtype="float32").reshape(steps, 1) * (1.0 / (steps - 1))   # (steps, 1)
        return self.decode((a * (1 - t) + b * t).numpy())

    def sample(self, n, seed, **options):
        """n images (n, C, H, W) float32 in [0, 1] from z ~ N(0, I) (a private generator seeded by
        ``seed``): binary draws or Gaussian means. A conditional run paints each z as a class:
        ``label=K`` for all of them, or without it the classes 0, 1, ..., 9, 0, 1, ... in turn.
        ``given`` and ``mask``: the hidden pixels of the given images filled in (``complete``)."""
        self.check_options(options)
        if ("given" in options) != ("mask" in options):
            raise ValueError("--given and --mask go together: the images to complete and the pixels to fill in")
        if self.config.conditional and "given" in options and "label" not in options:
            raise ValueError("--given: a conditional VAE completes an image of a class it is told: give --label K")
        labels = self.sample_labels(n, options.get("label")) if self.config.conditional else None
        if "given" in options:
            return self.complete(options["given"], options["mask"], n, seed, labels)
        generator = backend.private_generator(seed)
        z = generator.standard_normal((n, self.settings["z_dim"])).astype("float32")
        pictures = self.decode(z, labels)                                   # in [0, 1]
        return (generator.random(pictures.shape) < pictures).astype("float32") if self.bernoulli else pictures

    def complete(self, given, mask, n, seed, labels=None):
        """The hidden pixels (``mask``: data/completion.py) of ``given`` (n or 1 images (N, C, H, W) in
        [0, 1]) drawn from the model's p(hidden | given) by ``complete_steps`` steps of
        Metropolis-within-Gibbs (E.impute: exact as the chain runs on), as ``sample``'s images:
        binary draws, or for a Gaussian likelihood the means of p(hidden | z), z the chain's last code."""
        x = self.to_model(self.train_data.from_unit(check_given(given, n, self.shape, self.train_data.binary)))
        keep = backend.to_device(~hidden_mask(x.shape, mask), self.config.device)
        gen, device = backend.private_generator(seed), self.config.device
        y = None if labels is None else mg.tensor(labels, dtype="int64", device=device)

        def noise(draw):                                                   # normal or uniform Tensors
            return lambda shape: mg.tensor(draw(shape).astype("float32"), device=device)

        def draw(out):                                                     # x ~ p(x | z)
            if self.bernoulli:
                return (noise(gen.random)(out.shape) < F.sigmoid(out)).astype("float32")
            std = (mg.maximum(self.decoder.log_var, self.settings["min_log_var"]) * 0.5).exp()
            return out + std * noise(gen.standard_normal)(out.shape)
        with mg.no_grad(), self.averaged():
            x, out = E.impute(mg.tensor(x, device=device), keep, lambda v: self.encoder(v, y),
                              lambda z: self.decoder(z, y), self.log_likelihood, draw,
                              self.settings["complete_steps"], noise(gen.standard_normal), noise(gen.random))
        return x.numpy() if self.bernoulli else self.train_data.to_unit(mg.where(keep, x, out).numpy())

    # ----- likelihood and evaluation -----
    def bounds(self, images, k=None, chunk=20, labels=None):
        """Per image (data values): the k-draw IWAE estimate of log p(x) and, from the same draws,
        E_q log p(x | z) and the KL; NumPy (N,) arrays in nats, the eps drawn from IWAE_SEED. A
        conditional run needs the ``labels`` and gives log p(x | y), E_q log p(x | z, y), KL(q(z | x, y) || p(z))."""
        x_all = self.to_model(self.check_images(images, "log_prob"))
        labels_all = self.check_labels(labels, len(images), "log_prob")
        k = self.IWAE_K if k is None else k
        generator = backend.private_generator(self.IWAE_SEED)
        parts = []
        with mg.no_grad(), self.averaged():
            for i in range(0, len(x_all), chunk):
                x = mg.tensor(x_all[i:i + chunk], device=self.config.device)      # (c, C, H, W)
                labels = None if labels_all is None else \
                    mg.tensor(labels_all[i:i + chunk], dtype="int64", device=self.config.device)   # (c,)
                bound, ll, kl = self.objective(x, labels, k, loss="iwae", generator=generator)
                parts.append((bound, ll.mean(axis=0), kl))                  # L_k, E_q log p(x | z), KL
        return tuple(mg.concat(list(column)).numpy().astype("float64") for column in zip(*parts))

    def log_prob(self, images, labels=None):
        """log p(x) per image (NumPy (N,), nats): the k = 1000 importance-weighted estimate; for a
        conditional run log p(x | y), and ``labels`` (one class per image) are required."""
        return self.bounds(images, labels=labels)[0]

    def active_units(self, images, threshold=0.01, labels=None):
        """Latent dimensions u with Cov_x(E_q[z_u | x]) > threshold (Burda et al. 2016)."""
        mu, _ = self.encode(images, labels)
        return int((mu.var(axis=0) > threshold).sum())

    def evaluate(self):
        """The test-split metrics; a conditional run's NLL is -log p(x | y), also per label, and its
        1,000 samples (100 of each class) add ``label_accuracy``."""
        s = self.settings
        test = self.test_data.images[:s["eval_images"]]
        labels = self.test_data.labels[:len(test)] if self.config.conditional else None
        iwae, recon, kl = self.bounds(test, k=s["eval_k"], labels=labels)
        result = {"nll_iwae": float(-iwae.mean()), "neg_elbo": float((kl - recon).mean()),
                  "reconstruction": float(-recon.mean()), "kl": float(kl.mean()),
                  "active_units": self.active_units(test, labels=labels), "z_dim": s["z_dim"],
                  "iwae_k": s["eval_k"], "test_size": len(test)}
        if self.config.conditional:
            result["nll_iwae_per_label"] = [float(-iwae[labels == c].mean()) if (labels == c).any() else None
                                            for c in range(self.num_classes)]
        samples = self.sample(1000, self.SAMPLE_SEED)                           # in [0, 1]
        asked = self.sample_labels(1000) if self.config.conditional else None
        result.update(judge.image_sample_metrics(samples, self.config.data, self.train_data, self.test_data,
                                                 labels=asked))
        return result

    def figure(self):
        return viz_vae.figure(self)

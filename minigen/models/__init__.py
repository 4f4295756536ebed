"""The families, each a ``Family`` (loop.py): networks, a training step, a sampler.

classifier      the discriminative baseline on labelled images (and its generative twin)
gan             a generator against a discriminator (objectives/minimax.py)
vae             an encoder, a latent code, a decoder (objectives/elbo.py)
autoregressive  one token at a time: text.py (bigram, MLP, transformer) on names, story.py
                (the same three) on the shakespeare and code corpora, pixelcnn.py on images,
                music.py (an AR-CNN, a transformer) on the chorales (objectives/autoregressive.py)
diffusion       noise, then learn to denoise (objectives/denoising.py)

Shared by the families: loop.py (the training loop and its scaffolding) and judge.py (how
samples are scored). One call makes a family with its defaults, any setting overridden:

    from minigen.models import make
    vae = make("vae", "digits-binary", steps=2000, seed=0)     # a VAE, ready to train
    vae = make("vae", "digits-binary", z_dim=8, beta=0.5)      # family settings by name too
"""
from importlib import import_module

from minigen import backend
from minigen.models.loop import SCHEDULED, Config

FAMILIES = {
    "classifier": "minigen.models.classifier:Classifier",
    "gan": "minigen.models.gan:GAN",
    "vae": "minigen.models.vae:VAE",
    "autoregressive": "minigen.models.text:TextModel",          # on text; images: PixelCNNModel
    "diffusion": "minigen.models.diffusion:Diffusion",
}
IMAGE_AUTOREGRESSIVE = "minigen.models.pixelcnn:PixelCNNModel"
MUSIC_AUTOREGRESSIVE = "minigen.models.music:ChoraleModel"
STORY_AUTOREGRESSIVE = "minigen.models.story:StoryModel"
CONFIG_FIELDS = ("model", "loss", *SCHEDULED, "device", "seed", "out", "conditional", "captions")


def _load(path):
    module, name = path.split(":")
    return getattr(import_module(module), name)


def family_class(family, data):
    """The Family subclass that trains ``family`` on ``data`` (an autoregressive model of text,
    one of text corpora, one of images and one of music are four classes)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose from {list(FAMILIES)}")
    cls = _load(FAMILIES[family])
    if family != "autoregressive" or data in cls.DATA:
        return cls
    if data == "chorales":
        return _load(MUSIC_AUTOREGRESSIVE)
    story = _load(STORY_AUTOREGRESSIVE)
    if data in story.DATA:
        return story
    pixels = _load(IMAGE_AUTOREGRESSIVE)
    if data in pixels.DATA or data.startswith("idx:"):
        return pixels
    raise ValueError(f"autoregressive: cannot train on --data {data!r}; choose from "
                     f"{list(cls.DATA) + list(story.DATA) + list(pixels.DATA) + ['chorales']}")


def build(config, split=None, strict=False):
    """The family of ``config`` with every setting resolved (``config`` itself is left as it
    is), on the data's train and test splits, or on ``split``, a (train, test) pair of Datasets
    of ``config.data``; seeded by config.seed. ``strict``: refuse settings the family does not know."""
    from minigen.data import get_dataset

    cls = family_class(config.family, config.data)
    resolved = cls.resolve(config, strict)
    backend.manual_seed(resolved.seed)
    train, test = split or (get_dataset(config.data, "train"), get_dataset(config.data, "test"))
    if config.conditional and train.labels is None:
        raise ValueError(f"{config.family}: --conditional needs labels, and {config.data} has none "
                         "(an IDX images file without its labels file)")
    return cls(resolved, train, test)


def make(family, data, split=None, **settings):
    """A family with its defaults, ready to train: ``make("vae", "digits-binary", steps=2000, seed=0)``.

    Keywords: model, loss, steps, batch_size, lr, device, seed, out and conditional, as the
    `minigen train` flags; any other keyword is a setting of the family's recipe (z_dim, ema,
    lr_warmup...: the family's RECIPES list them). ``split``: a (train, test) pair of Datasets
    to train and test on instead of the data's own splits.
    """
    fields = {k: settings.pop(k) for k in CONFIG_FIELDS if k in settings}
    return build(Config(family=family, data=data, extra=settings, **fields), split, strict=True)

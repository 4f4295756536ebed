"""The families: each a Trainer (networks + train step + evaluation + sampling).

classifier      the discriminative baseline on labelled images (and its generative twin)
gan             a generator against a discriminator (objectives/minimax.py)
vae             an encoder, a latent code, a decoder (objectives/elbo.py)
autoregressive  one token or pixel at a time, from those before (objectives/autoregressive.py)
diffusion       noise, then learn to denoise (objectives/denoising.py)

Shared by the families: judge.py (sample metrics with their floors); minigen/data/completion.py
says which pixels --mask hides and checks --given.
"""
from importlib import import_module

FAMILIES = {
    "classifier": ("minigen.models.classifier", "ClassifierTrainer"),
    "gan": ("minigen.models.gan", "GANTrainer"),
    "vae": ("minigen.models.vae", "VAETrainer"),
    "autoregressive": ("minigen.models.autoregressive", "AutoregressiveTrainer"),
    "diffusion": ("minigen.models.diffusion", "DiffusionTrainer"),
}


def trainer_class(family):
    module, name = FAMILIES[family]
    return getattr(import_module(module), name)

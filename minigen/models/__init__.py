"""The families: each a Trainer (networks + train step + evaluation + sampling).

classifier  the discriminative baseline on labelled images (and its generative twin)
"""
from importlib import import_module

FAMILIES = {
    "classifier": ("minigen.models.classifier", "ClassifierTrainer"),
    "gan": ("minigen.models.gan", "GANTrainer"),
}


def trainer_class(family):
    module, name = FAMILIES[family]
    return getattr(import_module(module), name)

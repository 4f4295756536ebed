"""Choose the classifier's defaults on a held-out part of the TRAIN split (never on test).

Trains on the first 1,293 training digits, reports accuracy on the last 144, per setting.
Usage: python tools/classifier_holdout.py
"""
import itertools
import time

import minigen as mg
from minigen.models import classifier
from minigen.runs import Config, fill_defaults, train
from holdout import carve  # noqa: E402 -- tools/holdout.py, beside this script

fit, held = carve("digits", 144)

SETTINGS = [("mlp", {}, 3000), ("cnn", {"width": 32}, 1500), ("cnn", {"width": 16}, 1500),
            ("cnn", {"width": 16}, 1000)]
for (model, extra, steps), seed in itertools.product(SETTINGS, [0, 1]):
    config = fill_defaults(Config(family="classifier", data="digits", model=model, steps=steps, seed=seed,
                                  extra=dict(extra)), classifier.ClassifierTrainer)
    mg.manual_seed(seed)
    trainer = classifier.ClassifierTrainer(config, fit, held)
    start = time.perf_counter()
    train(trainer, quiet=True)
    acc = trainer.evaluate()["accuracy"]
    print(f"{model} {extra} steps={steps} seed={seed}: holdout accuracy {acc:.4f} "
          f"({time.perf_counter() - start:.1f} s)", flush=True)

"""Choose the classifier's defaults on a held-out part of the TRAIN split (never on test).

Trains each setting below on the first 1,077 training digits (tools/holdout/holdout.py), seeds 0
and 1, and reports its accuracy on the last 360. The defaults it chose (the CNN's width 16 and
1,500 steps, the MLP's 3,000 steps) are the classifier's RECIPES; the default model, the MLP, is
the judge of every family's digit samples (minigen/models/judge.py).

Usage: python -m tools.holdout.classifier_holdout [--seeds 0 1]

Results: RESULTS.md, "Classifier".
"""
import argparse
import itertools
import time

from minigen.models import make
from minigen.models.loop import train
from tools.holdout.holdout import carve

# (model, its settings, steps)
SETTINGS = [("mlp", {}, 3000), ("cnn", {"width": 32}, 1500), ("cnn", {"width": 16}, 1500),
            ("cnn", {"width": 16}, 1000)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    fit, held = carve("digits")
    for (model, settings, steps), seed in itertools.product(SETTINGS, args.seeds):
        classifier = make("classifier", "digits", model=model, steps=steps, seed=seed, split=(fit, held),
                          **settings)
        start = time.perf_counter()
        train(classifier, quiet=True)
        print(f"{model} {settings} steps={steps} seed={seed}: holdout accuracy "
              f"{classifier.evaluate()['accuracy']:.4f} ({time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()

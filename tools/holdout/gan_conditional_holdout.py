"""Choose the conditional GAN's defaults on a held-out part of the TRAIN split (never on test).

Trains on the first 1,077 training digits (tools/holdout/holdout.py), reports on the last 360:
1,000 samples, 100 per class, scored by the judge `minigen eval` uses (minigen/models/judge.py):
``label_accuracy`` (the share of each class's samples the judge assigns to it, and the worst
class's) and the Frechet distance of the judge's features to the holdout's (``frechet_holdout``;
``frechet_floor``: the first 1,000 fitted images against the holdout). ``--unconditional`` trains
the same settings without labels: the reference the conditional Frechet distance is held to (at
most 1.10x).

Steps are counted for the 1,437 images of a real run and scaled by 1,077 / 1,437 here, so that
a setting is compared at the number of epochs it would get from `minigen train`.

Usage:
    python -m tools.holdout.gan_conditional_holdout                           the default (mlp), conditional
    python -m tools.holdout.gan_conditional_holdout --unconditional --seed 1  the unconditional reference
    python -m tools.holdout.gan_conditional_holdout '{"label_dim": 32}' --model dcgan --steps 3000

Results: RESULTS.md, "GAN".
"""
import argparse
import json

from minigen.models import judge
from minigen.models.loop import train
from tools.holdout.holdout import carve, make_for_epochs


def run(fit, held, settings, steps=None, seed=0, conditional=True, **config):
    """Train on ``fit`` with these settings (``steps``: of a real run; ``config``: model, loss,
    lr); the holdout numbers as a dict."""
    gan, real_steps = make_for_epochs("gan", "digits", fit, held, steps, seed=seed, conditional=conditional,
                                      **config, **settings)
    _, seconds = train(gan, quiet=True)
    labels = gan.sample_labels(1000) if conditional else None
    scores = judge.image_sample_metrics(gan.sample(1000, gan.SAMPLE_SEED), "digits", fit, held, labels=labels)
    result = {"settings": settings, "model": gan.config.model, "loss": gan.config.loss, "lr": gan.config.lr,
              "steps": real_steps, "seed": seed, "conditional": conditional,
              "frechet_holdout": round(scores["frechet_distance"], 3), "frechet_floor": round(scores["frechet_floor"], 3),
              "class_entropy": round(scores["class_entropy"], 4), "train_seconds": round(seconds, 1)}
    if conditional:
        result.update(label_accuracy=round(scores["label_accuracy"], 4),
                      worst_label=round(min(scores["per_label_accuracy"]), 3))
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("settings", nargs="?", default="{}", help="recipe settings as JSON, e.g. '{\"label_dim\": 32}'")
    p.add_argument("--model", choices=["mlp", "dcgan"])
    p.add_argument("--loss")
    p.add_argument("--lr", type=float)
    p.add_argument("--steps", type=int, help="steps of a real run (default: the recipe's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--unconditional", action="store_true")
    args = p.parse_args()
    config = {k: v for k, v in (("model", args.model), ("loss", args.loss), ("lr", args.lr)) if v is not None}
    fit, held = carve("digits")
    print(json.dumps(run(fit, held, json.loads(args.settings), args.steps, args.seed, not args.unconditional,
                         **config)), flush=True)


if __name__ == "__main__":
    main()

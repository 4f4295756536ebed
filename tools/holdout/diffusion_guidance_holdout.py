"""Choose the conditional diffusion defaults (--conditional) on a held-out part of the TRAIN split.

Trains on the first 1,077 training digits (tools/holdout/holdout.py), judges 1,000 samples (100 of
each class, guided) against the last 360, never the test split. For each setting it trains once,
then sweeps the guidance weight W, which only sampling sees: label_accuracy (the judge agrees
with the class asked for), the Frechet distance and, for diversity, the mean Frechet distance
per class (each class's samples against that class's held-out digits) and the within-class
spread: sqrt(tr Cov) of a class's samples in the judge's features over the same for its held-out
digits (1: as varied as real digits of the class; guidance that collapses a class onto a few
typical shapes pushes it below 1). DDIM with 50 steps for the sweep; --ddpm W,W,... also runs
DDPM (T steps) at those W.

Usage: python -m tools.holdout.diffusion_guidance_holdout [NAME ...] [--ddpm 1,2] [--weights 0,1,2,3] [--seed S]
(NAME: a setting below; all of them by default)

Results: RESULTS.md, "Diffusion" (conditional).
"""
import argparse
import time

import numpy as np

from minigen import metrics
from minigen.models import judge, make
from minigen.models.loop import train
from tools.holdout.holdout import carve

# name: settings of the conditional default to change; each says its p_uncond and T, so that a
# name means the same setting whatever the default is
SETTINGS = {
    "p0.1_T1000": {"p_uncond": 0.1, "T": 1000},
    "p0.2_T1000": {"p_uncond": 0.2, "T": 1000},
    "p0.1_T500": {"p_uncond": 0.1, "T": 500},   # the default
}


def per_class(x, labels, fit, held, held_features):
    """(the mean over classes of the Frechet distance of a class's samples to its held-out digits,
    the mean within-class spread sqrt(tr Cov) of the samples' features over that of the held-out digits)."""
    _, features = judge.judge_outputs(judge.digit_judge("digits"), fit.from_unit(x))
    labels = np.asarray(labels)
    frechet, spread = [], []
    for k in range(fit.num_classes):
        mine, real = features[labels == k], held_features[held.labels == k]
        frechet.append(metrics.frechet_distance(mine, real))
        spread.append(np.sqrt(np.trace(np.cov(mine, rowvar=False)) / np.trace(np.cov(real, rowvar=False))))
    return float(np.mean(frechet)), float(np.mean(spread))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="settings to try (default: all)")
    parser.add_argument("--weights", default="0,0.5,1,2,3", help="DDIM-50 guidance weights")
    parser.add_argument("--ddpm", default="", help="DDPM guidance weights")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    fit, held = carve("digits")
    _, held_features = judge.judge_outputs(judge.digit_judge("digits"), held.images)
    for name in args.names or list(SETTINGS):
        settings = SETTINGS[name]
        diffusion = make("diffusion", "digits", seed=args.seed, conditional=True, split=(fit, held), **settings)
        _, seconds = train(diffusion, quiet=True)
        print(f"{name} {settings} steps={diffusion.config.steps} seed={args.seed} (train {seconds:.0f} s)",
              flush=True)
        runs = [("ddim", float(w)) for w in args.weights.split(",") if w]
        runs += [("ddpm", float(w)) for w in args.ddpm.split(",") if w]
        for sampler, w in runs:
            start = time.perf_counter()
            x = diffusion.sample(1000, diffusion.SAMPLE_SEED, sampler=sampler, guidance=w)
            took = time.perf_counter() - start
            labels = diffusion.sample_labels(1000)
            r = judge.image_sample_metrics(x, "digits", fit, held, labels=labels)
            frechet, spread = per_class(x, labels, fit, held, held_features)
            print(f"  {sampler} W={w:g}: label_accuracy {r['label_accuracy']:.3f}, frechet "
                  f"{r['frechet_distance']:.2f} (floor {r['frechet_floor']:.2f}), per-class frechet {frechet:.2f}, "
                  f"spread {spread:.3f}, class_entropy {r['class_entropy']:.3f} (sampling {took:.0f} s)", flush=True)


if __name__ == "__main__":
    main()

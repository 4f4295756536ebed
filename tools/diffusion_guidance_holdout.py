"""Choose the conditional diffusion defaults (--conditional) on a held-out part of the TRAIN split.

As tools/diffusion_holdout.py: trains on the first 1,077 training digits, judges 1,000 samples
(100 of each class, guided) against the last 360 (the test split's size), never the test split.
For each setting it trains once, then sweeps the guidance weight W, which only sampling sees:
label_accuracy (the judge agrees with the class asked for), the Frechet distance and, for
diversity, the mean Frechet distance per class (each class's samples against that class's
held-out digits) and the within-class spread: sqrt(tr Cov) of a class's samples in the judge's
features over the same for its held-out digits (1: as varied as real digits of the class;
guidance that collapses a class onto a few typical shapes pushes it below 1).
DDIM with 50 steps for the sweep; --ddpm W,W,... also runs DDPM (T steps) at those W.
The unconditional default's Frechet distance on this holdout, for the 10% margin: DDIM-50 15.7
(tools/diffusion_holdout.py, cosine_lr3e-3).

Usage: python tools/diffusion_guidance_holdout.py [NAME ...] [--ddpm 1,2] [--weights 0,1,2,3] [--seed S]
(NAME: settings below; all of them by default)

Measured (seed 0; run as `... p0.1_T1000 p0.2_T1000 --weights 0,0.5,1,2,3` and
`... p0.1_T500 --weights 0,0.5,1,2 --ddpm 1`): the table in minigen/models/diffusion.py (CONDITIONAL).
Per-class Frechet distance / within-class spread, DDIM-50, p_uncond 0.1, T = 500:
W = 0 25.6 / 0.974, 0.5 19.9 / 0.894, 1 19.7 / 0.867, 2 21.4 / 0.858; DDPM W = 1 19.7 / 0.811.
"""
import argparse
import time

import numpy as np

import minigen as mg
from minigen import metrics
from minigen.models import diffusion, judge
from minigen.runs import Config, fill_defaults, train
from holdout import carve  # noqa: E402 -- tools/holdout.py, beside this script

# name: config.extra overrides of the conditional default (None: the recipe's steps); each says
# its p_uncond and T, so that a name means the same setting whatever the default is
SETTINGS = {
    "p0.1_T1000": ({"p_uncond": 0.1, "T": 1000}, None),
    "p0.2_T1000": ({"p_uncond": 0.2, "T": 1000}, None),
    "p0.1_T500": ({"p_uncond": 0.1, "T": 500}, None),   # the default
}

parser = argparse.ArgumentParser()
parser.add_argument("names", nargs="*")
parser.add_argument("--weights", default="0,0.5,1,2,3")
parser.add_argument("--ddpm", default="")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

fit, held = carve("digits", 360)
model = judge.digit_judge("digits")
_, held_feats = judge.judge_outputs(model, held.images)


def per_class(x, labels):
    """(the mean over classes of the Frechet distance of a class's samples to its held-out digits,
    the mean within-class spread sqrt(tr Cov) of the samples' features over that of the held-out digits)."""
    _, feats = judge.judge_outputs(model, fit.from_unit(x))
    labels = np.asarray(labels)
    frechet, spread = [], []
    for k in range(fit.num_classes):
        mine, real = feats[labels == k], held_feats[held.labels == k]
        frechet.append(metrics.frechet_distance(mine, real))
        spread.append(np.sqrt(np.trace(np.cov(mine, rowvar=False)) / np.trace(np.cov(real, rowvar=False))))
    return float(np.mean(frechet)), float(np.mean(spread))


for name in args.names or list(SETTINGS):
    extra, steps = SETTINGS[name]
    config = fill_defaults(Config(family="diffusion", data="digits", steps=steps, seed=args.seed, conditional=True,
                                  extra=dict(extra)), diffusion.DiffusionTrainer)
    mg.manual_seed(args.seed)
    trainer = diffusion.DiffusionTrainer(config, fit, held)
    _, seconds = train(trainer, quiet=True)
    print(f"{name} {extra} steps={config.steps} seed={args.seed} (train {seconds:.0f} s)", flush=True)
    runs = [("ddim", float(w)) for w in args.weights.split(",") if w]
    runs += [("ddpm", float(w)) for w in args.ddpm.split(",") if w]
    for sampler, w in runs:
        start = time.perf_counter()
        x = trainer.sample(1000, trainer.SAMPLE_SEED, sampler=sampler, guidance=w)
        took = time.perf_counter() - start
        labels = trainer.sample_labels(1000)
        r = judge.image_sample_metrics(x, "digits", fit, held, labels=labels)
        frechet, spread = per_class(x, labels)
        print(f"  {sampler} W={w:g}: label_accuracy {r['label_accuracy']:.3f}, frechet {r['frechet_distance']:.2f} "
              f"(floor {r['frechet_floor']:.2f}), per-class frechet {frechet:.2f}, spread {spread:.3f}, "
              f"class_entropy {r['class_entropy']:.3f} (sampling {took:.0f} s)", flush=True)

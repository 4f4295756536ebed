"""Choose the VAE's defaults on a held-out part of the TRAIN split (never on test).

Trains on the first 1,150 training digits (digits-binary), reports on the last 287 (a fifth of
the train split): the k = 1000 IWAE estimate of the NLL, -ELBO, active latent dimensions, and
the same on as many training images
(over-fitting shows as a gap), and optionally (--curve N) the holdout NLL every N steps, to see where over-fitting starts.

Steps are counted for the 1,437 images of a real run and scaled by 1,150 / 1,437 here, so that
a setting is compared at the number of epochs it would get from `minigen train`.

Usage:
    python tools/vae_holdout.py                        the settings below, one seed
    python tools/vae_holdout.py '{"dropout": 0.2}' --steps 20000 --seed 1 --curve 2000
"""
import argparse
import dataclasses
import json
import time

import minigen as mg
from minigen.data import get_dataset
from minigen.models import vae
from minigen.runs import Config, fill_defaults

full = get_dataset("digits-binary", "train")
cut = len(full) - len(full) // 5
fit = dataclasses.replace(full, data=full.data[:cut], labels=full.labels[:cut])
held = dataclasses.replace(full, data=full.data[cut:], labels=full.labels[cut:], split="holdout")

SETTINGS = [({}, None)]   # (config.extra, --steps of a real run; None: the default)


def run(extra, steps, seed, curve=None, loss=None, lr=None):
    """Train on ``fit`` with these settings; the holdout numbers as a dict."""
    config = fill_defaults(Config(family="vae", data="digits-binary", seed=seed, loss=loss, lr=lr,
                                  extra=dict(extra)), vae.VAETrainer)
    real_steps = config.steps if steps is None else steps
    config.steps = round(real_steps * len(fit) / len(full))
    mg.manual_seed(seed)
    trainer = vae.VAETrainer(config, fit, held)
    start = time.perf_counter()
    batches = trainer.batches()
    trainer.train_mode()
    while trainer.step_count < config.steps:
        trainer.train_step(next(batches))
        trainer.step_count += 1
        if curve and trainer.step_count % curve == 0 and trainer.step_count < config.steps:
            iwae, _, _ = trainer.bounds(held.images, k=100)
            print(f"  step {trainer.step_count}: holdout nll_iwae(k=100) {-iwae.mean():.3f}", flush=True)
    seconds = time.perf_counter() - start
    trainer.eval_mode()
    iwae, recon, kl = trainer.bounds(held.images)
    fit_iwae, _, _ = trainer.bounds(fit.images[:len(held)])          # the same number of training images
    return {"extra": extra, "steps": real_steps, "seed": seed, "loss": config.loss, "lr": config.lr,
            "nll_iwae": round(float(-iwae.mean()), 3), "neg_elbo": round(float((kl - recon).mean()), 3),
            "kl": round(float(kl.mean()), 3), "fit_nll_iwae": round(float(-fit_iwae.mean()), 3), "active_units": trainer.active_units(held.images),
            "train_seconds": round(seconds, 1)}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("extra", nargs="?", help="config.extra as JSON (default: the SETTINGS list)")
    p.add_argument("--steps", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--loss")
    p.add_argument("--lr", type=float)
    p.add_argument("--curve", type=int, help="print the holdout NLL every N steps")
    args = p.parse_args()
    settings = [(json.loads(args.extra), args.steps)] if args.extra else SETTINGS
    for extra, steps in settings:
        print(json.dumps(run(extra, steps if args.steps is None else args.steps, args.seed, args.curve,
                             args.loss, args.lr)), flush=True)

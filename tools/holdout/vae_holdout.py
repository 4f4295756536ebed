"""Choose the VAE's defaults on a held-out part of the TRAIN split (never on test).

Trains on the first 1,077 training digits (digits-binary, tools/holdout/holdout.py; with their
labels for --conditional), reports on the last 360: the k = 1000 IWAE estimate of the NLL, -ELBO,
active latent dimensions, the same NLL on as many fitted images (over-fitting shows as a gap),
the Frechet distance of 1,000 prior samples (binary draws) to the holdout in the judge's
features, averaged over 5 sampling seeds (one seed's is noisy), and optionally (--curve N) the
holdout NLL every N steps. --conditional: the NLL is -log p(x | y) with the holdout labels, and
the samples' label_accuracy is added.

Steps are counted for the 1,437 images of a real run and scaled by 1,077 / 1,437 here, so that
a setting is compared at the number of epochs it would get from `minigen train`.

Usage:
    python -m tools.holdout.vae_holdout                        the default, one seed
    python -m tools.holdout.vae_holdout '{}' --conditional --steps 10000
    python -m tools.holdout.vae_holdout '{"dropout": 0.2}' --steps 20000 --seed 1 --curve 2000

Results: RESULTS.md, "VAE".
"""
import argparse
import json
import time

from minigen import metrics
from minigen.models import judge
from tools.holdout.holdout import carve, make_for_epochs


def run(fit, held, settings, steps=None, seed=0, curve=None, conditional=False, **config):
    """Train on ``fit`` with these recipe settings (``steps``: of a real run, None: the recipe's;
    ``config``: loss, lr, batch_size); the holdout numbers as a dict."""
    vae, real_steps = make_for_epochs("vae", "digits-binary", fit, held, steps, seed=seed, conditional=conditional,
                                      **config, **settings)
    labels = held.labels if conditional else None
    fit_labels = fit.labels[:len(held)] if conditional else None
    start = time.perf_counter()
    batches = vae.batches()
    vae.train_mode()
    while vae.step_count < vae.config.steps:
        vae.train_step(next(batches))
        if curve and vae.step_count % curve == 0 and vae.step_count < vae.config.steps:
            iwae, _, _ = vae.bounds(held.images, k=100, labels=labels)
            print(f"  step {vae.step_count}: holdout nll_iwae(k=100) {-iwae.mean():.3f}", flush=True)
    seconds = time.perf_counter() - start
    vae.eval_mode()
    iwae, recon, kl = vae.bounds(held.images, labels=labels)
    fit_iwae, _, _ = vae.bounds(fit.images[:len(held)], labels=fit_labels)   # as many training images
    scorer = judge.digit_judge("digits-binary")
    _, held_features = judge.judge_outputs(scorer, held.images)
    frechet, accuracy = [], []
    for sampling_seed in range(5):
        probs, features = judge.judge_outputs(scorer, vae.sample(1000, sampling_seed))
        frechet.append(metrics.frechet_distance(features, held_features))
        if conditional:                              # 100 of each class, in turn (sample_labels)
            per_label = metrics.label_accuracy(probs, vae.sample_labels(1000), fit.num_classes)
            accuracy.append(sum(per_label) / len(per_label))
    result = {"label_accuracy": round(sum(accuracy) / len(accuracy), 4)} if conditional else {}
    return {"settings": settings, "steps": real_steps, "seed": seed, "loss": vae.config.loss, "lr": vae.config.lr,
            "batch_size": vae.config.batch_size, "conditional": conditional, **result,
            "nll_iwae": round(float(-iwae.mean()), 3), "neg_elbo": round(float((kl - recon).mean()), 3),
            "kl": round(float(kl.mean()), 3), "fit_nll_iwae": round(float(-fit_iwae.mean()), 3),
            "frechet_holdout": round(sum(frechet) / len(frechet), 3),
            "active_units": vae.active_units(held.images, labels=labels),
            "train_seconds": round(seconds, 1)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("settings", nargs="?", default="{}", help="recipe settings as JSON, e.g. '{\"dropout\": 0.2}'")
    p.add_argument("--steps", type=int, help="steps of a real run (default: the recipe's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--loss", choices=["elbo", "iwae"])
    p.add_argument("--lr", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--curve", type=int, help="print the holdout NLL every N steps")
    p.add_argument("--conditional", action="store_true", help="a conditional VAE, p(x | y)")
    args = p.parse_args()
    config = {k: v for k, v in (("loss", args.loss), ("lr", args.lr), ("batch_size", args.batch_size))
              if v is not None}
    fit, held = carve("digits-binary")
    print(json.dumps(run(fit, held, json.loads(args.settings), args.steps, args.seed, args.curve,
                         args.conditional, **config)), flush=True)


if __name__ == "__main__":
    main()

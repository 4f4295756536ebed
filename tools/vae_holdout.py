"""Choose the VAE's defaults on a held-out part of the TRAIN split (never on test).

Trains on the first 1,150 training digits (digits-binary; with their labels for --conditional),
reports on the last 287 (a fifth of the train split): the k = 1000 IWAE estimate of the NLL, -ELBO, active latent dimensions, and
the same on as many training images
(over-fitting shows as a gap), the Frechet distance of 1,000 prior samples (binary draws) to the
holdout in the judge's features, and optionally (--curve N) the holdout NLL every N steps.

Steps are counted for the 1,437 images of a real run and scaled by 1,150 / 1,437 here, so that
a setting is compared at the number of epochs it would get from `minigen train`.

What it found (seed 0 unless said; steps of a real run; holdout nll_iwae / -ELBO / active units,
later runs also the holdout Frechet distance (one sampling seed); 2 shared cores, so the seconds are only a guide):

    dropout 0.1, no warm-up, 20k steps            18.06 / 19.46 / 5    (fit 13.35: over-fitting)
    ... 4 draws of z per step                      17.96 / 19.75 / 5
    dropout 0.3, 20k                               18.39 / 19.23 / 4
    dropout 0.1, 12k                               18.33 / 19.33 / 5
    ... AdamW weight decay 0.1                     18.43 / 19.25 / 5
    ... KL warm-up over the first 2k steps         17.65 / 19.08 / 10   (warm-up: the big win)
    ... hidden 512, dropout 0.2                    18.19 / 19.17 / 4
    ... --loss iwae (k = 5)                        17.54 / 20.59 / 7    (better NLL, far worse ELBO)
    ... warm-up 5k of 12k                          17.64 / 19.30 / 11
    ... warm-up 1/6, weight average 0.999          17.66 / 19.02 / 9
    ... warm-up 1/6, dropout 0.2                   17.69 / 18.78 / 9
    ... warm-up 1/6, 8k steps                      17.92 / 19.02 / 9
    dropout 0.1, warm-up 2k of 20k                 17.58 / 19.34 / 9
    ... warm-up 10k of 20k                         17.73 / 20.05 / 12
    dropout 0.2, warm-up 0.1, 20k  (the default)   17.60 / 18.85 / 8, Frechet 13.1; seed 1: 17.68 / 19.03 / 8
                                                   (on test, seeds 0-2: 16.70-16.76 / 17.96-18.09: the fifth
                                                   of train held out is ~1 nat harder than test)
    ... dropout 0.3                                17.90 / 18.90 / 6
    ... weight average 0.999                       17.60 / 18.85 / 8    (the cosine decay to 0 already averages)
    ... warm-up 0.3                                17.61 / 19.06 / 10, Frechet 14.0
    ... z = 32                                     17.61 / 18.91 / 8,  Frechet 12.5
    ... 3 hidden layers                            18.21 / 19.42 / 4,  Frechet 11.0
    ... 4 draws of z per step                      17.56 / 19.12 / 7,  Frechet 11.8 (and 1.7x slower)

With the Frechet distance averaged over 5 sampling seeds (as the tool now reports it):
    the default 13.39, z = 32 13.13 (17.61 / 18.91), warm-up 0.05 13.67 (17.92 / 19.07 / 5).

The default is the best -ELBO with (within the noise) the best NLL. The Frechet distance of
1,000 binary draws is noisy: for one trained model it ranges over 5.2-8.3 (test reference) from
one sampling seed to the next, so the one-seed differences above do not single out a setting.

Issue 10's missed Frechet target, tried again (unconditional, seed 0, Frechet over 5 sampling seeds;
the default: 17.60 / 18.85 / 8, Frechet 13.39):
    3 hidden layers, dropout 0.1                   18.14 / 19.89 / 4,  Frechet 12.39 (and 35% slower)
    beta 1.2 after warm-up                         17.79 / 18.84 / 7,  Frechet 13.79
    lr 2e-3                                        17.53 / 18.99 / 9,  Frechet 13.98
    batch 128, 10k steps                           17.75 / 18.81 / 7,  Frechet 14.66
    ... lr 2e-3                                    17.95 / 19.09 / 6,  Frechet 14.49
    a 3-layer decoder, 2-layer encoder             17.88 / 19.22 / 5,  Frechet 13.88 (a setting tried, then removed)
Only 3 hidden layers in both networks sample better, and they pay for it in NLL (+0.5), -ELBO (+1.0) and time:
no setting tried meets the Frechet target while keeping the likelihood targets and 3 minutes.

A third look (unconditional, seed 0 unless said, Frechet over 5 sampling seeds; the settings marked *
were trial switches in vae.py, removed after: none is kept):
    the default, seeds 0 / 1 / 2                   17.60 / 18.85 / 8,  17.68 / 19.03 / 8,  17.51 / 18.82 / 8;
                                                   Frechet 13.39 / 14.13 / 13.55 (mean 13.69: from seed to
                                                   seed it moves by up to 0.74, about the best move any
                                                   setting below makes at seed 0)
    * decoder dropout 0 (the encoder's 0.2)        17.58 / 19.58 / 9,  Frechet 14.46
    * dropout 0.3 in the decoder                   17.84 / 18.90 / 7,  Frechet 13.57
    * dropout 0 in the encoder                     17.36 / 18.97 / 10, Frechet 13.81
    * SiLU instead of ReLU in both networks        17.58 / 18.90 / 9,  Frechet 15.19
    * decoder hidden 512                           17.44 / 19.15 / 8,  Frechet 13.39 (1.5x CPU)
    * encoder hidden 512                           17.46 / 18.88 / 9,  Frechet 15.39 (1.5x)
    * a 3-layer encoder, 2-layer decoder           17.82 / 19.08 / 6,  Frechet 12.56; seed 1: 18.14 / 19.30 / 5,
                                                   Frechet 14.24; seed 2: 17.82 / 19.15 / 6, Frechet 14.11
                                                   (mean 13.64: no better, and 0.2-0.5 nat worse)
    * ... encoder dropout 0.1                      17.82 / 19.08 / 6,  Frechet 13.82
    * ... encoder dropout 0                        17.66 / 19.09 / 7,  Frechet 12.63
    * IWAE (k = 5) for the first 30% of the steps, 17.53 / 19.01 / 9,  Frechet 15.07 (1.3x)
      the ELBO after
    30k steps                                      17.46 / 18.98 / 9,  Frechet 13.70
    batch 32                                       17.85 / 19.03 / 7,  Frechet 16.42
    2 draws of z per step                          17.56 / 18.94 / 8,  Frechet 13.03; seed 1: 17.58 / 18.96 / 8,
                                                   Frechet 14.12; seed 2: 17.56 / 19.10 / 8, Frechet 13.34
                                                   (mean 13.50 against 13.69, within the seed noise; 1.3x CPU)
    4 draws of z per step                          17.56 / 19.12 / 7,  Frechet 13.50 (1.6x)
    ... 12k steps                                  17.70 / 18.88 / 7,  Frechet 13.85
    z = 8                                          17.68 / 18.91 / 7,  Frechet 14.39
    hidden 128                                     18.21 / 19.17 / 6,  Frechet 14.43
    weight decay 0.05                              17.57 / 18.69 / 9,  Frechet 13.86
    min_lr 1e-4                                    17.50 / 18.77 / 7,  Frechet 13.39
    lr 5e-4                                        17.89 / 19.01 / 8,  Frechet 14.60
    warm-up 0.2                                    17.53 / 18.93 / 9,  Frechet 14.54
Where the distance comes from (the default, seed 0, 5 sampling seeds; a one-off script): 1,000
training images score 11.42 against the holdout (the floor); binary draws from the codes of 1,000
training images' posteriors 11.53; the prior's decoder means thresholded at 0.5 11.80; the prior's
binary draws 13.39. The aggregate posterior's mean (norm 0.08) and covariance (eigenvalues
0.94-1.09) match N(0, I). So the decoder paints posterior codes about as well as the data itself,
and the excess comes from prior codes, whose probabilities are less certain (their draws lose 1.6
where the posteriors' lose 0.1): codes between the posteriors. None of the settings above moves it
by more than the seed noise.

Since 2026-12-01 the holdout's judge is a classifier of the fit images alone (tools/holdout.py),
not the whole training split's, which had seen the held images: the default then scores
17.60 / 18.85 / 8, Frechet 12.89 (13.39 with the old judge), 77 s on one quiet core.

The conditional VAE (--conditional: q(z | x, y), p(x | z, y)), the same defaults otherwise; the NLL
is -log p(x | y) with the holdout labels, label_accuracy (judge, 100 samples a class) and the
Frechet distance averaged over 5 sampling seeds (the unconditional default: Frechet 13.39):

    conditional, 20k steps (the unconditional default's)  15.45 / 17.16 / 7, Frechet 10.65, label accuracy 0.969
    ... 10k steps                                         15.67 / 16.63 / 4, Frechet 10.31, 0.967   (half the time)
    ... 5k steps                                          16.24 / 16.77 / 3, Frechet 10.40, 0.960

The label makes the samples better than the unconditional model's at every length (Frechet
10.3-10.6 against 13.4); past 10k steps only the NLL moves, by 0.2 nats, while the fit's NLL falls
by 1 (10.41 at 20k against 11.38 at 10k: over-fitting).

Usage:
    python tools/vae_holdout.py                        the settings below, one seed
    python tools/vae_holdout.py '{}' --conditional --steps 10000
    python tools/vae_holdout.py '{"dropout": 0.2}' --steps 20000 --seed 1 --curve 2000
"""
import argparse
import json
import time

import minigen as mg
from minigen import metrics
from minigen.models import judge, vae
from minigen.runs import Config, fill_defaults
from holdout import carve  # noqa: E402 -- tools/holdout.py, beside this script

fit, held = carve("digits-binary", 0.2)

SETTINGS = [({}, None)]   # (config.extra, --steps of a real run; None: the default)


def run(extra, steps, seed, curve=None, loss=None, lr=None, conditional=False, batch_size=None):
    """Train on ``fit`` with these settings; the holdout numbers as a dict (``conditional``: the
    NLL is -log p(x | y) with the holdout labels, and the samples' label_accuracy is added)."""
    config = fill_defaults(Config(family="vae", data="digits-binary", seed=seed, loss=loss, lr=lr,
                                  batch_size=batch_size, conditional=conditional, extra=dict(extra)),
                           vae.VAETrainer)
    labels = held.labels if conditional else None
    fit_labels = fit.labels[:len(held)] if conditional else None
    real_steps = config.steps if steps is None else steps
    config.steps = round(real_steps * len(fit) / (len(fit) + len(held)))
    mg.manual_seed(seed)
    trainer = vae.VAETrainer(config, fit, held)
    start = time.perf_counter()
    batches = trainer.batches()
    trainer.train_mode()
    while trainer.step_count < config.steps:
        trainer.train_step(next(batches))
        trainer.step_count += 1
        if curve and trainer.step_count % curve == 0 and trainer.step_count < config.steps:
            iwae, _, _ = trainer.bounds(held.images, k=100, labels=labels)
            print(f"  step {trainer.step_count}: holdout nll_iwae(k=100) {-iwae.mean():.3f}", flush=True)
    seconds = time.perf_counter() - start
    trainer.eval_mode()
    iwae, recon, kl = trainer.bounds(held.images, labels=labels)
    fit_iwae, _, _ = trainer.bounds(fit.images[:len(held)], labels=fit_labels)   # as many training images
    # the Frechet distance of 1,000 prior samples (binary draws) to the holdout, in the features
    # of the judge `minigen eval` uses, averaged over 5 sampling seeds (one seed's is noisy)
    scorer = judge.digit_judge("digits-binary")
    _, held_features = judge.judge_outputs(scorer, held.images)
    frechet, accuracy = [], []
    for sampling_seed in range(5):
        probs, features = judge.judge_outputs(scorer, trainer.sample(1000, sampling_seed))
        frechet.append(metrics.frechet_distance(features, held_features))
        if conditional:                              # 100 of each class, in turn (sample_labels)
            per_label = metrics.label_accuracy(probs, trainer.sample_labels(1000), fit.num_classes)
            accuracy.append(sum(per_label) / len(per_label))
    result = {"label_accuracy": round(sum(accuracy) / len(accuracy), 4)} if conditional else {}
    return {"extra": extra, "steps": real_steps, "seed": seed, "loss": config.loss, "lr": config.lr,
            "batch_size": config.batch_size,
            "conditional": conditional, **result,
            "nll_iwae": round(float(-iwae.mean()), 3), "neg_elbo": round(float((kl - recon).mean()), 3),
            "kl": round(float(kl.mean()), 3), "fit_nll_iwae": round(float(-fit_iwae.mean()), 3),
            "frechet_holdout": round(sum(frechet) / len(frechet), 3),
            "active_units": trainer.active_units(held.images, labels=labels),
            "train_seconds": round(seconds, 1)}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("extra", nargs="?", help="config.extra as JSON (default: the SETTINGS list)")
    p.add_argument("--steps", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--loss")
    p.add_argument("--lr", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--curve", type=int, help="print the holdout NLL every N steps")
    p.add_argument("--conditional", action="store_true", help="a conditional VAE, p(x | y)")
    args = p.parse_args()
    settings = [(json.loads(args.extra), args.steps)] if args.extra else SETTINGS
    for extra, steps in settings:
        print(json.dumps(run(extra, steps if args.steps is None else args.steps, args.seed, args.curve,
                             args.loss, args.lr, args.conditional, args.batch_size)), flush=True)

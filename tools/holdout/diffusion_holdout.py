"""Choose the diffusion defaults on a held-out part of the TRAIN split (never on test).

2-D data: trains on the first 7,500 training points, judges 2,500 samples against the last
2,500. Digits: trains on the first 1,077 training digits, judges 1,000 samples against the last
360 (tools/holdout/holdout.py), DDIM with 50 steps only unless --ddpm (the DDPM target had room to
spare; its 1,000 steps cost minutes).

Usage: python -m tools.holdout.diffusion_holdout digits|8gaussians|swissroll [--ddpm] [NAME ...]
(NAME: a setting below; all of them by default)

Results: RESULTS.md, "Diffusion".
"""
import argparse

from minigen.models import judge, make
from minigen.models.loop import train
from tools.holdout.holdout import carve

# name: the settings to try (any keyword of make); every one says its schedule and lr
SETTINGS = {
    "digits": {"linear_lr1e-3": {"schedule": "linear", "lr": 1e-3},
               "cosine_lr1e-3": {"schedule": "cosine", "lr": 1e-3},
               "linear_lr1e-3_steps6000": {"schedule": "linear", "lr": 1e-3, "steps": 6000},
               "linear_lr2e-3": {"schedule": "linear", "lr": 2e-3},
               "linear_lr1e-3_width384": {"schedule": "linear", "lr": 1e-3, "width": 384},
               "cosine_lr2e-3": {"schedule": "cosine", "lr": 2e-3},
               "cosine_lr3e-3": {"schedule": "cosine", "lr": 3e-3}},        # the default
    "8gaussians": {"linear_lr1e-3": {"schedule": "linear", "lr": 1e-3},
                   "linear_lr2e-3": {"schedule": "linear", "lr": 2e-3}},     # the default
    "swissroll": {"linear_lr1e-3": {"schedule": "linear", "lr": 1e-3},
                  "linear_lr2e-3": {"schedule": "linear", "lr": 2e-3},       # the default
                  "linear_lr2e-3_hidden256": {"schedule": "linear", "lr": 2e-3, "hidden": 256},
                  "linear_lr2e-3_T200": {"schedule": "linear", "lr": 2e-3, "T": 200, "beta_end": 0.1}},
}
REPORTED = ("frechet_distance", "frechet_floor", "classes_found", "class_entropy", "hq_share", "modes",
            "energy_distance", "energy_distance_floor")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", choices=list(SETTINGS))
    parser.add_argument("names", nargs="*", help="settings to try (default: all of the data's)")
    parser.add_argument("--ddpm", action="store_true", help="digits: DDPM samples as well as DDIM-50")
    args = parser.parse_args()
    data, images = args.data, args.data == "digits"
    fit, held = carve(data)
    for name in args.names or list(SETTINGS[data]):
        settings = SETTINGS[data][name]
        diffusion = make("diffusion", data, seed=0, split=(fit, held), **settings)
        _, seconds = train(diffusion, quiet=True)
        result = {}
        for sampler, prefix in (("ddpm", ""), ("ddim", "ddim_")) if args.ddpm or not images else (("ddim", "ddim_"),):
            x = diffusion.sample(1000 if images else len(held), diffusion.SAMPLE_SEED, sampler=sampler)
            if images:
                result.update(judge.image_sample_metrics(x, data, fit, held, prefix))
            else:
                result.update(judge.point_sample_metrics(x, data, held, prefix))
        keys = [k for k in result if k.endswith(REPORTED) and "test_" not in k]
        print(f"{data} {name} {settings} steps={diffusion.config.steps} lr={diffusion.config.lr}: "
              + ", ".join(f"{k} {result[k]:.4g}" for k in keys) + f" (train {seconds:.0f} s)", flush=True)


if __name__ == "__main__":
    main()

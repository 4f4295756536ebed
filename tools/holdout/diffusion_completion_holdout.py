"""Choose the sampler of diffusion completions on a held-out part of the TRAIN split (never on test).

Trains the unconditional digits default on the first 1,077 training digits (tools/holdout/holdout.py;
once: the weights go to a checkpoint), then fills in the bottom half of the last 360 with each
sampler below and judges them: the share the judge assigns to the digit's true label, as eval's
completion_accuracy does on the test split.

Usage: python -m tools.holdout.diffusion_completion_holdout train CHECKPOINT [--seed S]
       python -m tools.holdout.diffusion_completion_holdout complete CHECKPOINT [NAME ...]
(NAME: a sampler below, SAMPLER LEVELS _U RESAMPLE _w RECONSTRUCTION; all of them by default)

Results: RESULTS.md, "Diffusion" (completions).
"""
import argparse
import dataclasses
import time

from minigen.checkpoint import load, save
from minigen.models import judge, make
from minigen.models.loop import train
from tools.holdout.holdout import carve

# name: (sampler, levels, settings for the completion); each names its U and w (0: none), so
# that a name means the same sampler whatever the defaults are
SAMPLERS = {
    "ddpm50_U10": ("ddpm", 50, {"resample": 10, "reconstruction": 0.0}),       # the sampler before this tool
    "ddpm50_U1": ("ddpm", 50, {"resample": 1, "reconstruction": 0.0}),
    "ddpm100_U5": ("ddpm", 100, {"resample": 5, "reconstruction": 0.0}),
    "ddpm250_U2": ("ddpm", 250, {"resample": 2, "reconstruction": 0.0}),
    "ddpm250_U1": ("ddpm", 250, {"resample": 1, "reconstruction": 0.0}),
    "ddpm1000_U1": ("ddpm", 1000, {"resample": 1, "reconstruction": 0.0}),
    "ddim50_U10": ("ddim", 50, {"resample": 10, "reconstruction": 0.0}),
}
for w in (1, 2, 5, 10, 15, 20, 30, 50, 100, 200, 500):   # reconstruction guidance, weight w
    for sampler, levels, u in (("ddpm", 50, 1), ("ddpm", 50, 3), ("ddpm", 50, 5), ("ddpm", 50, 10), ("ddpm", 50, 20),
                               ("ddpm", 100, 1), ("ddpm", 100, 5),
                               ("ddpm", 250, 1), ("ddim", 50, 1), ("ddim", 50, 3)):
        SAMPLERS[f"{sampler}{levels}_U{u}_w{w}"] = (sampler, levels, {"resample": u, "reconstruction": float(w)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("train", "complete"))
    parser.add_argument("checkpoint")
    parser.add_argument("names", nargs="*", help="samplers to complete with (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    fit, held = carve("digits")
    if args.what == "train":
        diffusion = make("diffusion", "digits", seed=args.seed, split=(fit, held))
        _, seconds = train(diffusion, quiet=True)
        save({"config": dataclasses.asdict(diffusion.config), "state": diffusion.state_dict()}, args.checkpoint)
        print(f"trained seed {args.seed} in {seconds:.0f} s -> {args.checkpoint}")
        return
    stored = load(args.checkpoint)
    config = dict(stored["config"])
    settings = config.pop("extra")
    diffusion = make(config.pop("family"), config.pop("data"), split=(fit, held), **config, **settings)
    diffusion.load_state_dict(stored["state"])
    diffusion.eval_mode()
    for name in args.names or list(SAMPLERS):
        sampler, levels, completion = SAMPLERS[name]
        diffusion.settings.update(settings, **completion)
        start = time.perf_counter()
        r = judge.completion_metrics(
            lambda given, mask: diffusion.sample(len(given), diffusion.SAMPLE_SEED, sampler=sampler,
                                                 sample_steps=levels, given=given, mask=mask), "digits", held)
        print(f"{name}: completion_accuracy {r['completion_accuracy']:.3f} "
              f"({time.perf_counter() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()

"""Choose the sampler of diffusion completions on a held-out part of the TRAIN split (never on test).

As tools/diffusion_holdout.py: trains the unconditional digits default on the first 1,077 training
digits (once; the weights go to a checkpoint), then fills in the bottom half of the last 360
(the test split's size) with each sampler below and judges them: the share the judge assigns
to the digit's true label, as eval's completion_accuracy does on the test split.

Usage: python tools/diffusion_completion_holdout.py train CHECKPOINT [--seed S]
       python tools/diffusion_completion_holdout.py complete CHECKPOINT [NAME ...]
(NAME: samplers below; all of them by default)
"""
import argparse
import dataclasses
import time

import minigen as mg
from minigen.checkpoint import load, save
from minigen.data import get_dataset
from minigen.models import diffusion, judge
from minigen.runs import Config, fill_defaults, train

# name: (sampler, levels, settings overrides for the completion)
SAMPLERS = {
    "ddpm50_U10": ("ddpm", 50, {"resample": 10}),       # the sampler before this tool
    "ddpm100_U5": ("ddpm", 100, {"resample": 5}),
    "ddpm250_U2": ("ddpm", 250, {"resample": 2}),
    "ddpm250_U1": ("ddpm", 250, {"resample": 1}),
    "ddpm1000_U1": ("ddpm", 1000, {"resample": 1}),
    "ddim50_U10": ("ddim", 50, {"resample": 10}),
}
for w in (1, 2, 5, 10, 15, 20, 30, 50, 100, 200, 500):   # reconstruction guidance, weight w
    for sampler, levels, u in (("ddpm", 50, 1), ("ddpm", 50, 3), ("ddpm", 50, 5), ("ddpm", 50, 10), ("ddpm", 50, 20),
                               ("ddpm", 100, 1), ("ddpm", 100, 5),
                               ("ddpm", 250, 1), ("ddim", 50, 1), ("ddim", 50, 3)):
        SAMPLERS[f"{sampler}{levels}_U{u}_w{w}"] = (sampler, levels, {"resample": u, "reconstruction": float(w)})

parser = argparse.ArgumentParser()
parser.add_argument("what", choices=("train", "complete"))
parser.add_argument("checkpoint")
parser.add_argument("names", nargs="*")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

full = get_dataset("digits", "train")
cut = len(full) - 360
fit = dataclasses.replace(full, data=full.data[:cut], labels=full.labels[:cut])
held = dataclasses.replace(full, data=full.data[cut:], labels=full.labels[cut:], split="holdout")

if args.what == "train":
    config = fill_defaults(Config(family="diffusion", data="digits", seed=args.seed), diffusion.DiffusionTrainer)
    mg.manual_seed(args.seed)
    trainer = diffusion.DiffusionTrainer(config, fit, held)
    _, seconds = train(trainer, quiet=True)
    save({"config": dataclasses.asdict(config), "state": trainer.state_dict()}, args.checkpoint)
    print(f"trained seed {args.seed} in {seconds:.0f} s -> {args.checkpoint}")
else:
    stored = load(args.checkpoint)
    config = Config(**stored["config"])
    trainer = diffusion.DiffusionTrainer(config, fit, held)
    trainer.load_state_dict(stored["state"])
    trainer.eval_mode()
    base = dict(trainer.settings)
    for name in args.names or list(SAMPLERS):
        sampler, levels, extra = SAMPLERS[name]
        trainer.settings.update(base, **extra)
        start = time.perf_counter()
        r = judge.completion_metrics(
            lambda given, mask: trainer.sample(len(given), trainer.SAMPLE_SEED, sampler=sampler,
                                               sample_steps=levels, given=given, mask=mask), "digits", held)
        print(f"{name}: completion_accuracy {r['completion_accuracy']:.3f} "
              f"({time.perf_counter() - start:.1f} s)", flush=True)

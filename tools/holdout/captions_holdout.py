"""Choose the captioned runs' settings (--captions) on a held-out part of the TRAIN split.

Trains diffusion or the GAN with --captions on the first 1,077 training digits (tools/holdout/holdout.py:
the terciles of the captions and the judge are both made from those alone), for the epochs a
default run gives it (holdout.make_for_epochs), then asks the caption metrics' prompts
(models/judge.py ``caption_metrics``: every digit with each ink word, each slant, and both; 20
samples a prompt). Diffusion: one training per setting, then a sweep of the guidance weight W,
which only sampling sees (DDIM-50, as `minigen eval`'s caption metrics). Never the test split.
Also the fallback: prompts without attributes ("a seven", 100 a digit) should draw each ink and
slant word about a third of the time (the marginal); printed, the share of each word.

Usage: python -m tools.holdout.captions_holdout FAMILY [key=value ...] [--weights 0,1,2] [--seed S]
(e.g. `diffusion p_attribute=0.3`, `gan label_dim=32`)

Results: the report of the captions work (RESULTS.md, "Captions").
"""
import argparse
import ast
import time

import numpy as np

from minigen.data import captions as C
from minigen.models import judge
from minigen.models.loop import train
from tools.holdout.holdout import carve, make_for_epochs

KEYS = ("caption_label_accuracy", "caption_ink_match", "caption_slant_match", "caption_both_match",
        "caption_all_match")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("family", choices=["diffusion", "gan"])
    parser.add_argument("settings", nargs="*", help="key=value settings to change (Python literals)")
    parser.add_argument("--weights", default="1", help="diffusion: the guidance weights W to sample with")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.settings)}
    fit, held = carve("digits")
    model, steps = make_for_epochs(args.family, "digits", fit, held, seed=args.seed, captions=True, **settings)
    _, seconds = train(model, quiet=True)
    print(f"{args.family} {settings} steps={model.config.steps} (a real run's {steps}) seed={args.seed} "
          f"(train {seconds:.0f} s)", flush=True)
    weights = [float(w) for w in args.weights.split(",")] if args.family == "diffusion" else [None]
    for w in weights:
        start = time.perf_counter()
        options = {"sampler": "ddim", "guidance": w} if w is not None else {}
        r = judge.caption_metrics(lambda prompts: model.sample(len(prompts), model.SAMPLE_SEED, prompt=prompts,
                                                               **options), model.captions, fit)
        print(f"  W={w}: " + ", ".join(f"{k[len('caption_'):]} {r[k]:.3f}" for k in KEYS)
              + f" (sampling {time.perf_counter() - start:.0f} s)", flush=True)
        digits = [d for d in range(10) for _ in range(100)]
        x = model.sample(len(digits), model.SAMPLE_SEED, prompt=[C.caption(d) for d in digits], **options)
        ink, slant = (np.bincount(b, minlength=3) / len(b) for b in model.captions.attributes(x, digits))
        print(f"  W={w}, the fallback 'a DIGIT': ink thin/medium/thick {ink.round(3).tolist()}, slant "
              f"left/upright/right {slant.round(3).tolist()}", flush=True)


if __name__ == "__main__":
    main()

"""How well each family paints a hole: the 360 test digits with a centred 4x4 hole, filled in.

    python -m tools.investigations.hole_completion --family diffusion|vae|pixelcnn [--data digits]
        [--seed S] [--run DIR] [--mask box:2,2,6,6] [--holdout] [--setting NAME=V1,V2,...]

Each family fills the hole its own way: diffusion with RePaint's resampling (DDPM with 50 levels,
as its `evaluate` completes halves); the VAE with its Metropolis-within-Gibbs chain
(objectives/elbo.py ``impute``); the PixelCNN by importance resampling of raster-order fills
(models/pixelcnn.py ``complete``). The baseline fills the hole with the training digits' mean pixel.
Printed per fill: the judge's accuracy on the completed digits (the share it assigns to the true
label), and the mean squared error inside the hole against the true pixels, in [0, 1] units; and,
for reference, the judge's accuracy on the true digits and on the digits with the hole at 0.5 grey.

Without --run, a default run of the family is trained first (the defaults a user gets, seed --seed).
--holdout trains it on the training split's first part and measures on the held digits
(tools/holdout/holdout.py ``carve``, its judge trained on the fit part alone): the way to choose
a completion setting, each value of --setting measured on the same trained model.
Results: RESULTS.md, "Diffusion" (painting a hole) and "Completions".
"""
import argparse
import json
import time

import numpy as np

from minigen.data.completion import hidden_mask
from minigen.models import judge, make
from minigen.models.loop import train
from minigen.runs import open_run
from tools.holdout.holdout import carve, make_for_epochs

FAMILIES = {"diffusion": ("diffusion", {}), "vae": ("vae", {}),
            "pixelcnn": ("autoregressive", {"model": "pixelcnn"})}


def judged(images, data, digits):
    """The judge's accuracy on ``images`` in [0, 1] against the labels of ``digits`` (a Dataset)."""
    probs, _ = judge.judge_outputs(judge.digit_judge(data), digits.from_unit(images))
    return float((probs.argmax(1) == digits.labels).mean())


def fill(family, truth, mask):
    """The family's completions of ``truth`` (N, 1, H, W) in [0, 1] with ``mask`` hidden."""
    options = {"sampler": "ddpm", "sample_steps": min(50, family.settings["T"])} if family.config.family == "diffusion" else {}
    return family.sample(len(truth), 1234, given=truth, mask=mask, **options)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=sorted(FAMILIES), default="diffusion")
    parser.add_argument("--data", default="digits", choices=["digits", "digits-binary"])
    parser.add_argument("--run", help="a trained run on the digits (default: train one now)")
    parser.add_argument("--seed", type=int, default=0, help="the training seed when no --run is given")
    parser.add_argument("--mask", default="box:2,2,6,6", help="the hole (default: the centred 4x4 box)")
    parser.add_argument("--holdout", action="store_true", help="train on the fit part, measure on the held digits")
    parser.add_argument("--setting", help="NAME=V1,V2,...: a completion setting's values to compare")
    args = parser.parse_args(argv)
    family_name, options = FAMILIES[args.family]
    if args.run:
        family = open_run(args.run)
    elif args.holdout:
        fit, held = carve(args.data)
        family, _ = make_for_epochs(family_name, args.data, fit, held, seed=args.seed, **options)
        train(family)
    else:
        family = make(family_name, args.data, seed=args.seed, **options)
        train(family)
    digits, data = family.test_data, family.config.data
    truth = digits.to_unit(digits.images)                                       # (360, 1, 8, 8) in [0, 1]
    hole = hidden_mask(truth.shape, args.mask)
    mean = family.train_data.to_unit(family.train_data.images).mean(axis=0)    # (1, 8, 8)
    result = {"family": args.family, "data": data, "mask": args.mask, "holdout": args.holdout,
              "seed": args.seed if not args.run else None,
              "true digits": {"judge_accuracy": judged(truth, data, digits)},
              "hole at 0.5": {"judge_accuracy": judged(np.where(hole, 0.5, truth), data, digits)}}
    def record(label, make_fill):
        start = time.perf_counter()
        filled = make_fill()
        np.testing.assert_array_equal(filled[~hole], truth[~hole])             # the kept pixels, exactly
        result[label] = {"judge_accuracy": judged(filled, data, digits),
                         "hole_mse": float(((filled - truth)[hole] ** 2).mean()),
                         "seconds": round(time.perf_counter() - start, 1)}
        print(label, result[label], flush=True)
    record("training mean", lambda: np.where(hole, mean, truth))
    name, values = args.setting.split("=") if args.setting else (None, None)
    for value in values.split(",") if name else [None]:
        if name:
            family.settings[name] = type(family.settings[name])(value)
        record(args.family + (f" {name}={value}" if name else ""), lambda: fill(family, truth, args.mask))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How well each family paints a hole: the 360 test digits with a centred 4x4 hole, filled in.

    python -m tools.investigations.hole_completion [--run DIR] [--seed S] [--mask box:2,2,6,6]

Diffusion fills the hole with RePaint's resampling (the sampler its `evaluate` uses for halves,
DDPM with 50 levels); the baseline fills it with the training digits' mean
pixel. The PixelCNN cannot condition on pixels after the hole (raster order) and refuses; the VAE
has no completion. Printed per method: the judge's accuracy on the completed digits (the share it
assigns to the true label), and the mean squared error inside the hole against the true pixels,
in [0, 1] units; and, for reference, the judge's accuracy on the true digits and on the digits with
the hole left at 0.5 grey. Without --run, a default `diffusion --data digits` run is trained first
(the defaults a user gets, seed --seed). Results: RESULTS.md, "Diffusion".
"""
import argparse
import json

import numpy as np

from minigen.data.completion import hidden_mask
from minigen.models import judge, make
from minigen.models.loop import train
from minigen.runs import open_run


def judged(images, data, test):
    """The judge's accuracy on ``images`` in [0, 1] against the test labels."""
    probs, _ = judge.judge_outputs(judge.digit_judge(data), test.from_unit(images))
    return float((probs.argmax(1) == test.labels).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a trained diffusion run on the digits (default: train one now)")
    parser.add_argument("--seed", type=int, default=0, help="the training seed when no --run is given")
    parser.add_argument("--mask", default="box:2,2,6,6", help="the hole (default: the centred 4x4 box)")
    args = parser.parse_args(argv)
    if args.run:
        family = open_run(args.run)
    else:
        family = make("diffusion", "digits", seed=args.seed)
        train(family)
    test, data = family.test_data, family.config.data
    truth = test.to_unit(test.images)                                           # (360, 1, 8, 8) in [0, 1]
    hole = hidden_mask(truth.shape, args.mask)
    mean = family.train_data.to_unit(family.train_data.images).mean(axis=0)    # (1, 8, 8)
    fills = {
        "diffusion (RePaint)": family.sample(len(truth), family.SAMPLE_SEED, sampler="ddpm",
                                             sample_steps=min(50, family.settings["T"]), given=truth, mask=args.mask),
        "training mean": np.where(hole, mean, truth),
    }
    result = {"mask": args.mask, "seed": args.seed if not args.run else None,
              "true digits": {"judge_accuracy": judged(truth, data, test)},
              "hole at 0.5": {"judge_accuracy": judged(np.where(hole, 0.5, truth), data, test)}}
    for name, filled in fills.items():
        np.testing.assert_array_equal(filled[~hole], truth[~hole])             # the kept pixels, exactly
        result[name] = {"judge_accuracy": judged(filled, data, test),
                        "hole_mse": float(((filled - truth)[hole] ** 2).mean())}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Completions of the PixelCNN, chosen on a holdout of the TRAIN split (never on test).

Trains a PixelCNN (the defaults for --data, unconditional unless --conditional) on the first
1,077 training digits (tools/holdout/holdout.py), then fills in the bottom halves of the last 360
and reports the share the judge assigns to each digit's true label, for each temperature given,
averaged over --draws sampling seeds. A conditional model draws each completion's label from
p(y | top half), as `minigen sample --given` does; the tool also reports completions with the
likeliest label, and the accuracy of that label (Bayes' rule on the top half).

Usage: python -m tools.holdout.pixelcnn_completion_holdout [T ...] [--data digits] [--conditional]
           [--draws K] [--set key=value ...]       (temperatures first: --set takes every word after it)

Results: RESULTS.md, "PixelCNN" (completions).
"""
import argparse
import ast
import time

import numpy as np

import minigen as mg
from minigen.models import judge, make
from minigen.models.loop import train
from minigen.models.pixelcnn import SAMPLE_SEED
from minigen.objectives import autoregressive as A
from tools.holdout.holdout import carve


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("temperatures", nargs="*", type=float, default=[1.0, 0.7, 0.5, 0.3])
    parser.add_argument("--data", default="digits-binary", choices=["digits-binary", "digits"])
    parser.add_argument("--conditional", action="store_true", help="the conditional PixelCNN: its completions "
                        "draw their label from p(y | top half); also reported: with the likeliest label")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=1, help="average each accuracy over this many sampling seeds")
    parser.add_argument("--set", nargs="*", default=[], help="key=value, any keyword of minigen.models.make "
                                                             "(steps, batch_size, lr or a recipe setting)")
    args = parser.parse_args()
    data = args.data
    given = {key: ast.literal_eval(value) for key, value in (pair.split("=", 1) for pair in args.set)}
    fit, held = carve(data)
    pixelcnn = make("autoregressive", data, model="pixelcnn", seed=args.seed, conditional=args.conditional,
                    split=(fit, held), **given)
    _, seconds = train(pixelcnn, quiet=True)
    print(f"{data}{' conditional' if args.conditional else ''}, seed {args.seed}, {given or 'the defaults'}: "
          f"trained in {seconds:.0f} s on {len(fit.data)} digits", flush=True)
    likeliest = None
    if args.conditional:
        rows = pixelcnn.shape[1] - pixelcnn.shape[1] // 2
        top_half = mg.tensor(pixelcnn.class_log_likelihoods(pixelcnn.pixels(held.images), rows), dtype="float64")
        likeliest = A.bayes_posterior(top_half, pixelcnn.log_prior).numpy().argmax(axis=1)
        print(f"Bayes' rule on the top half: accuracy {(likeliest == held.labels).mean():.3f}", flush=True)

    def accuracy(t, labels=None):
        """The completion accuracy at temperature t, averaged over args.draws sampling seeds."""
        def complete(given, mask, seed):
            if labels is None:
                return pixelcnn.sample(len(given), seed, given=given, mask=mask, temperature=t)
            return pixelcnn.complete(given, mask, len(given), seed, t, labels=labels)
        return np.mean([judge.completion_metrics(lambda g, m: complete(g, m, SAMPLE_SEED + k), data, held,
                                                 "bottom")["completion_accuracy"] for k in range(args.draws)])

    for t in args.temperatures:
        start = time.perf_counter()
        line = f"temperature {t}: completion accuracy {accuracy(t):.3f}"
        if likeliest is not None:
            line += f" (the likeliest label instead of a draw: {accuracy(t, likeliest):.3f})"
        print(f"{line} on the {len(held.data)} held digits, {args.draws} draw(s), "
              f"{time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()

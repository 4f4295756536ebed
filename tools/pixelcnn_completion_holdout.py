"""Completion temperature for the PixelCNN, chosen on a holdout of the TRAIN split (never on test).

Trains the default unconditional PixelCNN on the first 1,077 training digits (seed 0), then fills
in the bottom halves of the last 360 and reports the share the judge assigns to each digit's
true label (the judge is the classifier trained on the full training split, as minigen eval's
is), for each temperature given.

Usage: python tools/pixelcnn_completion_holdout.py [T ...]     (default: 1.0 0.7 0.5 0.3)

Measured (seed 0, 46 s of training at 1,077 digits): temperature 1.0 / 0.7 / 0.5 / 0.3 ->
0.608 / 0.647 / 0.675 / 0.689. Sharper draws help a little, nowhere near issue 13's 0.85; the
default stays 1.0, so that a completion is a draw of the model's own p(bottom | top).
"""
import sys
import time


import minigen as mg
from minigen.models import judge
from minigen.models.autoregressive import SAMPLE_SEED, AutoregressiveTrainer
from minigen.runs import Config, fill_defaults, train
from holdout import carve  # noqa: E402 -- tools/holdout.py, beside this script

temperatures = [float(t) for t in sys.argv[1:]] or [1.0, 0.7, 0.5, 0.3]
fit, held = carve("digits-binary", 360)
config = fill_defaults(Config(family="autoregressive", data="digits-binary", model="pixelcnn", seed=0,
                              extra={"eval_samples": 0}), AutoregressiveTrainer)
mg.manual_seed(0)
trainer = AutoregressiveTrainer(config, fit, held)
start = time.perf_counter()
train(trainer, quiet=True)
print(f"trained in {time.perf_counter() - start:.0f} s on {len(fit.data)} digits", flush=True)
for t in temperatures:
    complete = lambda given, mask: trainer.sample(len(given), SAMPLE_SEED, given=given, mask=mask,  # noqa: E731
                                                   temperature=t)
    acc = judge.completion_metrics(complete, "digits-binary", held, "bottom")["completion_accuracy"]
    print(f"temperature {t}: completion accuracy {acc:.3f} on the {len(held.data)} held digits", flush=True)

"""Choose the conditional PixelCNN's defaults (`minigen train autoregressive --data digits-binary
--conditional`) on a held-out part of the TRAIN split (never on test).

Trains on the first 1,293 training digits and their labels, reports on the last 144 (as
tools/autoregressive_holdout.py does for the unconditional PixelCNN): -log p(x | y) with the
holdout labels, the marginal -log p(x), the model as a classifier by Bayes' rule (accuracy,
-log p(y | x)); then 1,000 samples, 100 of each class, scored by the judge against the holdout
(label_accuracy, Frechet distance) and the holdout's bottom halves filled in (completion_accuracy,
the label drawn from p(y | top half)). One seed per setting: the machine is shared.

Usage: python tools/pixelcnn_conditional_holdout.py [SETTING ...]
  a SETTING is key=value for the Trainer (steps, batch_size, lr) or its recipe (config.extra),
  e.g.  python tools/pixelcnn_conditional_holdout.py steps=450 width=48

What it found (seed 0; 2 cores shared with three other training jobs, load 3-5, so the seconds
are upper bounds): see the report lines printed by each run, recorded in the RECIPES comment
of minigen/models/autoregressive.py.
"""
import ast
import dataclasses
import json
import sys
import time

import minigen as mg
from minigen.data import get_dataset
from minigen.models import judge
from minigen.models.autoregressive import SAMPLE_SEED, AutoregressiveTrainer
from minigen.runs import Config, fill_defaults, train

given = {key: ast.literal_eval(value) for key, value in (arg.split("=", 1) for arg in sys.argv[1:])}
full = get_dataset("digits-binary", "train")
cut = len(full) - 144
fit = dataclasses.replace(full, data=full.data[:cut], labels=full.labels[:cut])
held = dataclasses.replace(full, data=full.data[cut:], labels=full.labels[cut:], split="holdout")

top = {k: given.pop(k) for k in ("steps", "batch_size", "lr", "seed") if k in given}
config = fill_defaults(Config(family="autoregressive", data="digits-binary", model="pixelcnn", conditional=True,
                              extra=given, **top), AutoregressiveTrainer)
mg.manual_seed(config.seed)
trainer = AutoregressiveTrainer(config, fit, held)
start = time.perf_counter()
train(trainer, quiet=True)
seconds = time.perf_counter() - start
result = trainer.evaluate_classifier(held.images, held.labels)
samples = trainer.sample(1000, SAMPLE_SEED)
scored = judge.image_sample_metrics(samples, "digits-binary", fit, held, labels=trainer.sample_labels(1000))
complete = lambda x, mask: trainer.sample(len(x), SAMPLE_SEED, given=x, mask=mask)   # noqa: E731
result.update(judge.completion_metrics(complete, "digits-binary", held, "bottom"))
with open("/proc/loadavg") as f:
    load = f.read().split()[0]
print(json.dumps({"settings": dict(top, **given), "holdout_nll": round(result["nll"], 3),
                  "holdout_nll_marginal": round(result["nll_marginal"], 3),
                  "bayes_accuracy": round(result["bayes_accuracy"], 3), "bayes_nll": round(result["bayes_nll"], 3),
                  "label_accuracy": round(scored["label_accuracy"], 3),
                  "frechet_holdout": round(scored["frechet_distance"], 2), "frechet_floor": round(scored["frechet_floor"], 2),
                  "completion_accuracy": round(result["completion_accuracy"], 3),
                  "train_seconds": round(seconds), "total_seconds": round(time.perf_counter() - start), "load": load}),
      flush=True)

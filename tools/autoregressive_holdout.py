"""Choose the autoregressive defaults on a held-out part of the TRAIN split (never on test).

Names: trains on the first 90% of the training names (4,183), reports nats per predicted
character (the end included) on the last 10% (464). Digits: trains on the first 1,293
training digits, reports nats per image on the last 144. One seed per setting (the machine
is shared; the acceptance runs then use seeds 0, 1, 2 on the test split).

Usage: python tools/autoregressive_holdout.py MODEL [SETTING ...]
  a SETTING is key=value for the Trainer (steps, batch_size, lr) or its recipe (config.extra),
  e.g.  python tools/autoregressive_holdout.py transformer steps=2500 dropout=0.2
  seed=S (default 0) trains with another seed: a second seed tells a real gain from noise
  (one seed's holdout number moves by about 0.003 nats per character on names).
"""
import ast
import sys
import time

import minigen as mg
from minigen.models.autoregressive import AutoregressiveTrainer
from minigen.runs import Config, fill_defaults, train
from holdout import carve  # noqa: E402 -- tools/holdout.py, beside this script

model, pairs = sys.argv[1], [arg.split("=", 1) for arg in sys.argv[2:]]
given = {key: ast.literal_eval(value) for key, value in pairs}
seed = given.pop("seed", 0)
data = "digits-binary" if model == "pixelcnn" else "names"
fit, held = carve(data, 144 if model == "pixelcnn" else 0.1)

top = {k: given.pop(k) for k in ("steps", "batch_size", "lr") if k in given}
config = fill_defaults(Config(family="autoregressive", data=data, model=model, seed=seed, extra=given, **top),
                       AutoregressiveTrainer)
mg.manual_seed(seed)
trainer = AutoregressiveTrainer(config, fit, held)
start = time.perf_counter()
train(trainer, quiet=True)
seconds = time.perf_counter() - start
held_x = held.text if model != "pixelcnn" else held.images
log_p = trainer.log_prob(held_x)
per_token = -log_p.sum() / (sum(len(s) + 1 for s in held_x) if model != "pixelcnn" else log_p.size * 64)
fit_x = fit.data[:len(held_x)]
fit_nll = -trainer.log_prob(fit_x).mean()
with open("/proc/loadavg") as f:
    load = f.read().split()[0]
print(f"{model} {dict(top, **given)} seed {seed}: holdout nll {-log_p.mean():.4f} per token {per_token:.4f} "
      f"(fit-part nll {fit_nll:.4f}) {seconds:.0f} s, load {load}", flush=True)

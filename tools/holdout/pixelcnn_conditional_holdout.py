"""Choose the conditional PixelCNN's defaults (`minigen train autoregressive --data digits-binary
--conditional`) on a held-out part of the TRAIN split (never on test).

Trains on the first 1,077 training digits and their labels (tools/holdout/holdout.py), reports on
the last 360: -log p(x | y) with the holdout labels, the marginal -log p(x), the model as a
classifier by Bayes' rule (accuracy, -log p(y | x)); then 1,000 samples, 100 of each class,
scored by the judge against the holdout (label_accuracy, Frechet distance) and the holdout's
bottom halves filled in (completion_accuracy, the label drawn from p(y | top half)). One seed per
setting: the machine is shared.

Usage: python -m tools.holdout.pixelcnn_conditional_holdout [SETTING ...]
  a SETTING is key=value, any keyword of minigen.models.make (steps, batch_size, lr, seed or a
  recipe setting), or data='digits' (the grey digits; digits-binary when not given), e.g.
      python -m tools.holdout.pixelcnn_conditional_holdout steps=450 width=48

Results: RESULTS.md, "PixelCNN" (conditional).
"""
import ast
import json
import sys
import time

from minigen.models import judge, make
from minigen.models.loop import train
from minigen.models.pixelcnn import SAMPLE_SEED
from tools.holdout.holdout import carve


def main(argv):
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)
        return
    given = {key: ast.literal_eval(value) for key, value in (arg.split("=", 1) for arg in argv)}
    data = given.pop("data", "digits-binary")
    fit, held = carve(data)
    start = time.perf_counter()
    pixelcnn = make("autoregressive", data, model="pixelcnn", conditional=True, split=(fit, held), **given)
    _, seconds = train(pixelcnn, quiet=True)
    result = pixelcnn.evaluate_classifier(held.images, held.labels)
    samples = pixelcnn.sample(1000, SAMPLE_SEED)
    scored = judge.image_sample_metrics(samples, data, fit, held, labels=pixelcnn.sample_labels(1000))
    complete = lambda x, mask: pixelcnn.sample(len(x), SAMPLE_SEED, given=x, mask=mask)   # noqa: E731
    result.update(judge.completion_metrics(complete, data, held, "bottom"))
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(json.dumps({"data": data, "settings": given, "holdout_nll": round(result["nll"], 3),
                      "holdout_nll_marginal": round(result["nll_marginal"], 3),
                      "bayes_accuracy": round(result["bayes_accuracy"], 3), "bayes_nll": round(result["bayes_nll"], 3),
                      "label_accuracy": round(scored["label_accuracy"], 3),
                      "frechet_holdout": round(scored["frechet_distance"], 2),
                      "frechet_floor": round(scored["frechet_floor"], 2),
                      "completion_accuracy": round(result["completion_accuracy"], 3),
                      "train_seconds": round(seconds), "total_seconds": round(time.perf_counter() - start),
                      "load": load}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

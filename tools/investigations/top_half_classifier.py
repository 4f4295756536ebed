"""How much of its class the top half of a grey digit carries, measured by discriminative models.

Completions of the test digits whose bottom half is hidden are judged by the class the judge
reads in them: a completion can be classified as its true label only as often as the class can
be read from the top half. This trains the classifier family's default CNN and MLP (their default
recipes) on the training digits with their bottom 4 rows blanked (-1, the background) and reports
their accuracy on the test digits blanked the same way: an estimate of that limit, beside the
conditional PixelCNN's Bayes' rule on the same top halves (p(y | top) from its class-conditional
likelihoods).

Usage: python -m tools.investigations.top_half_classifier [SEED ...]       (default seeds 0 1 2)

Results: RESULTS.md, "PixelCNN" (what limits the completions).
"""
import dataclasses
import sys

from minigen.data import get_dataset
from minigen.models import make
from minigen.models.loop import train


def top_half(dataset):
    """The dataset with each image's bottom half set to the background (-1)."""
    images = dataset.data.copy()
    images[:, :, images.shape[2] // 2:] = -1.0
    return dataclasses.replace(dataset, data=images)


def main(argv):
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)
        return
    split = top_half(get_dataset("digits", "train")), top_half(get_dataset("digits", "test"))
    for model in ("cnn", "mlp"):
        for seed in [int(s) for s in argv] or [0, 1, 2]:
            classifier = make("classifier", "digits", model=model, seed=seed, split=split)
            train(classifier, quiet=True)
            print(f"{model}, seed {seed}: test accuracy on top halves {classifier.evaluate()['accuracy']:.3f}",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

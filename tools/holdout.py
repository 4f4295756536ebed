"""The holdout every tools/*_holdout.py script tunes on: the training split cut in two, never the test split.

    from holdout import carve            # (tools/ is on the path when a script there runs)
    fit, held = carve("digits", 360)     # fit on the first 1,077 training digits, judge on the last 360
    fit, held = carve("names", 0.1)      # a share: the last 10% of the training names

On labelled images, carve also makes the judge of every sample metric in the process (the
project's digits classifier, minigen/models/judge.py) one trained on ``fit`` alone, so that it
has not seen the held digits it judges, as `minigen eval`'s judge has not seen the test split.
Until 2026-12-01 the tools judged with the classifier of the whole training split, which scores
the last 360 training digits 1.000 (the test digits 0.939): the judged numbers the tools
recorded before then (completions, label accuracy, Frechet distances) are on that judge.
"""
import dataclasses

from minigen.data import get_dataset
from minigen.models import judge


def carve(name, held):
    """(fit, held): the training split of data set ``name`` with its last ``held`` items set apart
    (``held`` a count, or a share of the split, rounded down), as Datasets like get_dataset's."""
    full = get_dataset(name, "train")
    count = held if isinstance(held, int) else int(len(full) * held + 1e-9)
    cut = len(full) - count
    part = (lambda sl: None) if full.labels is None else (lambda sl: full.labels[sl])
    fit, held = (dataclasses.replace(full, data=full.data[:cut], labels=part(slice(None, cut))),
                 dataclasses.replace(full, data=full.data[cut:], labels=part(slice(cut, None)), split="holdout"))
    if full.kind == "images" and full.labels is not None:
        judge.digit_judge(name, split=(fit, held))
    return fit, held

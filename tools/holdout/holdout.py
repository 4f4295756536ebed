"""The holdout every tuner in tools/holdout/ chooses on: the training split cut in two, never the test split.

    from tools.holdout.holdout import carve
    fit, held = carve("digits")          # fit on the first 1,077 training digits, judge on the last 360
    fit, held = carve("names")           # the first 4,131 training names, the last 516

The held part is as large as the data's test split (360 digits, 516 names, 2,500 points), so
that a number on it reads like the same number on test; a tuner trains on ``fit`` with
``make(family, data, split=(fit, held), ...)``. Trials recorded before this was the one size held
out 144 or 287 digits, or 464 names: RESULTS.md says which.

On labelled images, carve also makes the judge of every sample metric in the process (the
project's digits classifier, minigen/models/judge.py) one trained on ``fit`` alone, so that it
has not seen the held digits it judges, as `minigen eval`'s judge has not seen the test split.
Until 2026-12-01 the tools judged with the classifier of the whole training split, which scores
the last 360 training digits 1.000 (the test digits 0.939): the judged numbers recorded before
then (completions, label accuracy, Frechet distances) are on that judge.
"""
import dataclasses

from minigen.data import get_dataset
from minigen.models import CONFIG_FIELDS, family_class, judge, make
from minigen.models.loop import Config


def carve(name, held=None):
    """(fit, held): the training split of data set ``name`` with its last ``held`` items set
    apart (default: as many as the test split holds), as Datasets like get_dataset's."""
    full = get_dataset(name, "train")
    count = len(get_dataset(name, "test")) if held is None else held
    cut = len(full) - count
    part = (lambda sl: None) if full.labels is None else (lambda sl: full.labels[sl])
    fit, held = (dataclasses.replace(full, data=full.data[:cut], labels=part(slice(None, cut))),
                 dataclasses.replace(full, data=full.data[cut:], labels=part(slice(cut, None)), split="holdout"))
    if full.kind == "images" and full.labels is not None:
        judge.digit_judge(name, split=(fit, held))
    return fit, held


def make_for_epochs(family, data, fit, held, steps=None, **settings):
    """(the family made on (fit, held), the steps of the real run it stands for): ``steps`` (or the
    recipe's) are counted for the whole training split, as `minigen train` runs them, and scaled by
    len(fit) / (len(fit) + len(held)), so that a setting trains for the epochs a real run gives it."""
    if steps is None:
        fields = {k: settings[k] for k in CONFIG_FIELDS if k in settings}
        extra = {k: v for k, v in settings.items() if k not in CONFIG_FIELDS}
        steps = family_class(family, data).resolve(Config(family, data, extra=extra, **fields)).steps
    scaled = round(steps * len(fit) / (len(fit) + len(held)))
    return make(family, data, split=(fit, held), steps=scaled, **settings), steps

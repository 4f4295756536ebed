"""The holdout every tools/*_holdout.py script tunes on: the training split cut in two, never the test split.

    from holdout import carve            # (tools/ is on the path when a script there runs)
    fit, held = carve("digits", 360)     # fit on the first 1,077 training digits, judge on the last 360
    fit, held = carve("names", 0.1)      # a share: the last 10% of the training names
"""
import dataclasses

from minigen.data import get_dataset


def carve(name, held):
    """(fit, held): the training split of data set ``name`` with its last ``held`` items set apart
    (``held`` a count, or a share of the split, rounded down), as Datasets like get_dataset's."""
    full = get_dataset(name, "train")
    count = held if isinstance(held, int) else int(len(full) * held + 1e-9)
    cut = len(full) - count
    part = (lambda sl: None) if full.labels is None else (lambda sl: full.labels[sl])
    return (dataclasses.replace(full, data=full.data[:cut], labels=part(slice(None, cut))),
            dataclasses.replace(full, data=full.data[cut:], labels=part(slice(cut, None)), split="holdout"))

"""Timing: warm-up, then repeated samples of every contender, interleaved, summarised by the
median and the interquartile range.

Interleaving: in each round every contender runs once, the order rotating from round to
round, so that a slow spell of the machine (another process, a thermal dip) lands on all
contenders alike instead of on whichever happened to be measured then. Each sample is
bracketed by ``sync()`` (a no-op on the CPU, a device synchronisation on a GPU) so that a
clock is never read while queued GPU work is still running.

A sample is one call of the step, or, for operations too quick to time alone, the mean of
``inner`` calls, where ``inner`` is chosen once (after the warm-up) so that a sample lasts
at least ``min_sample_s``. The garbage collector stays on (its cost is part of running an
engine) but a full collection is run between rounds, outside the clock. (run.py freezes
the objects that exist before timing starts, so such collections see only the contenders'
own garbage.)
"""
import gc
import math
import time


def summarize(samples):
    """Median, quartiles, IQR, min, max and mean of a list of seconds (plus the samples)."""
    xs = sorted(samples)
    n = len(xs)

    def quantile(q):  # linear interpolation between order statistics (NumPy's default)
        pos = q * (n - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, n - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)

    q1, med, q3 = quantile(0.25), quantile(0.5), quantile(0.75)
    return {"median_s": med, "q1_s": q1, "q3_s": q3, "iqr_s": q3 - q1, "min_s": xs[0], "max_s": xs[-1],
            "mean_s": sum(xs) / n, "n": n, "samples_s": list(samples)}


def _timed(fn, sync, inner):
    sync()
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    sync()
    return (time.perf_counter() - t0) / inner


def interleaved(contenders, repeats, warmup=2, min_sample_s=0.0):
    """Time each contender's ``fn`` ``repeats`` times, interleaved.

    contenders: {label: (fn, sync)}.  Returns {label: summarize(...) + {"inner": calls per sample}}.
    """
    labels = list(contenders)
    inner = {}
    for label in labels:
        fn, sync = contenders[label]
        one = math.inf
        for _ in range(max(warmup, 1)):
            one = min(one, _timed(fn, sync, 1))
        inner[label] = max(1, math.ceil(min_sample_s / one)) if one > 0 else 1
    samples = {label: [] for label in labels}
    for r in range(repeats):
        gc.collect()
        start = r % len(labels)
        for label in labels[start:] + labels[:start]:
            fn, sync = contenders[label]
            samples[label].append(_timed(fn, sync, inner[label]))
    return {label: {**summarize(samples[label]), "inner": inner[label]} for label in labels}

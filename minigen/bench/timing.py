"""Timing: warm-up, then repeated samples of every contender, interleaved, summarised by the
median and the interquartile range.

A *visit* gives one contender the machine for a few consecutive samples: first it runs
untimed for ``settle_s`` seconds (at least once), then it is timed ``per_visit`` times in a
row, the way a training loop runs step after step. The settling matters: a library's idle
worker threads keep spinning for a while after its last call (OpenBLAS for ~0.1 s, OpenMP
runtimes too), and would otherwise steal a core from the next contender. Visits are
interleaved: each round visits every contender once, the order rotating from round to
round, so that a slow spell of a shared machine falls on all contenders alike.

A sample is one call, or, for calls too quick to time alone, the mean of ``inner`` calls,
``inner`` chosen on the first visit so that a sample lasts at least ``min_sample_s``. Every
sample is bracketed by ``sync()`` (a no-op on the CPU, a device synchronisation on a GPU),
so no clock is read while queued GPU work is still running. The garbage collector stays on
(a real engine pays for it); a collection runs before each visit, outside the clock.

``local_visit`` makes a visit from an in-process function; workers.py runs them in one
process per contender.
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


class Visitor:
    """Visits of one in-process contender: ``visitor(count)`` settles, then returns ``count``
    sample times. The first visit also warms up and chooses ``inner``."""

    def __init__(self, fn, sync, warmup=2, settle_s=0.0, min_sample_s=0.0):
        self.fn, self.sync = fn, sync
        self.warmup, self.settle_s, self.min_sample_s = warmup, settle_s, min_sample_s
        self.inner = None

    def _calibrate(self):
        one = math.inf
        for _ in range(max(self.warmup, 1)):
            one = min(one, _timed(self.fn, self.sync, 1))
        self.inner = max(1, math.ceil(self.min_sample_s / one)) if one > 0 else 1

    def __call__(self, count):
        gc.collect()
        if self.inner is None:
            self._calibrate()
        start = time.perf_counter()
        while True:                                   # settle: at least one untimed call
            self.fn()
            self.sync()
            if time.perf_counter() - start >= self.settle_s:
                break
        return [_timed(self.fn, self.sync, self.inner) for _ in range(count)]


def local_visit(fn, sync, warmup=2, settle_s=0.0, min_sample_s=0.0):
    return Visitor(fn, sync, warmup, settle_s, min_sample_s)


def interleaved(visits, repeats, per_visit=1):
    """Sample every contender ``repeats`` times, ``per_visit`` samples a visit, visits interleaved.

    visits: {label: visit}, visit(count) -> list of ``count`` sample times (seconds), plus an
    ``inner`` attribute (calls per sample) when it has one.
    Returns {label: summarize(...) + {"inner": calls per sample, "per_visit": ...}}.
    """
    labels = list(visits)
    samples = {label: [] for label in labels}
    r = 0
    while any(len(s) < repeats for s in samples.values()):
        start = r % len(labels)
        for label in labels[start:] + labels[:start]:
            want = min(per_visit, repeats - len(samples[label]))
            if want > 0:
                samples[label].extend(visits[label](want))
        r += 1
    return {label: {**summarize(samples[label]), "inner": getattr(visits[label], "inner", None),
                    "per_visit": per_visit} for label in labels}

"""Host <-> device transfers per training step of each family's default model, on the CuPy stand-in.

    python -m tests.cupy_stand_in.transfers            (from the repository's root)

Each run is made with make(..., device="cuda"), takes WARMUP steps (first-step work: the optimizers'
state, lazily made tables), then the stand-in's counters are zeroed and the training loop runs STEPS
steps: its batches (the loader's copy of the data to the device, once per run, and of each epoch's
order, once per epoch) and its reads of the losses (every READ_EVERY steps) are counted with them. Printed: a Markdown table of the
host -> device copies, device -> host copies and synchronising reads per step. With ``--where``,
also each run's call sites: the minigen line that made each copy or read, and the family's line
that led to it, per step.
"""
import collections
import sys
import traceback

from tests import cupy_stand_in

WARMUP, STEPS = 3, 100
RUNS = [   # (family, data, settings): each family's default model, and the other kind of data it takes
    ("classifier", "digits", {}),
    ("classifier", "digits", {"model": "cnn"}),
    ("gan", "8gaussians", {}),
    ("gan", "digits", {"model": "dcgan"}),
    ("vae", "digits-binary", {}),
    ("autoregressive", "names", {}),
    ("autoregressive", "digits-binary", {}),
    ("diffusion", "8gaussians", {}),
    ("diffusion", "digits", {}),
]


class _Sites(dict):
    """The stand-in's counters, also recording where each count came from: the innermost minigen line
    outside backend.py, and the family's (or optimizer's) line that led there."""

    def __init__(self, *args):
        super().__init__(*args)
        self.sites = collections.Counter()

    def __setitem__(self, key, value):
        if value > self.get(key, 0):
            frames = [f"{f.filename.split('/minigen/', 1)[1]}:{f.lineno}" for f in traceback.extract_stack()[:-1]
                      if "/minigen/" in f.filename and not f.filename.endswith("/minigen/backend.py")]
            asker = [f for f in frames if f.startswith(("models/", "optim.py"))]    # the family's line
            site = " <- ".join(dict.fromkeys(frames[-1:] + asker[-1:])) or "?"
            self.sites[key, site] += value - self.get(key, 0)
        super().__setitem__(key, value)


def per_step(family_name, data, settings, warmup=WARMUP, steps=STEPS):
    """{"h2d", "d2h", "sync"}: the counts of one training step, averaged over ``steps`` steps of the
    training loop (its reads of the losses, every READ_EVERY steps, and its batches included)."""
    from minigen.models import make
    from minigen.models.loop import train

    family = make(family_name, data, device="cuda", seed=0, steps=warmup + steps, **settings)
    batches = family.batches()
    family.train_mode()
    for _ in range(warmup):
        family.train_step(next(batches))
    cupy_stand_in.reset_counts()
    if isinstance(cupy_stand_in.counts, _Sites):
        cupy_stand_in.counts.sites.clear()
    train(family, quiet=True)
    return family.config.model, {k: v / steps for k, v in cupy_stand_in.counts.items()}


def table(runs=RUNS, where=False):
    notes = []
    lines = ["| run | host -> device copies / step | device -> host copies / step | synchronising reads / step |",
             "| --- | ---: | ---: | ---: |"]
    for family_name, data, settings in runs:
        model, c = per_step(family_name, data, settings)
        lines.append(f"| {family_name} {data} {model} | {c['h2d']:.2f} | {c['d2h']:.2f} | {c['sync']:.2f} |")
        if where:
            sites = sorted(cupy_stand_in.counts.sites.items(), key=lambda kv: (kv[0][0], -kv[1]))
            notes.append(f"{family_name} {data} {model}:\n" + "\n".join(
                f"  {kind:4} {n:4d} in {STEPS} steps  minigen/{site}" for (kind, site), n in sites))
    return "\n".join(lines + ([""] + notes if where else []))


def main():
    cupy_stand_in.install()
    from minigen import backend
    backend._cupy = None
    backend._generators.clear()
    where = "--where" in sys.argv[1:]
    if where:
        cupy_stand_in.counts = _Sites(cupy_stand_in.counts)
    print(table(where=where))
    return 0


if __name__ == "__main__":
    sys.exit(main())

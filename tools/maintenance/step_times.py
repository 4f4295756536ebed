"""Milliseconds per training step of each family's default model, on each device asked for.

    python -m tools.maintenance.step_times [--devices cpu,cuda] [--steps 50]

Each run is made with minigen.models.make (the defaults a user gets), takes WARMUP steps (the
optimizers' state, lazy tables, CuPy's kernel compilation), then ``--steps`` steps of the training
loop are timed, its reads of the losses included, with the device synchronised before each clock
read. Printed: a Markdown table, one row per run, one column per device, and the ratio of the first
device's time to each other's. Part of tools/maintenance/gpu_check.sh; on a machine without a GPU,
`--devices cpu` still runs.
"""
import argparse
import time

from minigen import backend
from minigen.models import make
from minigen.models.loop import train

WARMUP = 5
RUNS = [   # (family, data, settings): each family's default model, as the stand-in's transfer table
    ("classifier", "digits", {"model": "cnn"}),
    ("gan", "8gaussians", {}),
    ("gan", "digits", {"model": "dcgan"}),
    ("vae", "digits-binary", {}),
    ("autoregressive", "names", {}),
    ("autoregressive", "digits-binary", {}),
    ("diffusion", "8gaussians", {}),
    ("diffusion", "digits", {}),
]


def ms_per_step(family_name, data, settings, device, steps):
    family = make(family_name, data, device=device, seed=0, steps=WARMUP + steps, **settings)
    batches = family.batches()
    family.train_mode()
    for _ in range(WARMUP):
        family.train_step(next(batches))
    backend.synchronize(family.config.device)
    start = time.perf_counter()
    train(family, quiet=True)
    backend.synchronize(family.config.device)
    return 1000 * (time.perf_counter() - start) / steps, family.config.model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="cpu,cuda", help="comma-separated devices (default cpu,cuda)")
    parser.add_argument("--steps", type=int, default=50, help="timed steps per run (default 50)")
    args = parser.parse_args(argv)
    devices = args.devices.split(",")
    header = " | ".join(f"{d} ms/step" for d in devices)
    ratios = " | ".join(f"{devices[0]} / {d}" for d in devices[1:])
    print(f"| run | {header} |" + (f" {ratios} |" if ratios else ""))
    print("| --- |" + " ---: |" * (2 * len(devices) - 1))
    for family_name, data, settings in RUNS:
        times = {}
        for device in devices:
            times[device], model = ms_per_step(family_name, data, settings, device, args.steps)
        row = " | ".join(f"{times[d]:.1f}" for d in devices)
        ratio = " | ".join(f"{times[devices[0]] / times[d]:.2f}x" for d in devices[1:])
        print(f"| {family_name} {data} {model} | {row} |" + (f" {ratio} |" if ratio else ""), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Does the import order change minigen's speed or its numbers? (not a timed test)

Trains the default GAN on 8gaussians for 400 steps in fresh processes, half of them with
``import numpy`` before ``import minigen`` (as most scripts and notebooks start) and half with
minigen first, alternating, with the user's thread variables removed. Reports the training
time of each order and checks that both orders give the same weights, bit for bit.

    python -m minigen.bench.import_order [--repeats 3] [--steps 400]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

WORKER = """
import time
import {first}, {second}
import hashlib
import numpy as np
import minigen as mg
from minigen.models import make
from minigen.models.loop import train
trainer = make("gan", "8gaussians", steps={steps}, seed=0)
history, seconds = train(trainer, quiet=True)
digest = hashlib.sha256(b"".join(np.ascontiguousarray(p.numpy()).tobytes() for p in trainer.G.parameters()))
print(json.dumps({{"seconds": seconds, "weights": digest.hexdigest()}}))
"""


def run_once(first, second, steps):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    code = "import json\n" + WORKER.format(first=first, second=second, steps=steps)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    orders = {"numpy first": ("numpy", "minigen"), "minigen first": ("minigen", "numpy")}
    results = {name: [] for name in orders}
    for _ in range(args.repeats):
        for name, (first, second) in orders.items():
            results[name].append(run_once(first, second, args.steps))
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = f.read().strip()
    medians = {}
    for name, runs in results.items():
        times = [r["seconds"] for r in runs]
        medians[name] = statistics.median(times)
        print(f"{name:>14}: {args.steps} GAN steps in {', '.join(f'{t:.2f}' for t in times)} s "
              f"(median {medians[name]:.2f} s)")
    digests = {r["weights"] for runs in results.values() for r in runs}
    print(f"ratio numpy-first / minigen-first: {medians['numpy first'] / medians['minigen first']:.3f}")
    print(f"same weights in every process, both orders: {len(digests) == 1}")
    print(f"load average after: {load}")


if __name__ == "__main__":
    main()

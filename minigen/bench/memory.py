"""Peak resident memory of a 100-step MLP training loop, each contender in a fresh process.

Method (Linux): the child imports its libraries, collects garbage, and resets the kernel's
peak-RSS counter (writing "5" to /proc/self/clear_refs; since Linux 4.0). It then reads its
current RSS (the baseline: interpreter + libraries), builds the step (parameters, batch)
and trains for ``steps`` steps. VmHWM in /proc/self/status is then the peak since the reset,
and peak - baseline is what the training loop itself needed: parameters, gradients,
activations, temporaries, and any memory the engine keeps (graph nodes, caches).

Why VmHWM and not getrusage's ru_maxrss: Linux carries ru_maxrss over fork + exec, so a
child started by a big parent (this benchmark, with PyTorch loaded) reports the parent's
peak. VmHWM belongs to the child's own memory map. Where /proc is missing (not Linux),
ru_maxrss after the imports is the baseline and ru_maxrss at the end the peak, with the
caveats above; ``peak_reset`` in the report says which was used.

Resident memory counts what the process really holds, NumPy's arrays and everything else
(allocator slack, BLAS buffers), which is what a user would see; tracemalloc would count
only Python-tracked allocations. Each contender runs alone in its own process, so neither
sees the other's heap.

Run as a child:  python -m minigen.bench.memory CONTENDER STEPS [full|tiny]   (prints one JSON line)
"""
import gc
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

# the folder holding this minigen package (site-packages, or a source checkout): the child starts
# there, so that `-m` finds the same minigen as this process and not one in the working directory
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def _current_rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss():
    """VmHWM (this memory map's peak RSS), else getrusage's ru_maxrss (KiB on Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child(contender, steps, size="full"):
    import numpy  # noqa: F401
    from minigen.bench import specs
    if contender == "minigen":
        from minigen.bench.minigen_steps import MinigenStep as Step
    elif contender == "numpy":
        from minigen.bench.numpy_steps import NumpyStep as Step
    elif contender == "torch":
        from minigen.bench.torch_steps import TorchStep as Step
    else:
        raise SystemExit(f"memory: unknown contender {contender!r}")
    gc.collect()
    reset = _reset_peak()
    base = _current_rss() if reset else _peak_rss()
    step = Step(specs.mlp() if size == "full" else specs.tiny("mlp"), "cpu")
    for _ in range(steps):
        step.step()
    peak = _peak_rss()
    print(json.dumps({"contender": contender, "steps": steps, "baseline_bytes": base, "peak_bytes": peak,
                      "loop_bytes": peak - base, "peak_reset": reset}))


def measure(contender, steps, env, size="full"):
    """Run the child for ``contender`` in a fresh interpreter; return its JSON report.
    ``size`` "tiny" trains the tests' small MLP instead of 784-512-512-10."""
    from minigen.bench.workers import allocator_env
    env = {k: v for k, v in env.items() if k != "MINIGEN_ALLOCATOR"}
    proc = subprocess.run([sys.executable, "-m", "minigen.bench.memory", contender, str(steps), size],
                          cwd=PACKAGE_ROOT, env={**env, **allocator_env(contender)}, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"memory child for {contender} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "full")

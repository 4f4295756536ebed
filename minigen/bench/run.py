"""The benchmark: minigen vs hand-written NumPy vs PyTorch, on the CPU and (when there is one) a GPU.

    python -m minigen.bench.run [--device cpu|cuda|all] [--quick] [--out DIR] [--threads N]
    minigen bench [--device ...] [--quick] [--out DIR]          (the same main())

What it does, in order:
 1. builds every training step for every contender and *verifies* that the hand-written
    NumPy step and PyTorch's compute minigen's loss, gradients and update (verify.py);
    a mismatch aborts the run before anything is timed;
 2. times the training steps: each contender in its own process with the same N threads
    (workers.py, threads.py), the processes taking turns (timing.py); on the CPU a second
    time with glibc's malloc pinned (not with --quick);
 3. times single ops forward + backward over log-spaced sizes, and the per-op overhead (ops.py);
    (1-3 again on the GPU with --device all or cuda)
 4. measures the peak memory of a 100-step MLP loop, each contender in its own process (memory.py);
 5. writes DIR/<machine>.json, DIR/<machine>.md and DIR/<machine>-*.png, and prints the table.
    With --quick the names end in -quick, so a quick run never overwrites a full one.
"""
import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from minigen.bench import threads as thread_control
from minigen.bench.workers import MALLOC_PINNED


# samples per training step, from step_processes fresh processes per contender (a process's
# heap history matters: workers.py), in visits of step_per_visit consecutive steps, each visit
# after settle_s of untimed steps (timing.py); samples per op size, and the least time one op sample
# lasts (quick ops are called several times per sample); the per-op chain; the memory loop;
# whether the CPU steps are timed a second time with glibc's malloc pinned (workers.py)
SETTINGS = {False: {"step_repeats": 30, "step_processes": 5, "step_per_visit": 3, "step_warmup": 3, "settle_s": 0.2,
                    "op_repeats": 10, "op_per_visit": 5, "op_min_sample_s": 0.01,
                    "chain_length": 400, "chain_repeats": 30, "memory_steps": 100, "memory_size": "full",
                    "malloc_pinned": True},
            True: {"step_repeats": 8, "step_processes": 1, "step_per_visit": 4, "step_warmup": 2, "settle_s": 0.2,
                   "op_repeats": 4, "op_per_visit": 2, "op_min_sample_s": 0.003,
                   "chain_length": 400, "chain_repeats": 8, "memory_steps": 100, "memory_size": "full",
                   "malloc_pinned": False}}


_T0 = time.perf_counter()


def log(message):
    """Progress on stderr, with the seconds since the start."""
    print(f"[{time.perf_counter() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)


def _devices(device):
    import minigen as mg
    if device == "cpu":
        return ["cpu"]
    if device in ("cuda", "all"):
        if mg.cuda_available():
            return (["cpu"] if device == "all" else []) + ["cuda:0"]
        if device == "cuda":
            raise SystemExit("bench: --device cuda, but no CUDA GPU is available (CuPy missing or no "
                             "device); use --device cpu")
        return ["cpu"]
    raise SystemExit(f"bench: unknown device {device!r}: use cpu, cuda or all")


def _torch(notes):
    """The torch module, or None (noted) when it is not importable."""
    try:
        import torch
    except ImportError:
        notes.append("PyTorch is not installed: its columns are empty (it is optional).")
        return None
    return torch


def step_names(notes):
    """The steps to run: the GAN's only when minigen has one (noted otherwise)."""
    from minigen.bench import specs
    if not specs.gan_available():
        notes.append("GAN step skipped: minigen/models/gan.py does not exist (yet).")
    return specs.available()


def build_steps(spec, device, torch_module):
    """{label: step}: minigen, the hand-written baseline and (when importable) PyTorch, on ``device``."""
    from minigen.bench.minigen_steps import minigen_step
    from minigen.bench.numpy_steps import NumpyStep
    steps = {"minigen": minigen_step(spec, device), "numpy": NumpyStep(spec, device)}
    if torch_module is not None:
        from minigen.bench.torch_steps import torch_step
        steps["torch"] = torch_step(spec, device)
    return steps


def verify_steps(device, names, size, torch_module):
    """Every step of every contender checked against minigen's, before any clock starts."""
    from minigen.bench import specs, verify
    verification, titles = {}, {}
    for name in names:
        spec = specs.STEPS[name]() if size == "full" else specs.tiny(name)
        titles[name] = spec.title
        verification[name] = verify.verify(spec, build_steps(spec, device, torch_module))
        log(f"  verified {name} on {device}: " + ", ".join(
            f"{label} max rel. grad err {r['max_grad_rel_err']:.1e}" for label, r in verification[name].items()))
    return verification, titles


def run_steps(device, names, titles, size, torch_module, threads, cfg, env=None):
    """Time every step, each contender in its own worker process (workers.py), fresh for every
    step; ``env``: extra environment variables for the workers (the malloc settings)."""
    from minigen.bench import timing
    from minigen.bench.workers import Workers
    labels = ["minigen", "numpy"] + (["torch"] if torch_module is not None else [])
    results, workers_info = {}, {}
    generations = cfg["step_processes"]
    for name in names:
        key = ("step", name, size)
        samples = {label: [] for label in labels}
        medians = {label: [] for label in labels}
        for _ in range(generations):   # fresh processes: each has its own heap and thread pools
            with Workers(labels, device, threads, env) as workers:
                workers.build(key, warmup=cfg["step_warmup"], settle_s=cfg["settle_s"])
                timed = timing.interleaved(workers.visits(key), repeats=cfg["step_repeats"] // generations,
                                           per_visit=cfg["step_per_visit"])
                workers_info = workers.info
            for label, t in timed.items():
                samples[label] += t["samples_s"]
                medians[label].append(t["median_s"])
        timed = {label: {**timing.summarize(samples[label]), "process_medians_s": medians[label],
                         "per_visit": cfg["step_per_visit"]} for label in labels}
        results[name] = {"title": titles[name], "contenders": timed}
        log(f"  {name} on {device}{' (malloc pinned)' if env else ''}: " + ", ".join(
            f"{label} {t['median_s'] * 1e3:.2f} ms" for label, t in timed.items()))
    return results, workers_info


def run_ops(device, torch_module, op_sizes, threads, cfg):
    """Single ops over sizes, and the per-op chain: minigen and PyTorch, one worker each."""
    from minigen.bench import ops, timing
    from minigen.bench.workers import Workers
    labels = ["minigen"] + (["torch"] if torch_module is not None else [])
    sweeps, chain = {}, {}
    options = {"warmup": 2, "settle_s": cfg["settle_s"], "min_sample_s": cfg["op_min_sample_s"]}
    with Workers(labels, device, threads) as workers:
        for op, sizes in op_sizes.items():
            rows = []
            for n in sizes:
                key = ("op", op, n)
                workers.build(key, **options)
                timed = timing.interleaved(workers.visits(key), repeats=cfg["op_repeats"],
                                           per_visit=cfg["op_per_visit"])
                workers.drop(key)
                rows.append({"size": n, "shape": ops.SHAPES[op].format(n=n), "contenders": timed})
            sweeps[op] = rows
            log(f"  {op} on {device}: sizes {sizes}")
        for mode in ("fwd_bwd", "fwd"):
            key = ("chain", mode, cfg["chain_length"])
            workers.build(key, warmup=3, settle_s=cfg["settle_s"])
            timed = timing.interleaved(workers.visits(key), repeats=cfg["chain_repeats"],
                                       per_visit=cfg["step_per_visit"])
            workers.drop(key)
            for lib, t in timed.items():
                chain.setdefault(lib, {})[mode] = {**t, "per_op_us": t["median_s"] / cfg["chain_length"] * 1e6,
                                                   "per_op_iqr_us": t["iqr_s"] / cfg["chain_length"] * 1e6}
    log(f"  per-op overhead on {device}: " + ", ".join(
        f"{lib} {chain[lib]['fwd_bwd']['per_op_us']:.1f} us" for lib in labels))
    return sweeps, {"chain_length": cfg["chain_length"], "results": chain}


def run_memory(threads, torch_module, cfg):
    from minigen.bench import memory
    env = thread_control.env_with_threads(threads)
    out = {"method": "peak resident memory (VmHWM, reset via /proc/self/clear_refs after the imports) "
                     "minus the resident memory after the imports; each contender in a fresh process",
           "steps": cfg["memory_steps"], "results": {}}
    labels = cfg.get("memory_contenders") or ["minigen", "numpy"] + (["torch"] if torch_module is not None else [])
    for label in labels:
        out["results"][label] = memory.measure(label, cfg["memory_steps"], env, cfg["memory_size"])
    log("  memory: " + ", ".join(f"{k} {v['loop_bytes'] / 2**20:.1f} MiB" for k, v in out["results"].items()))
    return out


def collect(device="cpu", quick=False, threads=None, cfg=None, size="full", op_sizes=None):
    """Run everything; return the results dict (nothing is written).

    cfg, size ("tiny": the tests' small steps) and op_sizes ({op: [n, ...]}) override the
    defaults (the smoke test runs the whole pipeline on tiny problems with them).
    """
    from minigen.bench import machine, ops
    cfg = {**SETTINGS[bool(quick)], **(cfg or {})}
    threads = int(threads or thread_control.default_threads())
    op_sizes = op_sizes or {op: sizes[1] if quick else sizes[0] for op, sizes in ops.SIZES.items()}
    notes = []
    started = time.perf_counter()
    cpu_before = _cpu_snapshot()
    load_before = os.getloadavg()
    torch_module = _torch(notes) if cfg.get("torch", True) else None
    results = {"machine": machine.info(torch_module),
               "settings": {"quick": bool(quick), "threads": threads,
                            "thread_control": "one process per contender, started with "
                                              + "=".join(["/".join(thread_control.ENV_VARS), str(threads)])
                                              + " (and torch.set_num_threads)",
                            "dtype": "float32", **cfg, "op_sizes": op_sizes,
                            # glibc's allocator settings change step times a lot (workers.py): recorded
                            "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},
                            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "load_average_before": load_before},
               "devices": {}, "notes": notes}
    names = step_names(notes)
    for dev in _devices(device):
        log(f"[{dev}] verifying and timing training steps ...")
        verification, titles = verify_steps(dev, names, size, torch_module)
        phase = _cpu_snapshot()
        steps, info = run_steps(dev, names, titles, size, torch_module, threads, cfg)
        others = {"steps": _others_cpu_share(phase)}
        pinned = None
        if dev == "cpu" and cfg["malloc_pinned"]:
            phase = _cpu_snapshot()
            pinned, _ = run_steps(dev, names, titles, size, torch_module, threads, cfg, env=MALLOC_PINNED)
            others["steps_malloc_pinned"] = _others_cpu_share(phase)
        log(f"[{dev}] timing single ops ...")
        phase = _cpu_snapshot()
        sweeps, per_op = run_ops(dev, torch_module, op_sizes, threads, cfg)
        others["ops"] = _others_cpu_share(phase)
        results["devices"][dev] = {"verification": verification, "steps": steps, "ops": sweeps,
                                   "per_op": per_op, "others_cpu_share": others, "workers": info}
        if pinned is not None:
            results["devices"][dev]["steps_malloc_pinned"] = {"env": MALLOC_PINNED, "steps": pinned}
        log(f"[{dev}] other processes' share of the CPU time: " + ", ".join(
            f"{k} {'?' if v is None else f'{100 * v:.0f}%'}" for k, v in others.items()))
        for label, worker in info.items():
            seen = [worker.get("blas_threads"), worker.get("torch_threads")]
            if any(n is not None and n != threads for n in seen):
                notes.append(f"{label} worker on {dev} reported {seen} (BLAS, torch) threads, not {threads}.")
    if cfg["memory_steps"]:
        log("[cpu] memory of a training loop ...")
        results["memory"] = run_memory(threads, torch_module, cfg)
    results["settings"]["load_average_after"] = os.getloadavg()
    results["settings"]["seconds"] = time.perf_counter() - started
    others = _others_cpu_share(cpu_before)
    results["settings"]["others_cpu_share"] = others
    if others is not None and others > 0.05:
        notes.append(f"Other processes used {100 * others:.0f}% of the machine's CPU time during this run: "
                     "they competed with the contenders for the cores, and with several threads per "
                     "library that can inflate times many-fold. Trust these numbers less; rerun when idle.")
    return results


def _cpu_snapshot():
    """(busy jiffies of the whole machine, CPU seconds of this process and its children, wall
    time), or None where /proc/stat is missing."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:8]]
    except (OSError, ValueError):
        return None
    import resource
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = time.process_time() + children.ru_utime + children.ru_stime
    busy = sum(fields) - fields[3] - fields[4]          # all but idle and iowait
    return busy, mine, time.perf_counter()


def _others_cpu_share(before):
    """The share of all cores' time that *other* processes used since ``before`` (0 = idle
    machine apart from this benchmark), or None when it cannot be measured."""
    after = _cpu_snapshot()
    if before is None or after is None:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    busy = (after[0] - before[0]) / hz
    wall = after[2] - before[2]
    return max(0.0, busy - (after[1] - before[1])) / (wall * (os.cpu_count() or 1))


def default_out():
    """Where results go without --out, relative to the working directory (never inside the
    installed package): benchmarks/results when run from the root of a source checkout, where
    the recorded results live, else bench-results (as `minigen bench`)."""
    return "benchmarks/results" if Path("benchmarks/results").is_dir() else "bench-results"


def main(device="cpu", quick=False, out=None, threads=None, name=None):
    """Run the benchmark, write JSON, markdown and plots into ``out``, print the table.

    device: "cpu", "cuda" or "all" (the CPU, and the GPU when there is one).
    quick:  fewer sizes and repeats (about a minute on 2 cores); files end in "-quick".
    out:    the output folder, relative to the working directory (default: default_out()).
    threads: the thread count for every library (default: the cores this process may use).
    name:   the machine name in the file names (default: CPU model and cores, plus the GPU).
    Returns the results dict.
    """
    from minigen.bench import report
    results = collect(device, quick, threads)
    paths = report.write(results, out or default_out(), name)
    print(report.markdown(results))
    log("wrote " + ", ".join(str(p) for p in paths))
    return results


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigen.bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "all"])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats (about a minute)")
    parser.add_argument("--out", default=None, help="output folder (default: benchmarks/results in a source "
                                                    "checkout's root, else bench-results)")
    parser.add_argument("--threads", type=int, default=None, help="threads for every library (default: all cores)")
    parser.add_argument("--name", default=None, help="machine name for the file names")
    return parser.parse_args(argv)


if __name__ == "__main__":
    a = parse_args()
    main(device=a.device, quick=a.quick, out=a.out, threads=a.threads, name=a.name)

"""The benchmark: minigen vs hand-written NumPy vs PyTorch, on the CPU and (when there is one) a GPU.

    python -m benchmarks.run [--device cpu|cuda|all] [--quick] [--out DIR] [--threads N]
    minigen bench [--device ...] [--quick] [--out DIR]          (the same main())

What it does, in order:
 1. fixes the thread count of every library to the same N (threads.py) and records it;
 2. builds every training step for every contender and *verifies* that the hand-written
    NumPy step and PyTorch's compute minigen's loss, gradients and update (verify.py);
    a mismatch aborts the run before anything is timed;
 3. times the training steps, the contenders interleaved (timing.py);
 4. times single ops forward + backward over log-spaced sizes, and the per-op overhead (ops.py);
 5. measures the peak memory of a 100-step MLP loop, each contender in its own process (memory.py);
 6. writes DIR/<machine>.json, DIR/<machine>.md and DIR/<machine>-*.png, and prints the table.
    With --quick the names end in -quick, so a quick run never overwrites a full one.
"""
import argparse
import gc
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import threads as thread_control

REPO = Path(__file__).resolve().parent.parent

# repeats and warm-up calls per training step; repeats per op size and the least time one op
# sample must last (quick ops are called several times per sample); the per-op chain; the memory loop
SETTINGS = {False: {"step_repeats": 30, "step_warmup": 3, "op_repeats": 10, "op_min_sample_s": 0.01,
                    "chain_length": 400, "chain_repeats": 30, "memory_steps": 100, "memory_size": "full"},
            True: {"step_repeats": 7, "step_warmup": 2, "op_repeats": 5, "op_min_sample_s": 0.003,
                   "chain_length": 400, "chain_repeats": 7, "memory_steps": 100, "memory_size": "full"}}


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


def _torch(threads, notes):
    """The torch module with n threads, or None (noted) when it is not importable."""
    try:
        import torch
    except ImportError:
        notes.append("PyTorch is not installed: its columns are empty (it is optional).")
        return None
    torch.set_num_threads(threads)
    return torch


def step_names(notes):
    """The steps to run: the GAN's only when minigen has one (noted otherwise)."""
    from benchmarks import specs
    if not specs.gan_available():
        notes.append("GAN step skipped: minigen/models/gan.py does not exist (yet).")
    return specs.available()


def build_steps(spec, device, torch_module):
    """{label: step}: minigen, the hand-written baseline and (when importable) PyTorch, on ``device``."""
    from benchmarks.minigen_steps import minigen_step
    from benchmarks.numpy_steps import NumpyStep
    steps = {"minigen": minigen_step(spec, device), "numpy": NumpyStep(spec, device)}
    if torch_module is not None:
        from benchmarks.torch_steps import torch_step
        steps["torch"] = torch_step(spec, device)
    return steps


def run_steps(device, names, make_spec, torch_module, cfg):
    """Verify every step first (all of them, before any clock starts), then time them."""
    from benchmarks import timing, verify
    verification, built = {}, {}
    for name in names:
        spec = make_spec(name)
        # fresh contenders for the check; the timed ones are built anew from the spec
        verification[name] = verify.verify(spec, build_steps(spec, device, torch_module))
        built[name] = (spec, build_steps(spec, device, torch_module))
        log(f"  verified {name} on {device}: " + ", ".join(
            f"{label} max rel. grad err {r['max_grad_rel_err']:.1e}" for label, r in verification[name].items()))
    results = {}
    for name, (spec, steps) in built.items():
        timed = timing.interleaved({label: (s.step, s.sync) for label, s in steps.items()},
                                   repeats=cfg["step_repeats"], warmup=cfg["step_warmup"])
        results[name] = {"title": spec.title, "contenders": timed}
        log(f"  {name} on {device}: " + ", ".join(
            f"{label} {t['median_s'] * 1e3:.2f} ms" for label, t in timed.items()))
    return verification, results


def run_ops(device, torch_module, op_sizes, cfg):
    from benchmarks import ops, timing
    sweeps = {}
    for op, sizes in op_sizes.items():
        rows = []
        for n in sizes:
            arrays, shape = ops.case_arrays(op, n)
            cases = {"minigen": ops.minigen_case(op, arrays, device)}
            if torch_module is not None:
                cases["torch"] = ops.torch_case(op, arrays, device)
            timed = timing.interleaved(cases, repeats=cfg["op_repeats"], warmup=2,
                                       min_sample_s=cfg["op_min_sample_s"])
            rows.append({"size": n, "shape": shape, "contenders": timed})
        sweeps[op] = rows
        log(f"  {op} on {device}: sizes {sizes}")
    chain = {}
    libraries = ["minigen"] + (["torch"] if torch_module is not None else [])
    cases = {lib: ops.chain_cases(lib, device, cfg["chain_length"]) for lib in libraries}
    for mode in ("fwd_bwd", "fwd"):
        timed = timing.interleaved({lib: cases[lib][mode] for lib in libraries},
                                   repeats=cfg["chain_repeats"], warmup=3)
        for lib, t in timed.items():
            chain.setdefault(lib, {})[mode] = {**t, "per_op_us": t["median_s"] / cfg["chain_length"] * 1e6,
                                               "per_op_iqr_us": t["iqr_s"] / cfg["chain_length"] * 1e6}
    log(f"  per-op overhead on {device}: " + ", ".join(
        f"{lib} {chain[lib]['fwd_bwd']['per_op_us']:.1f} us" for lib in libraries))
    return sweeps, {"chain_length": cfg["chain_length"], "results": chain}


def run_memory(threads, torch_module, cfg):
    from benchmarks import memory
    env = thread_control.env_with_threads(threads)
    out = {"method": "peak resident memory (VmHWM, reset via /proc/self/clear_refs after the imports) "
                     "minus the resident memory after the imports; each contender in a fresh process",
           "steps": cfg["memory_steps"], "results": {}}
    labels = cfg.get("memory_contenders") or ["minigen", "numpy"] + (["torch"] if torch_module is not None else [])
    for label in labels:
        out["results"][label] = memory.measure(label, cfg["memory_steps"], env, cfg["memory_size"])
    log("  memory: " + ", ".join(f"{k} {v['loop_bytes'] / 2**20:.1f} MiB" for k, v in out["results"].items()))
    return out


def collect(device="cpu", quick=False, threads=None, thread_how="", cfg=None, make_spec=None, op_sizes=None):
    """Run everything; return the results dict (nothing is written).

    cfg, make_spec (step name -> Spec) and op_sizes ({op: [n, ...]}) override the defaults
    (the smoke test uses them to run the whole pipeline on tiny problems).
    """
    from benchmarks import machine, ops, specs
    cfg = {**SETTINGS[bool(quick)], **(cfg or {})}
    make_spec = make_spec or (lambda name: specs.STEPS[name]())
    op_sizes = op_sizes or {op: sizes[1] if quick else sizes[0] for op, sizes in ops.SIZES.items()}
    notes = []
    started = time.perf_counter()
    cpu_before = _cpu_snapshot()
    load_before = os.getloadavg()
    torch_module = _torch(threads, notes)
    # Everything imported so far (PyTorch alone brings ~10^5 objects) is moved out of the
    # garbage collector's sight: otherwise every full collection, inside whichever
    # contender's step it happens to fall, would walk the other libraries' objects too,
    # and the collection between rounds (timing.py) would cost ~0.2 s each.
    gc.collect()
    gc.freeze()
    results = {"machine": machine.info(torch_module),
               "settings": {"quick": bool(quick), "threads": threads, "thread_control": thread_how,
                            "blas_threads_seen": thread_control.blas_threads(),
                            "torch_threads": torch_module.get_num_threads() if torch_module else None,
                            "dtype": "float32", **cfg, "op_sizes": op_sizes,
                            # glibc's allocator settings change step times a lot (README): recorded
                            "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},
                            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "load_average_before": load_before},
               "devices": {}, "notes": notes}
    names = step_names(notes)
    try:
        for dev in _devices(device):
            log(f"[{dev}] verifying and timing training steps ...")
            phase = _cpu_snapshot()
            verification, steps = run_steps(dev, names, make_spec, torch_module, cfg)
            others = {"steps": _others_cpu_share(phase)}
            log(f"[{dev}] timing single ops ...")
            phase = _cpu_snapshot()
            sweeps, per_op = run_ops(dev, torch_module, op_sizes, cfg)
            others["ops"] = _others_cpu_share(phase)
            results["devices"][dev] = {"verification": verification, "steps": steps, "ops": sweeps,
                                       "per_op": per_op, "others_cpu_share": others}
            log(f"[{dev}] other processes' share of the CPU time: " + ", ".join(
                f"{k} {'?' if v is None else f'{100 * v:.0f}%'}" for k, v in others.items()))
    finally:
        gc.unfreeze()
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


def _rerun_in_child(device, quick, out, threads, name):
    """Start this benchmark again in a process whose thread variables are set from the start;
    return the results it wrote."""
    import subprocess

    from benchmarks import machine, report
    name = name or machine.slug(machine.info())
    args = [sys.executable, "-m", "benchmarks.run", "--device", device, "--out", str(Path(out).resolve()),
            "--threads", str(threads), "--name", name] + (["--quick"] if quick else [])
    env = thread_control.env_with_threads(threads)
    env["MINIGEN_BENCH_CHILD"] = "1"
    log(f"bench: re-running in a child process with {'/'.join(thread_control.ENV_VARS)}={threads} "
        "(threadpoolctl is not installed, so the thread pools can only be sized at start)")
    proc = subprocess.run(args, cwd=REPO, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.returncode)
    stem = name + ("-quick" if quick else "")
    return json.loads((Path(out) / f"{stem}.json").read_text())


def main(device="cpu", quick=False, out="benchmarks/results", threads=None, name=None):
    """Run the benchmark, write JSON, markdown and plots into ``out``, print the table.

    device: "cpu", "cuda" or "all" (the CPU, and the GPU when there is one).
    quick:  fewer sizes and repeats (about a minute on 2 cores); files end in "-quick".
    threads: the thread count for every library (default: the cores this process may use).
    name:   the machine name in the file names (default: CPU model and cores, plus the GPU).
    Returns the results dict.
    """
    from benchmarks import report
    out = Path(out)
    threads = int(threads or thread_control.default_threads())
    context, how = thread_control.limit(threads)
    if context is None:
        if os.environ.get("MINIGEN_BENCH_CHILD"):
            raise SystemExit(f"bench: could not fix the thread count: {how}")
        return _rerun_in_child(device, quick, out, threads, name)
    with context:
        results = collect(device, quick, threads, how)
    seen = results["settings"]["blas_threads_seen"]
    if seen is not None and seen != threads:
        results["notes"].append(f"NumPy's BLAS reported {seen} threads, not {threads}.")
    paths = report.write(results, out, name)
    print(report.markdown(results))
    log("wrote " + ", ".join(str(p) for p in paths))
    return results


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "all"])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats (about a minute)")
    parser.add_argument("--out", default="benchmarks/results", help="output folder (default: benchmarks/results)")
    parser.add_argument("--threads", type=int, default=None, help="threads for every library (default: all cores)")
    parser.add_argument("--name", default=None, help="machine name for the file names")
    return parser.parse_args(argv)


if __name__ == "__main__":
    a = parse_args()
    main(device=a.device, quick=a.quick, out=a.out, threads=a.threads, name=a.name)

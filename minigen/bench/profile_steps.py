"""Where does a minigen training step spend its time that the hand-written step does not?

    python -m minigen.bench.profile_steps [mlp cnn gpt_block gan] [--steps 20] [--top 20]

Runs cProfile over ``--steps`` training steps (after a warm-up) of minigen and of the
hand-written NumPy baseline, and prints for each:
  - the top functions by own time (tottime), in ms per step;
  - a split of the step: time in array math (the primitives' forward methods, the
    optimizer's update, NumPy calls: what the baseline pays too) vs everything else
    (minigen's engine: Function.apply, the graph walk, backward methods building their
    gradient expressions, Tensor wrappers, module calls), per step.
cProfile adds a fixed cost to every Python call, so Python-heavy code looks slower under
it than it is: read the split as "where", and the benchmark's medians as "how much".
"""
import argparse
import cProfile
import pstats
from pathlib import Path

from minigen.bench import specs
from minigen.bench.minigen_steps import minigen_step
from minigen.bench.numpy_steps import NumpyStep

ROOT = Path(__file__).resolve().parents[2]   # the folder holding minigen/: paths print as minigen/...


def _enclosing_class(filename, line):
    """The class a method at ``line`` of ``filename`` belongs to ('' at module level)."""
    try:
        source = Path(filename).read_text().splitlines()[:line]
    except OSError:
        return ""
    for text in reversed(source[:-1]):
        if text.startswith("class "):
            return text[6:].split("(")[0].split(":")[0]
        if text.startswith("def "):
            return ""
    return ""


def _where(func):
    """A short name for a pstats function key (file, line, name): 'minigen/ops/linalg.py MatMul.forward'."""
    filename, line, name = func
    if filename == "~":
        return name                                         # a built-in: {method 'dot' of ...}
    path = Path(filename)
    try:
        path = path.resolve().relative_to(ROOT)
    except ValueError:
        path = Path(path.name)
    owner = _enclosing_class(filename, line)
    return f"{path}:{line} {owner + '.' if owner else ''}{name}"


def _is_array_math(func):
    """Code that is (almost) only arithmetic on arrays: NumPy/CuPy compiled functions, the
    forward of minigen's primitives (ops/), and the optimizer's in-place update. NumPy's
    operators (a @ b, a + b) are not separate calls to cProfile: their time is the own time
    of the Python function that uses them, which is why those functions count here."""
    filename, _, name = func
    if filename == "~":
        return "numpy" in name or "cupy" in name or "ufunc" in name
    path = filename.replace("\\", "/")
    return ("/minigen/ops/" in path and name == "forward") or ("/minigen/optim.py" in path and name == "_update") \
        or "/minigen/bench/baselines/" in path


def profile(step, steps):
    for _ in range(3):
        step.step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step.step()
    prof.disable()
    return pstats.Stats(prof)


def summary(stats, steps, top):
    total = stats.total_tt / steps * 1e3
    math = sum(tt for func, (_, _, tt, _, _) in stats.stats.items() if _is_array_math(func)) / steps * 1e3
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    lines = [f"  total {total:.2f} ms/step under cProfile: array math {math:.2f} ms "
             f"(primitives' forward, optimizer update, NumPy calls), everything else {total - math:.2f} ms",
             f"  {'ms/step':>8} {'calls/step':>10}  function (by own time)"]
    for func, (cc, nc, tt, ct, _) in rows:
        lines.append(f"  {tt / steps * 1e3:8.3f} {nc / steps:10.1f}  {_where(func)}")
    return "\n".join(lines)


def main(names=None, steps=20, top=20):
    for name in names or specs.available():
        spec = specs.STEPS[name]()
        for label, step in (("minigen", minigen_step(spec)), ("hand-written NumPy", NumpyStep(spec))):
            print(f"== {name}: {label} ==")
            print(summary(profile(step, steps), steps, top))
            print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"steps to profile (default: all of {specs.available()})")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--top", type=int, default=20)
    a = parser.parse_args()
    main(a.names or None, a.steps, a.top)

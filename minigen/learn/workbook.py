"""The workbook: `minigen learn start`, `list` and `check`.

start DIR      writes DIR/<name>.py for every exercise (a stub: the signature, the math, where to
               read about it) and DIR/README.md; a file already there is kept, never overwritten.
list [DIR]     the exercises in teaching order, and how far each file in DIR has got.
check DIR ...  checks each exercise in a process of its own, with a time limit: a learner's file
               that loops forever, exits or crashes the interpreter fails alone, and nothing it
               does (patching minigen, say) reaches the checks of the others. The processes
               write no bytecode, and the learner's files are only read.
"""
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

from minigen.learn.checking import Failure, Learner, Unfinished, Unusable
from minigen.learn.exercises import BY_NAME, EXERCISES

TIME_LIMIT = 20.0        # seconds per exercise: the slowest correct answer takes about 3


# ----- start -----
def stub_text(exercise, directory):
    """The file `start` writes: a header (which exercise, what to write, where to read, how to
    check), then the stub (minigen/learn/stubs/<name>.py)."""
    number = EXERCISES.index(exercise) + 1
    lines = [f'"""Exercise {number} of {len(EXERCISES)}: {exercise.name}', ""]
    for label, text in (("Write:", exercise.summary), ("Read:", exercise.read),
                        ("Check:", f"minigen learn check {directory} {exercise.name}")):
        lines += textwrap.wrap(text, 96, initial_indent=f"{label:7}", subsequent_indent=" " * 7,
                               break_on_hyphens=False)
    lines += ['"""', ""]
    return "\n".join(lines) + resources.files("minigen.learn.stubs").joinpath(f"{exercise.name}.py").read_text()


def readme_text(directory):
    """DIR/README.md: the order of the exercises and the commands."""
    rows = "\n".join(f"| {k} | `{e.name}.py` | {e.summary} | {e.read} |" for k, e in enumerate(EXERCISES, 1))
    return f"""# A minigen workbook

Each file here is an exercise: a function of minigen to write yourself, with its signature, the
math it must compute and where to read about it. Do them in this order (the tutorials' order):

| # | file | what you write | read first |
| --- | --- | --- | --- |
{rows}

Check your answers (all of them, or the ones you name):

    minigen learn check {directory}
    minigen learn check {directory} sigmoid sum_to

Each exercise is checked against minigen's own code on inputs drawn by hypothesis: ordinary ones,
broadcast shapes and extreme values, and its gradients to second order where it is
differentiated through. A failure shows the first input that goes wrong, shrunk to a small one,
with the value expected and the value your code gave. Once an exercise passes, the check names
the file and function of minigen to compare your answer with.

Then train a model with your own code:

    minigen learn run {directory} vae             # your KL and reparameterisation train a VAE
    minigen learn run {directory} gan             # your losses train a GAN
    minigen learn run {directory} autoregressive  # your attention trains a transformer on names
    minigen learn run {directory} diffusion       # your noising and DDIM step make the samples

Each prints the family's usual metric for your run and for minigen's, side by side.
"""


def start(directory):
    """Write the workbook into ``directory``; returns (written, kept): the files written, and
    those left as they were because they were already there."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"{directory}: exists and is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    files = [(f"{e.name}.py", stub_text(e, directory)) for e in EXERCISES] + [("README.md", readme_text(directory))]
    for name, text in files:
        path = directory / name
        if path.exists():
            kept.append(path)
        else:
            path.write_text(text)
            written.append(path)
    return written, kept


# ----- list -----
def progress(exercise, directory):
    """How far DIR/<name>.py has got, read from the file alone (running it is `check`'s job):
    "missing", "not started" (every stub body is still there) or "started"."""
    path = Path(directory) / f"{exercise.name}.py"
    if not path.is_file():
        return "missing"
    stub = resources.files("minigen.learn.stubs").joinpath(f"{exercise.name}.py").read_text()
    todo = [line.strip() for line in stub.splitlines() if line.strip().startswith("raise NotImplementedError")]
    text = path.read_text()
    return "not started" if all(line in text for line in todo) else "started"


# ----- check -----
def check_file(exercise, path):
    """Check one exercise in this process: {"name", "status" (passed, failed, not started),
    "message" (the first failure, or minigen's code to compare with), "usable" (whether the file's
    functions can be called at all: `learn run` uses them, passing or not)}."""
    result = {"name": exercise.name}
    if not Path(path).is_file():
        return {**result, "status": "failed", "usable": False,
                "message": f"{path}: no such file (`minigen learn start` writes it)"}
    learner = None
    try:
        learner = Learner(path)
        exercise.check(learner)
    except Unfinished as exc:
        started = learner is not None and learner.returned > 0
        return {**result, "status": "failed" if started else "not started", "usable": False, "message": str(exc)}
    except Failure as exc:
        return {**result, "status": "failed", "usable": not isinstance(exc, Unusable), "message": str(exc)}
    return {**result, "status": "passed", "usable": True,
            "message": f"compare with minigen's own: {exercise.compare_with}"}


def check_in_subprocess(name, path, time_limit=TIME_LIMIT):
    """Check one exercise in a fresh Python (no bytecode written), stopped after ``time_limit`` s."""
    command = [sys.executable, "-B", "-m", "minigen.learn.worker", name, str(path)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=time_limit, env=env)
    except subprocess.TimeoutExpired:
        return {"name": name, "status": "failed", "usable": False,
                "message": f"stopped after {time_limit:g} s: does it loop forever, wait for input, or take "
                           f"seconds a call?"}
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        last = (done.stderr.strip().splitlines() or ["(nothing)"])[-1]
        return {"name": name, "status": "failed", "usable": False,
                "message": f"the check stopped without an answer (exit code {done.returncode}): {last}"}


def check(directory, names=(), time_limit=TIME_LIMIT, jobs=None):
    """Check the exercises ``names`` (all when empty) in ``directory``, each in its own process,
    ``jobs`` at a time (default: one per CPU core); yields the results in teaching order."""
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown exercise(s) {', '.join(unknown)}; the exercises are {', '.join(BY_NAME)}")
    if not Path(directory).is_dir():
        raise ValueError(f"{directory}: no such folder (`minigen learn start {directory}` makes it)")
    chosen = [e for e in EXERCISES if not names or e.name in names]
    jobs = jobs or min(len(chosen), os.cpu_count() or 1)
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(check_in_subprocess, e.name, Path(directory) / f"{e.name}.py", time_limit)
                   for e in chosen]
        for future in futures:
            yield future.result()


def report_line(result):
    """One line of `minigen learn check`'s report."""
    number = EXERCISES.index(BY_NAME[result["name"]]) + 1
    status = {"passed": "passed", "failed": "FAILED", "not started": "not started"}[result["status"]]
    return f"{number:2}  {result['name']:20} {status:12} {result['message']}"

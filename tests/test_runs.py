"""Run folders (minigen/runs.py): Ctrl-C saves the work as a partial run, `train --resume`
continues it to the uninterrupted run's checkpoint, byte for byte."""
import os
import re
import signal
import subprocess
import sys
import threading

import pytest

from minigen.models import make
from minigen.runs import open_run


def _minigen(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "minigen", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kw)


def _interrupt_once_training(process, timeout=120):
    """Send Ctrl-C (SIGINT) once the progress bar shows steps done (the bar reads 0/N before the
    first step: a signal then, on a loaded machine, stops the run before any step)."""
    seen = bytearray()
    started = threading.Event()

    def read():
        for chunk in iter(lambda: process.stderr.read1(256), b""):
            seen.extend(chunk)
            if re.search(rb"\b[1-9][0-9]*/[0-9]+ \[", bytes(seen)):
                started.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert started.wait(timeout), f"training never started: {bytes(seen)!r}"
    process.send_signal(signal.SIGINT)
    out = process.stdout.read()
    process.wait(timeout)
    reader.join(timeout)
    return out.decode(), bytes(seen).decode(errors="replace")


@pytest.mark.slow
def test_ctrl_c_saves_a_partial_run_that_resumes_to_the_uninterrupted_checkpoint_bit_for_bit(tmp_path):
    run = tmp_path / "run"
    flags = ["train", "diffusion", "--data", "8gaussians", "--steps", "2500", "--seed", "3", "--out", str(run)]
    whole = _minigen(*flags, "--quiet")
    assert whole.wait(300) == 0, whole.stderr.read().decode()
    reference = (run / "checkpoint.npz").read_bytes()
    run.rename(tmp_path / "reference")

    stopped = _minigen(*flags)
    out, err = _interrupt_once_training(stopped)
    assert stopped.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert f"saved in {run} (partial)" in err
    partial = open_run(run)
    assert partial.partial and 0 < partial.step_count < 2500
    assert '"partial": true' in out                            # the metrics of the partial run

    sampled = subprocess.run([sys.executable, "-m", "minigen", "sample", str(run), "--n", "5",
                              "--out", str(tmp_path / "s.npy")], capture_output=True, text=True)
    assert sampled.returncode == 0 and "a partial run (stopped at step" in sampled.stderr

    resumed = _minigen("train", "--resume", str(run), "--quiet")
    assert resumed.wait(300) == 0, resumed.stderr.read().decode()
    assert (run / "checkpoint.npz").read_bytes() == reference
    assert not open_run(run).partial


def test_resume_refuses_flags_that_belong_to_the_run_folder(tmp_path, capsys):
    from minigen.cli import main
    with pytest.raises(SystemExit) as stop:
        main(["train", "--resume", str(tmp_path), "--steps", "5"])
    assert stop.value.code == 2
    assert "takes its settings from the run folder; drop --steps" in capsys.readouterr().err


def test_resume_refuses_a_run_that_is_complete(tmp_path, capsys):
    from minigen.cli import main
    from minigen.models.loop import train
    from minigen.runs import write_run
    family = make("classifier", "digits", steps=2)
    write_run(family, *train(family, quiet=True), tmp_path / "done")
    with pytest.raises(SystemExit) as stop:
        main(["train", "--resume", str(tmp_path / "done")])
    assert stop.value.code == 2
    assert "this run is complete (2 steps); there is nothing to resume" in capsys.readouterr().err

"""The loop every family shares (minigen/models/loop.py), the one-call constructor, and run
folders (minigen/runs.py): settings resolved once, labels drawn fairly, Ctrl-C saving the work."""
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from minigen.data import get_dataset
from minigen.models import make
from minigen.models.loop import Config, Family
from minigen.runs import open_run


def test_a_conditional_run_draws_every_class_equally_or_the_one_asked_for():
    family = Family.__new__(Family)
    family.train_data, family.config = get_dataset("digits", "train"), Config(family="gan", data="digits")
    assert family.sample_labels(23) == [k % 10 for k in range(23)]
    assert family.sample_labels(3, label=np.int64(7)) == [7, 7, 7]
    for bad in (10, -1, 2.5, "3", True):
        with pytest.raises(ValueError, match="--label: must be a class of digits, an integer from 0 to 9"):
            family.sample_labels(3, label=bad)


def test_settings_are_resolved_once_from_the_recipe_without_touching_the_callers_config():
    from minigen.models.vae import VAE
    given = Config(family="vae", data="digits-binary", conditional=True, extra={"z_dim": 4})
    resolved = VAE.resolve(given)
    assert given.steps is None and given.model is None and given.extra == {"z_dim": 4}
    assert resolved.model == "mlp" and resolved.loss == "elbo"
    assert resolved.steps == VAE.CONDITIONAL_RECIPES["mlp"]["steps"] != VAE.RECIPES["mlp"]["steps"]
    assert resolved.extra["z_dim"] == 4 and "steps" not in resolved.extra
    assert VAE.resolve(Config(family="vae", data="digits-binary", steps=7)).steps == 7
    # make(device="cuda") runs on "cuda:0", as --device cuda does (backend.generator needs the ordinal)
    assert VAE.resolve(Config(family="vae", data="digits-binary", device="cuda")).device == "cuda:0"


def test_make_takes_flags_and_recipe_settings_by_keyword():
    vae = make("vae", "digits-binary", steps=3, seed=1, z_dim=4)
    assert (vae.config.steps, vae.config.seed, vae.settings["z_dim"]) == (3, 1, 4)
    assert vae.config.extra is vae.settings                 # config.json records every setting
    with pytest.raises(ValueError, match="gan: unknown --model 'nope'; choose from"):
        make("gan", "digits", model="nope")
    with pytest.raises(ValueError, match="classifier: cannot train on --data 'names'"):
        make("classifier", "names")
    with pytest.raises(ValueError, match="--conditional needs labelled data"):
        make("diffusion", "8gaussians", conditional=True)
    with pytest.raises(ValueError, match="unknown family 'gam'"):
        make("gam", "digits")
    with pytest.raises(ValueError, match=r"vae \(mlp\): unknown setting\(s\) \['warmup'\]; its settings are .*'kl_warmup'"):
        make("vae", "digits-binary", warmup=0.2)               # a misspelt or retired setting is no silent no-op


def test_sampling_options_a_run_does_not_take_are_refused_by_name():
    gan = make("gan", "8gaussians", steps=1)
    with pytest.raises(NotImplementedError, match="--temperature: is for autoregressive runs"):
        gan.sample(4, 0, temperature=0.5)
    with pytest.raises(NotImplementedError, match="--label: this gan run is not conditional"):
        gan.sample(4, 0, label=3)


def _minigen(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "minigen", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kw)


def _interrupt_once_training(process, timeout=120):
    """Send Ctrl-C (SIGINT) once the progress bar shows that training has begun."""
    seen = bytearray()
    started = threading.Event()

    def read():
        for chunk in iter(lambda: process.stderr.read1(256), b""):
            seen.extend(chunk)
            if b"step" in seen:
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

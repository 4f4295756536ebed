"""The `minigen` command line of DESIGN.md, as a user meets it.

Most cases call ``minigen.cli.main([...])`` in this process (fast: no interpreter start-up), where
a clean usage error is a ``SystemExit(2)`` and anything else (a traceback) is an exception that
fails the test. A few run the real console entry in a subprocess, to check what a user sees:
stdout, stderr and the exit status.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigen as mg
from minigen.cli import main

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RUN_FILES = ("checkpoint.npz", "config.json", "metrics.json", "losses.png", "samples.png")
TRAIN = ["train", "classifier", "--data", "digits", "--model", "mlp", "--steps", "30", "--quiet"]


def run_cli(*args, timeout=300):
    """``python -m minigen ARGS`` in a fresh process: (returncode, stdout, stderr)."""
    env = dict(os.environ, MPLBACKEND="Agg")   # the thread settings a user has, unchanged
    result = subprocess.run([sys.executable, "-m", "minigen", *map(str, args)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def usage_error(argv, capsys):
    """Run main(argv), expecting a clean exit with code 2; returns (stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    assert exit_info.value.code == 2, f"exit code {exit_info.value.code}, expected 2"
    return capsys.readouterr()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One 30-step MLP run through the console entry point, shared by the read-only tests."""
    out = tmp_path_factory.mktemp("cli") / "run"
    code, stdout, stderr = run_cli(*TRAIN, "--out", out)
    assert code == 0, stderr
    return out, stdout, stderr


# ----- train and eval -----

def test_train_writes_the_run_folder_and_prints_one_json_line(trained_run):
    out, stdout, stderr = trained_run
    for name in RUN_FILES:
        assert (out / name).is_file(), f"{name} missing from the run folder"
    for name in ("losses.png", "samples.png"):
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE, f"{name} is not a PNG"
    lines = stdout.splitlines()
    assert len(lines) == 1, f"--quiet train should print exactly one line, got {lines}"
    printed = json.loads(lines[0])
    assert 0.0 <= printed["accuracy"] <= 1.0 and printed["steps"] == 30
    assert printed == json.loads((out / "metrics.json").read_text())
    assert "Traceback" not in stderr


def test_run_folder_records_config_and_a_loadable_checkpoint(trained_run):
    out, _, _ = trained_run
    config = json.loads((out / "config.json").read_text())
    assert {k: config[k] for k in ("family", "data", "model", "steps", "seed", "device")} == {
        "family": "classifier", "data": "digits", "model": "mlp", "steps": 30, "seed": 0, "device": "cpu"}
    assert config["batch_size"] and config["lr"], "defaults must be filled in and recorded"
    with np.load(out / "checkpoint.npz", allow_pickle=False) as npz:  # never a pickle
        assert len(npz.files) > 0
    stored = mg.load(out / "checkpoint.npz")
    assert stored["config"] == config
    assert stored["state"]["step"] == 30


def test_eval_prints_the_test_metrics_and_updates_metrics_json(trained_run, capsys):
    out, stdout, _ = trained_run
    trained = json.loads(stdout)
    path = out / "metrics.json"
    path.write_text(json.dumps({"accuracy": -1.0, "train_seconds": 123.0, "steps": 30}))
    assert main(["eval", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    printed = json.loads(lines[0])
    assert isinstance(printed, dict)
    # the reloaded checkpoint gives the numbers the trainer had when it finished
    assert printed["accuracy"] == trained["accuracy"] and printed["nll_nats"] == trained["nll_nats"]
    on_disk = json.loads(path.read_text())
    assert on_disk["accuracy"] == trained["accuracy"], "eval must rewrite metrics.json"
    assert on_disk["train_seconds"] == 123.0, "eval keeps what it does not recompute"


def test_eval_through_the_console_prints_one_json_object(trained_run):
    out, stdout, _ = trained_run
    code, eval_out, stderr = run_cli("eval", out)
    assert code == 0, stderr
    assert json.loads(eval_out)["accuracy"] == json.loads(stdout)["accuracy"]


def _flatten(tree, prefix=""):
    """{'a': {'b': array}} -> {'a/b': array} (numbers and arrays alike)."""
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _flatten(sub, f"{prefix}{key}/").items()}
    return {prefix.rstrip("/"): tree}


def _metrics_and_state(out):
    metrics = json.loads((out / "metrics.json").read_text())
    metrics.pop("train_seconds")
    return metrics, _flatten(mg.load(out / "checkpoint.npz")["state"])


def test_the_same_seed_gives_identical_numbers(tmp_path, capsys):
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert main([*TRAIN, "--seed", str(seed), "--out", str(tmp_path / name)]) == 0
        runs[name] = _metrics_and_state(tmp_path / name)
    capsys.readouterr()
    (metrics_a, state_a), (metrics_b, state_b), (_, state_c) = runs["a"], runs["b"], runs["c"]
    assert metrics_a == metrics_b
    assert state_a.keys() == state_b.keys()
    for key in state_a:  # weights, optimizer moments, step, RNG state: bit for bit
        np.testing.assert_array_equal(np.asarray(state_a[key]), np.asarray(state_b[key]), err_msg=key)
    # and the seed is not ignored: another seed gives other weights
    weights = [k for k in state_a if k.startswith("modules/")]
    assert weights and any(not np.array_equal(state_a[k], state_c[k]) for k in weights)


# ----- an existing run is never replaced by accident -----

def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


def test_a_second_train_into_a_run_folder_is_refused_and_leaves_it_byte_for_byte(trained_run, capsys):
    out, _, _ = trained_run
    before = _snapshot(out)
    with pytest.raises(SystemExit) as exit_info:
        main([*TRAIN, "--seed", "5", "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert str(out) in err and "--overwrite" in err and "already holds a run" in err
    assert _snapshot(out) == before


def test_overwrite_replaces_the_run_on_purpose(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TRAIN, "--seed", "1", "--out", str(out)]) == 0
    first = _snapshot(out)
    assert main([*TRAIN, "--seed", "2", "--out", str(out), "--overwrite"]) == 0
    capsys.readouterr()
    second = _snapshot(out)
    assert second.keys() == first.keys()
    assert json.loads(second["config.json"])["seed"] == 2
    assert second["checkpoint.npz"] != first["checkpoint.npz"]


def test_an_out_path_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    captured = usage_error([*TRAIN, "--out", target], capsys)
    assert "not a folder" in captured.err and target.read_text() == "keep me"


# ----- BLAS threads: one by default whatever the import order; the user's setting wins -----

THREADS_PROBE = """
import {first}, {second}
from threadpoolctl import threadpool_info
print(sorted({{p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}}))
"""


@pytest.mark.parametrize("first, second", [("numpy", "minigen"), ("minigen", "numpy")])
def test_minigen_uses_one_blas_thread_whatever_the_import_order(first, second):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                             "MKL_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", THREADS_PROBE.format(first=first, second=second)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[1]"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to tell 2 threads from 1")
def test_an_explicit_thread_setting_wins_and_set_num_threads_chooses():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2")
    probe = THREADS_PROBE.format(first="numpy", second="minigen")
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[2]"
    chosen = probe.replace("from threadpoolctl", "minigen.set_num_threads(1)\nfrom threadpoolctl")
    result = subprocess.run([sys.executable, "-c", chosen], env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[1]", result.stderr


def test_set_num_threads_refuses_zero():
    with pytest.raises(ValueError, match="set_num_threads.*0"):
        mg.set_num_threads(0)


# ----- usage errors: a message, exit code 2, no traceback, nothing written -----

BAD_TRAIN = {
    "unknown family": (["train", "painter", "--data", "digits"], "painter"),
    "unknown dataset": (["train", "classifier", "--data", "cifar"], "cifar"),
    "unknown model": (["train", "classifier", "--data", "digits", "--model", "resnet"], "resnet"),
    "data the family cannot use": (["train", "classifier", "--data", "names"], "names"),
    "missing idx files": (["train", "classifier", "--data", "idx:/no/such/mnist"], "/no/such/mnist"),
    "a loss the family lacks": (["train", "classifier", "--data", "digits", "--loss", "hinge"], "loss"),
    "negative steps": (["train", "classifier", "--data", "digits", "--steps", "-5"], "--steps"),
    "zero batch size": (["train", "classifier", "--data", "digits", "--batch-size", "0"], "--batch-size"),
    "batch larger than the data": (["train", "classifier", "--data", "digits", "--batch-size", "5000"],
                                   "--batch-size"),
    "unknown device": (["train", "classifier", "--data", "digits", "--device", "tpu"], "tpu"),
}


@pytest.mark.parametrize("case", list(BAD_TRAIN))
def test_bad_train_arguments_give_a_usage_error(case, tmp_path, capsys):
    argv, mentioned = BAD_TRAIN[case]
    out = tmp_path / "run"
    captured = usage_error([*argv, "--out", out, "--quiet"], capsys)
    assert "usage: minigen" in captured.err
    assert mentioned in captured.err, f"the message should name {mentioned!r}:\n{captured.err}"
    assert "Traceback" not in captured.err and captured.out == ""
    assert not out.exists(), "a failed train must not leave a half-written run folder"


def test_usage_errors_through_the_console(tmp_path):
    for argv, mentioned in (BAD_TRAIN["unknown dataset"], BAD_TRAIN["data the family cannot use"]):
        code, stdout, stderr = run_cli(*argv, "--out", tmp_path / "run")
        assert code == 2, stderr
        assert "usage: minigen" in stderr and mentioned in stderr
        assert "Traceback" not in stderr and stdout == ""
    assert not (tmp_path / "run").exists()


def test_cuda_without_a_gpu_is_one_line(tmp_path):
    if mg.cuda_available():
        pytest.skip("this machine has a GPU")
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(*TRAIN, "--device", "cuda", "--out", out)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    assert "cuda" in lines[0] and "GPU" in lines[0]
    assert stdout == "" and not out.exists()


def test_eval_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    captured = usage_error(["eval", tmp_path], capsys)
    assert "checkpoint.npz" in captured.err and "Traceback" not in captured.err


def test_eval_of_a_damaged_checkpoint(trained_run, tmp_path, capsys):
    out, _, _ = trained_run
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    data = (out / "checkpoint.npz").read_bytes()
    (damaged / "checkpoint.npz").write_bytes(data[:len(data) // 2])
    captured = usage_error(["eval", damaged], capsys)
    assert "checkpoint.npz" in captured.err and "truncated" in captured.err


def test_sample_from_a_classifier_is_a_clear_error(trained_run, tmp_path, capsys):
    out, _, _ = trained_run
    target = tmp_path / "samples.npy"
    captured = usage_error(["sample", out, "--out", target], capsys)
    assert "classifier" in captured.err and "sample" in captured.err
    assert not target.exists()


def test_python_dash_m_minigen_help():
    code, stdout, stderr = run_cli("--help")
    assert code == 0, stderr
    for command in ("train", "sample", "eval", "tour"):
        assert command in stdout


# ----- the tour -----

@pytest.mark.slow
def test_tour_quick_writes_gallery_and_table(tmp_path):
    out = tmp_path / "tour"
    code, stdout, stderr = run_cli("tour", "--quick", "--quiet", "--out", out)
    assert code == 0, stderr
    assert (out / "gallery.png").read_bytes()[:8] == PNG_SIGNATURE
    table = (out / "tour.md").read_text()
    assert "| classifier | digits | mlp |" in table
    assert "| generative classifier |" in table
    stops, families = table.split("## The four families on the digits")
    rows = [line for line in stops.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) >= 3
    for row in rows:  # every stop reports a finite number for its metric
        value = row.split("|")[6].strip()
        assert np.isfinite(float(value)), row
    side = [line.split("|")[1:-1] for line in families.splitlines() if line.startswith("| ") and "---" not in line]
    header, side = [c.strip() for c in side[0]], [[c.strip() for c in row] for row in side[1:]]
    assert {row[0] for row in side} == {"gan", "vae", "autoregressive", "diffusion"}
    for row in side:   # every generative family on the digits, judged on its samples, timed
        cell = dict(zip(header, row))
        assert float(cell["Fréchet (floor)"].split()[0]) > 0 and float(cell["s / 1,000 samples"]) >= 0
        assert (cell["label accuracy"] != "-") == (cell["conditional"] == "yes"), row


# ----- --conditional: checked before any training -----

@pytest.mark.parametrize("argv, mentioned", [
    (["train", "gan", "--data", "8gaussians", "--conditional"], "labelled data"),
    (["train", "autoregressive", "--data", "names", "--conditional"], "labelled data"),
])
def test_conditional_on_unlabelled_data_is_a_usage_error(argv, mentioned, tmp_path, capsys):
    captured = usage_error([*argv, "--out", tmp_path / "run", "--quiet"], capsys)
    assert mentioned in captured.err and "--conditional" in captured.err
    assert not (tmp_path / "run").exists()


def test_conditional_on_an_idx_images_file_without_labels_is_refused(tmp_path):
    from minigen.data import write_idx
    from minigen.models import make
    write_idx(tmp_path / "toy-images-idx3-ubyte", np.zeros((8, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="--conditional needs labels.*has none"):
        make("gan", f"idx:{tmp_path / 'toy-images-idx3-ubyte'}", model="dcgan", conditional=True)


def test_conditional_for_a_family_without_it_is_a_usage_error(tmp_path, capsys):
    captured = usage_error(["train", "classifier", "--data", "digits", "--conditional", "--out", tmp_path / "r"],
                           capsys)
    assert "--conditional is not available" in captured.err and not (tmp_path / "r").exists()


def test_sample_refuses_an_out_file_that_does_not_fit_what_the_run_makes(tmp_path, capsys):
    out = tmp_path / "gan"
    assert main(["train", "gan", "--data", "8gaussians", "--steps", "2", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    for name in ("points.txt", "points.csv"):
        captured = usage_error(["sample", out, "--n", "3", "--out", tmp_path / name], capsys)
        assert "this run makes arrays" in captured.err and ".npy" in captured.err
        assert not (tmp_path / name).exists()


# ----- a conditional run, as a user runs it: train --conditional, sample --label, eval -----

@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("conditional") / "gan"
    assert main(["train", "gan", "--data", "digits", "--conditional", "--steps", "20", "--quiet", "--out", str(out)]) \
        in (0, None)
    return out


def test_sample_label_k_draws_that_class_and_eval_reports_label_accuracy(conditional_run, tmp_path, capsys):
    main(["sample", str(conditional_run), "--n", "12", "--label", "3", "--out", str(tmp_path / "threes.npy")])
    threes = np.load(tmp_path / "threes.npy", allow_pickle=False)
    assert threes.shape == (12, 1, 8, 8) and threes.dtype == np.float32 and 0 <= threes.min() <= threes.max() <= 1
    capsys.readouterr()
    main(["eval", str(conditional_run)])
    metrics = json.loads(capsys.readouterr().out)
    assert 0 <= metrics["label_accuracy"] <= 1 and len(metrics["per_label_accuracy"]) == 10


@pytest.mark.parametrize("label", ["10", "-1"])
def test_a_label_out_of_range_is_a_usage_error_naming_the_range(conditional_run, label, tmp_path, capsys):
    captured = usage_error(["sample", conditional_run, "--n", "4", "--label", label, "--out", tmp_path / "x.npy"],
                           capsys)
    assert "--label" in captured.err and "0 to 9" in captured.err and not (tmp_path / "x.npy").exists()


def test_a_label_for_an_unconditional_run_is_a_usage_error(tmp_path, capsys):
    main(["train", "gan", "--data", "digits", "--steps", "5", "--quiet", "--out", str(tmp_path / "gan")])
    captured = usage_error(["sample", tmp_path / "gan", "--n", "4", "--label", "3", "--out", tmp_path / "x.npy"],
                           capsys)
    assert "--label" in captured.err and "not conditional" in captured.err

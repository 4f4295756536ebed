"""Run folders: what `minigen train` writes, and how `eval`, `sample` and `--resume` open it.

    DIR/config.json      every setting of the run (defaults filled in)
    DIR/checkpoint.npz   networks, optimizers, average, step and RNG state (mg.save: no pickle)
    DIR/history.json     the losses of every step so far (what losses.png draws)
    DIR/metrics.json     test-split metrics (written by train and by eval)
    DIR/losses.png       the loss curves
    DIR/samples.png      what the model makes (or, for the classifier, what it predicts)

A run stopped by Ctrl-C is written as it stands, marked partial (with the step it reached):
``resume`` trains it on to its steps and ends with the checkpoint an uninterrupted run has.
"""
import json
from pathlib import Path

from minigen.checkpoint import load, save
from minigen.models import build
from minigen.models.loop import Config, train
from minigen.viz import save_loss_curves

RUN_FILES = ("checkpoint.npz", "config.json", "history.json", "metrics.json", "losses.png", "samples.png")


def write_run(family, history, seconds, out):
    """Write the run folder of ``family`` as it stands; returns its metrics. A run stopped
    before its steps is marked partial: its checkpoint says so, and so do its metrics."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = family.config
    partial = family.step_count < config.steps
    (out / "config.json").write_text(config.to_json())
    stored = {"config": json.loads(config.to_json()), "state": family.state_dict()}
    if partial:
        stored["partial"] = True
    save(stored, out / "checkpoint.npz")
    (out / "history.json").write_text(json.dumps(history))
    metrics = {**family.evaluate(), **status(family, partial), "train_seconds": round(seconds, 2)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if history:
        save_loss_curves(history, out / "losses.png", title=f"{config.family} on {config.data}")
    family.figure().savefig(out / "samples.png", dpi=100, bbox_inches="tight")
    return metrics


def status(family, partial):
    """The metrics' word on how far the run got."""
    if partial:
        return {"steps": family.step_count, "partial": True, "planned_steps": family.config.steps}
    return {"steps": family.step_count}


def open_run(path, device=None):
    """The family of a run folder, rebuilt from its checkpoint (optionally on another device),
    in eval mode. ``.partial`` says whether the run was stopped before its steps."""
    path = Path(path)
    if not (path / "checkpoint.npz").exists():
        raise FileNotFoundError(f"{path}: no checkpoint.npz here; is this a `minigen train` --out folder?")
    stored = load(path / "checkpoint.npz")
    config = Config(**stored["config"])
    if device is not None:
        config.device = device
    family = build(config)
    family.load_state_dict(stored["state"])
    family.eval_mode()
    family.partial = bool(stored.get("partial", False))
    return family


def resume(path, quiet=False):
    """Train the run in ``path`` on from the step it reached to its configured steps, and write
    it again; returns (family, metrics). The loader replays the epochs by seed and the
    checkpoint holds the RNG state, so the result is the uninterrupted run's, bit for bit."""
    family = open_run(path)
    if not family.partial:
        raise ValueError(f"{path}: this run is complete ({family.step_count} steps); there is nothing to resume")
    history_file = Path(path) / "history.json"
    history = json.loads(history_file.read_text()) if history_file.exists() else {}
    history, seconds = train(family, quiet=quiet, history=history)
    return family, write_run(family, history, seconds, path)

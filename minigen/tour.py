"""`minigen tour`: every family briefly, through the same code path as `minigen train`,
then one gallery (gallery.png) and one table (tour.md) in the out folder.

Each family says what it shows in the tour: its Trainer's ``TOUR``, a list of
``TourStop``s, visited in the order of minigen.models.FAMILIES. A stop's picture in the
gallery is the run's samples.png (whatever the family draws there: samples, a latent walk,
a reverse trajectory...)."""
import json
import time
from pathlib import Path

import matplotlib.image as mpimg

from minigen.models import FAMILIES, trainer_class
from minigen.runs import Config, build, fill_defaults, train, write_run
from minigen.viz import figure, save_image_grid


def stops():
    """Every family's tour stops, in FAMILIES order: (family, TourStop) pairs."""
    return [(family, stop) for family in FAMILIES for stop in trainer_class(family).TOUR]


def _generative_classifier(out):
    """Tutorial 00's model: p(x | y) by counting, used to classify and to draw digits."""
    from minigen.data import load_digits
    from minigen.models.classifier import BernoulliBayes

    start = time.perf_counter()
    train_x, train_y = load_digits("train", binary=True)
    test_x, test_y = load_digits("test", binary=True)
    model = BernoulliBayes().fit(train_x, train_y)
    accuracy = float((model.predict(test_x) == test_y).mean())
    folder = out / "bernoulli-bayes-digits"
    folder.mkdir(parents=True, exist_ok=True)
    labels = [k % 10 for k in range(40)]
    save_image_grid(model.sample(labels, seed=0), folder / "samples.png", nrow=10,
                    title="p(x | y) by counting: drawn digits 0-9")
    metrics = {"accuracy": accuracy, "train_seconds": round(time.perf_counter() - start, 2)}
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return {"family": "generative classifier", "data": "digits-binary", "model": "bernoulli-bayes",
            "steps": 1, "metric": "accuracy", "value": accuracy, "seconds": metrics["train_seconds"],
            "figure": folder / "samples.png"}


def run_tour(device="cpu", quick=False, out="tour", quiet=False):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for family, stop in stops():
        config = Config(family=family, data=stop.data, model=stop.model, loss=stop.loss,
                        steps=stop.quick_steps if quick else stop.steps, device=device, seed=0,
                        conditional=stop.conditional, extra=dict(stop.extra),
                        out=str(out / f"{family}-{stop.model}-{stop.data}{'-conditional' * stop.conditional}"))
        trainer = build(fill_defaults(config, trainer_class(family)))
        history, seconds = train(trainer, quiet=quiet)
        metrics = write_run(trainer, history, seconds, config.out)
        model = stop.model if stop.loss is None else f"{stop.model} ({stop.loss})"
        rows.append({"family": family, "data": stop.data, "model": model, "steps": config.steps,
                     "metric": stop.metric, "value": metrics.get(stop.metric),
                     "seconds": round(seconds, 1), "figure": Path(config.out) / "samples.png"})
        if not quiet:
            print(f"{family:>14} {model:<24} on {stop.data:<13} {stop.metric} = "
                  f"{metrics.get(stop.metric)}  ({seconds:.1f} s)")
    rows.insert(1, _generative_classifier(out))
    _write_table(rows, out / "tour.md", device, quick)
    _write_gallery(rows, out / "gallery.png")
    if not quiet:
        print((out / "tour.md").read_text())
        print(f"gallery: {out / 'gallery.png'}")
    return rows


def _write_table(rows, path, device, quick):
    lines = [f"# minigen tour ({'quick' if quick else 'full'}, device {device})", "",
             "| family | data | model | steps | metric | value | seconds |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        value = r["value"]
        value = f"{value:.4f}" if isinstance(value, float) else value
        lines.append(f"| {r['family']} | {r['data']} | {r['model']} | {r['steps']} | {r['metric']} | "
                     f"{value} | {r['seconds']} |")
    path.write_text("\n".join(lines) + "\n")


def _write_gallery(rows, path):
    columns = min(len(rows), 4)
    lines = -(-len(rows) // columns)
    fig = figure(figsize=(4 * columns, 4.4 * lines))
    axes = fig.subplots(lines, columns, squeeze=False).ravel()
    for ax in axes[len(rows):]:
        ax.set_axis_off()
    for ax, r in zip(axes, rows):
        ax.imshow(mpimg.imread(r["figure"]))
        ax.set_title(f"{r['family']}\n{r['model']} on {r['data']}", fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)

"""`minigen tour`: every family briefly, through the same code path as `minigen train`,
then one gallery (gallery.png) and one table (tour.md) in the out folder."""
import json
import time
from pathlib import Path

import matplotlib.image as mpimg

from minigen.models import FAMILIES
from minigen.runs import Config, build, fill_defaults, train, write_run
from minigen.viz import plt, save_image_grid

# (family, data, model, loss, steps in full mode, steps in quick mode, the metric to show)
STOPS = [
    ("classifier", "digits", "mlp", None, 1500, 150, "accuracy"),
    ("classifier", "digits", "cnn", None, 800, 80, "accuracy"),
    ("gan", "8gaussians", "mlp", "nonsaturating", 3000, 200, "modes"),
    ("gan", "digits", "dcgan", "nonsaturating", 1500, 60, "class_entropy"),
]


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
    for family, data, model, loss, steps, quick_steps, metric in STOPS:
        if family not in FAMILIES:
            continue
        config = Config(family=family, data=data, model=model, loss=loss,
                        steps=quick_steps if quick else steps, device=device, seed=0,
                        out=str(out / f"{family}-{model}-{data}"))
        trainer = build(fill_defaults(config, _trainer(family)))
        history, seconds = train(trainer, quiet=quiet)
        metrics = write_run(trainer, history, seconds, config.out)
        rows.append({"family": family, "data": data, "model": model if loss is None else f"{model} ({loss})",
                     "steps": config.steps, "metric": metric, "value": metrics.get(metric),
                     "seconds": round(seconds, 1), "figure": Path(config.out) / "samples.png"})
        if not quiet:
            print(f"{family:>12} {model:<6} on {data:<12} {metric} = {metrics.get(metric)}  ({seconds:.1f} s)")
    rows.insert(1, _generative_classifier(out))
    _write_table(rows, out / "tour.md", device, quick)
    _write_gallery(rows, out / "gallery.png")
    if not quiet:
        print((out / "tour.md").read_text())
        print(f"gallery: {out / 'gallery.png'}")
    return rows


def _trainer(family):
    from minigen.models import trainer_class
    return trainer_class(family)


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
    fig, axes = plt.subplots(1, len(rows), figsize=(4 * len(rows), 4.4))
    for ax, r in zip(list(axes) if len(rows) > 1 else [axes], rows):
        ax.imshow(mpimg.imread(r["figure"]))
        ax.set_title(f"{r['family']}\n{r['model']} on {r['data']}", fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""`minigen tour`: every family briefly, through the same code path as `minigen train`,
then one table (tour.md) and one gallery (gallery.png) in the out folder.

``STOPS`` below says what the tour shows of each family, in the order of
minigen.models.FAMILIES: shorter runs than the defaults, on the same code path. The table has a row per
stop, then the four generative families side by side on the digits: the same data, the same
judge (minigen/models/judge.py), unconditional and conditional (``--conditional``). The
gallery is a grid with a row per family and a column per question asked of it: other data
(2-D points, names), digits, digits of a class asked for (0-9, a class per column), and the
bottom half of test digits filled in.
"""
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.image as mpimg

from minigen.data import load_digits
from minigen.data.completion import half_mask
from minigen.models import judge, make
from minigen.models.loop import train
from minigen.runs import write_run
from minigen.viz import figure, image_grid, save_image_grid

DIGITS = ("digits", "digits-binary")
GENERATIVE = ("gan", "vae", "autoregressive", "diffusion")
COLUMNS = ("2-D points, text, music", "digits", "asked for 0-9", "bottom half filled in")
SAMPLES = 1000   # timed per digits stop: seconds per 1,000 samples


@dataclass(frozen=True)
class Stop:
    """One run of the tour: a family's model on a dataset, briefly, and the metric to show."""
    family: str
    data: str
    model: str
    steps: int          # full mode
    quick_steps: int    # --quick (CI)
    metric: str         # a key of the family's evaluate()
    loss: str = None
    settings: dict = field(default_factory=dict)   # recipe settings that differ from the defaults
    conditional: bool = False                      # --conditional: p(x | label)


SMALL_PIXELCNN = {"width": 32, "blocks": 3, "eval_samples": 0}
STOPS = (
    Stop("classifier", "digits", "mlp", steps=1500, quick_steps=150, metric="accuracy"),
    Stop("classifier", "digits", "cnn", steps=800, quick_steps=80, metric="accuracy"),
    Stop("gan", "8gaussians", "mlp", steps=3000, quick_steps=200, metric="modes", loss="nonsaturating"),
    Stop("gan", "digits", "dcgan", steps=1500, quick_steps=60, metric="class_entropy", loss="nonsaturating"),
    Stop("gan", "digits", "dcgan", steps=1000, quick_steps=40, metric="label_accuracy", loss="nonsaturating",
         conditional=True),
    Stop("vae", "digits-binary", "mlp", steps=2000, quick_steps=60, metric="nll_iwae"),
    Stop("vae", "digits-binary", "mlp", steps=2000, quick_steps=60, metric="label_accuracy", conditional=True),
    Stop("autoregressive", "names", "transformer", steps=300, quick_steps=20, metric="nll_per_token"),
    # the chorales' AR-CNN, its gallery row a piano roll; its evaluation skips the samples
    Stop("autoregressive", "chorales", "arcnn", steps=200, quick_steps=5, metric="nll_per_note",
         settings={"eval_samples": 0}),
    # narrower PixelCNNs whose evaluation skips the samples (the tour judges 1,000 of its own);
    # the conditional one trains longer, as its class tables start at 0, and shows the model as
    # a Bayes classifier
    Stop("autoregressive", "digits-binary", "pixelcnn", steps=200, quick_steps=5, metric="nll",
         settings=SMALL_PIXELCNN),
    Stop("autoregressive", "digits-binary", "pixelcnn", steps=500, quick_steps=5, metric="bayes_accuracy",
         settings=SMALL_PIXELCNN, conditional=True),
    # the digits runs have T = 100 levels (50 conditional: a guided step is two network passes) so
    # that their evaluation, DDPM with all T steps on 1,000 digits, takes seconds, and completions
    # neither resampled nor guided, so that filling in the 360 test digits stays cheap
    Stop("diffusion", "8gaussians", "mlp", steps=3000, quick_steps=60, metric="hq_share",
         settings={"lr_warmup": 100}),
    Stop("diffusion", "digits", "mlp", steps=1500, quick_steps=30, metric="ddim_frechet_distance",
         settings={"lr_warmup": 100, "T": 100, "resample": 1, "reconstruction": 0.0}),
    Stop("diffusion", "digits", "mlp", steps=1000, quick_steps=30, metric="ddim_label_accuracy",
         settings={"lr_warmup": 100, "T": 50, "resample": 1, "reconstruction": 0.0}, conditional=True),
)


@dataclass
class Visit:
    """One tour stop, trained, evaluated and written to its run folder."""
    family: str
    data: str
    model: str
    steps: int
    metric: str
    value: object
    seconds: float                  # training
    figure: Path                    # the run's samples.png
    conditional: bool = False
    metrics: dict = field(default_factory=dict)
    samples: object = None          # digits stops: the first 100 of the timed samples, in [0, 1]
    sample_seconds: float = None    # digits stops: seconds for 1,000 samples
    judged: dict = field(default_factory=dict)   # digits stops: the judge on those 1,000 samples
    completions: object = None      # (given, filled, true) images of 10 test digits, when the family can


def digits_stops():
    """The generative families' stops on the digits, unconditional and conditional."""
    return [s for s in STOPS if s.family in GENERATIVE and s.data in DIGITS]


def visit(stop, out, device="cpu", quick=False, quiet=False):
    """Train one stop as `minigen train` would (seed 0), evaluate it, and write its run folder.
    A digits stop also times 1,000 samples and keeps what the gallery shows of it."""
    family = stop.family
    suffix = "-conditional" if stop.conditional else ""
    trainer = make(family, stop.data, model=stop.model, loss=stop.loss, device=device, seed=0,
                   steps=stop.quick_steps if quick else stop.steps, conditional=stop.conditional,
                   out=str(Path(out) / f"{family}-{stop.model}-{stop.data}{suffix}"), **stop.settings)
    config = trainer.config
    history, seconds = train(trainer, quiet=quiet)
    metrics = write_run(trainer, history, seconds, config.out)
    model = stop.model if stop.loss is None else f"{stop.model} ({stop.loss})"
    v = Visit(family, stop.data, model, config.steps, stop.metric, metrics.get(stop.metric), round(seconds, 1),
              Path(config.out) / "samples.png", stop.conditional, metrics)
    if family in GENERATIVE and stop.data in DIGITS:
        start = time.perf_counter()
        samples = trainer.sample(SAMPLES, 0)                  # conditional: classes 0-9 in turn
        v.sample_seconds = round(time.perf_counter() - start, 2)
        labels = trainer.sample_labels(SAMPLES) if stop.conditional else None
        v.samples = samples[:100]
        v.judged = judge.image_sample_metrics(samples, stop.data, trainer.train_data, trainer.test_data,
                                              labels=labels)
        if not stop.conditional:
            _complete(trainer, v)
    if not quiet:
        print(f"{family:>14} {model:<24} on {stop.data:<13}{' conditional' * stop.conditional} "
              f"{stop.metric} = {v.value}  ({seconds:.1f} s)")
    return v


def _complete(trainer, v, shown=10):
    """Fill in the bottom half of the test digits (when the family can: some refuse --given),
    judge them, and keep ``shown`` of them for the gallery: given (hidden half grey), filled, true."""
    test = trainer.test_data
    true = test.to_unit(test.images)
    filled = {}

    def complete(given, mask):
        filled["images"] = trainer.sample(len(given), 0, given=given, mask=mask)
        return filled["images"]

    try:
        v.judged.update(judge.completion_metrics(complete, v.data, test))
    except (NotImplementedError, ValueError):
        return
    hidden = half_mask(true[:shown].shape, "bottom")
    v.completions = true[:shown] * ~hidden + 0.5 * hidden, filled["images"][:shown], true[:shown]


def _generative_classifier(out):
    """Tutorial 00's model: p(x | y) by counting, used to classify and to draw digits."""
    from minigen.models.classifier import BernoulliBayes

    start = time.perf_counter()
    train_x, train_y = load_digits("train", binary=True)
    test_x, test_y = load_digits("test", binary=True)
    model = BernoulliBayes().fit(train_x, train_y)
    accuracy = float((model.predict(test_x) == test_y).mean())
    folder = out / "bernoulli-bayes-digits"
    folder.mkdir(parents=True, exist_ok=True)
    draws = model.sample([k % 10 for k in range(100)], seed=0)
    save_image_grid(draws[:40], folder / "samples.png", nrow=10, title="p(x | y) by counting: drawn digits 0-9")
    metrics = {"accuracy": accuracy, "train_seconds": round(time.perf_counter() - start, 2)}
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return Visit("generative classifier", "digits-binary", "bernoulli-bayes", 1, "accuracy", accuracy,
                 metrics["train_seconds"], folder / "samples.png", conditional=True, metrics=metrics,
                 samples=draws)


def run_tour(device="cpu", quick=False, out="tour", quiet=False):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    visits = [visit(stop, out, device, quick, quiet) for stop in STOPS]
    visits.insert(1, _generative_classifier(out))
    (out / "tour.md").write_text(table(visits, device, quick))
    gallery(visits).savefig(out / "gallery.png", dpi=100)
    if not quiet:
        print((out / "tour.md").read_text())
        print(f"gallery: {out / 'gallery.png'}")
    return visits


# ----- the table -----
def _number(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def table(visits, device="cpu", quick=False):
    """tour.md: a row per stop, then the generative families side by side on the digits."""
    lines = [f"# minigen tour ({'quick' if quick else 'full'}, device {device})", "",
             "| family | data | model | steps | metric | value | seconds |", "|---|---|---|---|---|---|---|"]
    for v in visits:
        data = v.data + (" (conditional)" if v.conditional else "")
        lines.append(f"| {v.family} | {data} | {v.model} | {v.steps} | {v.metric} | "
                     f"{_number(v.value, 4)} | {v.seconds} |")
    lines += ["", side_by_side(visits)]
    return "\n".join(lines) + "\n"


def side_by_side(visits):
    """The generative families on the digits, one judge for all: a markdown table."""
    lines = ["## The four families on the digits", "",
             f"Each model's first {SAMPLES:,} samples (seed 0; conditional: 100 of each class), judged by the same "
             "classifier (minigen/models/judge.py): Fréchet distance of the judge's features (lower is better; the floor is what real digits get), "
             "class entropy (log 10 = 2.30 when every class is drawn equally), label accuracy (conditional: "
             "the share of samples of each class asked for that the judge assigns to it), NLL in nats per "
             "image (the VAE's is an upper bound, IWAE-1000; the PixelCNN's is exact; -log p(x | y) when "
             "conditional; from `minigen eval`), completion accuracy (bottom half of the 360 test digits filled in, then "
             "classified), training seconds and seconds per 1,000 samples.", "",
             "| family | model | data | conditional | Fréchet (floor) | class entropy | label accuracy | "
             "NLL | completion accuracy | train s | s / 1,000 samples |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for v in visits:
        if v.family not in GENERATIVE or v.data not in DIGITS:
            continue
        m, j = v.metrics, v.judged
        nll = m.get("nll_iwae", m.get("nll"))
        fd = f"{j['frechet_distance']:.2f} ({j['frechet_floor']:.2f})"
        lines.append(f"| {v.family} | {v.model} | {v.data} | {'yes' if v.conditional else 'no'} | {fd} | "
                     f"{_number(j['class_entropy'])} | {_number(j.get('label_accuracy'))} | {_number(nll)} | "
                     f"{_number(j.get('completion_accuracy'))} | {v.seconds} | {_number(v.sample_seconds, 3)} |")
    return "\n".join(lines)


# ----- the gallery -----
def gallery(visits):
    """A grid: a row per family, a column per COLUMNS; each cell the first stop that fits it."""
    row_of = {"generative classifier": "classifier"}   # the counting twin shares the classifier's row
    row = lambda v: "music" if v.data == "chorales" else row_of.get(v.family, v.family)   # noqa: E731
    families = list(dict.fromkeys(map(row, visits)))
    cells = {}
    for v in visits:
        family = row(v)
        if v.data not in DIGITS:
            cells.setdefault((family, 0), (mpimg.imread(v.figure), f"{v.model} on {v.data}"))
            continue
        picture = mpimg.imread(v.figure) if v.samples is None else image_grid(v.samples, 10)
        cells.setdefault((family, 2 if v.conditional else 1), (picture, f"{v.model} on {v.data}"))
        if v.completions is not None:
            given, filled, true = v.completions
            cells.setdefault((family, 3), (image_grid(list(given) + list(filled) + list(true), 10),
                                             f"{v.model}: given, filled in, true"))
    fig = figure(figsize=(3.3 * len(COLUMNS), 3.0 * len(families)))
    axes = fig.subplots(len(families), len(COLUMNS), squeeze=False)
    for r, family in enumerate(families):
        for c in range(len(COLUMNS)):
            ax = axes[r, c]
            ax.set_xticks([]), ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if c == 0:
                ax.set_ylabel(family, fontsize=11, fontweight="bold")
            if (family, c) not in cells:
                ax.text(0.5, 0.5, "-", ha="center", va="center", color="0.6", transform=ax.transAxes)
                continue
            picture, caption = cells[family, c]
            grey = picture.ndim == 2
            ax.imshow(picture, cmap="gray_r" if grey else None, vmin=0, vmax=1, interpolation="nearest")
            ax.set_xlabel(caption, fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    for c, column in enumerate(COLUMNS):                   # headers above the columns, level
        fig.text((c + 0.5) / len(COLUMNS), 1 - 0.2 / fig.get_figheight(), column, ha="center", va="center",
                 fontsize=11, fontweight="bold")
    return fig

"""The run folder and the training loop every family shares.

A family (classifier, gan, ...) is a Trainer subclass in minigen/models/ that says what
its networks are, what one training step does, how to evaluate and how to sample. This
file does the rest, the same way for all of them:

    DIR/config.json      every setting of the run (defaults filled in)
    DIR/checkpoint.npz   networks, optimizers, step and RNG state (mg.save: no pickle)
    DIR/metrics.json     test-split metrics (written by train and by eval)
    DIR/losses.png       the loss curves
    DIR/samples.png      what the model makes (or, for the classifier, what it predicts)
"""
import json
import operator
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

import minigen as mg
from minigen import backend
from minigen.checkpoint import load, save
from minigen.viz import save_loss_curves


@dataclass
class Config:
    family: str
    data: str
    model: str = None
    loss: str = None
    steps: int = None
    batch_size: int = None
    lr: float = None
    device: str = "cpu"
    seed: int = 0
    out: str = None
    conditional: bool = False  # learn p(x | label) (labelled data only; families with CONDITIONAL)
    extra: dict = field(default_factory=dict)  # family-specific settings, all recorded

    def to_json(self):
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))


@dataclass(frozen=True)
class TourStop:
    """One run of `minigen tour`: a family's model on a dataset, briefly, and the metric to show."""
    data: str
    model: str
    steps: int          # full mode
    quick_steps: int    # --quick (CI)
    metric: str         # a key of the family's evaluate()
    loss: str = None
    extra: dict = field(default_factory=dict)   # config.extra for this stop
    conditional: bool = False                   # --conditional: p(x | label)


class Trainer:
    """What a family provides. Subclasses set ``DEFAULTS`` and implement the methods below.

    ``DEFAULTS``: {model name: {"steps": ..., "batch_size": ..., "lr": ..., "loss": ...}};
    the first model is the default one.
    """

    DEFAULTS = {}
    LOSSES = (None,)
    DATA = ()  # the --data names it trains on ("idx:" for any idx:PATH)
    TOUR = ()  # TourStops: what `minigen tour` shows of this family
    CONDITIONAL = False  # True when the family can learn p(x | label) (--conditional)
    CONDITIONAL_DEFAULTS = {}  # {model: what differs from DEFAULTS[model] for a --conditional run}

    @classmethod
    def default_model(cls, data):
        """The --model used when none is given for --data ``data``: the first of DEFAULTS
        (a family whose default depends on the data, text or images, overrides this)."""
        return next(iter(cls.DEFAULTS))

    def __init__(self, config, train, test):
        self.config = config
        self.train_data = train  # minigen.data.get_dataset(config.data, "train")
        self.test_data = test    # ... "test"
        self.modules = {}     # name -> nn.Module
        self.optimizers = {}  # name -> optim.Optimizer
        self.step_count = 0

    def batches(self):
        """An endless iterator of training batches."""
        raise NotImplementedError

    def train_step(self, batch):
        """One update; returns {loss name: float} for the progress bar and losses.png."""
        raise NotImplementedError

    def evaluate(self):
        """Test-split metrics, a dict of JSON-able numbers."""
        raise NotImplementedError

    def sample(self, n, seed, **options):
        """n samples as a NumPy array (or a list of str for text)."""
        raise NotImplementedError(f"{self.config.family}: this family has nothing to sample")

    def save_figure(self, path):
        """samples.png: what the model makes."""
        raise NotImplementedError

    def sample_labels(self, n, label=None):
        """The class each of n samples of a conditional run is drawn for, a list of n ints:
        ``label`` (--label K) for all of them, or without it 0, 1, ..., C-1 in turn, so that every
        class is drawn equally often (100 of each in 1,000 samples)."""
        classes = self.train_data.num_classes
        if label is None:
            return [k % classes for k in range(n)]
        try:
            k = operator.index(label)
        except TypeError:
            k = None
        if k is None or isinstance(label, bool) or not 0 <= k < classes:
            raise ValueError(f"--label: must be a class of {self.config.data}, an integer from 0 to "
                             f"{classes - 1}, got {label!r}")
        return [k] * n

    def refuse_unconditional(self, options):
        """--label and --guidance ask for p(x | label): refused for a run trained without --conditional."""
        for name in ("label", "guidance"):
            if name in options and not self.config.conditional:
                raise NotImplementedError(f"--{name}: this {self.config.family} run is not conditional "
                                          f"(it was trained without --conditional)")

    # ----- state, shared by all families -----
    def state_dict(self):
        return {"modules": {k: m.state_dict() for k, m in self.modules.items()},
                "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                "step": self.step_count,
                "rng": backend.get_rng_state(self.config.device)}

    def load_state_dict(self, state):
        for k, m in self.modules.items():
            m.load_state_dict(state["modules"][k])
        for k, o in self.optimizers.items():
            if k in state.get("optimizers", {}):
                o.load_state_dict(state["optimizers"][k])
        self.step_count = int(state["step"])
        if state.get("rng") is not None:
            backend.set_rng_state(self.config.device, state["rng"])

    def eval_mode(self):
        for m in self.modules.values():
            m.eval()

    def train_mode(self):
        for m in self.modules.values():
            m.train()


def endless(loader, start_step=0):
    """Batches from ``loader`` forever, epoch after epoch, starting at batch ``start_step``:
    a run resumed at step k sees exactly the batches an uninterrupted run sees from k on."""
    epoch, skip = divmod(start_step, len(loader))
    while True:
        loader.set_epoch(epoch)
        for k, batch in enumerate(loader):
            if k >= skip:
                yield batch
        skip, epoch = 0, epoch + 1


def fill_defaults(config, trainer_cls):
    """Fill unset model/loss/steps/batch_size/lr from the family's DEFAULTS (and, for a
    --conditional run, its CONDITIONAL_DEFAULTS)."""
    models = list(trainer_cls.DEFAULTS)
    if config.model is None:
        config.model = trainer_cls.default_model(config.data)
    if config.model not in trainer_cls.DEFAULTS:
        raise ValueError(f"{config.family}: unknown --model {config.model!r}; choose from {models}")
    defaults = dict(trainer_cls.DEFAULTS[config.model])
    if config.conditional:
        defaults.update(trainer_cls.CONDITIONAL_DEFAULTS.get(config.model, {}))
    for key, value in defaults.items():
        if getattr(config, key, None) is None:
            setattr(config, key, value)
    if config.loss not in trainer_cls.LOSSES:
        if not any(trainer_cls.LOSSES):
            raise ValueError(f"{config.family}: takes no --loss (got {config.loss!r})")
        raise ValueError(f"{config.family}: unknown --loss {config.loss!r}; choose from "
                         f"{[x for x in trainer_cls.LOSSES if x]}")
    return config


LABELLED = ("digits", "digits-binary", "idx:")   # the data sets that come with class labels


def check_network_labels(network, conditional, labels, wanted):
    """A conditional network needs labels and an unconditional one takes none: refuse either
    mistake, naming the network and (``wanted``) what labels a conditional one takes. Every
    family's networks call this, so the two mistakes read the same everywhere."""
    if conditional and labels is None:
        raise ValueError(f"{network}: this network is conditional; it needs {wanted}")
    if not conditional and labels is not None:
        raise ValueError(f"{network}: this network is unconditional (trained without --conditional); "
                         "it takes no labels")


def check_data(config, trainer_cls):
    """Refuse a dataset the family cannot train on, with the list of those it can."""
    name = "idx:" if config.data.startswith("idx:") else config.data
    if name not in trainer_cls.DATA:
        raise ValueError(f"{config.family}: cannot train on --data {config.data!r}; "
                         f"choose from {list(trainer_cls.DATA)}")
    if config.conditional and name not in LABELLED:
        raise ValueError(f"{config.family}: --conditional needs labelled data ({', '.join(LABELLED)}); "
                         f"{config.data} has no labels")
    if config.conditional and not trainer_cls.CONDITIONAL:
        raise ValueError(f"{config.family}: --conditional is not available for this family")


def build(config, split=None):
    """The family's Trainer for ``config``, on its train and test splits (or ``split``, a
    (train, test) pair of Datasets of ``config.data``), seeded."""
    from minigen.data import get_dataset
    from minigen.models import trainer_class

    mg.manual_seed(config.seed)
    train_data, test_data = split or (get_dataset(config.data, "train"), get_dataset(config.data, "test"))
    if config.conditional and train_data.labels is None:
        raise ValueError(f"{config.family}: --conditional needs labels, and {config.data} has none "
                         "(an IDX images file without its labels file)")
    return trainer_class(config.family)(config, train_data, test_data)


def train(trainer, quiet=False):
    """Run ``config.steps`` training steps from where the trainer is, with a progress bar."""
    config = trainer.config
    history = {}
    batches = trainer.batches()
    trainer.train_mode()
    start = time.perf_counter()
    bar = tqdm(range(trainer.step_count, config.steps), disable=quiet, desc=f"{config.family} {config.model}",
               unit="step", leave=False, mininterval=0.5)
    for _ in bar:
        losses = trainer.train_step(next(batches))
        trainer.step_count += 1
        for name, value in losses.items():
            history.setdefault(name, []).append(value)
        bar.set_postfix({k: f"{v:.4f}" for k, v in losses.items()}, refresh=False)
    bar.close()
    trainer.eval_mode()
    return history, time.perf_counter() - start


def write_run(trainer, history, seconds, out):
    """Write the run folder; returns the metrics."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(trainer.config.to_json())
    save({"config": json.loads(trainer.config.to_json()), "state": trainer.state_dict()}, out / "checkpoint.npz")
    metrics = dict(trainer.evaluate(), train_seconds=round(seconds, 2), steps=trainer.step_count)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if history:
        save_loss_curves(history, out / "losses.png", title=f"{trainer.config.family} on {trainer.config.data}")
    trainer.save_figure(out / "samples.png")
    return metrics


def open_run(path, device=None):
    """Rebuild the trainer of a run folder from its checkpoint (optionally on another device)."""
    path = Path(path)
    if not (path / "checkpoint.npz").exists():
        raise FileNotFoundError(f"{path}: no checkpoint.npz here; is this a `minigen train` --out folder?")
    stored = load(path / "checkpoint.npz")
    config = Config(**stored["config"])
    if device is not None:
        config.device = device
    trainer = build(config)
    trainer.load_state_dict(stored["state"])
    trainer.eval_mode()
    return trainer

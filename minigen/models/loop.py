"""The training loop every family shares, and what a family declares to use it.

A family (gan.py, vae.py, text.py, pixelcnn.py, diffusion.py, classifier.py) is a ``Family``
subclass. It declares

    RECIPES          {model: every default setting: "steps", "batch_size", "lr", and the rest}
    LOSSES           the --loss kinds, the default first ((None,): the family takes none)
    DATA             the --data names it trains on ("idx:" for any idx:PATH)
    CONDITIONAL      whether it can learn p(x | label) (--conditional)
    CAPTIONS         the settings --captions adds (None: it cannot learn p(x | caption))
    SAMPLE_OPTIONS   the keywords its ``sample`` takes beyond n and seed
    AVERAGED         the modules whose weights the average follows (None: all of them)

and writes the family itself: its networks (in ``__init__``: ``self.modules``, ``self.optimizers``),
its training step (``step(batch)``: the paper's algorithm box), ``sample``, ``evaluate`` and
``figure``. Everything else is here, once, the same for every family:

    resolve          a run's settings, from the recipe table; the caller's Config is not touched
    batches          the arrays the family trains on (``arrays()``), shuffled, epoch after epoch
    learning_rate    one schedule: constant, linear decay to 0, or warm-up then cosine decay
    update           zero the gradients, backward, clip, step
    average          one exponential moving average of the weights, to evaluate and sample with
    Checks           labels, images, prompts and sampling options, refused early (checks.py)
    train            the steps, with a progress bar; Ctrl-C stops it cleanly after a step
"""
import contextlib
import json
import signal
import time
from dataclasses import asdict, dataclass, field, replace

from tqdm import tqdm

from minigen import backend, nn, optim
from minigen.data import DataLoader
from minigen.data.captions import Captions
from minigen.models.checks import Checks
from minigen.tensor import Tensor

LABELLED = ("digits", "digits-binary", "idx:")   # the data sets that come with class labels
SCHEDULED = ("steps", "batch_size", "lr")         # the settings a Config holds itself
SHARED = ("lr_schedule", "lr_warmup", "min_lr", "ema", "max_grad_norm")   # read by the loop, any family

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
    captions: bool = False     # learn p(x | caption) (the digits; families with CAPTIONS)
    extra: dict = field(default_factory=dict)  # every other setting of the family, all recorded

    def to_json(self):
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))


class Family(Checks):
    """A model family: its declarations (above) and the scaffolding every family shares."""

    RECIPES = {}
    CONDITIONAL_RECIPES = {}   # {model: what --conditional changes in RECIPES[model]}
    LOSSES = (None,)
    DATA = ()
    CONDITIONAL = False
    CAPTIONS = None
    SAMPLE_OPTIONS = ()
    AVERAGED = None

    # ----- settings, resolved once -----
    @classmethod
    def default_model(cls, data):
        """The --model used when none is given: the first of RECIPES."""
        return next(iter(cls.RECIPES))

    @classmethod
    def recipe(cls, model, loss, data, conditional):
        """Every default setting of a run (a family whose defaults depend on the loss or the
        data overrides this)."""
        return {**cls.RECIPES[model], **(cls.CONDITIONAL_RECIPES.get(model, {}) if conditional else {})}

    @classmethod
    def resolve(cls, config, strict=False):
        """A copy of ``config`` with every setting filled in from the recipe: model, loss, steps,
        batch_size, lr, and ``extra`` (the recipe's other settings, overridden by config.extra).
        Refuses data, models, losses, --conditional and --captions the family cannot take, and (``strict``)
        settings it does not know; a run folder written by an older minigen may hold some."""
        family, data = config.family, config.data
        name = "idx:" if data.startswith("idx:") else data
        if name not in cls.DATA:
            raise ValueError(f"{family}: cannot train on --data {data!r}; choose from {list(cls.DATA)}")
        if config.conditional and name not in LABELLED:
            raise ValueError(f"{family}: --conditional needs labelled data ({', '.join(LABELLED)}); "
                             f"{data} has no labels")
        if config.conditional and not cls.CONDITIONAL:
            raise ValueError(f"{family}: --conditional is not available for this family")
        if config.captions and (cls.CAPTIONS is None or data != "digits" or config.conditional):
            raise ValueError(f"{family}: --captions is for diffusion and gan on --data digits, without --conditional "
                             f"(a caption names the digit); got {family} on {data}{' with it' * config.conditional}")
        model = config.model or cls.default_model(data)
        if model not in cls.RECIPES:
            raise ValueError(f"{family}: unknown --model {model!r}; choose from {list(cls.RECIPES)}")
        loss = config.loss or cls.LOSSES[0]
        if loss not in cls.LOSSES:
            if cls.LOSSES == (None,):
                raise ValueError(f"{family}: takes no --loss (got {config.loss!r})")
            raise ValueError(f"{family}: unknown --loss {loss!r}; choose from {list(cls.LOSSES)}")
        captioned = cls.CAPTIONS if config.captions else {}   # --captions: a conditional run's recipe, and these
        recipe = {**cls.recipe(model, loss, data, config.conditional or config.captions), **captioned}
        unknown = sorted(set(config.extra) - set(recipe) - set(SHARED))
        if strict and unknown:
            raise ValueError(f"{family} ({model}): unknown setting(s) {unknown}; its settings are "
                             f"{sorted(set(recipe) - set(SCHEDULED) | set(SHARED))}")
        schedule = {**recipe, **config.extra}.get("lr_schedule", "constant")
        if schedule not in ("constant", "linear", "cosine"):
            raise ValueError(f"{family}: lr_schedule must be constant, linear or cosine, got {schedule!r}")
        scheduled = {k: recipe.pop(k) for k in SCHEDULED}
        scheduled = {k: v if getattr(config, k) is None else getattr(config, k) for k, v in scheduled.items()}
        return replace(config, model=model, loss=loss, extra={**recipe, **config.extra},
                       device=backend.normalize_device(config.device), **scheduled)   # "cuda" -> "cuda:0"

    def __init__(self, config, train, test):
        """``config``: resolved (``resolve``); ``train``, ``test``: the data's two splits."""
        self.config = config
        self.settings = config.extra
        self.train_data = train
        self.test_data = test
        self.images = train.kind == "images"
        self.num_classes = train.num_classes if config.conditional else None   # None: unconditional
        self.captions = Captions(train) if config.captions else None      # terciles, the train split's words
        self.modules = {}      # name -> nn.Module       (set by the family)
        self.optimizers = {}   # name -> optim.Optimizer (set by the family)
        self.lr_scale = {}     # optimizer name -> its learning rate over the schedule's (default 1)
        self.average = None    # made by start(), when settings["ema"] asks for one
        self.step_count = 0

    def start(self):
        """What the family's __init__ calls last: the networks to the run's device, and the average."""
        for module in self.modules.values():
            module.to(self.config.device)
        if self.settings.get("ema"):
            followed = nn.Module()
            for name in self.AVERAGED or self.modules:
                setattr(followed, name, self.modules[name])
            self.average = optim.EMA(followed, self.settings["ema"])

    # ----- training -----
    def arrays(self):
        """The host arrays a batch is cut from: the data, its labels or its captions' word ids."""
        return ((self.train_data.data,) + ((self.train_data.labels,) if self.config.conditional else ())
                + ((self.captions.tokens,) if self.captions else ()))

    def batches(self):
        """An endless iterator of batches (Tensors on the run's device), from the current step on."""
        loader = DataLoader(*self.arrays(), batch_size=self.config.batch_size, shuffle=True,
                            seed=self.config.seed, drop_last=True, device=self.config.device)
        return endless(loader, self.step_count)

    def step(self, batch):
        """One training step; returns {loss name: 0-d Tensor} for the progress bar and losses.png
        (the loop reads them from the device every READ_EVERY steps, not at every step)."""
        raise NotImplementedError

    def learning_rate(self):
        """This step's learning rate, by settings["lr_schedule"]: "constant"; "linear", from lr down
        to 0 over the run; "cosine", a linear warm-up over ``lr_warmup`` steps, then a cosine
        from lr down to ``min_lr`` (optim.warmup_cosine)."""
        s, lr, steps = self.settings, self.config.lr, self.config.steps
        kind = s.get("lr_schedule", "constant")
        if kind == "linear":
            return lr * (1 - self.step_count / steps)
        if kind == "cosine":
            warmup = min(s.get("lr_warmup", 0), steps)
            return optim.warmup_cosine(self.step_count, lr, warmup, max(steps, 1), s.get("min_lr", 0.0))
        return lr

    def update(self, loss, optimizer):
        """One gradient step on ``loss``: zero the gradients, backward, clip their norm to
        settings["max_grad_norm"] (when set), step."""
        optimizer.zero_grad()
        loss.backward()
        if self.settings.get("max_grad_norm"):
            optim.clip_grad_norm_(optimizer.params, self.settings["max_grad_norm"])
        optimizer.step()

    def train_step(self, batch):
        """The loop's step: the learning rate set, the family's step, the average moved on."""
        lr = self.learning_rate()
        for name, opt in self.optimizers.items():
            opt.lr = lr * self.lr_scale.get(name, 1.0)
        losses = self.step(batch)
        if self.average is not None:
            # the average warms up: decay (1 + k) / (10 + k) at step k until that reaches the set
            # one, so that no run is sampled from weights that are mostly its initialisation
            self.average.decay = min(self.settings["ema"], (1 + self.step_count) / (10 + self.step_count))
            self.average.update()
        self.step_count += 1
        return losses

    # ----- using the model -----
    @contextlib.contextmanager
    def averaged(self):
        """A context to evaluate and sample in: the networks in eval mode (no dropout, BatchNorm's
        running statistics), with the averaged weights when an average is kept; as before after."""
        was = {name: m.training for name, m in self.modules.items()}
        with self.average.average_parameters() if self.average is not None else contextlib.nullcontext():
            for m in self.modules.values():
                m.eval()
            try:
                yield
            finally:
                for name, m in self.modules.items():
                    m.train(was[name])

    def sample(self, n, seed, **options):
        """n samples as a NumPy array (or a list of str for text)."""
        raise NotImplementedError(f"{self.config.family}: this family has nothing to sample")

    def evaluate(self):
        """Test-split metrics, a dict of JSON-able numbers."""
        raise NotImplementedError

    def figure(self):
        """samples.png's matplotlib Figure: what the model makes."""
        raise NotImplementedError

    # ----- state -----
    def state_dict(self):
        """What a checkpoint holds: the networks, the optimizers, the average, the step, the RNG."""
        state = {"modules": {k: m.state_dict() for k, m in self.modules.items()},
                 "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                 "step": self.step_count,
                 "rng": backend.get_rng_state(self.config.device)}
        if self.average is not None:
            state["average"] = self.average.state_dict()
        return state

    def load_state_dict(self, state):
        for k, m in self.modules.items():
            m.load_state_dict(state["modules"][k])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        if self.average is not None:
            self.average.load_state_dict(state.get("average") or older_average(state["optimizers"]))
        self.step_count = int(state["step"])
        if state.get("rng") is not None:
            backend.set_rng_state(self.config.device, state["rng"])

    def eval_mode(self):
        for m in self.modules.values():
            m.eval()

    def train_mode(self):
        for m in self.modules.values():
            m.train()


def older_average(optimizers):
    """The average as checkpoints written before it had its own entry kept it: one EMA per
    averaged module, named "<module>_ema" among the optimizers."""
    parts = {k[:-len("_ema")]: v for k, v in optimizers.items() if k.endswith("_ema")}
    first = next(iter(parts.values()))
    return {"decay": first["decay"], "num_updates": first["num_updates"],
            "shadow": {f"{module}.{name}": s for module, part in parts.items() for name, s in part["shadow"].items()}}


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


class StopRequest:
    """A context in which Ctrl-C (SIGINT) does not raise, but sets ``asked``: the loop finishes
    the step it is in and stops. A second Ctrl-C raises KeyboardInterrupt as usual."""

    def __init__(self):
        self.asked = False

    def __enter__(self):
        def ask(signum, frame):
            if self.asked:
                raise KeyboardInterrupt
            self.asked = True
        try:
            self.previous = signal.signal(signal.SIGINT, ask)
        except ValueError:            # not the main thread: Ctrl-C cannot reach this loop anyway
            self.previous = None
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


READ_EVERY = 25    # steps between two reads of the losses (on a GPU each read waits for its queue)


def read_losses(steps, history):
    """Append the losses of ``steps`` (a list of {name: 0-d Tensor or float}) to ``history``, read
    from the device in one go; returns the last step's, as floats."""
    names = list(steps[0])
    tensors = [loss.data for losses in steps for loss in losses.values() if isinstance(loss, Tensor)]
    values = iter(backend.read(*tensors)) if tensors else iter(())
    for losses in steps:
        for name in names:
            loss = losses[name]
            history.setdefault(name, []).append(float(next(values)) if isinstance(loss, Tensor) else loss)
    return {name: history[name][-1] for name in names}


def train(family, quiet=False, history=None):
    """Run training steps from where ``family`` is up to config.steps, with a progress bar;
    returns (history {loss name: [values]}, seconds). Ctrl-C stops it early, after a whole
    step, so that the state can be saved and resumed: then family.step_count < config.steps."""
    config = family.config
    history = {} if history is None else history
    batches = family.batches()
    family.train_mode()
    start = time.perf_counter()
    with StopRequest() as stop:
        bar = tqdm(total=config.steps, initial=family.step_count, disable=quiet, unit="step", leave=False,
                   desc=f"{config.family} {config.model}", mininterval=0.5)
        unread = []     # the losses of the steps since the last read, still on the device
        while family.step_count < config.steps and not stop.asked:
            unread.append(family.train_step(next(batches)))
            if len(unread) == READ_EVERY or family.step_count == config.steps or stop.asked:
                losses = read_losses(unread, history)
                bar.update(len(unread))
                bar.set_postfix({k: f"{v:.4f}" for k, v in losses.items()}, refresh=False)
                unread = []
        bar.close()
    family.eval_mode()
    return history, time.perf_counter() - start

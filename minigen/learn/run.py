"""`minigen learn run DIR FAMILY`: a family trained with the learner's functions in minigen's place,
beside the same run (same seed, same steps) with minigen's own.

Where each exercise goes:

    sigmoid             every sigmoid, so also the gradient of every softplus (the GAN's and the
                        Bernoulli VAE's losses): minigen.ops.unary.Sigmoid
    sum_to              the gradient of every broadcast: minigen.ops.shape.sum_to
    topological_order   the order of every backward pass (minigen.autograd._topological_order)
    layer_norm          every LayerNorm (F.layer_norm): the transformer's, the diffusion network's
    gan_losses          the GAN's two losses (minimax.discriminator_loss, generator_loss_nonsaturating)
    gradient_penalty    WGAN-GP's penalty (--loss wgan-gp; alpha drawn as minigen draws it)
    kl_standard_normal, reparameterize, iwae_bound     the VAE's bound (minigen.objectives.elbo)
    causal_attention    the transformer's attention over a whole sequence (F.scaled_dot_product_attention
                        with causal=True; sampling's one query at a time stays minigen's)
    top_k_distribution  what each sampling step draws from (sampling_distribution)
    pixelcnn_mask       the masks of the PixelCNN's masked convolutions
    bernoulli_nll       the PixelCNN's loss on binary images
    q_sample            diffusion's noising (denoising.q_sample, its arguments reordered)
    ddim_step, guided_eps   the DDIM sampler and classifier-free guidance (denoising)

A function is swapped in by rebinding, for the run, every name in minigen's modules (and every
attribute of the family) that holds minigen's function, so the family calls the learner's
wherever it calls minigen's; each is put back afterwards. The learner's functions train the
model; its metrics are then measured by minigen's own code, except the sampler's steps
(ddim_step, guided_eps, top_k_distribution), which are how the model makes the samples that
are measured. So a wrong KL trains a worse VAE, and its KL is reported as it really is.

Every exercise the learner has written is used, passing its check or not (a wrong one is the
point of the comparison); one still a stub, or whose file does not load, leaves minigen's own
in place. The check runs first, and each line says which it was.
"""
import contextlib
import io
import math
import sys
import time
import traceback
import warnings
from pathlib import Path

import minigen as mg
import minigen.functional as F
from minigen import autograd, nn
from minigen.learn import workbook
from minigen.learn.checking import Learner
from minigen.learn.exercises import EXERCISES
from minigen.models import make
from minigen.models.loop import train
from minigen.objectives import autoregressive, denoising, elbo, minimax
from minigen.ops import shape, unary

ENGINE = ("sigmoid", "sum_to", "topological_order", "layer_norm")
USES = {"gan": ("gan_losses", "gradient_penalty") + ENGINE,       # the exercises each family's run can use
        "vae": ("kl_standard_normal", "reparameterize", "iwae_bound") + ENGINE,
        "autoregressive": ("causal_attention", "top_k_distribution", "pixelcnn_mask", "bernoulli_nll") + ENGINE,
        "diffusion": ("q_sample", "ddim_step", "guided_eps") + ENGINE}
DATA = {"gan": "8gaussians", "vae": "digits-binary", "autoregressive": "names", "diffusion": "8gaussians"}
# short runs, seconds each on one core: long enough for the metric to show a wrong function
STEPS = {"gan": 1000, "vae": 2000, "autoregressive": 300, "diffusion": 1000}
PIXELCNN_STEPS = 150
SAMPLER = ("ddim_step", "guided_eps", "top_k_distribution")     # how samples are drawn: kept while measuring
# the metrics shown, where the family reports them (minigen eval's keys)
HEADLINE = ("nll_iwae", "neg_elbo", "kl", "nll", "nll_per_token", "energy_distance", "ddim_energy_distance",
            "hq_share", "ddim_hq_share", "modes", "frechet_distance", "ddim_frechet_distance")


class Counted:
    """A learner's function that counts its calls (``calls``)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def counted_class(cls):
    """A subclass of the learner's Function class that counts its applications."""
    counter = type(cls.__name__, (cls,), {"calls": 0})

    def apply(klass, *inputs, **params):
        counter.calls += 1
        return super(counter, klass).apply(*inputs, **params)
    counter.apply = classmethod(apply)
    return counter


# ----- the learner's functions, in the shapes minigen calls them -----
def replacements(name, learner):
    """[(minigen's object, the replacement)] for exercise ``name``, and the object that counts the
    learner's calls (a Counted, a counting class, or a list of replaced masks)."""
    if name == "sigmoid":
        cls = counted_class(learner.namespace["Sigmoid"])
        return [(unary.Sigmoid, cls)], cls
    if name == "gan_losses":
        d, g = Counted(learner.namespace["discriminator_loss"]), Counted(learner.namespace["generator_loss"])
        return [(minimax.discriminator_loss, d), (minimax.generator_loss_nonsaturating, g)], [d, g]
    if name == "causal_attention":
        fn = Counted(learner.namespace[name])
        reference = F.scaled_dot_product_attention

        def attention(q, k, v, causal=False):
            # a whole sequence attending causally is the exercise; one query against a cache is not
            if causal and q.shape[-2] == k.shape[-2]:
                return fn(q, k, v)
            return reference(q, k, v, causal)
        return [(reference, attention)], fn
    if name == "q_sample":
        fn = Counted(learner.namespace[name])
        return [(denoising.q_sample, lambda x0, eps, abar: fn(x0, abar, eps))], fn
    fn = Counted(learner.namespace[name])
    if name == "ddim_step":
        return [(denoising.ddim_step, ddim_adapter(fn))], fn
    if name == "layer_norm":
        return [(F.layer_norm, lambda x, weight=None, bias=None, eps=1e-5: fn(x, weight, bias, eps))], fn
    if name == "gradient_penalty":
        def penalty(critic, real, fake, alpha=None):
            if alpha is None:       # drawn as minigen's interpolates draws it: the same random stream
                shape = (real.shape[0],) + (1,) * (real.ndim - 1)
                alpha = mg.rand(*shape, dtype=real.dtype, device=real.device).reshape(real.shape[0])
            return fn(critic, real, fake, alpha)
        return [(minimax.gradient_penalty, penalty)], fn
    if name == "top_k_distribution":
        def distribution(logits, temperature=1.0, top_k=None):
            v = logits.shape[-1]
            return fn(logits, temperature, v if top_k is None or top_k >= v else top_k)
        return [(autoregressive.sampling_distribution, distribution)], fn
    reference = {"sum_to": shape.sum_to, "topological_order": autograd._topological_order,
                 "kl_standard_normal": elbo.kl_standard_normal, "reparameterize": elbo.reparameterize,
                 "iwae_bound": elbo.iwae_bound, "bernoulli_nll": autoregressive.bernoulli_nll,
                 "guided_eps": denoising.guided_eps}[name]
    return [(reference, fn)], fn


def ddim_adapter(fn):
    """minigen's ddim_step(x_t, eps, abar_t, abar_s, noise, eta, clip) through the learner's
    eta = 0 step: with ``clip``, x^_0 is clipped to the data's range and eps recomputed from it
    first (as minigen's does), which the learner's step then turns into the same x_s."""
    reference = denoising.ddim_step

    def step(x_t, eps, abar_t, abar_s, noise=None, eta=0.0, clip=None):
        if eta != 0:
            return reference(x_t, eps, abar_t, abar_s, noise, eta, clip)
        if clip is not None:
            x0 = denoising.predict_x0(x_t, eps, abar_t)
            x0 = mg.maximum(mg.minimum(x0, float(clip[1])), float(clip[0]))
            eps = denoising.predict_eps(x_t, x0, abar_t)
        return fn(x_t, eps, abar_t, abar_s)
    return step


@contextlib.contextmanager
def rebound(pairs, family):
    """Within the block, every name in minigen's modules and every attribute of ``family`` that
    holds one of the ``pairs``' originals holds its replacement instead; restored afterwards."""
    swap = {id(original): new for original, new in pairs}
    owners = [m for name, m in list(sys.modules.items())
              if name.startswith("minigen.") and not name.startswith("minigen.learn") and m is not None]
    undo = []
    for owner in owners + [family]:
        for attr, value in list(vars(owner).items()):
            if id(value) in swap:
                undo.append((owner, attr, value))
                setattr(owner, attr, swap[id(value)])
    try:
        yield
    finally:
        for owner, attr, value in reversed(undo):
            setattr(owner, attr, value)


@contextlib.contextmanager
def learner_masks(masks, family):
    """Within the block, every masked convolution of ``family`` uses the learner's mask: ``masks``
    {(kernel size, mask type): the learner's mask}."""
    layers = masked_layers(family)
    kept = [layer.mask for layer in layers]
    try:
        for layer in layers:
            k = layer.mask.shape[-1]
            mask = masks[k, layer.mask_type]
            values = mask.numpy() if isinstance(mask, mg.Tensor) else mask
            layer.mask = mg.tensor(values, dtype=layer.mask.dtype, device=layer.mask.device).reshape(1, 1, k, k)
        yield
    finally:
        for layer, mask in zip(layers, kept):
            layer.mask = mask


def masked_layers(family):
    return [m for module in family.modules.values() for m in module.modules() if isinstance(m, nn.MaskedConv2d)]


# ----- the two runs -----
def ready(directory, names):
    """Check the exercises ``names`` in ``directory``; returns ({name: the learner's file, run}, the
    lines that say what is used). A stub, or a file whose functions cannot be called, leaves
    minigen's own in place. The checks run in this process (the learner's functions are about to
    run in it anyway), whatever the learner's code prints swallowed."""
    loaded, lines = {}, []
    for exercise in [e for e in EXERCISES if e.name in names]:
        name, path = exercise.name, Path(directory) / f"{exercise.name}.py"
        if not path.is_file():
            lines.append(f"  {name:20} missing: minigen's own is used")
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            result = workbook.check_file(exercise, path)
        status, message = result["status"], result["message"]
        if status == "not started":
            lines.append(f"  {name:20} not started: minigen's own is used")
        elif not result["usable"]:
            lines.append(f"  {name:20} cannot be used ({message}): minigen's own is used")
        else:
            loaded[name] = Learner(path)
            verdict = "passes its check" if status == "passed" else f"FAILS its check, used anyway: {message}"
            lines.append(f"  {name:20} {verdict}")
    return loaded, lines


def measure(family):
    """The family's usual metrics (`minigen eval`'s); for the PixelCNN, whose evaluation also draws
    and completes 1,000 digits, only its exact test NLL (nats per image)."""
    if family.config.family == "autoregressive" and family.images:
        return {"nll": float(-family.log_prob(family.test_data.images).mean())}
    return family.evaluate()


def train_with(settings, learners, quiet):
    """Make, train and measure one run, with the learner's functions in place (``learners``:
    {name: Learner}, empty for minigen's own run); returns (metrics, seconds, calls {name: count},
    error or None). A learner's function that raises stops their run, not the command."""
    family = make(**settings)
    pairs, counters, masks = [], {}, None
    for name, learner in learners.items():
        if name != "pixelcnn_mask":
            swapped, counters[name] = replacements(name, learner)
            pairs += [(original, new, name in SAMPLER) for original, new in swapped]
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)        # a wrong function may overflow: the metric tells
            if "pixelcnn_mask" in learners:    # the masks first: making them may draw random numbers,
                mask_fn = counters["pixelcnn_mask"] = Counted(learners["pixelcnn_mask"].namespace["pixelcnn_mask"])
                masks = {(layer.mask.shape[-1], layer.mask_type): None for layer in masked_layers(family)}
                masks = {key: mask_fn(*key) for key in masks}
                family = make(**settings)      # so the run is made again, from its seed
            with rebound([(o, n) for o, n, _ in pairs], family), \
                    learner_masks(masks, family) if masks is not None else contextlib.nullcontext():
                train(family, quiet=quiet)
            seconds = time.perf_counter() - start
            with rebound([(o, n) for o, n, sampler in pairs if sampler], family):
                metrics = measure(family)
    except Exception as exc:                     # noqa: BLE001 -- the learner's bug: report it, go on
        where = f"at step {family.step_count}" if family.step_count < family.config.steps else "while measuring"
        files = {learner.path: name for name, learner in learners.items()}
        lines = [f"{files[f.filename]}.py line {f.lineno}" for f in traceback.extract_tb(exc.__traceback__)
                 if f.filename in files]
        error = f"{type(exc).__name__} {where}" + (f" ({lines[-1]})" if lines else "") + ": " + " ".join(str(exc).split())
        return None, time.perf_counter() - start, calls(counters), error
    return metrics, seconds, calls(counters), None


def calls(counters):
    """{exercise: how many times the learner's code was called}."""
    return {name: sum(c.calls for c in counter) if isinstance(counter, list) else counter.calls
            for name, counter in counters.items()}


def learn_run(directory, family, quiet=False, **settings):
    """`minigen learn run DIR FAMILY [train options]`: print the learner's run beside minigen's."""
    if family not in USES:
        raise ValueError(f"learn run: choose a family from {sorted(USES)}, got {family!r}")
    settings = {k: v for k, v in settings.items() if v is not None and v is not False}
    settings = {"family": family, "data": settings.pop("data", None) or DATA[family], **settings}
    probe = make(**settings)                       # bad settings are refused before anything runs
    if "steps" not in settings:
        settings["steps"] = PIXELCNN_STEPS if family == "autoregressive" and probe.images else STEPS[family]
    data = settings["data"]
    learners, lines = ready(directory, USES[family])
    if not learners:
        raise ValueError(f"learn run: none of {family}'s exercises ({', '.join(USES[family])}) is written "
                         f"in {directory} yet; `minigen learn check {directory}` says where they stand")
    print(f"minigen learn run: {family} on {data}, {settings['steps']} steps, seed {settings.get('seed', 0)}")
    print("your functions:")
    print("\n".join(lines), flush=True)
    runs = {}
    for who, used in (("yours", learners), ("minigen's", {})):
        print(f"training with {who} ...", flush=True)
        runs[who] = train_with(settings, used, quiet)
    metrics, seconds, counts, error = runs["yours"]
    used = [f"{name} ({n} call{'s' * (n != 1)})" for name, n in counts.items() if n]
    unused = [name for name, n in counts.items() if not n]
    print(("this run used your " + ", ".join(used) if used else "this run called none of your functions") +
          (f"; not called by this model: {', '.join(unused)}" if unused else ""))
    if error:
        print(f"your run stopped: {error}")
    print(table(runs))


def table(runs):
    """The metrics of both runs, side by side, and how long each trained."""
    mine, theirs = runs["yours"][0] or {}, runs["minigen's"][0] or {}
    keys = [k for k in HEADLINE if k in theirs] or [k for k, v in theirs.items() if isinstance(v, float)]
    rows = [f"{'':28}{'yours':>14}{'minigen':>14}"]
    for key in keys:
        rows.append(f"{key:28}{number(mine.get(key)):>14}{number(theirs.get(key)):>14}")
    seconds = [runs[who][1] for who in ("yours", "minigen's")]
    rows.append(f"{'train seconds':28}{seconds[0]:>14.1f}{seconds[1]:>14.1f}")
    same = mine and all(math.isclose(mine[k], theirs[k], rel_tol=1e-6, abs_tol=1e-9) for k in keys)
    rows.append("the same numbers: your functions train this model as minigen's do" if same else
                "the numbers differ: compare them, and `minigen learn check` your functions")
    return "\n".join(rows)


def number(value):
    return "-" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)

"""How one exercise is checked: load the learner's file, call it, compare it with minigen's own.

A checker (engine.py, gan.py, vae.py, autoregressive.py, diffusion.py) draws inputs with
hypothesis, calls the learner's function and minigen's reference on the same inputs, and asks
of the learner's answer, in this order:

    a minigen Tensor?        not a NumPy array: gradients only flow through Tensors
    the right shape, dtype?  float64 in, float64 out
    the right values?        to a relative 1e-6: a correct answer written another way passes
    the right gradients?     first and second order, wherever the function is differentiated
                             through (minigen's own gradients are checked against central
                             differences in its test suite, so the reference's are the truth)

The first input that shows a difference is shrunk by hypothesis to a small one and reported
on one line: the call, what was expected and what came back. The inputs are the same on every
run (derandomized), so a learner can reproduce a report.

The learner's file is read and run with ``exec``, never imported: nothing is written next to it.
"""
import inspect
import tempfile
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple, Optional

import numpy as np
from hypothesis import HealthCheck, Verbosity, example, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Flaky

import minigen as mg
from minigen.tensor import Tensor

# float64: far looser than rounding, far tighter than any mistake; entries much smaller than the
# array's largest are compared to a tolerance of SCALE times that (the rounding they inherit)
RTOL, ATOL, SCALE = 1e-6, 1e-9, 1e-7
EXAMPLES = 100                   # drawn inputs per exercise (after its fixed first one)
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    report_multiple_bugs=False, suppress_health_check=list(HealthCheck),
                    verbosity=Verbosity.quiet, print_blob=False)


@dataclass(frozen=True)
class Exercise:
    """One exercise: the file DIR/<name>.py the learner writes (its stub: stubs/<name>.py), where
    the idea is explained, minigen's own code to read once it passes, and its check."""
    name: str
    summary: str               # what the learner writes, in one line
    read: str                  # the tutorial section and the minigen source that explain it
    compare_with: str          # minigen's own code, e.g. "minigen/objectives/elbo.py: kl_standard_normal"
    check: Callable            # check(learner) returns when the exercise passes, raises Failure if not


class Failure(Exception):
    """What was wrong with the learner's code, in one line."""


class Unfinished(Failure):
    """The learner's code still raises NotImplementedError."""


class Unusable(Failure):
    """The file cannot be used as it is: it does not run, or lacks the function or its signature."""


class Learner:
    """The learner's file, run: its functions, and calls to them that turn every error into a
    Failure naming the call and the line of the learner's file it came from."""

    def __init__(self, path):
        self.path = str(path)
        self.returned = 0            # calls that came back: none means "not started"
        source = Path(path).read_text()
        try:
            code = compile(source, self.path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise Unusable(f"syntax error on line {exc.lineno}: {exc.msg}") from None
        self.namespace = {"__name__": f"workbook_{Path(path).stem}", "__file__": self.path}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(code, self.namespace)
        except Exception as exc:                 # noqa: BLE001 -- anything the file raises is its bug
            raise Unusable(f"running the file raised {self.describe(exc)}") from None

    def function(self, name, params):
        """The learner's function ``name``, which must take the positional ``params``."""
        wanted = f"{name}({', '.join(params)})"
        fn = self.namespace.get(name)
        if fn is None:
            raise Unusable(f"the file defines no {wanted}")
        if not callable(fn):
            raise Unusable(f"{name} is a {type(fn).__name__}, not a function {wanted}")
        self.takes(fn, name, wanted, params)
        return fn

    def function_class(self, name, base, methods):
        """The learner's class ``name``, a subclass of ``base`` whose ``methods`` ({name: params})
        take those positional parameters."""
        cls = self.namespace.get(name)
        if cls is None:
            raise Unusable(f"the file defines no class {name}({base.__module__}.{base.__name__})")
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise Unusable(f"{name} must be a class derived from {base.__module__}.{base.__name__}")
        for method, params in methods.items():
            self.takes(getattr(cls, method), f"{name}.{method}", f"{method}({', '.join(params)})", params)
        return cls

    @staticmethod
    def takes(fn, name, wanted, params):
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):
            return                                 # a builtin or C function: let the calls tell
        try:
            signature.bind(*params)
        except TypeError:
            raise Unusable(f"{name}{signature} has the wrong signature: it must be {wanted}") from None

    def call(self, text, fn, *args):
        """fn(*args); ``text`` is how the call reads in a report ("kl_standard_normal(mu=...)")."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # overflow warnings: the values will tell
                result = fn(*args)
        except NotImplementedError as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            if frames and frames[-1].filename == self.path:      # the learner's own "raise": a stub
                raise Unfinished(f"{frames[-1].name} still raises NotImplementedError "
                                 f"(line {frames[-1].lineno})") from None
            raise Failure(f"{text} raised {self.describe(exc)}") from None
        except Exception as exc:                   # noqa: BLE001 -- the learner's bug, reported
            raise Failure(f"{text} raised {self.describe(exc)}") from None
        self.returned += 1
        return result

    def describe(self, exc):
        """'TypeError: ... (line 12)': the error and the last line of the learner's file it passed."""
        lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == self.path]
        message = " ".join(str(exc).split()) or "(no message)"
        if len(message) > 300:
            message = message[:297] + "..."
        hints = [hint for clue, hint in HINTS.items() if clue in message]
        return (f"{type(exc).__name__}: {message}" + (f" (line {lines[-1]})" if lines else "")
                + "".join(f"; {hint}" for hint in hints))


# what an error message from inside minigen means for a learner's Function
HINTS = {"'_out_data'": "a backward reads self.output only when its class sets saves_output = True",
         "'inputs'": "a backward reads self.inputs only when its class keeps saves_inputs = True",
         "maximum recursion depth": "graphs can be deeper than Python's recursion limit: use a loop and a stack"}


# ----- hypothesis: the fixed first input, then drawn ones, the first failure shrunk -----
def prove(prop, cases, *examples):
    """Run ``prop(case)`` on the fixed ``examples`` (a small ordinary one first: it makes the
    report when a function is wrong everywhere), then on cases drawn from the strategy ``cases``;
    raise the first Failure (drawn ones shrunk to a small input), or Failure for a function that
    is not deterministic."""
    test = given(case=cases)(prop)
    for case in reversed(examples):                  # decorators apply inside out: the first runs first
        test = example(case=case)(test)
    # hypothesis keeps a cache of what it reads in source files, by default in ./.hypothesis: in a
    # folder of its own here, gone afterwards, so that a check writes nothing where it is run
    with tempfile.TemporaryDirectory(prefix="minigen-learn-") as home:
        set_hypothesis_home_dir(home)
        try:
            SETTINGS(test)()
        except Flaky:
            raise Failure("gives different answers for the same input (does it draw random numbers, "
                          "or keep state between calls?)") from None
        finally:
            set_hypothesis_home_dir(None)


# ----- showing values -----
def show(value, digits=7):
    """A value as a learner reads it, on one line: arrays as nested lists of numbers with ``digits``
    significant digits, Tensors as tensor(...)."""
    if isinstance(value, Tensor):
        return f"tensor({show(value.numpy(), digits)})"
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":      # more digits where 7 would show different values as one
            while digits < 17 and len({f"{v:.{digits}g}" for v in value.flat}) < len(set(value.flat)):
                digits += 3
        text = np.array2string(value, separator=", ", threshold=24, edgeitems=2, max_line_width=10**6,
                               formatter={"float_kind": lambda v: f"{v:.{digits}g}"})
        return " ".join(text.split())
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return repr(value)


def call_text(name, args):
    """'kl_standard_normal(mu=tensor([[0.5]]), log_var=tensor([[1.]]))' for ``args`` {parameter: value}."""
    return f"{name}({', '.join(f'{k}={show(v)}' for k, v in args.items())})"


def differs(got, expected):
    """', first difference at [1, 0]: expected 0.5, got 1' for arrays too long to compare by eye."""
    if expected.size <= 4:
        return ""
    bad = ~np.isclose(got, expected, rtol=RTOL, atol=tolerance(expected))
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return f" (first difference at {list(index)}: expected {expected[index]:.10g}, got {got[index]:.10g})"


def tolerance(expected):
    """The absolute tolerance for an array's entries: ATOL, or SCALE times its largest entry."""
    return ATOL + SCALE * float(np.abs(expected).max(initial=0.0))


def same_values(got, expected, what):
    """Raise unless the arrays agree to float64 tolerance; ``what`` says what they are."""
    if got.shape != expected.shape:
        raise Failure(f"{what}: expected shape {expected.shape}, got {got.shape}")
    if not np.allclose(got, expected, rtol=RTOL, atol=tolerance(expected)):
        shown = (show(expected), show(got))
        if shown[0] == shown[1]:            # too close for 7 digits: show all of them
            shown = (show(expected, 17), show(got, 17))
        raise Failure(f"{what}: expected {shown[0]}, got {shown[1]}{differs(got, expected)}")


def as_result(got, expected, text):
    """The learner's result as a host array, once it is a Tensor of the expected shape and dtype."""
    if not isinstance(got, Tensor):
        kind = type(got).__module__.split(".")[0] + "." + type(got).__name__ if got is not None else "None"
        hint = " (work with Tensor operations, not .data or NumPy, so that gradients can flow)" \
            if isinstance(got, np.ndarray) else ""
        raise Failure(f"{text} returned {kind}, not a minigen Tensor{hint}")
    if got.shape != expected.shape:
        raise Failure(f"{text}: expected a Tensor of shape {expected.shape}, got shape {got.shape} "
                      f"= {show(got.numpy())}")
    if got.dtype != expected.dtype:
        raise Failure(f"{text}: expected dtype {expected.dtype} (the inputs' dtype), got {got.dtype}")
    return got.numpy()


# ----- the comparison most checkers make -----
def tensors(args, wrt=()):
    """The call's arguments: NumPy arrays become fresh float64 Tensors (requiring grad when named
    in ``wrt``), anything else (a Python float, an int, a str) is passed as it is."""
    return {k: mg.tensor(v, dtype="float64", requires_grad=k in wrt) if isinstance(v, np.ndarray) else v
            for k, v in args.items()}


def weights(shape, seed):
    """Fixed pseudo-random weights, rounded to be read in a report: the gradient checked is that
    of sum(w * output), so that a backward that ignores its incoming gradient shows."""
    return np.random.default_rng(seed).standard_normal(shape).round(2) + 0.0


CUT_OFF = "build it from Tensor operations, without .data, .numpy() or new tensors"


def compare(learner, name, fn, reference, args, wrt=(), order=1, text=None, cut_off=CUT_OFF):
    """Call ``fn`` (the learner's) and ``reference`` on ``args`` ({parameter: value}); compare the
    results, then the gradients with respect to the parameters ``wrt``: of sum(w * output) (first
    order) and, with ``order`` 2, of sum(v * that gradient) (second order). ``text``: the call as
    a report shows it (default: name(args)); ``cut_off``: what to do when no gradient flows."""
    text = text or call_text(name, tensors(args))
    expected = reference(*tensors(args).values())
    got = as_result(learner.call(text, fn, *tensors(args).values()), expected, text)
    same_values(got, expected.numpy(), text)
    if wrt:
        compare_gradients(learner, text, fn, reference, args, wrt, order, cut_off)


def compare_gradients(learner, text, fn, reference, args, wrt, order, cut_off=CUT_OFF):
    """The gradients of the learner's ``fn`` against the reference's (see ``compare``)."""
    expected = gradients(reference, args, wrt, order)
    got = gradients(fn, args, wrt, order, learner, text, cut_off)
    weighted = "" if expected.w.size == 1 else f" w={show(expected.w)}"
    for k, e, g in zip(wrt, expected.first, got.first):
        same_values(g.numpy(), e.numpy(), f"{text}: the gradient of sum(w * result){weighted} with respect to {k}")
    if expected.second is None:
        return
    if got.second is None or any(e.requires_grad and not g.requires_grad for e, g in zip(expected.first, got.first)):
        raise Failure(f"{text}: its gradient cannot be differentiated again (second order): build the result "
                      f"from Tensor operations (a Function's backward, too)")
    for k, e, g in zip(wrt, expected.second, got.second):
        same_values(g.numpy(), e.numpy(), f"{text}: the second derivative, the gradient of sum(v * g) with "
                                          f"respect to {k} (g: the gradient above, v: fixed weights)")


class Gradients(NamedTuple):
    """w, the first-order gradients of sum(w * fn(args)) and (order 2) the gradients of
    sum(v_i * first_i), v fixed weights; ``second`` is None when no first gradient has a graph."""
    w: np.ndarray
    first: tuple
    second: Optional[tuple]


def gradients(fn, args, wrt, order, learner=None, text="", cut_off=CUT_OFF):
    """The gradients of ``fn`` (the learner's when ``learner`` is given: its calls are checked)."""
    def run(f, *a):
        return learner.call(text, f, *a) if learner is not None else f(*a)

    inputs = tensors(args, wrt)
    out = run(fn, *inputs.values())
    if learner is not None and not out.requires_grad:
        raise Failure(f"{text}: the result is cut off from the graph, so no gradient reaches "
                      f"{', '.join(wrt)} ({cut_off})")
    w = weights(out.shape, 0)
    leaves = [inputs[k] for k in wrt]
    first = run(lambda: mg.grad((out * mg.tensor(w, dtype="float64")).sum(), leaves, create_graph=order > 1))
    connected = [(g, weights(g.shape, 1 + i)) for i, g in enumerate(first) if g.requires_grad]
    if order < 2 or not connected:
        return Gradients(w, first, None)
    total = sum((g * mg.tensor(v, dtype="float64")).sum() for g, v in connected)
    return Gradients(w, first, run(lambda: mg.grad(total, leaves)))

"""What the user passes in, checked before any work: labels, images and sampling options.

``Checks`` is part of every family (``loop.Family`` inherits it): each refusal names the option or
the argument, what was given and what fits, the same way in every family.
"""
import math
import operator
import reprlib

from minigen import backend
from minigen.data import captions

# which runs take a sampling option: said when a run that does not take it is given it
TAKEN_BY = {"sampler": "diffusion", "sample_steps": "diffusion", "guidance": "conditional diffusion",
            "temperature": "autoregressive", "top_k": "autoregressive text",
            "prompt": "autoregressive text runs and captioned", "length": "autoregressive text and music",
            "given": "image diffusion, VAE, PixelCNN and music", "mask": "image diffusion, VAE, PixelCNN and music",
            "label": "conditional"}


class Checks:
    """The checks every family shares; they read ``self.config``, ``self.train_data`` and the
    family's ``SAMPLE_OPTIONS``."""

    def check_options(self, options):
        """Refuse sampling options this run does not take, naming them and what it takes (an
        option given as None is not given)."""
        options = {k: v for k, v in options.items() if v is not None}
        config = self.config
        needs = {"label": config.conditional, "guidance": config.conditional or config.captions}
        if self.CAPTIONS is not None:          # a family that can learn from captions: --prompt is for them
            needs["prompt"] = config.captions
        for name in sorted(set(options) & {k for k, ok in needs.items() if not ok}):
            why = ("captioned (trained with --captions): ask with --prompt 'a seven'" if config.captions else
                   "not conditional (it was trained without --conditional)" if name != "prompt" else
                   "not captioned (it was trained without --captions)")
            raise NotImplementedError(f"--{name}: this {config.family} run is {why}")
        takes = [k for k in self.SAMPLE_OPTIONS if needs.get(k, True)]
        for name in sorted(set(options) - set(takes)):
            flags = ", ".join(flag(k) for k in ["n", "seed", *takes])
            raise NotImplementedError(f"{flag(name)}: is for {TAKEN_BY.get(name, 'other')} runs; this "
                                      f"{config.family} ({config.model}) run samples with {flags}")

    def condition(self, n, label=None, prompt=None, null=False):
        """What each of n samples is drawn for, a host array, or None for a run without a condition:
        a conditional run's classes (``sample_labels``; ``null``: C, "no label", for all); a captioned
        run's word ids (n, 5) of ``prompt``, one caption or a list of n; without one the digits in
        turn, "a zero", "a one", ...; the empty prompt or ``null``: the empty caption, "no caption"."""
        if self.config.conditional:
            return backend.host.asarray([self.train_data.num_classes] * n if null else self.sample_labels(n, label),
                                        dtype="int64")
        if not self.config.captions:
            return None
        prompts = [""] * n if null else [prompt] * n if prompt is None or isinstance(prompt, str) else list(prompt)
        if len(prompts) != n:
            raise ValueError(f"--prompt: one caption, or a list of one per sample ({n}), got {len(prompts)}")
        digits, inks, slants = zip(*[(k % 10, None, None) if p is None else captions.parse(p)
                                     for k, p in enumerate(prompts)])
        return captions.tokens(digits, inks, slants)

    def training_examples(self):
        """How many training examples a batch is drawn from (--batch-size may not pass it): the
        training split's items; a corpus's places to start a window (story.py)."""
        return len(self.train_data)

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

    def check_labels(self, labels, n, where, required=True):
        """The labels of n examples as an int64 host array (N,), or None for an unconditional run
        (or, ``required`` False, a conditional one given none). Refused: labels for an unconditional
        run, none for a conditional one, or anything but one class 0..C-1 per example."""
        family = self.config.family
        if not self.config.conditional:
            if labels is not None:
                raise ValueError(f"{family} {where}: labels are for a run trained with --conditional; "
                                 f"this one is not")
            return None
        classes = self.train_data.num_classes
        if labels is None:
            if required:
                raise ValueError(f"{family} {where}: this run is conditional (trained with --conditional): "
                                 f"give labels, one class from 0 to {classes - 1} per example")
            return None
        try:
            ys = [operator.index(k) for k in labels]
        except TypeError:
            ys = None
        if ys is None or len(ys) != n or not all(0 <= k < classes for k in ys) or isinstance(labels, str):
            raise ValueError(f"{family} {where}: labels must be {n} integers from 0 to {classes - 1} "
                             f"(one per example), got {reprlib.repr(labels)}")
        return backend.host.asarray(ys, dtype="int64")

    def check_images(self, images, where):
        """Images (N, C, H, W) like the run's data, in its own values, as a float32 host array;
        refused when shaped otherwise, or not 0/1 for binary data."""
        shape = tuple(getattr(images, "shape", ()))
        want = tuple(self.train_data.shape)
        if len(shape) != 4 or shape[1:] != want:
            raise ValueError(f"{self.config.family} {where}: expected images of shape "
                             f"(N, {', '.join(map(str, want))}) in the data's own values, got {shape or images!r}")
        images = backend.host.asarray(images, dtype="float32")
        if self.train_data.binary and not ((images == 0) | (images == 1)).all():
            raise ValueError(f"{self.config.family} {where}: {self.config.data} images are binary; "
                             f"pixels must be 0 or 1")
        return images


def check_network_labels(net, labels, conditional):
    """A conditional network needs the labels (N,) of its inputs, an unconditional one takes none:
    either mistake refused, naming the network (``net``: the module, or its name)."""
    name = net if isinstance(net, str) else type(net).__name__
    if conditional and labels is None:
        raise ValueError(f"{name}: this network is conditional; it needs labels (N,), the class of each input")
    if not conditional and labels is not None:
        raise ValueError(f"{name}: this network is unconditional (trained without --conditional); "
                         f"it takes no labels")


def check_weight(value, name, what, zero):
    """A weight (guidance's W, reconstruction guidance's w): a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ValueError(f"{name}: {what} must be a number >= 0 ({zero}), got {value!r}")


def flag(option):
    """A keyword of ``sample`` as its command-line flag: top_k -> --top-k."""
    return "--" + option.replace("_", "-")

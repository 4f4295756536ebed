"""Module, Parameter and Sequential: how a network finds, moves and saves its weights.

A Module is an ordinary Python object. Its parameters are the ``Parameter`` attributes it
holds; its children are the ``Module`` attributes it holds (also inside plain lists and
tuples). Nothing is declared twice: ``self.fc = Linear(2, 3)`` is enough for
``named_parameters()`` to yield ``fc.weight`` and ``fc.bias``, by walking the attributes
in the order they were set. Buffers (state that is saved but not trained, like
BatchNorm's running statistics) are plain Tensors named with ``register_buffer``.
"""
from collections import OrderedDict, namedtuple

from minigen import backend
from minigen.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module trains: requires_grad=True, floating point.

    ``Parameter(t)`` shares t's array (no copy) and keeps its dtype and device; anything
    else (a list, a NumPy array) goes through ``mg.tensor``'s rules (float32 by default).
    A Parameter is a Tensor, so it works wherever a Tensor does; results of operations on
    it are plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            super().__init__(data.data, requires_grad=requires_grad, dtype=data.dtype)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


# what load_state_dict(strict=False) returns, as in PyTorch
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """The base class of every layer and model: subclasses set attributes in __init__
    (calling ``super().__init__()`` first) and define ``forward``; ``module(x)`` calls it."""

    def __init__(self):
        self.training = True
        self._buffers = {}  # buffer name -> persistent (saved in state_dict) or not

    def __getattr__(self, name):
        # only called when normal lookup fails: explain the usual cause
        if name in ("training", "_buffers"):
            raise AttributeError(f"{type(self).__name__} has no {name!r}: does its __init__ call "
                                 "super().__init__() before setting attributes?")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ----- what the module holds -----
    def register_buffer(self, name, tensor, persistent=True):
        """Attach a Tensor that is moved by to() and, if persistent, saved in state_dict(),
        but is not a parameter (no gradient, not seen by optimizers)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._buffers[name] = persistent
        setattr(self, name, tensor)

    def _own(self, kind):
        """(name, value) for this module's own parameters (kind Parameter) or children (Module),
        in the order the attributes were set; lists and tuples are looked into (name.0, name.1...)."""
        for name, value in vars(self).items():
            if isinstance(value, kind):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, kind):
                        yield f"{name}.{i}", item

    def named_children(self):
        """(name, module) for each direct child. Like every listing below, an iterator (as in PyTorch)."""
        return self._own(Module)

    def children(self):
        return (m for _, m in self.named_children())

    def named_modules(self, prefix=""):
        """(dotted name, module) for this module ('') and every module below it, each once."""
        seen = set()

        def visit(module, name):
            if id(module) in seen:
                return
            seen.add(id(module))
            yield name, module
            for child_name, child in module.named_children():
                yield from visit(child, f"{name}.{child_name}" if name else child_name)

        return visit(self, prefix)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self):
        """(dotted name, Parameter) for every parameter, this module's own first, then each
        child's (as PyTorch orders them). A parameter shared by two modules appears once."""
        seen = set()
        for prefix, module in self.named_modules():
            for name, p in module._own(Parameter):
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self):
        return (p for _, p in self.named_parameters())

    def named_buffers(self):
        for prefix, module in self.named_modules():
            for name in module._buffers:
                value = getattr(module, name)
                if value is not None:
                    yield (f"{prefix}.{name}" if prefix else name), value

    def buffers(self):
        return (b for _, b in self.named_buffers())

    # ----- modes and housekeeping -----
    def train(self, mode=True):
        """Training mode (Dropout drops, BatchNorm uses batch statistics), for every module below."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        """Forget every parameter's gradient (``.grad = None``, as PyTorch does by default)."""
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, flag=True):
        """Freeze (False) or unfreeze (True) every parameter, e.g. a GAN's discriminator."""
        for p in self.parameters():
            p.requires_grad = bool(flag)
        return self

    def apply(self, fn):
        """Call fn(module) on every child (recursively), then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----- moving and casting -----
    def to(self, device=None, dtype=None):
        """Move (and/or cast) every parameter, gradient and buffer **in place**; returns self.

        ``module.to('cuda')``, ``module.to(dtype=mg.float64)``, ``module.to(mg.float64)``.
        The Parameter objects stay the same (only their ``.data`` is swapped), so an
        optimizer built before the move keeps working. Only floating tensors are cast.
        """
        if device is not None and not _looks_like_device(device):
            device, dtype = None, device
        device = None if device is None else backend.normalize_device(device)
        dtype = None if dtype is None else backend.dtype(dtype)

        def convert(array):
            if device is not None:
                array = backend.to_device(array, device)
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype, copy=False)
            return array

        for t in [*self.parameters(), *self.buffers()]:
            t.data = convert(t.data)
            if t.grad is not None:
                t.grad = Tensor._make(convert(t.grad.data), False)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def double(self):
        return self.to(dtype="float64")

    def float(self):
        return self.to(dtype="float32")

    # ----- saving and loading -----
    def _saved_tensors(self):
        """Dotted name -> the live Tensor, for every parameter and persistent buffer; per
        module, parameters then buffers (PyTorch's order)."""
        tensors = OrderedDict()
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, p in module._own(Parameter):
                tensors[dot + name] = p
            for name, persistent in module._buffers.items():
                if persistent and getattr(module, name) is not None:
                    tensors[dot + name] = getattr(module, name)
        return tensors

    def state_dict(self):
        """An ordered dict: dotted name -> Tensor (detached, sharing memory with the module)."""
        return OrderedDict((name, t.detach()) for name, t in self._saved_tensors().items())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (Tensors or arrays) into this module's parameters and buffers, in place.

        Everything is checked first: missing keys and unexpected keys (when ``strict``) and
        shape mismatches (always) are listed together in one error, and then nothing has been
        changed. Values are copied onto each tensor's device and cast to its dtype.
        Returns (missing_keys, unexpected_keys).
        """
        own = self._saved_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems, arrays = [], {}
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value.data if isinstance(value, Tensor) else value
            array = backend.to_device(array, target.device)
            if array.dtype.kind not in "biuf":
                problems.append(f"{name}: a value of dtype {array.dtype} is not numeric")
            elif tuple(array.shape) != tuple(target.shape):
                problems.append(f"{name}: shape {tuple(array.shape)} in the state dict, "
                                f"{tuple(target.shape)} in the model")
            else:
                arrays[name] = array

        if strict and unexpected:
            problems.insert(0, "unexpected keys: " + ", ".join(unexpected))
        if strict and missing:
            problems.insert(0, "missing keys: " + ", ".join(missing))
        if problems:
            raise RuntimeError(f"load_state_dict: error(s) loading into {type(self).__name__} "
                               "(nothing was changed):\n  " + "\n  ".join(problems))

        for name, array in arrays.items():
            own[name].data[...] = array  # in place: same array object, cast to its dtype
        return IncompatibleKeys(missing, unexpected)

    # ----- printing -----
    def extra_repr(self):
        """The text inside the parentheses, e.g. 'in_features=2, out_features=3, bias=True'."""
        return ""

    def __repr__(self):
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [self.extra_repr()] if self.extra_repr() else []
        lines += [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _looks_like_device(value):
    return isinstance(value, str) and (value == "cpu" or value.startswith("cuda"))


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``.

    The children are named '0', '1', ... (so parameters are '0.weight', '0.bias', ...).
    Indexable (an int gives a module, a slice a new Sequential), iterable, and has a len.
    """

    def __init__(self, *modules):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: expected a Module, got {type(module).__name__}")
        setattr(self, str(len(self)), module)
        return self

    def __len__(self):
        return len(list(self.children()))

    def __iter__(self):
        return self.children()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*list(self.children())[index])
        return list(self.children())[index]

    def forward(self, x):
        for module in self:
            x = module(x)
        return x

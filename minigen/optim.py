"""Optimizers, gradient clipping, a learning-rate schedule and an exponential moving average.

Every update here works on raw arrays: ``p.data`` (the parameter's NumPy or CuPy array) is
changed in place from ``p.grad.data``, using only array arithmetic, so no graph is recorded
and the same code runs on either device. State (momentum, Adam's moments) lives in arrays
of the parameter's own dtype and device: float32 parameters keep float32 state.

The formulas follow PyTorch's torch.optim, written out in each docstring. Notation:
theta a parameter, g its gradient, lr the learning rate, t the step count (1 on the first
step), lambda the weight decay.

    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()
"""
import contextlib
import math

from minigen import backend
from minigen.autograd import enable_grad
from minigen.tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm_", "WarmupCosine",
           "warmup_cosine", "EMA"]


def _param_list(params, where):
    """The parameters as a list of leaf Tensors, each once, in the order given."""
    if isinstance(params, Tensor):
        params = [params]
    elif isinstance(params, dict):
        raise TypeError(f"{where}: parameter groups (dicts) are not supported; pass an iterable of "
                        "Tensors such as model.parameters()")
    out, seen = [], set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: parameter {i} is a {type(p).__name__}, not a minigen Tensor")
        if id(p) in seen:  # a shared (tied) weight listed twice is updated once
            continue
        seen.add(id(p))
        if p._ctx is not None:
            raise ValueError(f"{where}: parameter {i} (shape {p.shape}) is not a leaf: it was "
                             "computed from other tensors; optimize the leaves it came from")
        if p.dtype.kind != "f":
            raise TypeError(f"{where}: parameter {i} has dtype {p.dtype}; only floating tensors "
                            "can be optimized")
        if not getattr(p.data.flags, "writeable", True):
            raise ValueError(f"{where}: parameter {i} (shape {p.shape}) holds a read-only array; "
                             "make the tensor from a copy")
        out.append(p)
    return out


def _check(where, name, value, low, high=None, high_open=False):
    """Raise ValueError unless low <= value (<= or <) high."""
    ok = value >= low and (high is None or (value < high if high_open else value <= high))
    if not ok:
        bound = "" if high is None else f" and {'<' if high_open else '<='} {high}"
        raise ValueError(f"{where}: {name} must be >= {low}{bound}, got {value}")


def _array_like(value, like, what):
    """``value`` (a Tensor, NumPy or CuPy array) as a new array with ``like``'s device and dtype."""
    if isinstance(value, Tensor):
        value = value.data
    if tuple(value.shape) != tuple(like.shape):
        raise ValueError(f"{what}: the saved array has shape {tuple(value.shape)}, "
                         f"the parameter has {tuple(like.shape)}")
    device = backend.device_of(like)
    with backend.device_context(device):
        return backend.to_device(value, device).astype(like.dtype, copy=True)


class Optimizer:
    """The parameters, their per-parameter state, and the bookkeeping every optimizer shares.

    A subclass lists its hyperparameters in ``hyper`` (``lr`` first) and writes
    ``_update(p, g, state)``: change the array ``p`` in place given the gradient array
    ``g``; ``state`` is that parameter's dict (empty before its first update). Parameters
    whose ``.grad`` is None are skipped, as in PyTorch. ``lr`` is a plain attribute, which
    schedules such as WarmupCosine set before each step.
    """

    hyper = ("lr",)

    def __init__(self, params, **hyper):
        name = type(self).__name__
        self.params = _param_list(params, name)
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list")
        for key, value in hyper.items():
            setattr(self, key, value)
        self.state = [{} for _ in self.params]

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: ``.grad = None`` (or a zero tensor with set_to_none=False)."""
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                with backend.device_context(p.device):
                    p.grad = Tensor._make(p.xp.zeros_like(p.data), False)

    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure`` (optional) recomputes
        and returns the loss, running backward itself; its value is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            with backend.device_context(p.device):
                self._update(p.data, p.grad.data, state)
        return loss

    def _update(self, p, g, state):
        raise NotImplementedError

    # ----- checkpoints -----
    def state_dict(self):
        """A snapshot: {'type', 'hyper': {...}, 'state': {'0': {'step': int, array...}, ...}}.

        Arrays are copies (later steps do not change a saved state dict); parameters are
        numbered in the order the optimizer was given them. mg.save can store it as is.
        """
        state = {}
        for i, st in enumerate(self.state):
            if st:
                state[str(i)] = {k: (v.copy() if backend.is_array(v) else v) for k, v in st.items()}
        hyper = {k: getattr(self, k) for k in self.hyper}
        return {"type": type(self).__name__, "hyper": hyper, "state": state}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters, step counts and moment arrays from ``state_dict()``
        (arrays may be NumPy, CuPy or Tensors; they are copied to each parameter's device
        and dtype), so that a resumed run continues with identical numbers."""
        name = type(self).__name__
        saved = state_dict.get("type")
        if saved != name:
            raise ValueError(f"{name}.load_state_dict: the state dict is from {saved}, not {name}")
        hyper = state_dict["hyper"]
        missing = [k for k in self.hyper if k not in hyper]
        if missing:
            raise ValueError(f"{name}.load_state_dict: hyperparameters missing: {missing}")
        entries = state_dict["state"]
        for key in entries:
            if not (key.isdigit() and int(key) < len(self.params)):
                raise ValueError(f"{name}.load_state_dict: state for parameter {key!r}, but this "
                                 f"optimizer has {len(self.params)} parameters")
        new_state = []
        for i, p in enumerate(self.params):
            saved_state = entries.get(str(i), {})
            new_state.append({k: (_array_like(v, p.data, f"{name}.load_state_dict: parameter {i} {k}")
                                  if k != "step" else int(v))
                              for k, v in saved_state.items()})
        for k in self.hyper:
            value = hyper[k]
            setattr(self, k, tuple(float(b) for b in value) if isinstance(value, (list, tuple))
                    else float(value))
        self.state = new_state

    def __repr__(self):
        hyper = ", ".join(f"{k}={getattr(self, k)}" for k in self.hyper)
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay (PyTorch's form).

        g <- g + lambda * theta                    (when weight_decay = lambda > 0)
        b <- g                                     (first step, when momentum = mu > 0)
        b <- mu * b + g                            (later steps)
        theta <- theta - lr * b                    (theta - lr * g without momentum)

    The momentum buffer b is a running sum, not an average: with mu = 0.9 a constant
    gradient moves theta about 10x as far per step as plain SGD.
    """

    hyper = ("lr", "momentum", "weight_decay")

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        _check("SGD", "lr", lr, 0.0)
        _check("SGD", "momentum", momentum, 0.0)
        _check("SGD", "weight_decay", weight_decay, 0.0)
        super().__init__(params, lr=float(lr), momentum=float(momentum),
                         weight_decay=float(weight_decay))


    def _update(self, p, g, state):
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if wd != 0:
            decayed = p * wd  # a new array: the gradient itself is never written to
            decayed += g
            g = decayed
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.astype(p.dtype, copy=True)
            else:
                buf *= mu
                buf += g
            g = buf
        _subtract_scaled(p, g, lr)


_BLOCK = 1 << 17  # elements: 512 KiB of float32, a block that stays in cache


def _subtract_scaled(p, g, scale):
    """p -= scale * g, a block of rows at a time.

    ``g * scale`` needs a temporary (g is the user's .grad and is not written to). Whole, it
    is as large as the biggest weight, and it sets the peak memory of a training step (the
    step's gradients are all alive at that moment); in blocks it is a small array that stays
    in cache. On a GPU this is a handful of kernel launches per weight.
    """
    rows = _BLOCK // max(1, p[0].size) if p.ndim else 0
    if rows == 0 or rows >= len(p):
        p -= g * scale
        return
    for start in range(0, len(p), rows):
        p[start:start + rows] -= g[start:start + rows] * scale


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with L2 weight decay added to the gradient, as torch.optim.Adam.

        g <- g + lambda * theta                    (when weight_decay = lambda > 0)
        m <- beta1 * m + (1 - beta1) * g           first moment, m = 0 before step 1
        v <- beta2 * v + (1 - beta2) * g^2         second moment, v = 0 before step 1
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)      bias correction
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)

    Written as PyTorch computes it: theta -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
    With L2 decay the decay term is rescaled by 1/sqrt(v_hat) like any gradient; AdamW
    decouples it. The step count t is kept per parameter (it counts that parameter's updates).
    """

    hyper = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        where = type(self).__name__
        _check(where, "lr", lr, 0.0)
        _check(where, "betas[0]", betas[0], 0.0, 1.0, high_open=True)
        _check(where, "betas[1]", betas[1], 0.0, 1.0, high_open=True)
        _check(where, "eps", eps, 0.0)
        _check(where, "weight_decay", weight_decay, 0.0)
        super().__init__(params, lr=float(lr), betas=(float(betas[0]), float(betas[1])),
                         eps=float(eps), weight_decay=float(weight_decay))

    def _decay(self, p, g):
        """Adam: L2 decay joins the gradient (g + lambda theta, a new array)."""
        if self.weight_decay == 0:
            return g
        decayed = p * self.weight_decay
        decayed += g
        return decayed

    def _update(self, p, g, state):
        xp = backend.array_module(p)
        beta1, beta2 = self.betas
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p)
            state["exp_avg_sq"] = xp.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        g = self._decay(p, g)
        tmp = xp.empty_like(p)  # the one scratch array of the step
        xp.multiply(g, 1.0 - beta1, out=tmp)
        m *= beta1
        m += tmp                                    # m = beta1 m + (1 - beta1) g
        xp.multiply(g, g, out=tmp)
        tmp *= 1.0 - beta2
        v *= beta2
        v += tmp                                    # v = beta2 v + (1 - beta2) g^2
        xp.sqrt(v, out=tmp)
        tmp /= math.sqrt(1.0 - beta2 ** t)
        tmp += self.eps                             # sqrt(v_hat) + eps
        xp.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1.0 - beta1 ** t)         # lr m_hat / (sqrt(v_hat) + eps)
        p -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as torch.optim.AdamW.

        theta <- theta - lr * lambda * theta       decay first, outside the adaptive scaling
        m, v, m_hat, v_hat as in Adam, from the raw gradient g
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)

    Every weight shrinks by the same factor (1 - lr lambda) per step, however large or
    small its gradients; the default lambda is 0.01, as in PyTorch.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _decay(self, p, g):
        """AdamW: shrink theta in place; the gradient is left as it is."""
        if self.weight_decay != 0:
            p *= 1.0 - self.lr * self.weight_decay
        return g


def clip_grad_norm_(params, max_norm):
    """Scale all gradients together so that their joint L2 norm is at most ``max_norm``.

        total = sqrt(sum over parameters of sum(g^2))
        g <- g * min(1, max_norm / (total + 1e-6))

    Returns ``total`` (the norm before clipping) as a 0-d Tensor, as PyTorch does.
    Parameters without a gradient are skipped. Clipped gradients are new arrays: a
    gradient array may be shared between tensors, so it is never scaled in place. A
    non-finite total is returned as it is and turns the gradients into nan (as in
    PyTorch): check the returned norm to skip such a step.
    """
    _check("clip_grad_norm_", "max_norm", max_norm, 0.0)
    params = _param_list(params, "clip_grad_norm_")
    with_grad = [p for p in params if p.grad is not None]
    if not with_grad:
        return Tensor(0.0)
    xp = with_grad[0].grad.xp
    grads = [p.grad.data for p in with_grad]
    squares = _sum_of_squares(xp, grads)
    # g^2 can underflow into subnormals or overflow while g is finite: then the norm is taken of
    # g / max|g| and scaled back. Every choice here is made on the device (xp.where, xp.minimum),
    # never by an `if` on a value: on a GPU, that would make the host wait, at every step.
    largest = xp.max(xp.stack([xp.abs(g).max() for g in grads]))
    scale = xp.where((largest > 0) & (largest < math.inf), largest, 1)
    rescaled = xp.sqrt(_sum_of_squares(xp, [g / scale.astype(g.dtype) for g in grads])) * scale
    in_range = (squares >= xp.finfo(squares.dtype).tiny) & (squares < math.inf)
    total = xp.where(in_range, xp.sqrt(squares), rescaled.astype(squares.dtype))
    factor = xp.minimum(max_norm / (total + 1e-6), 1.0)   # nan stays nan, and spreads like PyTorch's
    for p in with_grad:
        g = p.grad.data
        p.grad = Tensor._make(g * factor.astype(g.dtype), False)
    return Tensor._make(backend.as_array(total), False)


def _sum_of_squares(xp, arrays):
    """The sum of every element squared, over several arrays (0-d, of their dtype)."""
    squares = None
    for a in arrays:
        flat = a.ravel()
        s = xp.vdot(flat, flat)
        squares = s if squares is None else squares + s
    return squares


def warmup_cosine(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    """The learning rate for step ``step`` (0 for the first optimizer step):

        base_lr * (step + 1) / warmup_steps                          step < warmup_steps
        min_lr + (base_lr - min_lr) * (1 + cos(pi * progress)) / 2   warmup_steps <= step < total_steps
        min_lr                                                        step >= total_steps

    with progress = (step - warmup_steps) / (total_steps - warmup_steps). The warmup
    reaches base_lr on its last step (no step is wasted at lr 0); the cosine starts from
    base_lr, passes (base_lr + min_lr) / 2 halfway, and ends at min_lr.
    """
    if step >= total_steps:
        return float(min_lr)
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


class WarmupCosine:
    """Linear warmup then cosine decay of ``optimizer.lr`` (see ``warmup_cosine``).

    The optimizer's lr when the schedule is made is the peak (base_lr). Making the
    schedule sets lr for step 0; call ``step()`` after each ``optimizer.step()``:

        sched = WarmupCosine(opt, warmup_steps=100, total_steps=1000)
        for it in range(1000):
            ...; opt.step(); opt.zero_grad(); sched.step()
    """

    def __init__(self, optimizer, warmup_steps, total_steps, min_lr=0.0):
        _check("WarmupCosine", "warmup_steps", warmup_steps, 0)
        _check("WarmupCosine", "total_steps", total_steps, max(warmup_steps, 1))
        _check("WarmupCosine", "min_lr", min_lr, 0.0, optimizer.lr)
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)
        self.min_lr = float(min_lr)
        self.last_step = 0
        optimizer.lr = self.get_lr()

    def get_lr(self, step=None):
        """The learning rate at ``step`` (default: the current one, the lr the optimizer has)."""
        step = self.last_step if step is None else step
        return warmup_cosine(step, self.base_lr, self.warmup_steps, self.total_steps, self.min_lr)

    def step(self):
        """Move to the next step and set the optimizer's lr for it; returns that lr."""
        self.last_step += 1
        self.optimizer.lr = self.get_lr()
        return self.optimizer.lr

    def state_dict(self):
        return {"base_lr": self.base_lr, "warmup_steps": self.warmup_steps,
                "total_steps": self.total_steps, "min_lr": self.min_lr, "last_step": self.last_step}

    def load_state_dict(self, state_dict):
        self.base_lr = float(state_dict["base_lr"])
        self.warmup_steps = int(state_dict["warmup_steps"])
        self.total_steps = int(state_dict["total_steps"])
        self.min_lr = float(state_dict["min_lr"])
        self.last_step = int(state_dict["last_step"])
        self.optimizer.lr = self.get_lr()


class EMA:
    """An exponential moving average of a module's parameters (a "shadow" copy).

        shadow <- decay * shadow + (1 - decay) * theta      after each optimizer step

    The shadow starts as a copy of the parameters; with decay 0.999 it averages over
    roughly the last 1 / (1 - decay) = 1000 steps. Diffusion models and GANs are usually
    sampled from these averaged weights, which are smoother than the last iterate:

        ema = EMA(model, decay=0.999)
        ...; opt.step(); ema.update()
        with ema.average_parameters():        # or ema.copy_to(sampling_model)
            samples = model.sample(...)

    Only parameters are averaged (buffers such as BatchNorm statistics stay the module's).
    ``module`` is anything with ``named_parameters()`` yielding (name, Tensor).
    """

    def __init__(self, module, decay=0.999):
        _check("EMA", "decay", decay, 0.0, 1.0)
        self.module = module
        self.decay = float(decay)
        self.num_updates = 0
        self.shadow = {}
        for name, p in module.named_parameters():
            with backend.device_context(p.device):
                self.shadow[name] = p.data.copy()
        if not self.shadow:
            raise ValueError("EMA: the module has no parameters")

    def _pairs(self, module, where):
        """(shadow array, parameter) for each of ``module``'s parameters, names checked."""
        module = self.module if module is None else module
        named = list(module.named_parameters())
        names = [name for name, _ in named]
        if sorted(names) != sorted(self.shadow):
            extra = sorted(set(names) - set(self.shadow))
            missing = sorted(set(self.shadow) - set(names))
            raise ValueError(f"EMA.{where}: the module's parameters differ from the averaged ones "
                             f"(not averaged: {extra}; missing from the module: {missing})")
        pairs = []
        for name, p in named:
            s = self.shadow[name]
            if s.shape != p.shape:
                raise ValueError(f"EMA.{where}: {name} has shape {p.shape}, "
                                 f"the average has {s.shape}")
            pairs.append((s, p))
        return pairs

    def update(self, module=None):
        """Fold the current parameters into the average (in place, one temporary each)."""
        d = self.decay
        for s, p in self._pairs(module, "update"):
            with backend.device_context(p.device):
                s *= d
                s += p.data * (1.0 - d)
        self.num_updates += 1

    def copy_to(self, module=None):
        """Overwrite the parameters of ``module`` (default: the tracked one) with the average."""
        for s, p in self._pairs(module, "copy_to"):
            p.data[...] = s

    @contextlib.contextmanager
    def average_parameters(self, module=None):
        """Use the averaged weights inside a ``with`` block; the trained ones come back after."""
        pairs = self._pairs(module, "average_parameters")
        saved = [p.data.copy() for _, p in pairs]
        for s, p in pairs:
            p.data[...] = s
        try:
            yield
        finally:
            for original, (_, p) in zip(saved, pairs):
                p.data[...] = original

    def state_dict(self):
        """{'decay', 'num_updates', 'shadow': {name: array (a copy)}}: mg.save can store it."""
        return {"decay": self.decay, "num_updates": self.num_updates,
                "shadow": {name: s.copy() for name, s in self.shadow.items()}}

    def load_state_dict(self, state_dict):
        """Restore the average (arrays may be NumPy, CuPy or Tensors) and its counters."""
        shadow = state_dict["shadow"]
        if sorted(shadow) != sorted(self.shadow):
            raise ValueError(f"EMA.load_state_dict: saved names {sorted(shadow)} differ from the "
                             f"module's {sorted(self.shadow)}")
        self.shadow = {name: _array_like(shadow[name], s, f"EMA.load_state_dict: {name}")
                       for name, s in self.shadow.items()}
        self.decay = float(state_dict["decay"])
        self.num_updates = int(state_dict["num_updates"])

"""Tensor: an array (NumPy or CuPy), its gradient, and the Function that made it."""
from minigen import backend

NUMERIC_KINDS = "biuf"  # bool, int, unsigned, float: no strings, objects or complex
DEFAULT_DTYPE = backend.dtype("float32")


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    ``data`` is the raw xp array, ``grad`` a Tensor (or None) filled by ``backward()``,
    ``_ctx`` the Function that produced this tensor (None for leaves and constants; a
    stand-in that raises if used, once backward() has freed the graph).
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "__weakref__")
    __array_ufunc__ = None  # make `ndarray + tensor` call Tensor.__radd__ instead of NumPy's loop

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        if isinstance(data, Tensor):
            data = data.data
        if device is None and backend.is_array(data):
            device = backend.device_of(data)
        device = backend.normalize_device(device)
        xp = backend.xp_for(device)
        with backend.device_context(device):
            array = xp.asarray(backend.to_device(data, device) if backend.is_array(data) else data)
            dtype = backend.dtype(DEFAULT_DTYPE if array.dtype.kind == "f" else array.dtype) \
                if dtype is None else backend.dtype(dtype)
            for what, kind in (("data of dtype", array.dtype), ("dtype=", dtype)):
                if kind.kind not in NUMERIC_KINDS:
                    raise TypeError(f"tensor: {what}{'' if what.endswith('=') else ' '}{kind} (shape "
                                    f"{array.shape}) is not numeric; a Tensor holds booleans, integers or real floats")
            array = array.astype(dtype, copy=False)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(f"tensor: requires_grad=True needs a floating dtype, got {array.dtype} "
                            f"(shape {array.shape}); pass dtype='float32' or 'float64'")
        self.data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None

    @classmethod
    def _make(cls, array, requires_grad):
        """Wrap an xp array without checks or copies (the hot path of every op)."""
        t = object.__new__(cls)
        t.data = array
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        return t

    @classmethod
    def _const(cls, array):
        """Wrap an array an op computed for its backward (a mask, a weight) as a constant.

        NumPy's arithmetic on 0-d arrays returns scalars (numpy.float64, numpy.bool_), not
        arrays: those are made 0-d arrays again, so that a 0-d tensor's backward works too.
        """
        return cls._make(backend.as_array(array), False)

    # ----- what it is -----
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return backend.device_of(self.data)

    @property
    def xp(self):
        """The array module (numpy or cupy) of this tensor's data."""
        return backend.array_module(self.data)

    @property
    def T(self):
        return ops.transpose(self)

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        """The sub-tensors along the first axis, t[0], t[1], ... (each differentiable)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        body = backend.array_repr(self.data, prefix="tensor(")
        extras = "" if self.dtype == DEFAULT_DTYPE else f", dtype={self.dtype}"
        extras += "" if self.device == "cpu" else f", device='{self.device}'"
        if self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    # ----- leaving the graph, changing place -----
    def numpy(self):
        """A numpy.ndarray on the host (a copy from the GPU, the array itself on the CPU)."""
        return backend.to_host(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor has an item; this one has shape {self.shape}")
        return backend.to_host(self.data).reshape(()).item()

    def __float__(self):
        return float(self.item())

    def __bool__(self):
        """Truth of a one-element tensor; ambiguous (an error) for more, as in NumPy and PyTorch."""
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with shape {self.shape} is ambiguous; "
                             "use (t).all().item() or (t).any() style reductions explicitly")
        return bool(self.item())

    def detach(self):
        """The same data, cut from the graph (no copy)."""
        return Tensor._make(self.data, False)

    def to(self, device):
        """This tensor on ``device``: itself when already there, else a differentiable copy."""
        return ops.to_device(self, backend.normalize_device(device))

    def cpu(self):
        return self.to("cpu")

    def astype(self, dtype):
        return ops.cast(self, backend.dtype(dtype))

    def requires_grad_(self, flag=True):
        if flag and self.dtype.kind != "f":
            raise TypeError(f"requires_grad_: needs a floating dtype, got {self.dtype}")
        self.requires_grad = flag
        return self

    # ----- autograd -----
    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``grad`` is d(loss)/d(self); it may be omitted only when self is a scalar.
        """
        if not self.requires_grad:
            raise RuntimeError(f"backward: this tensor (shape {self.shape}) does not require grad; "
                               "no input it was computed from has requires_grad=True")
        if grad is None:
            autograd._require_scalar(self, "backward")
            grad = ones_like(self)
        elif not isinstance(grad, Tensor):
            grad = Tensor(grad, dtype=self.dtype, device=self.device)
        if grad.shape != self.shape:
            raise ValueError(f"backward: grad has shape {grad.shape}, the tensor has {self.shape}")
        autograd.backprop([self], [grad], create_graph, retain_graph)

    # ----- arithmetic (NumPy broadcasting) -----
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # comparisons give boolean tensors with no gradient (masks for mg.where)
    def __lt__(self, other):
        return ops.compare(self, other, "less")

    def __le__(self, other):
        return ops.compare(self, other, "less_equal")

    def __gt__(self, other):
        return ops.compare(self, other, "greater")

    def __ge__(self, other):
        return ops.compare(self, other, "greater_equal")

    def __eq__(self, other):
        return ops.compare(self, other, "equal")

    def __ne__(self, other):
        return ops.compare(self, other, "not_equal")

    __hash__ = object.__hash__

    # ----- methods -----
    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def tanh(self):
        return ops.tanh(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def relu(self):
        return ops.relu(self)

    def abs(self):
        return ops.abs(self)

    def sum(self, axis=None, keepdims=False):
        return ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.mean(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return ops.var(self, axis, keepdims, ddof)

    def max(self, axis=None, keepdims=False):
        return ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return ops.min(self, axis, keepdims)

    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def transpose(self, *axes):
        return ops.transpose(self, *axes)


# ----- constructors (the public mg.tensor, mg.zeros, ...) -----
def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new leaf tensor holding a copy of ``data`` (as torch.tensor copies).

    Float data defaults to float32; integer and boolean data keep their dtype.
    """
    if isinstance(data, Tensor):
        data = data.data
    if backend.is_array(data):
        data = data.copy()
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _filled(fill, shape, dtype, device, requires_grad):
    device = backend.normalize_device(device)
    xp = backend.xp_for(device)
    with backend.device_context(device):
        array = fill(xp, _shape(shape), backend.dtype(dtype or DEFAULT_DTYPE))
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype, device=device)


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    return _filled(lambda xp, s, d: xp.zeros(s, d), shape, dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    return _filled(lambda xp, s, d: xp.ones(s, d), shape, dtype, device, requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False):
    """Standard normal samples from the device's generator (seeded by mg.manual_seed)."""
    def fill(xp, s, d):
        return backend.generator(backend.normalize_device(device)).standard_normal(s, dtype=d)
    return _filled(fill, shape, dtype, device, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1) from the device's generator."""
    def fill(xp, s, d):
        return backend.generator(backend.normalize_device(device)).random(s, dtype=d)
    return _filled(fill, shape, dtype, device, requires_grad)


def arange(start, stop=None, step=1, dtype=None, device=None):
    """Like numpy.arange; integer arguments give an int64 tensor unless a dtype is given."""
    device = backend.normalize_device(device)
    xp = backend.xp_for(device)
    with backend.device_context(device):
        array = xp.arange(start, stop, step) if stop is not None else xp.arange(start)
    return Tensor(array, dtype=dtype, device=device)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(*t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(*t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


from minigen import autograd, ops  # noqa: E402  (ops build Tensors; Tensor methods call ops)

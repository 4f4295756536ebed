"""Ops that move values around without arithmetic: each backward moves the gradient back."""
from minigen import backend
from minigen.autograd import Function, OpError
from minigen.tensor import Tensor


def _shape_arg(shape):
    """reshape(2, 3) and reshape((2, 3)) both mean (2, 3)."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def normalize_axes(axis, ndim, name):
    """None -> all axes; int or tuple -> a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise OpError(f"{name}: axis {a} is out of range for a tensor with {ndim} dims")
    return tuple(sorted(a % ndim for a in axes))


class Reshape(Function):
    saves_inputs = False

    def forward(self, x, shape):
        order = None if x.flags.c_contiguous else memory_order(x)
        self.order = None if order == tuple(range(x.ndim)) else order   # None: C order, nothing to undo
        return x.reshape(shape)

    def backward(self, gy):
        """Reshape back to the input's shape, laid out in memory as the input was.

        A convolution's output is channels-last in memory, seen as (N, C, H, W); flattening it
        for a Linear layer reads it in C, H, W order, so its gradient comes back C, H, W-ordered.
        Elementwise products between the two orders (the ReLU's gate before the flatten) read
        one of them with a stride, 10x slower here than copying the gradient into the image's
        order first, which this does (and the layers below then read it as they wrote it)."""
        g = reshape(gy, self.shapes[0])
        if self.order is None:
            return g
        return transpose(Contiguous.apply(transpose(g, *self.order)), *_inverse(self.order))


def memory_order(x):
    """x's axes from the outermost in memory (largest stride) to the innermost."""
    return tuple(sorted(range(x.ndim), key=lambda a: -abs(x.strides[a])))


class Contiguous(Function):
    """A C-contiguous copy (the gradient passes straight through)."""

    saves_inputs = False

    def forward(self, x):
        return self.xp.ascontiguousarray(x)

    def backward(self, gy):
        """A copy is the identity."""
        return gy


class Transpose(Function):
    saves_inputs = False

    def forward(self, x, axes):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, gy):
        """Permute back with the inverse permutation."""
        return transpose(gy, *_inverse(self.axes))


def _inverse(axes):
    """The permutation that undoes ``axes``."""
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return tuple(inverse)


class BroadcastTo(Function):
    saves_inputs = False

    def forward(self, x, shape):
        return self.xp.broadcast_to(x, shape)

    def backward(self, gy):
        """Every copy made by broadcasting sends its gradient back: sum over the copies."""
        return sum_to(gy, self.shapes[0])


class SumTo(Function):
    saves_inputs = False

    def forward(self, x, shape):
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
        return x.sum(axis=axes, keepdims=True).reshape(shape)

    def backward(self, gy):
        """sum_to is the adjoint of broadcast_to: broadcast the gradient back."""
        return broadcast_to(gy, self.shapes[0])


class GetItem(Function):
    saves_inputs = False

    def forward(self, x, index):
        self.index = index
        return x[index]

    def backward(self, gy):
        """Each selected element gets its gradient back; repeated indices add up."""
        return ScatterAdd.apply(gy, shape=self.shapes[0], index=self.index)


class ScatterAdd(Function):
    """zeros(shape) with ``values`` added at ``index``: the adjoint of x[index]."""

    saves_inputs = False

    def forward(self, values, shape, index):
        self.index = index
        out = self.xp.zeros(shape, values.dtype)
        if _has_array(index):
            backend.scatter_add(out, index, values)
        else:  # slices and ints never repeat a position: plain assignment is enough
            out[index] = values
        return out

    def backward(self, gy):
        """The adjoint of scatter-add is gather: gy[index]."""
        return GetItem.apply(gy, index=self.index)


class Concat(Function):
    saves_inputs = False

    def forward(self, *xs, axis):
        self.axis = axis
        return self.xp.concatenate(xs, axis=axis)

    def backward(self, gy):
        """Each input gets back its own slab of the gradient along ``axis``."""
        grads, start = [], 0
        for shape in self.shapes:
            stop = start + shape[self.axis]
            grads.append(gy[(slice(None),) * self.axis + (slice(start, stop),)])
            start = stop
        return tuple(grads)


class Pad(Function):
    saves_inputs = False

    def forward(self, x, pad_width, value):
        """The constant, then x copied into the middle. The result is laid out in memory in
        x's axis order, so a channels-last image stays channels-last for the convolution
        that reads it next."""
        self.pad_width = pad_width
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, pad_width))
        order = memory_order(x)                                              # outermost axis first
        out = self.xp.zeros([shape[a] for a in order], dtype=x.dtype).transpose(_inverse(order))
        if value != 0:
            out.fill(value)
        out[self._middle(shape)] = x
        return out

    def _middle(self, shape):
        return tuple(slice(lo, n - hi) for (lo, hi), n in zip(self.pad_width, shape))

    def backward(self, gy):
        """Padding adds constants: the gradient is the un-padded middle of gy."""
        return gy[self._middle(gy.shape)]


def _has_array(index):
    return any(backend.is_array(i) for i in index) if isinstance(index, tuple) else backend.is_array(index)


def _normalize_index(index, x):
    """Tensors and lists in an index become arrays on x's device; boolean masks become
    integer arrays (so scatter-add can use them); integer arrays are checked to lie in their
    axis (backend.check_indices: CuPy would wrap them around)."""
    parts = index if isinstance(index, tuple) else (index,)
    named = sum(1 for p in parts if p is not None and p is not Ellipsis)
    out, axis = [], 0
    for part in parts:
        if isinstance(part, Tensor):
            part = part.data
        elif isinstance(part, list) or (backend.is_array(part) and backend.array_module(part) is not x.xp):
            part = backend.to_device(part, x.device)
        if backend.is_array(part) and part.dtype.kind == "b":
            out.extend(part.nonzero())
            axis += part.ndim
            continue
        if backend.is_array(part) and part.dtype.kind not in "iu":
            raise OpError(f"getitem: array indices must be integers or booleans, got {part.dtype}")
        if backend.is_array(part) and axis < x.ndim:
            backend.check_indices(part, x.shape[axis], f"getitem: axis {axis} of a tensor with shape {x.shape}")
        out.append(part)
        axis += x.ndim - named if part is Ellipsis else part is not None
    return tuple(out) if isinstance(index, tuple) or len(out) > 1 else out[0]


def _normalize_pad_width(pad_width, ndim):
    """numpy.pad's forms (n, (n,), (lo, hi), ((lo, hi), ...)) -> ((lo, hi),) * ndim."""
    if isinstance(pad_width, int):
        return ((pad_width, pad_width),) * ndim
    pw = tuple(pad_width)
    if all(isinstance(p, int) for p in pw):
        lo, hi = (pw[0], pw[0]) if len(pw) == 1 else pw
        return ((lo, hi),) * ndim
    pairs = tuple((p[0], p[0]) if len(p) == 1 else (p[0], p[1]) for p in pw)
    if len(pairs) == 1:
        return pairs * ndim
    if len(pairs) != ndim:
        raise OpError(f"pad: pad_width has {len(pairs)} pairs for a tensor with {ndim} dims")
    return pairs


def reshape(x, *shape):
    shape = _shape_arg(shape)
    return x if x.shape == shape else Reshape.apply(x, shape=shape)


def transpose(x, *axes):
    """Permute axes; with no axes, reverse them (like NumPy's .T)."""
    ndim = x.data.ndim
    given = _shape_arg(axes) or tuple(range(ndim - 1, -1, -1))
    axes = tuple([a % ndim if -ndim <= a < ndim else ndim for a in given])
    if sorted(axes) != list(range(ndim)):
        raise OpError(f"transpose: axes {given} are not a permutation of a tensor with shape {x.shape}")
    return Transpose.apply(x, axes=axes)


def broadcast_to(x, shape):
    shape = tuple(shape)
    return x if x.shape == shape else BroadcastTo.apply(x, shape=shape)


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (the reverse of broadcasting ``shape`` up to x.shape)."""
    shape = tuple(shape)
    return x if x.shape == shape else SumTo.apply(x, shape=shape)


def getitem(x, index):
    return GetItem.apply(x, index=_normalize_index(index, x))


def concat(tensors, axis=0):
    tensors = list(tensors)
    if not tensors:
        raise OpError("concat: needs at least one tensor")
    ndim = tensors[0].ndim
    axis = normalize_axes(axis, ndim, "concat")[0]
    return Concat.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Stack along a new axis: insert a size-1 axis in each, then concat."""
    tensors = list(tensors)
    if not tensors:
        raise OpError("stack: needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise OpError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    ndim = tensors[0].ndim + 1
    axis = normalize_axes(axis, ndim, "stack")[0]
    return concat([reshape(t, t.shape[:axis] + (1,) + t.shape[axis:]) for t in tensors], axis)


def pad(x, pad_width, value=0.0):
    """Constant padding; ``pad_width`` as numpy.pad takes it."""
    return Pad.apply(x, pad_width=_normalize_pad_width(pad_width, x.ndim), value=value)

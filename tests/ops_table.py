"""THE table of minigen's differentiable operations, listed once, driving every op test.

Each row names one public operation (a primitive, an operator form, or a composite of
minigen.functional) and gives, side by side:

    fn      the minigen call:        fn(*tensors, **kwargs)
    inputs  a hypothesis strategy:   -> (tuple of float64 arrays to differentiate, kwargs)
    numpy   an independent NumPy reference of the forward pass: numpy(*arrays, **kwargs)
    torch   the PyTorch equivalent:  torch(*torch_tensors, **kwargs)  (torch imported lazily)

kwargs carry what is not differentiated: axes, flags, integer indices, boolean masks.
The inputs are drawn where the op is smooth (see strategies.py), so that first and second
derivatives can be checked by central differences (test_gradients.py), compared with
PyTorch (test_torch_parity.py) and the forward pass with NumPy in float32 and float64
(test_forward.py).
"""
import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from hypothesis import strategies as st

import minigen as mg
import minigen.functional as F
from minigen import ops
import strategies as S

torch = None  # set by load_torch(); the torch lambdas below read these globals when called
TF = None


def load_torch(module):
    """Give the table the torch module (test_torch_parity.py imports it with importorskip)."""
    global torch, TF
    torch = module
    TF = module.nn.functional


@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable
    inputs: object  # a hypothesis strategy of (arrays, kwargs)
    numpy: Callable
    torch: Callable
    # Extra kwargs for the references that only minigen can supply (dropout's mask):
    # ref_extra(tensors, kwargs) -> dict.
    ref_extra: Optional[Callable] = None

    def __repr__(self):
        return self.name


OPS = []


def op(name, fn, inputs, numpy, torch, **extra):
    OPS.append(Op(name, fn, inputs, numpy, torch, **extra))


def just(*strategies, **kwargs):
    """(arrays, kwargs) from one strategy per array and plain kwargs."""
    return st.tuples(*strategies).map(lambda arrays: (arrays, dict(kwargs)))


# ----- strategies shared by several rows -----
def any_shape():
    """0 to 4 dims: elementwise ops must work on 0-d tensors (a loss is one) too."""
    return S.shapes(min_dims=0)


def unary(elements=None):
    """One array of any small shape."""
    return any_shape().flatmap(lambda s: just(S.arrays(s, elements)))


def unary_nonzero():
    return any_shape().flatmap(lambda s: just(S.nonzero_arrays(s)))


def unary_positive():
    return any_shape().flatmap(lambda s: just(S.positive_arrays(s)))


def binary(b_elements=None, a_elements=None):
    """Two arrays of broadcast-compatible shapes."""
    return S.broadcastable_shapes().flatmap(
        lambda ss: just(S.arrays(ss[0], a_elements), S.arrays(ss[1], b_elements)))


def separated_binary():
    return S.broadcastable_shapes().flatmap(
        lambda ss: S.separated_pair(*ss).map(lambda ab: (ab, {})))


@st.composite
def reduction(draw, values=S.arrays, with_ddof=False):
    shape = draw(any_shape())
    x = draw(values(shape))
    axis = draw(S.axes(len(shape)))
    kwargs = {"axis": axis, "keepdims": draw(st.booleans())}
    if with_ddof:  # ddof = 1 only where at least 2 values are reduced: n - ddof > 0 by construction
        kwargs["ddof"] = draw(st.integers(0, 1)) if S.reduced_count(shape, axis) > 1 else 0
    return (x,), kwargs


def torch_dims(x, axis):
    return tuple(range(x.ndim)) if axis is None else axis


# ----- elementwise arithmetic: + - * / ** (tensor and scalar, both sides), unary - -----
op("add", lambda a, b: a + b, binary(), np.add, lambda a, b: a + b)
op("add_scalar", lambda x: x + 1.5, unary(), lambda x: x + 1.5, lambda x: x + 1.5)
op("radd_scalar", lambda x: 1.5 + x, unary(), lambda x: 1.5 + x, lambda x: 1.5 + x)
op("sub", lambda a, b: a - b, binary(), np.subtract, lambda a, b: a - b)
op("sub_scalar", lambda x: x - 0.25, unary(), lambda x: x - 0.25, lambda x: x - 0.25)
op("rsub_scalar", lambda x: 2.0 - x, unary(), lambda x: 2.0 - x, lambda x: 2.0 - x)
op("mul", lambda a, b: a * b, binary(), np.multiply, lambda a, b: a * b)
op("mul_scalar", lambda x: x * 3.0, unary(), lambda x: x * 3.0, lambda x: x * 3.0)
op("rmul_scalar", lambda x: -2.5 * x, unary(), lambda x: -2.5 * x, lambda x: -2.5 * x)
op("div", lambda a, b: a / b, binary(b_elements=S.nonzero_floats(0.5)), np.divide, lambda a, b: a / b)
op("div_scalar", lambda x: x / 4.0, unary(), lambda x: x / 4.0, lambda x: x / 4.0)
op("rdiv_scalar", lambda x: 3.0 / x, any_shape().flatmap(lambda s: just(S.nonzero_arrays(s, 0.5))),
   lambda x: 3.0 / x, lambda x: 3.0 / x)
# Exponents away from 0: at b == 0 exactly PyTorch masks the gradient of a (a `where` on
# b == 0), which drops the mixed second derivative d2/da db = a ** (b - 1) there.
op("pow", lambda a, b: a ** b,
   binary(a_elements=S.floats(0.5, 2.0), b_elements=S.nonzero_floats(0.1, 2.0)),
   np.power, lambda a, b: a ** b)
op("pow_scalar_int", lambda x: x ** 3, unary(), lambda x: x ** 3, lambda x: x ** 3)
op("pow_scalar_fraction", lambda x: x ** 2.5, unary_positive(), lambda x: x ** 2.5, lambda x: x ** 2.5)
op("pow_scalar_negative", lambda x: x ** -1.5, unary_positive(), lambda x: x ** -1.5, lambda x: x ** -1.5)
op("rpow_scalar", lambda x: 2.0 ** x, unary(), lambda x: 2.0 ** x, lambda x: 2.0 ** x)
op("neg", lambda x: -x, unary(), np.negative, lambda x: -x)

# ----- matmul: 1-D on either side, 2-D, batched with broadcasting -----
SIDE = st.integers(1, 3)


@st.composite
def matmul_inputs(draw, kind):
    n, k, m = draw(SIDE), draw(SIDE), draw(SIDE)
    if kind == "vector_vector":
        sa, sb = (k,), (k,)
    elif kind == "vector_matrix":
        sa, sb = (k,), (k, m)
    elif kind == "matrix_vector":
        sa, sb = (n, k), (k,)
    elif kind == "matrix_matrix":
        sa, sb = (n, k), (k, m)
    else:  # batched: batch shapes broadcast; sometimes one side is a plain matrix or vector
        ba, bb = draw(S.broadcastable_shapes(max_dims=2, max_size=4))
        sa, sb = ba + (n, k), bb + (k, m)
        side = draw(st.sampled_from(["both", "matrix_left", "vector_left", "vector_right"]))
        if side == "matrix_left":
            sa = (n, k)
        elif side == "vector_left":
            sa = (k,)
        elif side == "vector_right":
            sb = (k,)
    return (draw(S.arrays(sa)), draw(S.arrays(sb))), {}


for _kind in ["vector_vector", "vector_matrix", "matrix_vector", "matrix_matrix", "batched"]:
    op(f"matmul_{_kind}", lambda a, b: a @ b, matmul_inputs(_kind), np.matmul, lambda a, b: a @ b)

_LEFT = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])  # a constant on the left: ndarray @ Tensor
op("rmatmul_array", lambda b: _LEFT @ b,
   st.integers(1, 3).flatmap(lambda m: just(S.arrays((3, m)))),
   lambda b: _LEFT @ b, lambda b: torch.as_tensor(_LEFT, dtype=b.dtype) @ b)

# ----- elementwise functions (methods) -----
op("exp", lambda x: x.exp(), unary(), np.exp, lambda x: x.exp())
op("log", lambda x: x.log(), unary_positive(), np.log, lambda x: x.log())
op("sqrt", lambda x: x.sqrt(), unary_positive(), np.sqrt, lambda x: x.sqrt())
op("tanh", lambda x: x.tanh(), unary(), np.tanh, lambda x: x.tanh())
op("ops.sin", ops.sin, unary(), np.sin, lambda x: torch.sin(x))
op("ops.cos", ops.cos, unary(), np.cos, lambda x: torch.cos(x))
op("sigmoid", lambda x: x.sigmoid(), unary(), lambda x: 1 / (1 + np.exp(-x)), lambda x: x.sigmoid())
op("relu", lambda x: x.relu(), unary_nonzero(), lambda x: np.maximum(x, 0), lambda x: x.relu())
op("abs", lambda x: x.abs(), unary_nonzero(), np.abs, lambda x: x.abs())

# ----- reductions -----
op("sum", lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims), reduction(),
   lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
   lambda x, axis, keepdims: x.sum(dim=torch_dims(x, axis), keepdim=keepdims))
op("mean", lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims), reduction(),
   lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
   lambda x, axis, keepdims: x.mean(dim=torch_dims(x, axis), keepdim=keepdims))
op("var", lambda x, axis, keepdims, ddof: x.var(axis=axis, keepdims=keepdims, ddof=ddof),
   reduction(with_ddof=True),
   lambda x, axis, keepdims, ddof: np.var(x, axis=axis, keepdims=keepdims, ddof=ddof),
   lambda x, axis, keepdims, ddof: x.var(dim=torch_dims(x, axis), keepdim=keepdims, correction=ddof))
op("max", lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims), reduction(S.distinct_arrays),
   lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
   lambda x, axis, keepdims: torch.amax(x, dim=torch_dims(x, axis), keepdim=keepdims))
op("min", lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims), reduction(S.distinct_arrays),
   lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
   lambda x, axis, keepdims: torch.amin(x, dim=torch_dims(x, axis), keepdim=keepdims))


# ----- shape -----
@st.composite
def reshape_inputs(draw):
    shape = draw(any_shape())
    size = math.prod(shape)
    target = draw(st.sampled_from([(size,), (1, size), tuple(reversed(shape)), (-1,) + shape[1:],
                                   shape + (1,)]))
    return (draw(S.arrays(shape)),), {"shape": target}


@st.composite
def transpose_inputs(draw):
    shape = draw(any_shape())
    axes = tuple(draw(st.permutations(range(len(shape)))))
    axes = tuple(a - len(shape) if draw(st.booleans()) else a for a in axes)  # negative axes too
    return (draw(S.arrays(shape)),), {"axes": axes}


op("reshape", lambda x, shape: x.reshape(*shape), reshape_inputs(),
   lambda x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape))
op("transpose", lambda x, axes: x.transpose(*axes), transpose_inputs(),
   lambda x, axes: x.transpose(axes), lambda x, axes: x.permute(axes))
op("transpose_reversed", lambda x: x.transpose(), unary(), lambda x: x.transpose(),
   lambda x: x.permute(tuple(reversed(range(x.ndim)))))
op("T", lambda x: x.T, unary(), lambda x: x.T, lambda x: x.permute(tuple(reversed(range(x.ndim)))))


def torch_index(index):
    if isinstance(index, tuple):
        return tuple(torch_index(i) for i in index)
    return torch.as_tensor(index) if isinstance(index, np.ndarray) else index


@st.composite
def getitem_inputs(draw, kind):
    shape = draw(S.shapes())
    if kind == "basic":
        index = draw(S.basic_indices(shape))
    elif kind == "advanced":
        index = draw(S.advanced_indices(shape))
    else:  # a boolean mask over the leading dims
        lead = draw(st.integers(1, len(shape)))
        index = np.array(draw(st.lists(st.booleans(), min_size=math.prod(shape[:lead]),
                                       max_size=math.prod(shape[:lead])))).reshape(shape[:lead])
    return (draw(S.arrays(shape)),), {"index": index}


for _kind in ["basic", "advanced", "mask"]:
    op(f"getitem_{_kind}", lambda x, index: x[index], getitem_inputs(_kind),
       lambda x, index: x[index], lambda x, index: x[torch_index(index)])
op("getitem_reversed_slice", lambda x: x[::-2], S.shapes().flatmap(lambda s: just(S.arrays(s))),
   lambda x: x[::-2], lambda x: x.flip(0)[::2])  # PyTorch has no negative steps: flip, then step


@st.composite
def concat_inputs(draw, new_axis):
    shape = list(draw(S.shapes(max_dims=3, max_size=12)))
    count = draw(st.integers(1, 3))
    if new_axis:
        axis = draw(st.integers(-len(shape) - 1, len(shape)))
        arrays = [draw(S.arrays(tuple(shape))) for _ in range(count)]
    else:
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        arrays = []
        for _ in range(count):
            shape[axis] = draw(st.integers(1, 3))
            arrays.append(draw(S.arrays(tuple(shape))))
    return tuple(arrays), {"axis": axis}


op("concat", lambda *xs, axis: mg.concat(xs, axis=axis), concat_inputs(False),
   lambda *xs, axis: np.concatenate(xs, axis=axis), lambda *xs, axis: torch.cat(xs, dim=axis))
op("stack", lambda *xs, axis: mg.stack(xs, axis=axis), concat_inputs(True),
   lambda *xs, axis: np.stack(xs, axis=axis), lambda *xs, axis: torch.stack(xs, dim=axis))


@st.composite
def where_inputs(draw):
    sc, sa, sb = draw(S.broadcastable_shapes(count=3))
    size = math.prod(sc)
    cond = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))).reshape(sc)
    return (draw(S.arrays(sa)), draw(S.arrays(sb))), {"cond": cond}


op("where", lambda a, b, cond: mg.where(cond, a, b), where_inputs(),
   lambda a, b, cond: np.where(cond, a, b), lambda a, b, cond: torch.where(torch.as_tensor(cond), a, b))
op("maximum", mg.maximum, separated_binary(), np.maximum, lambda a, b: torch.maximum(a, b))
op("minimum", mg.minimum, separated_binary(), np.minimum, lambda a, b: torch.minimum(a, b))


@st.composite
def pad_inputs(draw):
    shape = draw(S.shapes(max_dims=3, max_size=12))
    return ((draw(S.arrays(shape)),),
            {"pad_width": draw(S.pad_widths(len(shape))), "value": draw(st.sampled_from([0.0, -1.5]))})


def torch_pad(x, pad_width, value):
    pairs = S.normalized_pad_width(pad_width, x.ndim)
    flat = [n for pair in reversed(pairs) for n in pair]  # torch: last dim first
    return TF.pad(x, flat, value=value)


op("F.pad", lambda x, pad_width, value: F.pad(x, pad_width, value=value), pad_inputs(),
   lambda x, pad_width, value: np.pad(x, pad_width, constant_values=value), torch_pad)


# ----- activations (minigen.functional) -----
def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_gelu(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


op("F.relu", F.relu, unary_nonzero(), lambda x: np.maximum(x, 0), lambda x: TF.relu(x))
op("F.leaky_relu", lambda x, slope: F.leaky_relu(x, negative_slope=slope),
   any_shape().flatmap(lambda s: st.tuples(S.nonzero_arrays(s), st.sampled_from([0.01, 0.2])).map(
       lambda xs: ((xs[0],), {"slope": xs[1]}))),
   lambda x, slope: np.where(x > 0, x, slope * x), lambda x, slope: TF.leaky_relu(x, slope))
op("F.leaky_relu_default", F.leaky_relu, unary_nonzero(), lambda x: np.where(x > 0, x, 0.01 * x),
   lambda x: TF.leaky_relu(x))
op("F.gelu", F.gelu, unary(S.floats(-4, 4)), np_gelu, lambda x: TF.gelu(x, approximate="tanh"))
op("F.silu", F.silu, unary(S.floats(-4, 4)), lambda x: x * np_sigmoid(x), lambda x: TF.silu(x))
op("F.sigmoid", F.sigmoid, unary(S.floats(-4, 4)), np_sigmoid, lambda x: torch.sigmoid(x))
op("F.tanh", F.tanh, unary(), np.tanh, lambda x: torch.tanh(x))
op("F.softplus", F.softplus, unary(S.floats(-4, 4)), lambda x: np.logaddexp(0, x), lambda x: TF.softplus(x))


@st.composite
def along_axis(draw, with_keepdims=False, allow_none=False):
    shape = draw(S.shapes())
    x = draw(S.arrays(shape, S.floats(-3, 3)))
    if with_keepdims:
        return (x,), {"axis": draw(S.axes(len(shape), allow_none)), "keepdims": draw(st.booleans())}
    return (x,), {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


def np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=tuple(range(x.ndim)) if axis is None else axis)


def np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


op("F.softmax", lambda x, axis: F.softmax(x, axis=axis), along_axis(), np_softmax,
   lambda x, axis: torch.softmax(x, dim=axis))
op("F.log_softmax", lambda x, axis: F.log_softmax(x, axis=axis), along_axis(),
   lambda x, axis: x - np_logsumexp(x, axis, keepdims=True), lambda x, axis: torch.log_softmax(x, dim=axis))
op("F.logsumexp", lambda x, axis, keepdims: F.logsumexp(x, axis=axis, keepdims=keepdims),
   along_axis(with_keepdims=True, allow_none=True), np_logsumexp,
   lambda x, axis, keepdims: torch.logsumexp(x, dim=torch_dims(x, axis), keepdim=keepdims))


# ----- layers as functions -----
@st.composite
def linear_inputs(draw):
    lead = draw(S.shapes(min_dims=0, max_dims=2, max_size=4))
    n_in, n_out = draw(SIDE), draw(SIDE)
    arrays = [draw(S.arrays(lead + (n_in,))), draw(S.arrays((n_out, n_in)))]
    if draw(st.booleans()):
        arrays.append(draw(S.arrays((n_out,))))
    return tuple(arrays), {}


op("F.linear", F.linear, linear_inputs(),
   lambda x, w, b=None: x @ w.T + (0 if b is None else b), lambda *a: TF.linear(*a))


@st.composite
def conv_inputs(draw, transpose):
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    if transpose:  # output (H - 1) * stride - 2 * padding + kh must be >= 1
        h = draw(st.integers(1, 3))
        w_ = draw(st.integers(1, 3))
        while (h - 1) * stride + kh <= 2 * padding or (w_ - 1) * stride + kw <= 2 * padding:
            padding -= 1  # by construction: shrink the padding until an output is left
        weight_shape = (c_in, c_out, kh, kw)
    else:  # the padded input must hold the kernel
        h = draw(st.integers(max(1, kh - 2 * padding), 4))
        w_ = draw(st.integers(max(1, kw - 2 * padding), 4))
        weight_shape = (c_out, c_in, kh, kw)
    arrays = [draw(S.arrays((n, c_in, h, w_))), draw(S.arrays(weight_shape))]
    if draw(st.booleans()):
        arrays.append(draw(S.arrays((c_out,))))
    return tuple(arrays), {"stride": stride, "padding": padding}


def np_conv2d(x, w, b=None, stride=1, padding=0):
    """Direct convolution: one dot product per output pixel (no im2col)."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, c_out, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    return out if b is None else out + b[None, :, None, None]


def np_conv_transpose2d(x, w, b=None, stride=1, padding=0):
    """Each input pixel paints w, scaled by its value, at stride spacing; then crop padding."""
    n, _, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    out = np.zeros((n, c_out, (h - 1) * stride + kh, (wd - 1) * stride + kw), dtype=x.dtype)
    for i in range(h):
        for j in range(wd):
            out[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += \
                np.einsum("nc,cokl->nokl", x[:, :, i, j], w)
    out = out[:, :, padding:out.shape[2] - padding, padding:out.shape[3] - padding]
    return out if b is None else out + b[None, :, None, None]


op("F.conv2d", F.conv2d, conv_inputs(False), np_conv2d,
   lambda x, w, b=None, stride=1, padding=0: TF.conv2d(x, w, b, stride=stride, padding=padding))
op("F.conv_transpose2d", F.conv_transpose2d, conv_inputs(True), np_conv_transpose2d,
   lambda x, w, b=None, stride=1, padding=0: TF.conv_transpose2d(x, w, b, stride=stride, padding=padding))


@st.composite
def pool_inputs(draw, values):
    kernel = draw(st.integers(1, 2))
    stride = draw(st.sampled_from([None, 1, 2]))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)),
             draw(st.integers(kernel, 4)), draw(st.integers(kernel, 4)))
    return (draw(values(shape)),), {"kernel_size": kernel, "stride": stride}


def np_pool(reduce):
    def pool(x, kernel_size, stride=None):
        stride = kernel_size if stride is None else stride
        n, c, h, w = x.shape
        oh, ow = (h - kernel_size) // stride + 1, (w - kernel_size) // stride + 1
        out = np.zeros((n, c, oh, ow), dtype=x.dtype)
        for i in range(oh):
            for j in range(ow):
                window = x[:, :, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
                out[:, :, i, j] = reduce(window, axis=(2, 3))
        return out
    return pool


op("F.max_pool2d", F.max_pool2d, pool_inputs(S.distinct_arrays), np_pool(np.max),
   lambda x, kernel_size, stride=None: TF.max_pool2d(x, kernel_size, stride))
op("F.avg_pool2d", F.avg_pool2d, pool_inputs(S.arrays), np_pool(np.mean),
   lambda x, kernel_size, stride=None: TF.avg_pool2d(x, kernel_size, stride))


@st.composite
def embedding_inputs(draw):
    num, dim = draw(st.integers(1, 5)), draw(SIDE)
    index_shape = draw(S.shapes(max_dims=2, max_size=6))
    size = math.prod(index_shape)
    indices = np.array(draw(st.lists(st.integers(0, num - 1), min_size=size, max_size=size)),
                       dtype=np.int64).reshape(index_shape)
    return (draw(S.arrays((num, dim))),), {"indices": indices}


op("F.embedding", lambda w, indices: F.embedding(indices, w), embedding_inputs(),
   lambda w, indices: w[indices], lambda w, indices: TF.embedding(torch.as_tensor(indices), w))


def dropout_mask(tensors, kwargs):
    """The mask F.dropout draws under this seed, for this dtype and device: drop ones through it."""
    x = tensors[0]
    mg.manual_seed(kwargs["seed"])
    with mg.no_grad():
        kept = F.dropout(mg.ones(*x.shape, dtype=x.dtype, device=x.device), kwargs["p"]).numpy() != 0
    return {"keep": kept}


def mg_dropout(x, p, seed):
    mg.manual_seed(seed)  # the same mask on every call: a fixed function of x
    return F.dropout(x, p=p, training=True)


op("F.dropout", mg_dropout,
   any_shape().flatmap(lambda s: st.tuples(S.arrays(s), st.sampled_from([0.25, 0.5]), S.seeds()).map(
       lambda a: ((a[0],), {"p": a[1], "seed": a[2]}))),
   lambda x, p, seed, keep: np.where(keep, x / (1 - p), 0.0),
   lambda x, p, seed, keep: x * torch.as_tensor(keep, dtype=x.dtype) / (1 - p),
   ref_extra=dropout_mask)


@st.composite
def layer_norm_inputs(draw):
    shape = draw(S.shapes(max_dims=3, min_side=1))
    arrays = [draw(S.arrays(shape))]
    if draw(st.booleans()):
        arrays.append(draw(S.arrays(shape[-1:])))
        if draw(st.booleans()):
            arrays.append(draw(S.arrays(shape[-1:])))
    return tuple(arrays), {}


def np_layer_norm(x, weight=None, bias=None):
    y = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    return y * (1 if weight is None else weight) + (0 if bias is None else bias)


op("F.layer_norm", F.layer_norm, layer_norm_inputs(), np_layer_norm,
   lambda x, *wb: TF.layer_norm(x, x.shape[-1:], *wb, eps=1e-5))


# ----- losses -----
@st.composite
def cross_entropy_inputs(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    targets = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.int64)
    return (draw(S.arrays((n, c), S.floats(-3, 3))),), {"targets": targets}


def np_cross_entropy(logits, targets):
    log_p = logits - np_logsumexp(logits, axis=1, keepdims=True)
    return -np.mean(log_p[np.arange(len(targets)), targets])


op("F.cross_entropy", lambda x, targets: F.cross_entropy(x, targets), cross_entropy_inputs(),
   np_cross_entropy, lambda x, targets: TF.cross_entropy(x, torch.as_tensor(targets)))
op("F.cross_entropy(reduction='none')", lambda x, targets: F.cross_entropy(x, targets, reduction="none"),
   cross_entropy_inputs(),
   lambda x, targets: -(x - np_logsumexp(x, axis=1, keepdims=True))[np.arange(len(targets)), targets],
   lambda x, targets: TF.cross_entropy(x, torch.as_tensor(targets), reduction="none"))
op("F.cross_entropy(reduction='sum')", lambda x, targets: F.cross_entropy(x, targets, reduction="sum"),
   cross_entropy_inputs(), lambda x, targets: np_cross_entropy(x, targets) * len(targets),
   lambda x, targets: TF.cross_entropy(x, torch.as_tensor(targets), reduction="sum"))
op("F.binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
   any_shape().flatmap(lambda s: just(S.arrays(s, S.floats(-4, 4)), S.arrays(s, S.floats(0, 1)))),
   lambda x, z: np.mean(np.logaddexp(0, x) - z * x),
   lambda x, z: TF.binary_cross_entropy_with_logits(x, z))
op("F.binary_cross_entropy_with_logits(reduction='none')",
   lambda x, z: F.binary_cross_entropy_with_logits(x, z, reduction="none"),
   any_shape().flatmap(lambda s: just(S.arrays(s, S.floats(-4, 4)), S.arrays(s, S.floats(0, 1)))),
   lambda x, z: np.logaddexp(0, x) - z * x,
   lambda x, z: TF.binary_cross_entropy_with_logits(x, z, reduction="none"))
op("F.mse_loss", F.mse_loss, any_shape().flatmap(lambda s: just(S.arrays(s), S.arrays(s))),
   lambda a, b: np.mean((a - b) ** 2), lambda a, b: TF.mse_loss(a, b))


@st.composite
def attention_inputs(draw):
    batch = draw(S.shapes(min_dims=0, max_dims=2, max_size=2))
    tq, tk, d, dv = draw(SIDE), draw(SIDE), draw(SIDE), draw(SIDE)
    return ((draw(S.arrays(batch + (tq, d))), draw(S.arrays(batch + (tk, d))),
             draw(S.arrays(batch + (tk, dv)))), {"causal": draw(st.booleans())})


def np_attention(q, k, v, causal=False):
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], dtype=bool)), scores, -np.inf)
    return np_softmax(scores, axis=-1) @ v


def torch_attention(q, k, v, causal=False):
    """PyTorch's math kernel (its fused CPU kernel has no double backward)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    with sdpa_kernel(SDPBackend.MATH):
        return TF.scaled_dot_product_attention(q, k, v, is_causal=causal)


op("F.scaled_dot_product_attention", F.scaled_dot_product_attention, attention_inputs(), np_attention,
   torch_attention)

OPS_BY_NAME = {o.name: o for o in OPS}
assert len(OPS_BY_NAME) == len(OPS), "two rows share a name"

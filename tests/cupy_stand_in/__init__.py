"""A CuPy stand-in for the tests: the part of CuPy's API minigen uses, NumPy underneath, and
CuPy's refusals on top, so that the GPU path can be proven on a machine without a GPU.

It lives under tests/ (never installed: pyproject packages only ``minigen*``) and is activated
only by pytest's ``--cupy-stand-in`` option (tests/conftest.py) or by the runner
``python -m tests.cupy_stand_in minigen ...``: nothing a user sets by accident turns it on.
``install()`` puts it in ``sys.modules["cupy"]`` / ``["cupyx"]``, where ``minigen.backend``'s
lazy ``import cupy`` finds it; backend.py holds no hook for it.

What it copies from CuPy, each with its source (CuPy 13, github.com/cupy/cupy):

- a distinct ``ndarray`` type whose ``__array__`` raises ``TypeError`` -- ``numpy.asarray``,
  ``np.testing``, matplotlib on a device array all fail (cupy/_core/core.pyx,
  ``_ndarray_base.__array__``; docs.cupy.dev/en/stable/user_guide/difference.html);
- elementwise operands must be device arrays or Python/NumPy scalars: a ``numpy.ndarray``
  operand raises ``TypeError: Unsupported type <class 'numpy.ndarray'>`` (cupy/_core/_kernel.pyx
  ``_preprocess_arg``, cupy/_core/_scalar.pyx ``CScalar``). 0-d NumPy arrays are let through, as
  CuPy's ``__array_ufunc__`` passes them on (cupy/_core/core.pyx ``__array_ufunc__``);
- NumPy functions called on device arrays dispatch to CuPy's function of the same name, or raise
  ``TypeError`` when CuPy has none (NEP 18, cupy/_core/core.pyx ``__array_function__``);
- the explicit transfers: ``cupy.asarray`` / ``cupy.array`` (host -> device), ``ndarray.get()`` /
  ``cupy.asnumpy`` (device -> host) (docs.cupy.dev/en/stable/user_guide/basic.html, "Data
  Transfer"); and the reads that wait for the GPU: ``.item()``, ``float()``, ``int()``,
  ``bool()``, ``.tolist()``, ``repr`` (each a ``.get()`` underneath, core.pyx), and boolean-mask
  indexing (its result's size is read from the device, cupy/_core/_routines_indexing.pyx);
- ``cupy.random.default_rng`` returns a ``Generator`` with exactly CuPy's method set -- no
  ``normal``, ``permutation``, ``shuffle`` or ``choice`` (cupy/random/_generator_api.pyx,
  class ``Generator``); every draw returns a device array, a 0-d one when ``size`` is None;
- ``ufunc.at`` / ``cupyx.scatter_add`` refuse dtypes CUDA's atomicAdd lacks: only int32,
  float16, float32, float64, uint32, uint64 (cupy/_core/_routines_indexing.pyx ``_scatter_op``;
  docs.cupy.dev/en/stable/reference/generated/cupyx.scatter_add.html);
- devices are contexts: ``cuda.Device(n)`` (``with`` makes it current; arrays remember
  ``array.device.id``); an ordinal past the device count raises ``CUDARuntimeError``
  (cupy/cuda/device.pyx); ``cuda.runtime.getDeviceCount``, ``deviceSynchronize``,
  ``Device.synchronize``, ``cuda.Stream.null.synchronize`` (cupy_backends/cuda/api/runtime.pyx);
- ``ndarray.flags`` has ``c_contiguous``, ``f_contiguous``, ``owndata`` and no ``writeable``
  (cupy/_core/flags.pyx).

It counts what a real GPU would feel: ``counts["h2d"]`` host -> device copies,
``counts["d2h"]`` device -> host copies, ``counts["sync"]`` reads that wait for the GPU's queue
(``reset_counts()`` zeroes them).
"""
import builtins
import sys
import types
import weakref

import numpy as _np

__version__ = "13.0.0+stand-in"

counts = {"h2d": 0, "d2h": 0, "sync": 0}


def reset_counts():
    for key in counts:
        counts[key] = 0


def install(device_count=1):
    """Make ``import cupy`` / ``import cupyx`` give the stand-in (tests and the runner only)."""
    cuda.runtime._count = int(device_count)
    sys.modules["cupy"] = sys.modules[__name__]
    sys.modules["cupyx"] = cupyx
    return sys.modules[__name__]


IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly.")

_PY_SCALARS = (bool, int, float, complex)


# ----- devices (cupy/cuda/device.pyx, cupy_backends/cuda/api/runtime.pyx) -----
class CUDARuntimeError(RuntimeError):
    """cupy_backends.cuda.api.runtime.CUDARuntimeError."""


class _Runtime:
    CUDARuntimeError = CUDARuntimeError
    _count = 1

    def getDeviceCount(self):
        return self._count

    def deviceSynchronize(self):
        counts["sync"] += 1

    def runtimeGetVersion(self):
        return 12000

    def getDeviceProperties(self, device):
        _check_ordinal(device)
        return {"name": b"CuPy stand-in (NumPy underneath)", "totalGlobalMem": 0,
                "multiProcessorCount": 0, "major": 0, "minor": 0}


_current = [0]     # the stack of current devices; the last is current


def _check_ordinal(n):
    if not 0 <= int(n) < cuda.runtime._count:
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")


class Device:
    """cupy.cuda.Device: a context manager making device ``id`` current."""

    def __init__(self, device=None):
        self.id = _current[-1] if device is None else int(device)

    def __enter__(self):
        _check_ordinal(self.id)
        _current.append(self.id)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False

    def use(self):
        _check_ordinal(self.id)
        _current[-1] = self.id

    def synchronize(self):
        counts["sync"] += 1

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class _Stream:
    def synchronize(self):
        counts["sync"] += 1


class _StreamType:
    null = _Stream()


cuda = types.SimpleNamespace(Device=Device, runtime=_Runtime(), Stream=_StreamType,
                             CUDARuntimeError=CUDARuntimeError,
                             get_device_id=lambda: _current[-1])


# ----- operands -----
def _operand(x):
    """An elementwise operand as NumPy sees it, refusing what CuPy's kernels refuse."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _PY_SCALARS) or isinstance(x, _np.generic):
        return x
    if isinstance(x, _np.ndarray) and x.ndim == 0:
        return x     # CuPy's __array_ufunc__ passes 0-d host arrays on as scalars
    raise TypeError(f"Unsupported type {type(x)}")


def _argument(x):
    """A non-elementwise argument: device arrays unwrapped (in lists and tuples too); host arrays
    (other than 0-d) refused, as CuPy's routines call no implicit host -> device copy."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _np.ndarray):
        if x.ndim == 0:
            return x
        raise TypeError(f"Unsupported type {type(x)}")
    if isinstance(x, (list, tuple)):
        return type(x)(_argument(item) for item in x)
    return x


_owners = weakref.WeakValueDictionary()   # id(numpy array owning its memory) -> its wrapper


def _wrap(result):
    if isinstance(result, _np.ndarray):
        out = object.__new__(ndarray)
        out._a, out._device, out._base = result, _current[-1], None
        if result.base is None:
            _owners[id(result)] = out
        else:
            # a view: its base is the array owning the memory, one object for every view of it
            # (CuPy's views share one `base`, core.pyx _view), kept alive by the view
            root = result
            while isinstance(root.base, _np.ndarray):
                root = root.base
            owner = _owners.get(id(root))
            if owner is None or owner._a is not root:
                owner = _wrap(root) if root.base is None else _wrap(root.copy())
            out._base = owner
        return out
    if isinstance(result, _np.generic):        # CuPy's reductions return 0-d arrays
        return _wrap(_np.asarray(result))
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    if isinstance(result, list):
        return [_wrap(r) for r in result]
    return result


def _to_host_index(key, shape):
    """An index as NumPy takes it: device arrays unwrapped; host index arrays copied up (CuPy
    converts them with cupy.array, a host -> device copy); a boolean mask's result size is
    read from the device (a synchronising read). Out-of-bounds integer array indices wrap
    around, as CuPy's do ("Differences between CuPy and NumPy: Out-of-bounds indices",
    docs.cupy.dev/en/stable/user_guide/difference.html), where NumPy raises IndexError."""
    parts = key if isinstance(key, tuple) else (key,)
    axes_named = builtins.sum(p.ndim if _is_mask(p) else 1 for p in parts if p is not None and p is not Ellipsis)
    out, axis = [], 0
    for part in parts:
        if part is Ellipsis:
            axis += len(shape) - axes_named
            out.append(part)
            continue
        if part is None:
            out.append(part)
            continue
        if isinstance(part, ndarray):
            if part.dtype == _np.bool_:
                counts["sync"] += 1
            part = part._a
        elif isinstance(part, (_np.ndarray, list)):
            counts["h2d"] += 1
            part = _np.asarray(part)
        if isinstance(part, _np.ndarray) and part.dtype.kind in "iu" and axis < len(shape) and shape[axis]:
            part = _np.mod(part, shape[axis])
        out.append(part)
        axis += part.ndim if _is_mask(part) else 1
    return tuple(out) if isinstance(key, tuple) else out[0]


def _is_mask(part):
    return getattr(part, "dtype", None) == _np.bool_


class _Flags:
    """cupy/_core/flags.pyx: c_contiguous, f_contiguous, owndata; no writeable."""

    def __init__(self, a):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = a.flags.owndata

    def __getitem__(self, name):
        return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                "OWNDATA": self.owndata}[name]


_METHODS = {"astype", "reshape", "transpose", "sum", "mean", "var", "std", "max", "min", "argmax",
            "argmin", "copy", "ravel", "flatten", "swapaxes", "repeat", "squeeze", "clip", "cumsum",
            "all", "any", "fill", "view", "take", "dot", "prod", "nonzero", "round", "conj",
            "argsort", "sort", "diagonal", "trace", "ptp"}


class ndarray:
    """cupy.ndarray: values on a (stand-in) device; the host sees them only through get()."""
    __array_priority__ = 100   # NumPy operators defer to ours (core.pyx sets the same)

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = _np.empty(shape, dtype=dtype, order=order)
        self._device, self._base = _current[-1], None
        _owners[id(self._a)] = self

    base = property(lambda self: self._base)

    # attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: _Flags(self._a))
    T = property(lambda self: _wrap(self._a.T))
    real = property(lambda self: _wrap(self._a.real))
    imag = property(lambda self: _wrap(self._a.imag))
    device = property(lambda self: Device(self._device))

    def take(self, indices, axis=None, out=None):
        return take(self, indices, axis)     # noqa: F821 -- defined below

    def __getattr__(self, name):
        if name in _METHODS:
            method = getattr(self._a, name)
            return lambda *args, **kwargs: _wrap(method(*_argument(args),
                                                        **{k: _argument(v) for k, v in kwargs.items()}))
        raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")

    # the refusal and the explicit transfers
    def __array__(self, *args, **kwargs):
        raise TypeError(IMPLICIT)

    def get(self, stream=None, order="C", out=None, blocking=True):
        counts["d2h"] += 1
        counts["sync"] += 1
        return self._a.copy(order=order)

    def set(self, arr, stream=None):
        counts["h2d"] += 1
        self._a[...] = _np.asarray(arr)

    def item(self):
        return self.get().item()

    def tolist(self):
        return self.get().tolist()

    def __float__(self):
        return float(self.get())     # a multi-element array raises there, as NumPy does

    def __int__(self):
        return int(self.get())

    def __complex__(self):
        return complex(self.get())

    def __bool__(self):
        return bool(self.get())

    def __repr__(self):
        return repr(self.get()).replace("array(", "array(", 1)

    def __str__(self):
        return str(self.get())

    def __format__(self, spec):
        return format(self.get() if self.ndim else self.get().item(), spec)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, key):
        return _wrap(self._a[_to_host_index(key, self.shape)])

    def __setitem__(self, key, value):
        if isinstance(value, ndarray):
            value = value._a
        elif isinstance(value, (_np.ndarray, list)):
            counts["h2d"] += 1
        self._a[_to_host_index(key, self.shape)] = value

    # NumPy interop (NEP 13, NEP 18), as cupy/_core/core.pyx
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        mine = globals().get(ufunc.__name__)
        if not isinstance(mine, _Ufunc):
            return NotImplemented
        if "out" in kwargs:
            kwargs["out"] = tuple(_out(o) for o in kwargs["out"])
        if method == "__call__":
            return mine(*inputs, **kwargs)
        if method == "at":
            return mine.at(*inputs)
        return NotImplemented

    def __array_function__(self, func, types_, args, kwargs):
        mine = globals().get(func.__name__)
        if mine is None or not callable(mine):
            return NotImplemented
        return mine(*args, **kwargs)

    def __reduce__(self):
        raise TypeError(IMPLICIT)   # no pickling to the host behind one's back

    def __dlpack__(self, *args, **kwargs):
        raise TypeError(IMPLICIT)


def _out(o):
    if o is None or isinstance(o, ndarray):
        return o
    raise TypeError(f"Output arrays must be cupy.ndarray, not {type(o)}")


# ----- elementwise functions (ufuncs) -----
# cupy.add.at supports what CUDA's atomicAdd supports (cupy/_core/_routines_indexing.pyx)
_ATOMIC_ADD = set("iILQefd")


class _Ufunc:
    def __init__(self, name):
        self.__name__ = name
        self._f = getattr(_np, name)
        self.nin, self.nout = self._f.nin, self._f.nout

    def __call__(self, *args, out=None, **kwargs):
        operands = [_operand(a) for a in args]
        if out is not None:
            outs = out if isinstance(out, tuple) else (out,)
            kwargs["out"] = tuple(_out(o)._a if o is not None else None for o in outs)
            self._f(*operands, **kwargs)
            return out
        return _wrap(self._f(*operands, **kwargs))

    def at(self, a, indices, b=None):
        if not isinstance(a, ndarray):
            raise TypeError(f"Unsupported type {type(a)}")
        if self.__name__ == "add" and a.dtype.char not in _ATOMIC_ADD:
            raise TypeError("cupy.add.at only supports int32, float16, float32, float64, "
                            "uint32, uint64, as data type")
        index = _to_host_index(indices, a.shape)
        args = () if b is None else (_operand(b),)
        self._f.at(a._a, index, *args)

    def reduce(self, a, *args, **kwargs):
        return _wrap(self._f.reduce(_operand(a), *args, **kwargs))

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"


_UFUNCS = ("add subtract multiply divide true_divide floor_divide power negative positive "
           "absolute abs exp exp2 expm1 log log2 log10 log1p sqrt square sin cos tan tanh sinh "
           "cosh arcsin arccos arctan arctan2 arctanh maximum minimum fmax fmin logaddexp sign rint "
           "floor ceil trunc isfinite isnan isinf less less_equal greater greater_equal equal "
           "not_equal logical_and logical_or logical_not logical_xor bitwise_and bitwise_or "
           "bitwise_xor invert remainder mod fmod reciprocal signbit copysign matmul "
           "left_shift right_shift hypot").split()
for _name in _UFUNCS:
    globals()[_name] = _Ufunc(_name)


def _binary(name, reflected=False):
    def op(self, other):
        if not isinstance(other, (ndarray,) + _PY_SCALARS + (_np.generic, _np.ndarray)):
            return NotImplemented
        f = globals()[name]
        return f(other, self) if reflected else f(self, other)
    return op


for _op, _name in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "divide"),
                   ("floordiv", "floor_divide"), ("pow", "power"), ("mod", "remainder"),
                   ("matmul", "matmul"), ("and", "bitwise_and"), ("or", "bitwise_or"),
                   ("xor", "bitwise_xor"), ("lshift", "left_shift"), ("rshift", "right_shift")]:
    setattr(ndarray, f"__{_op}__", _binary(_name))
    setattr(ndarray, f"__r{_op}__", _binary(_name, reflected=True))

    def _inplace(self, other, _name=_name):
        globals()[_name](self, other, out=self)
        return self
    setattr(ndarray, f"__i{_op}__", _inplace)

for _op, _name in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal"),
                   ("eq", "equal"), ("ne", "not_equal")]:
    setattr(ndarray, f"__{_op}__", _binary(_name))
ndarray.__hash__ = None
ndarray.__neg__ = lambda self: negative(self)       # noqa: F821 -- made in the loop above
ndarray.__pos__ = lambda self: positive(self)       # noqa: F821
ndarray.__abs__ = lambda self: absolute(self)       # noqa: F821
ndarray.__invert__ = lambda self: invert(self)      # noqa: F821


# ----- the explicit transfers -----
def asarray(a, dtype=None, order=None, *, blocking=False):
    if isinstance(a, ndarray):
        if a._device != _current[-1]:
            return _wrap(a._a.astype(dtype or a.dtype, copy=True))    # a device -> device copy
        return a if dtype is None or _np.dtype(dtype) == a.dtype else a.astype(dtype)
    counts["h2d"] += 1
    return _wrap(_np.array(a, dtype=dtype, order=order or "K", copy=True))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if isinstance(obj, ndarray):
        return _wrap(_np.array(obj._a, dtype=dtype, copy=True, order=order, ndmin=ndmin))
    counts["h2d"] += 1
    return _wrap(_np.array(obj, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        return a.get(order=order)
    return _np.asarray(a, order=order)


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else _np


# ----- everything else minigen calls, computed by NumPy on unwrapped arguments -----
def _routine(name):
    f = getattr(_np, name)

    def routine(*args, **kwargs):
        return _wrap(f(*_argument(args), **{k: _argument(v) for k, v in kwargs.items()}))
    routine.__name__ = name
    return routine


_ROUTINES = ("zeros ones full empty zeros_like ones_like full_like empty_like arange linspace eye "
             "identity concatenate stack vstack hstack where sum mean var std max min amax amin "
             "argmax argmin argsort sort cumsum cumprod prod vdot dot tensordot einsum outer triu "
             "tril swapaxes moveaxis transpose reshape ravel squeeze expand_dims broadcast_to "
             "broadcast_arrays ascontiguousarray pad tile repeat flip take take_along_axis "
             "put_along_axis any all allclose isclose array_equal count_nonzero nonzero unique "
             "bincount diag trace linalg_norm round around clip copy atleast_1d atleast_2d "
             "split array_split searchsorted meshgrid").split()
for _name in _ROUTINES:
    if hasattr(_np, _name):
        globals()[_name] = _routine(_name)


def take(a, indices, axis=None, out=None):
    """cupy.take: out-of-bounds indices wrap around (CuPy has no mode="raise"; see _to_host_index)."""
    return _wrap(_np.take(_argument(a), _argument(indices), axis=axis, mode="wrap"))


def take_along_axis(a, indices, axis):
    """cupy.take_along_axis: out-of-bounds indices wrap around, as in take."""
    a, indices = _argument(a), _argument(indices)
    size = a.size if axis is None else a.shape[axis]
    return _wrap(_np.take_along_axis(a, _np.mod(indices, size) if size else indices, axis))

ndim = lambda a: a.ndim  # noqa: E731
shape = lambda a: a.shape  # noqa: E731
isscalar = _np.isscalar
dtype, finfo, iinfo, result_type, promote_types, can_cast = (
    _np.dtype, _np.finfo, _np.iinfo, _np.result_type, _np.promote_types, _np.can_cast)
(bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64,
 complex64, complex128, intp) = (
    _np.bool_, _np.int8, _np.int16, _np.int32, _np.int64, _np.uint8, _np.uint16, _np.uint32,
    _np.uint64, _np.float16, _np.float32, _np.float64, _np.complex64, _np.complex128, _np.intp)
inf, nan, pi, e, newaxis = _np.inf, _np.nan, _np.pi, _np.e, _np.newaxis


def _as_strided(x, shape=None, strides=None):
    """cupy.lib.stride_tricks.as_strided."""
    return _wrap(_np.lib.stride_tricks.as_strided(_argument(x), shape=shape, strides=strides))


lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided))
linalg = types.SimpleNamespace(norm=_routine("linalg_norm") if hasattr(_np, "linalg_norm") else
                               (lambda x, *a, **k: _wrap(_np.linalg.norm(_argument(x), *a, **k))))


# ----- random (cupy/random/_generator_api.pyx) -----
class Generator:
    """cupy.random.Generator: exactly CuPy's methods, each returning a device array."""

    def __init__(self, bit_generator):
        self.bit_generator = bit_generator
        self._rng = _np.random.Generator(bit_generator)

    def _draw(self, method, *args, **kwargs):
        return _wrap(_np.asarray(getattr(self._rng, method)(*args, **kwargs)))

    def random(self, size=None, dtype=_np.float64, out=None):
        y = self._draw("random", size, dtype=_np.float32 if _np.dtype(dtype).char != "d" else _np.float64)
        return y.astype(dtype, copy=False) if out is None else _fill(out, y)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=_np.float64):
        low, high = asarray(low), asarray(high)      # CuPy copies host bounds up, as here
        return self._draw("uniform", low._a, high._a, size).astype(dtype, copy=False)

    def integers(self, low, high=None, size=None, dtype=_np.int64, endpoint=False):
        return self._draw("integers", int(low), None if high is None else int(high), size,
                          dtype=dtype, endpoint=endpoint)

    def standard_normal(self, size=None, dtype=_np.float64, out=None):
        if _np.dtype(dtype).char not in "fd":
            raise TypeError(f"Unsupported dtype {_np.dtype(dtype).name} for standard_normal")
        y = self._draw("standard_normal", size, dtype=dtype)
        return y if out is None else _fill(out, y)

    def standard_exponential(self, size=None, dtype=_np.float64, method="inv", out=None):
        if method == "zig":
            raise NotImplementedError("Ziggurat method is not supported")
        y = self._draw("standard_exponential", size).astype(dtype, copy=False)
        return y if out is None else _fill(out, y)

    def exponential(self, scale=1.0, size=None):
        return self.standard_exponential(size) * scale

    def standard_gamma(self, shape, size=None, dtype=_np.float64, out=None):
        y = self._draw("standard_gamma", _param(shape, "shape"), size).astype(dtype, copy=False)
        return y if out is None else _fill(out, y)

    def gamma(self, shape, scale=1.0, size=None):
        return self._draw("gamma", _param(shape, "shape"), _param(scale, "scale"), size)

    def beta(self, a, b, size=None, dtype=_np.float64):
        return self._draw("beta", _param(a, "a"), _param(b, "b"), size).astype(dtype, copy=False)

    def binomial(self, n, p, size=None):
        return self._draw("binomial", _param(n, "n"), _param(p, "p"), size)

    def poisson(self, lam=1.0, size=None):
        return self._draw("poisson", _param(lam, "lam"), size)

    def chisquare(self, df, size=None):
        return self._draw("chisquare", _param(df, "df"), size)

    def dirichlet(self, alpha, size=None):
        return self._draw("dirichlet", _param(alpha, "alpha"), size)

    def f(self, dfnum, dfden, size=None):
        return self._draw("f", _param(dfnum, "dfnum"), _param(dfden, "dfden"), size)

    def geometric(self, p, size=None):
        return self._draw("geometric", _param(p, "p"), size)

    def hypergeometric(self, ngood, nbad, nsample, size=None):
        return self._draw("hypergeometric", _param(ngood, "ngood"), _param(nbad, "nbad"),
                          _param(nsample, "nsample"), size)

    def logseries(self, p, size=None):
        return self._draw("logseries", _param(p, "p"), size)

    def power(self, a, size=None):
        return self._draw("power", _param(a, "a"), size)


def _param(x, name):
    """A distribution parameter: a device array or a Python scalar, else TypeError (CuPy's
    'x is required to be a cupy.ndarray or a scalar', _generator_api.pyx)."""
    if isinstance(x, ndarray):
        return x._a
    if type(x) in (float, int):
        return x
    raise TypeError(f"{name} is required to be a cupy.ndarray or a scalar")


def _fill(out, y):
    out._a[...] = y._a
    return out


def default_rng(seed=None):
    if isinstance(seed, Generator):
        return seed
    return Generator(_np.random.PCG64(seed))   # CuPy uses XORWOW: the streams differ from a GPU's


random = types.SimpleNamespace(default_rng=default_rng, Generator=Generator)


# ----- cupyx -----
def _scatter_add(a, slices, value):
    """cupyx.scatter_add(a, slices, value): add.at, with its dtype limits."""
    add.at(a, slices, value)    # noqa: F821 -- made in the ufunc loop


cupyx = types.ModuleType("cupyx")
cupyx.scatter_add = _scatter_add

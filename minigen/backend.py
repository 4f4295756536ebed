"""The one place that knows NumPy from CuPy.

Every array a Tensor holds is either a ``numpy.ndarray`` (device ``"cpu"``) or a
``cupy.ndarray`` (device ``"cuda:N"``). Ops never import either library: they ask a
tensor for its ``xp`` (the array module that made its data) and call ``xp.exp``,
``xp.matmul``... This file answers the few questions that need to know which is which:
what device an array lives on, how to move it, how to scatter-add, and where random
numbers come from. CuPy is imported lazily, the first time a cuda device is asked for.
"""
import os

import numpy

_cupy = None  # the cupy module once imported; see _import_cupy()
_default_device = None  # set by set_default_device(); None means "read MINIGEN_DEVICE"
_generators = {}  # device string -> random generator
_seed = None  # the last manual_seed(), used to seed generators created afterwards


class DeviceError(RuntimeError):
    """A device was asked for that this machine cannot provide, or devices were mixed."""


def _import_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as exc:
            raise DeviceError(
                "cuda: CuPy is not installed; install minigen[gpu] (see the README) "
                "or use device='cpu'") from exc
        _cupy = cupy
    return _cupy


def cuda_available():
    """True when CuPy imports and sees at least one GPU. Never raises."""
    try:
        return _import_cupy().cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 -- any failure (no CuPy, no driver) means "no"
        return False


def normalize_device(device):
    """'cpu' -> 'cpu'; 'cuda' -> 'cuda:0'; 'cuda:N' -> 'cuda:N'; None -> the default device."""
    if device is None:
        device = get_default_device()
    device = str(device)
    if device == "cpu":
        return "cpu"
    if device == "cuda":
        return "cuda:0"
    if device.startswith("cuda:") and device[5:].isdigit():
        return device
    raise DeviceError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'")


def set_default_device(device):
    """Make ``device`` the default for new tensors (overrides MINIGEN_DEVICE)."""
    global _default_device
    device = normalize_device(device)
    if device != "cpu":
        check_cuda(device)
    _default_device = device


def get_default_device():
    if _default_device is not None:
        return _default_device
    return normalize_device(os.environ.get("MINIGEN_DEVICE", "cpu"))


def check_cuda(device):
    """Raise a one-line DeviceError unless ``device`` (a cuda:N string) can be used."""
    if not cuda_available():
        raise DeviceError(f"{device}: no CUDA GPU is available on this machine "
                          "(CuPy missing or no device); use device='cpu'")
    count = _cupy.cuda.runtime.getDeviceCount()
    if int(device[5:]) >= count:
        raise DeviceError(f"{device}: this machine has {count} GPU(s)")


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def set_num_threads(n):
    """Use ``n`` BLAS threads for NumPy's matrix products from now on, whatever the import order.

    Through threadpoolctl, which reaches into the BLAS library already loaded (OpenBLAS, MKL,
    BLIS) and resizes its pool, as scikit-learn does; an environment variable could only act
    before NumPy is first imported.
    """
    from threadpoolctl import threadpool_limits
    if int(n) < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    threadpool_limits(limits=int(n), user_api="blas")


def default_num_threads():
    """What minigen uses unless told otherwise: 1 BLAS thread, or the user's explicit setting.

    minigen's products are small (a 64 x 256 matrix, a batch of 8x8 digits): one thread runs
    them fastest. With OpenBLAS's default (every core) they were 8-500x slower on a 2-core
    machine, its threads spinning against each other, and `minigen tour` took 7 minutes, not 1.
    An explicit OPENBLAS_NUM_THREADS, OMP_NUM_THREADS or MKL_NUM_THREADS wins (None: leave it).
    """
    return None if any(name in os.environ for name in THREAD_VARIABLES) else 1


# ----- the host allocator -----
ALLOCATOR_VARIABLE = "MINIGEN_ALLOCATOR"   # "system": leave glibc's malloc as it is
MMAP_THRESHOLD = 32 * 2**20                # the largest value glibc accepts on 64-bit
TRIM_THRESHOLD = 2**30
freed_memory_kept = False                  # set by keep_freed_memory()


def keep_freed_memory():
    """Ask glibc's malloc to keep the memory a training step frees, for the next step to reuse.

    Every step allocates the same arrays and frees them again. By default glibc hands an array
    over 128 KiB its own fresh pages (mmap) and returns them to the kernel when it is freed, and
    gives back the top of its heap once 128 KiB of it is free. So every step's arrays are new
    pages, which the kernel zeroes on first touch, a page fault per 4 KiB: a third of a CNN step
    went there. With the mmap threshold at 32 MiB and the trim threshold at 1 GiB (through
    mallopt, as the environment variables MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ would
    before the process starts), freed arrays stay in the heap and the next step reuses them.

    The cost: the process keeps up to 1 GiB of freed heap until it exits, instead of giving it
    back. Called when minigen is imported, on Linux with glibc, unless MINIGEN_ALLOCATOR=system
    or the user set MALLOC_* variables themselves. Returns True when the setting was made.
    """
    if os.environ.get(ALLOCATOR_VARIABLE) == "system" or any(k.startswith("MALLOC_") for k in os.environ):
        return False
    import ctypes
    import ctypes.util
    import sys
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):     # not glibc (musl has no mallopt): nothing to tune
        return False
    global freed_memory_kept
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    freed_memory_kept = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD,
                                                                                       TRIM_THRESHOLD))
    return freed_memory_kept


host = numpy   # the host's array module: for arrays that stay on the CPU (data, indices, labels)


def xp_for(device):
    """The array module for a device string."""
    device = normalize_device(device)
    if device == "cpu":
        return numpy
    check_cuda(device)
    return _cupy


def array_module(array):
    """numpy for a NumPy array, cupy for a CuPy array."""
    if isinstance(array, numpy.ndarray):
        return numpy
    return _cupy


def device_of(array):
    if isinstance(array, numpy.ndarray):
        return "cpu"
    return f"cuda:{array.device.id}"


def is_array(obj):
    """True for a NumPy or CuPy ndarray."""
    return isinstance(obj, numpy.ndarray) or (_cupy is not None and isinstance(obj, _cupy.ndarray))


def as_array(obj):
    """NumPy returns scalars (numpy.float32) from reductions on 0-d arrays; make them arrays."""
    if isinstance(obj, numpy.generic):
        return numpy.asarray(obj)
    return obj


def scalar(value, like):
    """A 0-d array holding the number ``value`` in ``like``'s dtype, on ``like``'s device.

    On the GPU it is filled there (``full`` passes the number to a kernel as an argument):
    ``asarray`` would copy it from the host, a round trip for every constant of every step."""
    if isinstance(like, numpy.ndarray):
        return numpy.asarray(value, like.dtype)
    with like.device:
        return _cupy.full((), value, like.dtype)


def to_device(array, device):
    """Copy ``array`` (NumPy, CuPy or array-like) to ``device``; no copy when already there."""
    device = normalize_device(device)
    if device == "cpu":
        return to_host(array)
    cupy = xp_for(device)
    with cupy.cuda.Device(int(device[5:])):
        return cupy.asarray(array)


def array_repr(array, prefix=""):
    """The values of ``array`` as NumPy prints them (rows aligned after ``prefix``)."""
    return numpy.array2string(to_host(array), separator=", ", prefix=prefix)


def to_host(array):
    """A numpy.ndarray holding ``array``'s values (copied from the GPU when needed; the checks
    waiting on its device run first, see ``check``)."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return read(array)[0]
    return numpy.asarray(array)


# ----- reading from the GPU: rare and deliberate -----
# Every read of a GPU array on the host (.get(), .item(), float(), bool()) makes the host wait
# until the GPU's queue of work has drained. A training step that read its loss, or checked an
# index range, would wait once per read: on a small model, longer than the arithmetic. So checks
# wait on the device, and reads are gathered into one.
_waiting = []  # (values on a GPU, complain) of checks not yet run; see check()
MAX_WAITING = 1024  # checks that wait at most (a few thousand bytes on the GPU)


def check(values, complain):
    """Check ``values`` an op computed (an index range's min and max, say) without a wait.

    ``complain(host_values)`` raises when they are wrong. On the CPU it runs at once. On the GPU
    the values stay there and the check runs at the next read of that device (``read``,
    ``to_host``), or once MAX_WAITING checks wait: the error comes from that read, and its
    message names the op that made the check.
    """
    if isinstance(values, (numpy.ndarray, numpy.generic)):
        complain(values)
        return
    _waiting.append((values, complain))
    if len(_waiting) >= MAX_WAITING:
        read()


def check_indices(indices, size, where):
    """Check integer ``indices`` into an axis of ``size`` (negative ones count from the end).

    NumPy raises IndexError for an index out of bounds; CuPy wraps it around, silently (see
    "Differences between CuPy and NumPy"): on the GPU the range is checked, waiting (``check``)."""
    if isinstance(indices, numpy.ndarray) or not indices.size:
        return

    def complain(low_high):
        low, high = (int(v) for v in low_high)
        if low < -size or high >= size:
            raise IndexError(f"{where}: indices must lie in [-{size}, {size}), got min {low}, max {high}")
    check(_cupy.stack([indices.min(), indices.max()]), complain)


def read(*arrays):
    """NumPy copies of ``arrays`` (on one device), copied together: one wait for the GPU, however
    many arrays. The checks waiting on that device run first; ``read()`` runs every waiting check."""
    if arrays and isinstance(arrays[0], (numpy.ndarray, numpy.generic)):   # NumPy's 0-d results are scalars
        return [numpy.asarray(a) for a in arrays]
    if not arrays:
        for device in sorted({device_of(v) for v, _ in _waiting}):
            _read_device(device, [])
        return []
    devices = {device_of(a) for a in arrays}
    if len(devices) > 1:
        raise DeviceError(f"read: the arrays are on different devices: {', '.join(sorted(devices))}")
    return _read_device(devices.pop(), arrays)


def _read_device(device, arrays):
    """read() on one GPU: its waiting checks' values and ``arrays`` in one copy; the checks run."""
    checks = [(v, c) for v, c in _waiting if device_of(v) == device]
    _waiting[:] = [(v, c) for v, c in _waiting if device_of(v) != device]
    parts = [v for v, _ in checks] + list(arrays)
    with device_context(device):   # one flat float64 copy: exact for floats, booleans, ints below 2**53
        flat = _cupy.asnumpy(_cupy.concatenate([p.reshape(-1).astype(numpy.float64) for p in parts]))
    host, start = [], 0
    for p in parts:
        host.append(flat[start:start + p.size].reshape(p.shape).astype(p.dtype))
        start += p.size
    for (_, complain), values in zip(checks, host):
        complain(values)
    return host[len(checks):]


def device_context(device):
    """A context manager that makes ``device`` current (a no-op for the CPU)."""
    if device == "cpu":
        return _NullContext()
    return _import_cupy().cuda.Device(int(device[5:]))


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def dtype(name):
    """numpy.dtype(name); CuPy uses NumPy's dtype objects too."""
    return numpy.dtype(name)


def writeable(array):
    """False for an array that must not be updated in place: NumPy's read-only arrays, and
    broadcast views (stride 0 along a side longer than 1), which CuPy does not flag."""
    if not getattr(array.flags, "writeable", True):
        return False
    return all(stride != 0 or n <= 1 for stride, n in zip(array.strides, array.shape))


def scatter_add(target, index, values):
    """target[index] += values, adding every value even when ``index`` repeats a position."""
    array_module(target).add.at(target, index, values)


def synchronize(device):
    """Wait for the GPU to finish queued work (a no-op on the CPU); used before reading clocks."""
    if device != "cpu":
        _cupy.cuda.Device(int(device[5:])).synchronize()


def manual_seed(seed):
    """Seed the generator of every device (those made later too)."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def generator(device):
    """The random generator for ``device``: numpy.random.Generator or cupy.random.Generator."""
    gen = _generators.get(device)
    if gen is None:
        xp = xp_for(device)
        if xp is numpy:
            gen = numpy.random.default_rng(_seed)
        else:
            with device_context(device):
                gen = xp.random.default_rng(_seed)
        _generators[device] = gen
    return gen


def private_generator(seed):
    """A host generator of its own, for draws that must not move the global (manual_seed) stream."""
    return numpy.random.default_rng(seed)


def fixed_normal(shape, seed):
    """Standard normal values on the host from a private generator seeded by ``seed``."""
    return private_generator(seed).standard_normal(shape)


def get_rng_state(device):
    """The generator state of ``device`` as JSON-able data (None for CuPy: not captured)."""
    gen = generator(device)
    if device == "cpu":
        return gen.bit_generator.state
    return None


def set_rng_state(device, state):
    gen = generator(device)
    if device == "cpu":
        gen.bit_generator.state = state

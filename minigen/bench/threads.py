"""Give every contender the same number of threads, and record what they really got.

NumPy (OpenBLAS or MKL) and PyTorch (OpenMP, MKL) each keep a thread pool. Their sizes are
read from OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS when the library is
*loaded*, so setting those variables after ``import numpy`` does nothing (threadpoolctl
could resize a running pool; it is not needed here). Everything timed therefore runs in a
process started with the variables set: the workers (workers.py) and the memory children
(memory.py). PyTorch's intra-op pool is also set with torch.set_num_threads(n). Each worker
reports what its BLAS and PyTorch say they use (``blas_threads``), and the results record it.
"""
import ctypes
import os

ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def default_threads():
    """The cores this process may run on (the affinity mask, else os.cpu_count())."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def env_with_threads(n, base=None):
    env = dict(os.environ if base is None else base)
    env.update({var: str(n) for var in ENV_VARS})
    return env


def blas_threads():
    """The thread count NumPy's BLAS reports now (threadpoolctl, else OpenBLAS via ctypes on
    Linux), or None when it cannot be read. Used to check that the limit took effect."""
    try:
        from threadpoolctl import threadpool_info
        counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    import numpy  # noqa: F401 -- make sure its BLAS is loaded before looking for it
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
                       "openblas_get_num_threads64_"):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                return int(fn())
    return None

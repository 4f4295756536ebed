"""Give every contender the same number of threads, and record what they really got.

NumPy (OpenBLAS or MKL) and PyTorch (OpenMP, MKL) each keep a thread pool. Their sizes are
read from OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS when the library is
*loaded*, so setting those variables after ``import numpy`` does nothing. Three ways, in
order of preference:

1. threadpoolctl (if installed) resizes the BLAS and OpenMP pools of the running process;
2. the variables were already set, to the wanted number, when this process started;
3. otherwise the benchmark re-runs itself in a child process started with the variables
   set (see run.py), which is the only reliable way without threadpoolctl.

PyTorch's intra-op pool is set with torch.set_num_threads(n) in every case.
"""
import contextlib
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


def env_matches(n):
    return all(os.environ.get(var) == str(n) for var in ENV_VARS)


def limit(n):
    """(context manager, how) that holds the BLAS/OpenMP pools at ``n`` threads, or (None, why)
    when neither threadpoolctl nor the environment can do it (the caller must re-run itself)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        return threadpool_limits(limits=n), "threadpoolctl"
    if env_matches(n):
        return contextlib.nullcontext(), "environment variables set at process start"
    return None, "threadpoolctl is not installed and the thread variables were not set at start"


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

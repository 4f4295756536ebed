"""The CuPy stand-in (tests/cupy_stand_in) refuses what CuPy refuses, and counts transfers.

These run without the --cupy-stand-in option: they use the stand-in module directly, without
installing it as `cupy`.
"""
import numpy as np
import pytest

import cupy_stand_in as cp


@pytest.fixture(autouse=True)
def _zero_counts():
    cp.reset_counts()


def test_a_device_array_is_not_a_numpy_array_and_refuses_implicit_conversion():
    x = cp.arange(6).reshape(2, 3)
    assert isinstance(x, cp.ndarray) and not isinstance(x, np.ndarray)
    with pytest.raises(TypeError, match=r"Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.testing.assert_allclose(x, np.arange(6).reshape(2, 3))
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.array([x, x])


def test_a_host_array_operand_is_refused_in_device_math():
    x, host = cp.ones(3), np.ones(3)
    for op in (lambda: x + host, lambda: host + x, lambda: x * host, lambda: x < host,
               lambda: cp.maximum(x, host), lambda: cp.where(host > 0, x, x), lambda: x @ host,
               lambda: cp.concatenate([x, host])):
        with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
            op()
    with pytest.raises(TypeError):
        cp.add(x, [1.0, 2.0, 3.0])   # a list is not a scalar either


def test_scalars_and_0d_host_arrays_are_accepted_as_operands():
    x = cp.ones(3, dtype=cp.float32)
    for y in (x + 1, 2.0 * x, x * np.float32(2), np.float64(3) - x, x < np.asarray(2.0),
              cp.maximum(x, np.asarray(0.5))):
        assert isinstance(y, cp.ndarray)
    assert (x + 1).dtype == np.float32


def test_numpy_functions_on_device_arrays_dispatch_to_the_device_or_refuse():
    x = cp.arange(4.0)
    assert isinstance(np.exp(x), cp.ndarray)            # NEP 13: a NumPy ufunc runs on the device
    assert isinstance(np.concatenate([x, x]), cp.ndarray)   # NEP 18
    with pytest.raises(TypeError):
        np.histogram(x)                                  # CuPy-less routines are refused


def test_transfers_are_explicit_and_counted():
    x = cp.asarray(np.arange(3.0))
    assert cp.counts == {"h2d": 1, "d2h": 0, "sync": 0}
    host = x.get()
    assert isinstance(host, np.ndarray) and host.tolist() == [0.0, 1.0, 2.0]
    assert isinstance(cp.asnumpy(x), np.ndarray)
    assert cp.counts["d2h"] == 2 and cp.counts["sync"] == 2
    cp.asarray(x)                                       # already on the device: no copy
    assert cp.counts["h2d"] == 1


def test_host_reads_synchronise_and_are_counted():
    x = cp.arange(3.0)
    total = x.sum()
    assert isinstance(total, cp.ndarray) and total.ndim == 0   # reductions stay on the device
    assert cp.counts["sync"] == 0
    assert total.item() == 3.0
    assert float(total) == 3.0 and int(total) == 3 and bool(total)
    assert cp.counts["sync"] == 4 and cp.counts["d2h"] == 4
    with pytest.raises(TypeError):
        float(x)                                        # more than one element
    x[x > 0]                                            # a boolean mask reads its count back
    assert cp.counts["sync"] == 6


def test_host_index_arrays_are_copied_up():
    x = cp.arange(5.0)
    assert x[np.array([0, 2])].tolist() == [0.0, 2.0]
    assert cp.counts["h2d"] == 1


def test_the_generator_has_exactly_cupys_methods():
    rng = cp.random.default_rng(0)
    for name in ("normal", "permutation", "shuffle", "choice", "bytes", "multivariate_normal"):
        assert not hasattr(rng, name), name
    for draw in (rng.random((2, 3), dtype=np.float32), rng.standard_normal(4, dtype=np.float32),
                 rng.integers(0, 5, 3), rng.uniform(-1.0, 1.0, 3), rng.standard_exponential(2),
                 rng.gamma(2.0, size=2), rng.beta(1.0, 2.0, 2), rng.binomial(3, 0.5, 2),
                 rng.poisson(1.0, 2)):
        assert isinstance(draw, cp.ndarray)
    assert rng.random((2, 3), dtype=np.float32).dtype == np.float32
    assert rng.standard_normal().ndim == 0             # size None: a 0-d device array
    with pytest.raises(TypeError, match="Unsupported dtype int64 for standard_normal"):
        rng.standard_normal(2, dtype=np.int64)
    with pytest.raises(TypeError, match="a is required to be a cupy.ndarray or a scalar"):
        rng.beta(np.ones(2), 1.0)
    same = cp.random.default_rng(7).random(3).get(), cp.random.default_rng(7).random(3).get()
    assert (same[0] == same[1]).all()


def test_scatter_add_refuses_what_atomic_add_lacks():
    target, index = cp.zeros(4, dtype=np.float32), cp.asarray(np.array([1, 1, 3]))
    cp.add.at(target, index, cp.ones(3, dtype=np.float32))
    assert target.get().tolist() == [0.0, 2.0, 0.0, 1.0]
    cp.cupyx.scatter_add(target, index, cp.ones(3, dtype=np.float32))
    assert target.get().tolist() == [0.0, 4.0, 0.0, 2.0]
    for dtype in (np.int64, np.int16, np.bool_):
        with pytest.raises(TypeError, match="only supports int32, float16, float32, float64"):
            cp.add.at(cp.zeros(4, dtype=dtype), index, 1)


def test_devices_are_contexts_and_arrays_remember_theirs():
    cp.cuda.runtime._count = 2
    try:
        assert cp.cuda.runtime.getDeviceCount() == 2
        assert cp.zeros(1).device.id == 0
        with cp.cuda.Device(1):
            x = cp.zeros(1)
            assert cp.cuda.Device().id == 1
        assert x.device.id == 1 and cp.zeros(1).device.id == 0
        with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="invalid device ordinal"):
            with cp.cuda.Device(2):
                pass
    finally:
        cp.cuda.runtime._count = 1
    cp.cuda.Device(0).synchronize()
    cp.cuda.Stream.null.synchronize()
    cp.cuda.runtime.deviceSynchronize()
    assert cp.counts["sync"] == 3


def test_flags_have_no_writeable_and_views_share_one_base():
    x = cp.zeros((2, 3))
    assert not hasattr(x.flags, "writeable") and x.flags.c_contiguous
    assert x.base is None and x[0].base is x and x.reshape(3, 2)[1:].base is x


def test_install_is_what_makes_it_cupy(monkeypatch):
    import sys
    for name in ("cupy", "cupyx"):      # as they were after the test (absent stays absent): the stand-in
        monkeypatch.setitem(sys.modules, name, sys.modules.get(name))   # must not leak into later tests
    cp.install()
    import cupy
    import cupyx
    assert cupy is cp and cupyx.scatter_add is cp.cupyx.scatter_add


def test_the_runner_runs_a_minigen_command_with_the_stand_in_installed(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    run = lambda *args: subprocess.run([sys.executable, "-m", "tests.cupy_stand_in", *args],   # noqa: E731
                                       cwd=root, capture_output=True, text=True, timeout=120)
    done = run("minigen", "train", "gan", "--data", "8gaussians", "--steps", "2", "--device", "cuda",
               "--out", str(tmp_path / "run"), "--quiet")
    assert done.returncode == 0, done.stderr
    assert '"device": "cuda:0"' in (tmp_path / "run" / "config.json").read_text()
    assert "cupy stand-in:" in done.stderr and "host->device copies" in done.stderr
    refused = run("train", "gan")
    assert refused.returncode == 2 and "usage: python -m tests.cupy_stand_in minigen" in refused.stderr


def test_out_of_bounds_integer_indices_wrap_around_as_cupys_do():
    x = cp.arange(3.0)
    assert x[cp.asarray(np.array([1, 3, -4]))].get().tolist() == [1.0, 0.0, 2.0]
    assert x.take(cp.asarray(np.array([5])), axis=0).get().tolist() == [2.0]
    m = cp.arange(6.0).reshape(2, 3)
    assert m[:, cp.asarray(np.array([4]))].get().tolist() == [[1.0], [4.0]]
    assert cp.take_along_axis(m, cp.asarray(np.array([[3], [5]])), 1).get().tolist() == [[0.0], [5.0]]


def test_a_constant_filled_on_the_device_is_no_copy():
    # cupy.full fills with the cupy_fill elementwise kernel (cupy/_core/core.pyx), the value a
    # kernel argument: no host -> device copy, unlike cupy.asarray(value)
    cp.full((), 2.5, np.float32)
    assert cp.counts["h2d"] == 0
    cp.asarray(2.5)
    assert cp.counts["h2d"] == 1

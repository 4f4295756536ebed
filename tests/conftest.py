"""Shared fixtures: hypothesis profiles and the device parametrisation.

Profiles: "dev" (default, more examples) and "ci" (chosen when CI is set, or with
HYPOTHESIS_PROFILE=ci) so that the whole suite stays well inside CI's budget on 2 cores.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import minigen as mg

# function_scoped_fixture: the `device` fixture is a plain string, safe to share across examples.
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=15, deadline=None, derandomize=True,
                          suppress_health_check=_SUPPRESSED)
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=_SUPPRESSED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def pytest_addoption(parser):
    parser.addoption("--cupy-stand-in", action="store_true", default=False,
                     help="run the gpu-marked and device-parametrised tests on cuda:0 against "
                          "tests/cupy_stand_in (NumPy underneath, CuPy's refusals on top)")


def pytest_configure(config):
    """With --cupy-stand-in, `import cupy` (minigen.backend's lazy import) gives the stand-in."""
    if config.getoption("--cupy-stand-in"):
        import cupy_stand_in
        from minigen import backend
        cupy_stand_in.install()
        backend._cupy = None      # forget a real CuPy imported before the option was seen
        backend._generators.clear()


@pytest.fixture(params=DEVICES)
def device(request):
    """Run a test once per device; the cuda case skips cleanly without CuPy or a GPU."""
    if request.param == "cuda" and not mg.cuda_available():
        pytest.skip("no CUDA device (CuPy missing or no GPU)")
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    mg.manual_seed(0)
    np.random.seed(0)

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

"""tools/maintenance/gpu_check.sh, the prepared GPU check: on a machine without a GPU it stops at once,
cleanly, and says so (the full run is for the day a GPU is at hand; see the README)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import minigen as mg

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "maintenance" / "gpu_check.sh"


def test_gpu_check_without_a_device_says_no_cuda_device_and_exits_2(tmp_path):
    if mg.cuda_available():
        pytest.skip("this machine has a GPU: run tools/maintenance/gpu_check.sh itself")
    env = dict(os.environ, OUT=str(tmp_path / "results"), PYTHON=sys.executable)
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no CUDA device" in result.stdout
    summary = (tmp_path / "results" / "summary.md").read_text()
    assert "no CUDA device" in summary and "Nothing else was run." in summary

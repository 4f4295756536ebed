"""What machine the numbers come from: CPU model, cores, library versions, GPU."""
import os
import platform
import re
import sys

import numpy as np

import minigen as mg


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name():
    if not mg.cuda_available():
        return None
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def versions(torch_module=None):
    import matplotlib
    out = {"python": sys.version.split()[0], "numpy": np.__version__, "minigen": mg.__version__,
           "matplotlib": matplotlib.__version__}
    blas = _numpy_blas()
    if blas:
        out["numpy_blas"] = blas
    if torch_module is not None:
        out["torch"] = torch_module.__version__
    if mg.cuda_available():
        import cupy
        out["cupy"] = cupy.__version__
        out["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
    return out


def _numpy_blas():
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 -- older NumPy: no dict mode; the name is optional
        return None


def source_state():
    """The git commit of the checkout being measured, and whether it had uncommitted changes
    (the engine's speed is a property of its source), or None outside a git checkout."""
    import subprocess
    from pathlib import Path
    root = Path(mg.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--", "minigen"], cwd=root,
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "minigen_has_uncommitted_changes": bool(status.strip())}


def info(torch_module=None):
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform(),
            "gpu": gpu_name(), "versions": versions(torch_module), "source": source_state()}


def slug(machine):
    """A file-name-safe name: 'amd-epyc-2c', plus the GPU ('...-nvidia-h200') when one was used."""
    def clean(text):
        text = re.sub(r"\(r\)|\(tm\)|cpu|processor|\d+-core", " ", text.lower())
        return re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    name = f"{clean(machine['cpu'])}-{machine['cores']}c"
    if machine.get("gpu"):
        name += "-" + clean(machine["gpu"])
    return name

"""The array-math modules never name NumPy or CuPy: only minigen/backend.py does.

They reach the array module through a tensor (``x.xp``) or through minigen.backend, so the
same code runs on either device. Read from the source (ast), so it holds for every function,
imported or not. Host-side modules (gradcheck, checkpoint, data, viz, cli...) may use NumPy.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "minigen"
ARRAY_MATH = ["ops", "nn", "objectives", "models", "functional.py"]
FORBIDDEN = {"numpy", "cupy"}


def array_math_files():
    files = []
    for name in ARRAY_MATH:
        path = PACKAGE / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
    return files


def direct_array_library_uses(source):
    """Every line that imports numpy or cupy (any form, at any depth in the code), imports
    them from minigen.backend, or imports them by a string name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] in FORBIDDEN]
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in FORBIDDEN:
                found.append((node.lineno, node.module))
            elif node.module == "minigen.backend":
                found += [(node.lineno, f"minigen.backend.{a.name}") for a in node.names
                          if a.name.lstrip("_") in FORBIDDEN]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            callee = ast.unparse(node.func)
            if callee in ("__import__", "importlib.import_module", "import_module") and \
                    str(node.args[0].value).split(".")[0] in FORBIDDEN:
                found.append((node.lineno, f"{callee}({node.args[0].value!r})"))
        elif isinstance(node, ast.Attribute) and node.attr.lstrip("_") in FORBIDDEN and \
                isinstance(node.value, ast.Name) and node.value.id == "backend":
            found.append((node.lineno, f"backend.{node.attr}"))
    return found


def test_the_array_math_modules_exist():
    files = {p.relative_to(PACKAGE).as_posix() for p in array_math_files()}
    assert "functional.py" in files and "ops/arith.py" in files and "ops/conv.py" in files


@pytest.mark.parametrize("path", array_math_files(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_array_math_module_does_not_import_numpy_or_cupy(path):
    uses = direct_array_library_uses(path.read_text())
    assert not uses, f"{path.relative_to(PACKAGE)} names the array library directly: {uses}; " \
                     "use x.xp or minigen.backend instead"


@pytest.mark.parametrize("snippet", [
    "import numpy", "import numpy as np", "import cupy.random", "from numpy import exp",
    "from numpy.lib import stride_tricks", "def f():\n    import cupy\n",
    "from minigen.backend import numpy",
    "from minigen.backend import _cupy", "xp = __import__('numpy')", "importlib.import_module('cupy')",
    "def f(x):\n    return backend.numpy.exp(x)\n",
])
def test_the_checker_sees_every_form_of_import(snippet):
    assert direct_array_library_uses(snippet)


@pytest.mark.parametrize("snippet", [
    "from minigen import backend", "x.xp.exp(x.data)", "t.numpy()", "import minigen.ops",
    "from minigen.backend import to_host",
])
def test_the_checker_allows_the_backend_route(snippet):
    assert not direct_array_library_uses(snippet)

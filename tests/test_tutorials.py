"""Every tutorial runs end to end as a script and writes its figures.

Each ``tutorials/*.py`` (except ``_helpers``-style modules whose names start with an underscore)
is run in a fresh Python process, the way a reader runs it, with ``MINIGEN_FIGURES`` pointing at a
temporary folder and ``MINIGEN_QUICK=1`` (tutorials that train for long read it and train briefly).
RuntimeWarnings (overflow, invalid values) are errors there, as in the rest of the suite.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted(p for p in (ROOT / "tutorials").glob("*.py") if not p.name.startswith("_"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.parametrize("script", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_and_writes_figures(script, tmp_path):
    env = dict(os.environ, MINIGEN_FIGURES=str(tmp_path), MINIGEN_QUICK="1", MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", str(script)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"{script.name} exited with {result.returncode}\n"
        f"--- stdout (tail) ---\n{result.stdout[-3000:]}\n--- stderr (tail) ---\n{result.stderr[-3000:]}")
    pngs = sorted(tmp_path.glob("**/*.png"))
    assert pngs, f"{script.name} wrote no PNG into MINIGEN_FIGURES ({tmp_path})"
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_SIGNATURE, f"{png.name} is not a PNG file"


def test_tutorials_are_found():
    assert any(p.name == "01_autograd.py" for p in TUTORIALS), f"tutorials found: {TUTORIALS}"

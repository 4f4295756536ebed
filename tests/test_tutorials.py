"""Every tutorial runs end to end *as a notebook*, the way a reader opens it, and shows inline
every figure it writes.

The notebooks are the ones the quick book executes (tests/test_docs.py builds it once per
session, MyST-NB running each ``tutorials/*.py`` in a fresh Jupyter kernel with
``MINIGEN_QUICK=1``, ``MINIGEN_FIGURES`` pointing at a folder of its own, and RuntimeWarnings as
errors): here we read the executed notebooks it keeps (``jupyter_execute/``) and the PNGs the
tutorials wrote. A tutorial's figures are named after its number (``04_...png``). The notebook
run covers the script run (the same cells, in the same order); the headless path the script
takes (`_setup` choosing Agg) is checked on its own, quickly.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_docs import TUTORIALS, build_book

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SAVED = re.compile(r"saved (\S+\.png)")


@pytest.fixture(scope="module")
def executed():
    out, returncode, log = build_book()
    assert returncode == 0, f"the quick book (which executes the tutorials) failed:\n{log[-6000:]}"
    return out


def streams(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.slow
@pytest.mark.parametrize("script", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_as_a_notebook_and_shows_every_figure_it_writes(script, executed):
    import nbformat

    notebook = nbformat.read(executed / "jupyter_execute" / "tutorials" / f"{script.stem}.ipynb", as_version=4)
    number = script.stem.split("_")[0]
    pngs = sorted((executed / "figures").glob(f"{number}_*.png"))
    assert pngs, f"{script.name} wrote no PNG named {number}_*.png into MINIGEN_FIGURES"
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_SIGNATURE, f"{png.name} is not a PNG file"
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    shown_total = 0
    for k, cell in enumerate(code_cells):
        saved_here = set(SAVED.findall(streams(cell)))   # MyST-NB's merged streams may repeat a line
        shown = sum("image/png" in o.get("data", {}) for o in cell.outputs)
        shown_total += shown
        assert shown >= len(saved_here), (
            f"{script.name}, code cell {k}: saved {saved_here} but shows {shown} figure(s) inline")
    saved_names = {Path(p).name for c in code_cells for p in SAVED.findall(streams(c))}
    assert {p.name for p in pngs} <= saved_names, (
        f"{script.name} wrote PNGs it never reported (and so never showed): "
        f"{sorted({p.name for p in pngs} - saved_names)}")
    assert shown_total >= len(pngs)


@pytest.mark.slow
def test_every_figure_written_belongs_to_a_tutorial(executed):
    numbers = {p.stem.split("_")[0] for p in TUTORIALS}
    strays = [p.name for p in (executed / "figures").glob("*.png") if p.name.split("_")[0] not in numbers]
    assert not strays, f"figures named after no tutorial: {strays}"


def test_a_tutorial_run_as_a_script_draws_headless_with_agg(tmp_path):
    code = "import sys; sys.path.insert(0, 'tutorials'); import _setup, matplotlib; print(matplotlib.get_backend())"
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(env, MINIGEN_FIGURES=str(tmp_path)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().lower() == "agg"


def test_tutorials_are_found_and_numbered_in_reading_order():
    numbers = [int(p.name.split("_")[0]) for p in TUTORIALS]
    assert numbers == list(range(1, len(TUTORIALS) + 1)), f"tutorials found: {[p.name for p in TUTORIALS]}"
    assert TUTORIALS[0].name == "01_autograd.py"
    toc = (ROOT / "docs" / "index.md").read_text()
    listed = re.findall(r"^tutorials/(\S+)$", toc, re.MULTILINE)
    assert listed == [p.stem for p in TUTORIALS], "docs/index.md lists the tutorials in another order"

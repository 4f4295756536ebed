"""Every tutorial runs end to end *as a notebook*, the way a reader opens it, and shows inline
every figure it writes.

Each ``tutorials/*.py`` (jupytext percent format; modules whose names start with an underscore
are helpers) is converted with jupytext and executed cell by cell in a fresh Jupyter kernel
(nbclient + ipykernel), with ``MINIGEN_FIGURES`` pointing at a temporary folder and
``MINIGEN_QUICK=1`` (tutorials that train for long read it and train briefly). RuntimeWarnings
(overflow, invalid values) are errors there, as in the rest of the suite. The notebook run covers
the script run (the same cells, in the same order), so the script run is not repeated here; the
headless path the script takes (`_setup` choosing Agg) is checked on its own, quickly.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted(p for p in (ROOT / "tutorials").glob("*.py") if not p.name.startswith("_"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SAVED = re.compile(r"saved (\S+\.png)")


def execute_as_notebook(script, figures):
    """The executed notebook of ``script`` (nbformat NotebookNode)."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(script)
    env = {"MINIGEN_FIGURES": str(figures), "MINIGEN_QUICK": "1", "PYTHONWARNINGS": "error::RuntimeWarning"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)          # the kernel is started from this process's environment
    try:
        client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(script.parent)}})
        client.execute()
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return notebook


@pytest.mark.slow
@pytest.mark.parametrize("script", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_as_a_notebook_and_shows_every_figure_it_writes(script, tmp_path):
    notebook = execute_as_notebook(script, tmp_path)
    pngs = sorted(tmp_path.glob("**/*.png"))
    assert pngs, f"{script.name} wrote no PNG into MINIGEN_FIGURES ({tmp_path})"
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_SIGNATURE, f"{png.name} is not a PNG file"
    shown_total = 0
    for k, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        saved_here = SAVED.findall(text)
        shown = sum("image/png" in o.get("data", {}) for o in cell.outputs)
        shown_total += shown
        assert shown >= len(saved_here), (
            f"{script.name}, code cell {k}: saved {saved_here} but shows {shown} figure(s) inline")
    saved_names = {Path(p).name for p in SAVED.findall(
        "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                if o.output_type == "stream"))}
    assert {p.name for p in pngs} <= saved_names, (
        f"{script.name} wrote PNGs it never reported (and so never showed): "
        f"{sorted({p.name for p in pngs} - saved_names)}")
    assert shown_total >= len(pngs)


def test_a_tutorial_run_as_a_script_draws_headless_with_agg(tmp_path):
    code = "import sys; sys.path.insert(0, 'tutorials'); import _setup, matplotlib; print(matplotlib.get_backend())"
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(env, MINIGEN_FIGURES=str(tmp_path)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().lower() == "agg"


def test_tutorials_are_found():
    assert any(p.name == "01_autograd.py" for p in TUTORIALS), f"tutorials found: {TUTORIALS}"

"""What every tutorial does first: find the figures folder, read quick mode, and show figures
the way the reader runs the tutorial. (Imported as `from _setup import ...`: the tutorials' own
folder is on the path both when run as a script and when opened as a notebook from tutorials/.)

This is the one place that knows the difference between a script and a notebook:
- as a script, figures are drawn headless (matplotlib's Agg backend, chosen here, by the
  tutorial, never by the library) and written to FIGURES;
- in a notebook (Jupyter, with its inline backend untouched), every figure passed to `save` is
  written to FIGURES too, and shown inline, once.
"""
import os
import sys
from pathlib import Path

import matplotlib

IN_NOTEBOOK = "ipykernel" in sys.modules
if not IN_NOTEBOOK:
    matplotlib.use("Agg")  # a script draws into files only, no window
import matplotlib.pyplot as plt  # noqa: E402

QUICK = os.environ.get("MINIGEN_QUICK", "") not in ("", "0")  # CI: a few seconds, not minutes
FIGURES = Path(os.environ.get("MINIGEN_FIGURES", Path(__file__).resolve().parent / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)


def save(fig, name):
    """Write a figure to FIGURES/name; in a notebook, also show it inline.

    ``fig`` may come from pyplot or from minigen.viz (a Figure of its own, which pyplot does
    not know about and would never show): either way the PNG just written is what is shown,
    once, and the figure is closed (so pyplot does not show it a second time).
    """
    path = FIGURES / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    show_file(path)


def show_file(path):
    """A PNG already written (by `save`, or by minigen: a run's samples.png, say): reported,
    and shown inline in a notebook."""
    if IN_NOTEBOOK:
        from IPython.display import Image, display
        display(Image(filename=str(path)))
    print(f"saved {path}")

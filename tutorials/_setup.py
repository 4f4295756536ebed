"""What every tutorial does first: choose matplotlib's backend, find the figures folder,
read quick mode. (Imported as `from _setup import ...`: the tutorials' own folder is on
the path both when run as a script and when opened as a notebook from tutorials/.)"""
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
    """Write a figure to FIGURES/name (and keep it on screen in a notebook)."""
    path = FIGURES / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    if not IN_NOTEBOOK:
        plt.close(fig)
    print(f"saved {path}")

"""What every tutorial does first: find the figures folder, read quick mode, and show figures
the way the reader runs the tutorial. (Imported as `from _setup import ...`: the tutorials' own
folder is on the path both when run as a script and when opened as a notebook from tutorials/.)

This is the one place that knows the difference between a script and a notebook:
- as a script, figures are drawn headless (matplotlib's Agg backend, chosen here, by the
  tutorial, never by the library) and written to FIGURES;
- in a notebook (Jupyter, with its inline backend untouched), every figure passed to `save` is
  written to FIGURES too, and shown inline, once.

Two more things a page needs from its run: `show_source` prints minigen's own code (so the
algorithm on the page is the one that ran), and `glue` hands a computed number to the book's
text (MyST-NB's glue: the prose quotes the run, never a number typed by hand).
"""
import inspect
import os
import sys
import textwrap
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


def show_source(*objects):
    """The source code of minigen functions or classes, as it is in the package (the code that
    ran, not a copy of it): printed, and in a notebook shown as highlighted code, under a line
    naming its file."""
    import minigen
    package = Path(minigen.__file__).resolve().parent.parent
    for obj in objects:
        lines, first = inspect.getsourcelines(obj)
        where = Path(inspect.getsourcefile(obj)).resolve().relative_to(package).as_posix()
        header = f"# {where}, line {first}: {obj.__qualname__}"
        code = textwrap.dedent("".join(lines)).rstrip()
        if IN_NOTEBOOK:
            from IPython.display import Markdown, display
            display(Markdown(f"```python\n{header}\n{code}\n```"))
        else:
            print(header, code, sep="\n")


def glue(name, value):
    """Hand ``value`` (a number, a string, or the Path of a PNG) to the book under ``name``: the
    page's prose quotes it as {glue:text}`name`, another page can show it with the glue
    directive (MyST-NB). Outside the book (a script, a plain notebook) nothing happens; the
    value is returned either way."""
    if hasattr(value, "item"):
        value = value.item()                       # a NumPy scalar: its Python number
    if IN_NOTEBOOK:
        try:
            from myst_nb import glue as nb_glue
        except ImportError:                        # a notebook outside the book
            return value
        if isinstance(value, Path):
            from IPython.display import Image
            nb_glue(name, Image(filename=str(value)), display=False)
            return value
        nb_glue(name, value, display=False)
    return value


def show_animation(html, name):
    """An animation (the HTML of minigen.viz.animation) written to FIGURES/name, and in a
    notebook played inline."""
    path = FIGURES / name
    path.write_text(html, encoding="utf-8")
    if IN_NOTEBOOK:
        from IPython.display import HTML, display
        display(HTML(html))
    print(f"animation written to {path}")

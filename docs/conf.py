"""Sphinx configuration of the minigen book.

The tutorials live in ``tutorials/`` as jupytext "percent" scripts; each build copies them into
``docs/tutorials/`` (ignored by git), where MyST-NB reads them as notebooks and executes them.
``MINIGEN_QUICK=1`` in the environment makes every tutorial train briefly (the quick book, which
the tests build with warnings as errors); without it they train for real (the published book).
"""
import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))               # autodoc imports minigen from this checkout

# ----- the tutorials, copied in as pages -----
TUTORIALS = ROOT / "tutorials"
PAGES = DOCS / "tutorials"
PAGES.mkdir(exist_ok=True)
for old in PAGES.glob("*.py"):
    if not (TUTORIALS / old.name).exists():
        old.unlink()                        # a tutorial renamed or removed since the last build
for script in sorted(TUTORIALS.glob("*.py")):
    target = PAGES / script.name
    if not target.exists() or target.read_bytes() != script.read_bytes():
        shutil.copy2(script, target)        # unchanged copies keep their time: no re-execution

# figures the tutorials write (each also shows them inline, which is what the page keeps)
os.environ.setdefault("MINIGEN_FIGURES", str(DOCS / "_build" / "figures"))
QUICK = os.environ.get("MINIGEN_QUICK", "") not in ("", "0")

project = "minigen"
author = "the minigen authors"
copyright = "minigen authors, MIT licence"
release = "0.1.0"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",                  # every documented function links to its source, in the book
    "sphinx-mathjax-offline",               # MathJax bundled into _static: the book works offline
]

exclude_patterns = ["_build", "conf.py", "tutorials/_*.py", "**.ipynb_checkpoints"]

# ----- MyST and MyST-NB -----
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "cache"                  # re-run a tutorial only when it changed (the tests: "force")
nb_execution_timeout = -1
nb_execution_raise_on_error = True           # a tutorial that fails fails the build
nb_execution_show_tb = True
nb_merge_streams = True
nb_execution_cache_path = str(DOCS / "_build" / (".jupyter_cache_quick" if QUICK else ".jupyter_cache_full"))

# ----- autodoc -----
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": True}
autodoc_typehints = "none"
add_module_names = False

# ----- HTML -----
html_theme = "sphinx_book_theme"
html_title = "minigen: generative AI from scratch"
html_theme_options = {
    "show_navbar_depth": 1,
    "home_page_in_toc": True,
    "use_download_button": True,
}
html_context = {"default_mode": "auto"}     # with none, the theme's script logs an error at every load
html_static_path = []
html_last_updated_fmt = None


# ----- docstrings: minigen's plain-text conventions, read as reStructuredText -----
# minigen's docstrings are written to be read with help() as much as here. Two of their habits
# mean something else in reStructuredText, and are translated as each docstring is read:
# - an example or formula introduced by one colon and indented below ("...::" in RST), which
#   would be an error ("unexpected indentation") or a quotation; it becomes a literal block;
# - |x| for an absolute value or a norm, which RST reads as a substitution; | is escaped
#   in prose lines (indented blocks, literal or math, are left alone).
import re  # noqa: E402

def escape_bars(line):
    """Every | outside ``inline literals`` escaped: |x| is an absolute value here, never a
    substitution."""
    parts = line.split("``")
    return "``".join(part.replace("|", "\\|") if k % 2 == 0 else part for k, part in enumerate(parts))


def plain_text_to_rst(app, what, name, obj, options, lines):
    out = []
    for k, line in enumerate(lines):
        if line and not line[0].isspace() and not line.startswith(".."):
            line = escape_bars(line)
        following = next((ln for ln in lines[k + 1:] if ln.strip()), "")
        indent = len(line) - len(line.lstrip())
        opens_block = (line.rstrip().endswith(":") and not line.rstrip().endswith("::")
                       and not line.lstrip().startswith(("..", ":"))
                       and len(following) - len(following.lstrip()) > indent)
        if opens_block:
            line = line.rstrip() + ":"
            out.append(line)
            if k + 1 < len(lines) and lines[k + 1].strip():
                out.append("")
            continue
        out.append(line)
    lines[:] = out


# ----- viewcode's links back from the source pages -----
# viewcode keeps one module name per source file, so when a file's functions are documented
# under two names (ops/shape.py: mg.concat, and F.pad), some links from the highlighted source
# back to the documentation point at an anchor that does not exist. After the build, each such
# link is pointed at the entry of the same object on the same page.
BACKLINK = re.compile(r'href="([^"#]+)#([^"]+)"')


def fix_source_backlinks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    ids = {}
    for source in (out / "_modules").rglob("*.html"):
        text = source.read_text(encoding="utf-8")

        def point(match):
            page, anchor = match.group(1), match.group(2)
            target = (source.parent / page).resolve()
            if target not in ids:
                ids[target] = set(re.findall(r'id="([^"]+)"', target.read_text(encoding="utf-8"))) \
                    if target.is_file() else set()
            if anchor in ids[target]:
                return match.group(0)
            for k in range(1, anchor.count(".") + 1):          # the object's name, from its last part
                name = anchor.split(".", k)[-1]
                found = sorted((i.count("."), i) for i in ids[target] if i.endswith("." + name))
                if found and (len(found) == 1 or found[0][0] < found[1][0]):   # one, or one nearest the top
                    return f'href="{page}#{found[0][1]}"'
            return match.group(0)

        source.write_text(BACKLINK.sub(point, text), encoding="utf-8")


def setup(app):
    app.connect("autodoc-process-docstring", plain_text_to_rst)
    app.connect("build-finished", fix_source_backlinks)

"""The book builds, in quick mode, with warnings as errors; every tutorial is a page with its
figures; the API reference covers the public API; no page loads anything from the network.

The build executes every tutorial as a notebook (MyST-NB), once per test session: the
tutorials' own checks (tests/test_tutorials.py) read the executed notebooks this same build
writes, so nothing is executed twice. It needs the docs extra (`pip install ".[docs]"`).
"""
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted(p for p in (ROOT / "tutorials").glob("*.py") if not p.name.startswith("_"))


@functools.lru_cache(maxsize=1)
def build_book():
    """Build the quick book once: (output folder, sphinx's return code, its log). The folder
    holds html/, jupyter_execute/ (the executed notebooks) and figures/ (the PNGs written)."""
    pytest.importorskip("myst_nb", reason="the book needs the docs extra: pip install '.[docs]'")
    out = Path(tempfile.mkdtemp(prefix="minigen-book-"))
    env = dict(os.environ, MINIGEN_QUICK="1", MINIGEN_FIGURES=str(out / "figures"),
               PYTHONWARNINGS="error::RuntimeWarning")      # in the kernels too, as in the rest of the suite
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
         "-D", "nb_execution_mode=force", "-d", str(out / "doctrees"), str(ROOT / "docs"), str(out / "html")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    return out, result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def book():
    out, returncode, log = build_book()
    assert returncode == 0, f"the quick book did not build cleanly (warnings are errors):\n{log[-6000:]}"
    return out


class Resources(HTMLParser):
    """Every URL a page loads (scripts, styles, images, fonts, frames) and every link it makes."""

    LOADS = {("script", "src"), ("link", "href"), ("img", "src"), ("source", "src"), ("iframe", "src"),
             ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data")}

    def __init__(self):
        super().__init__()
        self.loads, self.links, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for t, attr in self.LOADS:
            if tag == t and attrs.get(attr) and not (tag == "link" and attrs.get("rel") not in
                                                     ("stylesheet", "icon", "preload", "modulepreload")):
                self.loads.append(attrs[attr])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def parse(page):
    parser = Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


@pytest.mark.slow
def test_the_quick_book_builds_with_warnings_as_errors(book):
    assert (book / "html" / "index.html").exists()


@pytest.mark.slow
@pytest.mark.parametrize("script", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_every_tutorial_has_a_page_with_its_figures(book, script):
    page = book / "html" / "tutorials" / f"{script.stem}.html"
    assert page.exists(), f"no page for {script.name}"
    images = [src for src in parse(page).loads if re.search(r"\.(png|gif|jpe?g|svg)$", src)]
    assert images, f"{page.name} shows no figure"
    for src in images:
        assert (page.parent / src).resolve().is_file(), f"{page.name}: image {src} is missing"


# the public API of DESIGN.md: each name must have an entry (an anchor) in the API reference
PUBLIC = {
    "minigen": "tensor zeros ones randn rand arange zeros_like ones_like manual_seed set_default_device "
               "cuda_available set_num_threads grad no_grad concat stack where maximum minimum gradcheck "
               "gradgradcheck save load Tensor",
    "minigen.Tensor": "shape ndim dtype device data requires_grad grad numpy item to cpu detach astype backward "
                      "exp log sqrt tanh sigmoid relu abs sum mean var max min reshape transpose T __getitem__",
    "minigen.functional": "relu leaky_relu gelu silu sigmoid tanh softplus softmax log_softmax logsumexp linear "
                          "conv2d conv_transpose2d max_pool2d avg_pool2d embedding dropout layer_norm pad "
                          "cross_entropy binary_cross_entropy_with_logits mse_loss scaled_dot_product_attention",
    "minigen.nn": "Module Parameter Linear Conv2d ConvTranspose2d MaskedConv2d Embedding LayerNorm BatchNorm1d "
                  "BatchNorm2d GroupNorm Dropout Sequential ReLU LeakyReLU GELU SiLU Tanh Sigmoid "
                  "CausalSelfAttention TransformerBlock",
    "minigen.nn.Module": "parameters named_parameters train eval to state_dict load_state_dict zero_grad",
    "minigen.optim": "SGD Adam AdamW clip_grad_norm_ EMA",
    "minigen.objectives.minimax": "", "minigen.objectives.elbo": "", "minigen.objectives.autoregressive": "",
    "minigen.objectives.denoising": "",
    "minigen.runs": "open_run",
    "minigen.viz": "draw_graph",
}


@pytest.mark.slow
def test_the_api_reference_covers_every_public_name(book):
    ids = set().union(*(parse(page).ids for page in (book / "html" / "api").glob("*.html")))
    wanted = [f"{owner}.{name}" if name else owner for owner, names in PUBLIC.items()
              for name in (names.split() or [""])]
    missing = [name for name in wanted if name not in ids and f"module-{name}" not in ids]
    assert not missing, f"the API reference has no entry for {missing}"


def pages(book):
    return sorted((book / "html").rglob("*.html"))


@pytest.mark.slow
def test_no_page_loads_anything_from_the_network(book):
    remote = re.compile(r"^(https?:)?//", re.IGNORECASE)
    offenders = [(page.relative_to(book / "html").as_posix(), url) for page in pages(book)
                 for url in parse(page).loads if remote.match(url)]
    assert not offenders, f"pages that load from the network: {offenders[:10]}"
    for css in (book / "html" / "_static").rglob("*.css"):
        urls = re.findall(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", css.read_text(errors="replace"))
        assert not urls, f"{css.name} loads {urls[:3]}"
    mathjax = book / "html" / "_static" / "mathjax" / "tex-chtml.js"
    assert mathjax.is_file(), "MathJax is not bundled"
    assert "_static/mathjax/tex-chtml.js" in (book / "html" / "tutorials" / "02_layers_and_optimisers.html").read_text()


@pytest.mark.slow
def test_every_local_link_leads_to_a_page_and_its_anchor(book):
    broken = []
    for page in pages(book):
        for href in parse(page).links:
            if re.match(r"^[a-z]+:", href) or href.startswith("//"):
                continue                                 # external links and mailto: are not loads
            path, _, anchor = href.partition("#")
            target = (page.parent / path).resolve() if path else page
            if not target.is_file():
                broken.append((page.name, href))
            elif anchor and target.suffix == ".html" and anchor not in parse(target).ids:
                broken.append((page.name, href))
    assert not broken, f"broken links: {broken[:10]}"


@pytest.mark.slow
def test_no_page_cites_an_issue_or_the_seeds(book):
    cited = re.compile(r"\bissues? \d+|\bthe seeds\b|\bseeds' ", re.IGNORECASE)
    for page in (book / "html" / "tutorials").glob("*.html"):
        text = re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))
        found = cited.findall(text)
        assert not found, f"{page.name} cites {found}"


@pytest.mark.slow
def test_the_book_checks_clean_in_headless_chromium(book):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium)")
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "maintenance" / "check_book.py"),
                             str(book / "html"), "--chromium", chromium],
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]

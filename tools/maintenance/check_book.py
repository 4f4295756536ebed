"""Open every page of the built book in headless Chromium and fail on what a reader would meet:
a console error or an uncaught exception, a resource that did not load (script, style, image,
font), a broken image, math left as raw TeX, or a local link to a page or anchor that is not
there.

    python tools/maintenance/check_book.py [docs/_build/html] [--chromium /usr/bin/chromium]

Needs Chromium (Debian: `apt-get install chromium`). Each page is copied with a small script
placed first in its <head>: it records console errors, uncaught errors and failed loads, then,
once the page has loaded and MathJax has typeset it, checks every image and every piece of math
and writes what it found into the page, which Chromium prints (--dump-dom). Links are checked
from the HTML, without a browser. Exit code 0 when every page is clean, 1 otherwise, 2 when
Chromium or the book is missing.
"""
import argparse
import concurrent.futures
import json
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

PROBE = r"""<script>
(function () {
  var problems = [];
  var say = function (text) { problems.push(String(text).slice(0, 300)); };
  var consoleError = console.error;
  console.error = function () { say("console.error: " + Array.prototype.join.call(arguments, " "));
                                return consoleError.apply(console, arguments); };
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) { say("failed to load: " + (t.src || t.href)); }
    else { say("uncaught: " + e.message); }
  }, true);
  window.addEventListener("unhandledrejection", function (e) { say("unhandled rejection: " + e.reason); });
  var check = function () {
    for (var i = 0; i < document.images.length; i++) {
      var img = document.images[i];
      if (!img.complete || img.naturalWidth === 0) { say("broken image: " + img.getAttribute("src")); }
    }
    var maths = document.querySelectorAll(".math");
    for (var j = 0; j < maths.length; j++) {
      if (!maths[j].querySelector("mjx-container")) { say("math not typeset: " + maths[j].textContent.slice(0, 80)); }
    }
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    var raw = /\$\$|\\\(|\\\[|\\frac|\\mathbb|\\sum_|\\theta|\$[^$\s][^$]*\$/;
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      var parent = node.parentElement;
      if (parent.closest("pre, code, script, style, .highlight, mjx-container, .math, textarea")) { continue; }
      if (raw.test(node.textContent)) { say("raw TeX in the text: " + node.textContent.trim().slice(0, 80)); }
    }
    document.documentElement.setAttribute("data-book-check", JSON.stringify(problems));
  };
  window.addEventListener("load", function () {
    var mathjax = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    if (document.querySelector(".math") && !mathjax) { say("math on the page but MathJax did not start"); }
    (mathjax ? window.MathJax.startup.promise : Promise.resolve()).then(check, function (e) {
      say("MathJax failed: " + e); check(); });
  });
})();
</script>"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--allow-file-access-from-files", "--virtual-time-budget=20000", "--dump-dom"]
RESULT = re.compile(r'data-book-check="([^"]*)"')


class Links(HTMLParser):
    """The links (a href) and the ids of one page."""

    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def read_links(page, cache={}):
    if page not in cache:
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        cache[page] = parser
    return cache[page]


def broken_links(page):
    """Local links of ``page`` whose file or anchor does not exist."""
    broken = []
    for href in read_links(page).links:
        if re.match(r"^[a-zA-Z][a-zA-Z+.-]*:", href) or href.startswith("//"):
            continue                                              # external: a link, not a load
        path, _, anchor = href.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.is_file():
            broken.append(f"broken link: {href}")
        elif anchor and target.suffix == ".html" and anchor not in read_links(target).ids:
            broken.append(f"broken anchor: {href}")
    return broken


def in_browser(chromium, page, profile):
    """What the probe found on ``page`` (a copy with the probe in it), as a list of lines."""
    result = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", page.as_uri()],
                            capture_output=True, text=True, timeout=120)
    found = RESULT.search(result.stdout)
    if found is None:
        return [f"the page never finished loading (chromium exit code {result.returncode})"]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                      .replace("&gt;", ">"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="?", default="docs/_build/html", help="the built book (default %(default)s)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--jobs", type=int, default=2, help="pages checked at once (default %(default)s)")
    args = parser.parse_args(argv)
    site = Path(args.html).resolve()
    if not (site / "index.html").is_file():
        print(f"check_book: no built book in {site} (sphinx-build -M html docs docs/_build first)")
        return 2
    if not Path(args.chromium).exists() and shutil.which(args.chromium) is None:
        print(f"check_book: no Chromium at {args.chromium} (Debian: apt-get install chromium)")
        return 2
    with tempfile.TemporaryDirectory(prefix="check-book-") as tmp:
        copy = Path(tmp) / "site"
        shutil.copytree(site, copy)
        pages = sorted(p for p in copy.rglob("*.html") if "_static" not in p.relative_to(copy).parts)   # not the theme's templates
        for page in pages:
            text = page.read_text(encoding="utf-8")
            page.write_text(re.sub(r"<head([^>]*)>", lambda m: f"<head{m.group(1)}>" + PROBE, text, count=1),
                            encoding="utf-8")

        def check(k_page):
            k, page = k_page
            return page, broken_links(page) + in_browser(args.chromium, page, Path(tmp) / f"profile-{k % args.jobs}-{k}")

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(check, enumerate(pages)))
    failed = 0
    for page, problems in results:
        name = page.relative_to(copy).as_posix()
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for problem in problems:
                print(f"     {problem}")
        else:
            print(f"ok   {name}")
    print(f"{len(pages) - failed} of {len(pages)} pages clean")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

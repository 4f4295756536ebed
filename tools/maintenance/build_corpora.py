"""Rebuild the two text corpora shipped in minigen/data/: shakespeare.txt.gz and code.txt.gz.

    python -m tools.maintenance.build_corpora            # writes minigen/data/{shakespeare,code}.txt.gz
    python -m tools.maintenance.build_corpora --check    # rebuilds in memory, compares with the shipped files

Sources (provenance and licences: minigen/data/README.md):

* ``shakespeare.txt.gz``: Tiny Shakespeare (char-rnn's ``data/tinyshakespeare/input.txt``), read
  from ``../shared/data/tinyshakespeare.txt`` (or ``--shakespeare PATH``), its SHA-256 pinned below;
  gzipped as it is.
* ``code.txt.gz``: minigen's own Python source at commit ``CODE_COMMIT`` (every ``minigen/**/*.py``
  of that commit, read with ``git show``: the repository's history is the source, so the snapshot
  is the same on every machine). Each file is written after a header line ``# file: PATH``, in
  path order; the 4 characters outside printable ASCII (an e with an accent, a not-equal sign)
  become ``?``.

Both are written with mtime 0 and no file name in the gzip header: byte-for-byte reproducible.
"""
import argparse
import gzip
import hashlib
import io
import subprocess
import sys
from pathlib import Path

from tools.maintenance.build_data import write_or_check

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "minigen" / "data"
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
CODE_COMMIT = "f6205ff358834b18f61dfb36c8649174e9a6b1a8"
CODE_HEADER = "# file: "            # minigen/data/datasets.py splits the corpus on these lines
PRINTABLE = {"\n"} | {chr(c) for c in range(32, 127)}


def gz_bytes(text):
    """Gzipped ASCII text, with mtime 0 and no name in the header (reproducible)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("ascii"))
    return buf.getvalue()


def shakespeare(path):
    data = path.read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != SHAKESPEARE_SHA256:
        sys.exit(f"build_corpora: {path} has SHA-256 {got}, expected {SHAKESPEARE_SHA256}")
    return data.decode("ascii")


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True).stdout


def code():
    """minigen's source at CODE_COMMIT: each file after its header line, non-ASCII as '?'."""
    paths = sorted(p for p in git("ls-tree", "-r", "--name-only", CODE_COMMIT, "minigen").decode().split()
                   if p.endswith(".py"))
    parts = []
    for path in paths:
        text = git("show", f"{CODE_COMMIT}:{path}").decode("utf-8")
        text = "".join(ch if ch in PRINTABLE else "?" for ch in text)
        if any(line.startswith(CODE_HEADER) for line in text.splitlines()):
            sys.exit(f"build_corpora: {path} has a line starting with {CODE_HEADER!r}")
        if text and not text.endswith("\n"):
            text += "\n"
        parts.append(f"{CODE_HEADER}{path}\n{text}")
    print(f"code: {len(paths)} files at {CODE_COMMIT[:7]}", file=sys.stderr)
    return "".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shakespeare", type=Path, default=SHAKESPEARE, help="tinyshakespeare.txt")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write (default: minigen/data)")
    parser.add_argument("--check", action="store_true", help="compare with the files in --out, write nothing")
    args = parser.parse_args(argv)
    files = {"shakespeare.txt.gz": gz_bytes(shakespeare(args.shakespeare)), "code.txt.gz": gz_bytes(code())}
    return write_or_check(files, args.out, args.check)


if __name__ == "__main__":
    sys.exit(main())

"""Rebuild the data files shipped in minigen/data/ from their public sources.

    python -m tools.maintenance.build_data          # pip-downloads the sources into a temporary folder
    python -m tools.maintenance.build_data --sklearn-wheel scikit_learn-....whl --names-sdist names-0.3.0.tar.gz
    python -m tools.maintenance.build_data --check  # rebuild in memory, compare with the shipped files

Sources (see minigen/data/README.md for provenance and licences):

* ``digits.npz``: ``sklearn/datasets/data/digits.csv.gz`` from any scikit-learn wheel on PyPI
  (1,797 rows of 64 pixels in 0..16 and a label; the file has not changed in years and its
  SHA-256 is pinned below). Written as ``images`` uint8 (1797, 8, 8) and ``labels`` uint8 (1797,),
  in file order.
* ``names.txt.gz`` / ``surnames.txt.gz``: ``names/dist.female.first``, ``names/dist.male.first`` and
  ``names/dist.all.last`` from the sdist of the PyPI package ``names`` 0.3.0 (1990 US Census lists).
  The first column of each line is the name; it is lowercased. First names = the female and male
  lists merged and deduplicated (331 names are on both lists), surnames = the last-name list; both
  sorted, one name a line.

The outputs are byte-for-byte reproducible: the .npz is written with a fixed zip timestamp and the
.gz files with mtime 0 and no file name in the header. Only the standard library, NumPy and pip (to
fetch the sources when no local copy is given) are used; scikit-learn is never imported.
"""
import argparse
import gzip
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

DIGITS_MEMBER = "sklearn/datasets/data/digits.csv.gz"
DIGITS_CSV_GZ_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
NAMES_VERSION = "0.3.0"
NAMES_FILES_SHA256 = {
    "dist.female.first": "bd2f310fc4e5d5e5ea122c9d4342c9821145823118eb20db1647f305ec77b358",
    "dist.male.first": "0a5078ef6effe3b483d15b0f7f95047662126c9bfb624ecd5e5b978fc0f2470b",
    "dist.all.last": "b0e2b3743ccbad641ca48b344c24cdebcd1d9a1f76dc6dbf05986f2919f0b4e1",
}
EXPECTED = {"digits": 1797, "names": 5163, "surnames": 88799}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry: a fixed timestamp

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "minigen" / "data"


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _check_hash(what, data, expected):
    got = _sha256(data)
    if got != expected:
        sys.exit(f"build_data: {what} has SHA-256 {got}, expected {expected}; "
                 "the upstream file changed, review it before shipping")


def _pip_download(spec, dest, extra):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(dest), *extra, spec]
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)


def fetch_sources(tmp):
    """pip-download a scikit-learn wheel and the names sdist into ``tmp``; return their paths."""
    tmp = Path(tmp)
    _pip_download("scikit-learn", tmp / "sk", ["--only-binary", ":all:"])
    _pip_download(f"names=={NAMES_VERSION}", tmp / "names", ["--no-binary", ":all:"])
    wheel = next((tmp / "sk").glob("scikit_learn-*.whl"))
    sdist = next((tmp / "names").glob(f"names-{NAMES_VERSION}.tar.gz"))
    return wheel, sdist


# ----- digits -----
def read_digits_csv_gz(wheel):
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(DIGITS_MEMBER)
    _check_hash(f"{wheel}:{DIGITS_MEMBER}", raw, DIGITS_CSV_GZ_SHA256)
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.float64)
    if table.shape != (EXPECTED["digits"], 65) or (table != np.round(table)).any():
        sys.exit(f"build_data: digits.csv.gz has shape {table.shape}, expected (1797, 65) integers")
    pixels, labels = table[:, :64].astype(np.uint8), table[:, 64].astype(np.uint8)
    if pixels.max() > 16 or labels.max() > 9:
        sys.exit("build_data: digits pixels must be in 0..16 and labels in 0..9")
    return pixels.reshape(-1, 8, 8), labels


def npz_bytes(**arrays):
    """An .npz (as numpy.savez_compressed writes it) with a fixed timestamp, so rebuilds match."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


# ----- names -----
def read_census_lists(sdist):
    """{'dist.female.first': [...], ...}: the first column of each file, lowercased, in file order."""
    lists = {}
    with tarfile.open(sdist, "r:gz") as tf:
        for fname, expected in NAMES_FILES_SHA256.items():
            member = f"names-{NAMES_VERSION}/names/{fname}"
            raw = tf.extractfile(member).read()
            _check_hash(f"{sdist}:{member}", raw, expected)
            lists[fname] = [line.split()[0].lower() for line in raw.decode("ascii").splitlines()
                            if line.strip()]
    return lists


def text_gz_bytes(lines):
    """Gzipped text, one entry a line, with mtime 0 and no name in the header (reproducible)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(("\n".join(lines) + "\n").encode("ascii"))
    return buf.getvalue()


def build(wheel, sdist):
    """{file name: bytes} for every shipped data file."""
    images, labels = read_digits_csv_gz(wheel)
    lists = read_census_lists(sdist)
    first = sorted(set(lists["dist.female.first"]) | set(lists["dist.male.first"]))
    last = sorted(set(lists["dist.all.last"]))
    counts = {"digits": len(images), "names": len(first), "surnames": len(last)}
    if counts != EXPECTED:
        sys.exit(f"build_data: counts {counts} differ from the expected {EXPECTED}")
    for name in first + last:
        if not (name.isascii() and name.isalpha()):
            sys.exit(f"build_data: unexpected characters in name {name!r}")
    print(f"digits: {counts['digits']} images; names: {len(lists['dist.female.first'])} female + "
          f"{len(lists['dist.male.first'])} male = {counts['names']} unique; "
          f"surnames: {counts['surnames']}", file=sys.stderr)
    return {
        "digits.npz": npz_bytes(images=images, labels=labels),
        "names.txt.gz": text_gz_bytes(first),
        "surnames.txt.gz": text_gz_bytes(last),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sklearn-wheel", type=Path, help="a scikit-learn wheel (else pip-downloaded)")
    parser.add_argument("--names-sdist", type=Path, help=f"names-{NAMES_VERSION}.tar.gz (else pip-downloaded)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write (default: minigen/data)")
    parser.add_argument("--check", action="store_true", help="compare with the files in --out, write nothing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel, sdist = args.sklearn_wheel, args.names_sdist
        if wheel is None or sdist is None:
            fetched_wheel, fetched_sdist = fetch_sources(tmp)
            wheel, sdist = wheel or fetched_wheel, sdist or fetched_sdist
        files = build(wheel, sdist)
    return write_or_check(files, args.out, args.check)


def write_or_check(files, out, check):
    """Write ``files`` ({name: bytes}) into the folder ``out``, or (``check``) compare them with the
    files there and write nothing; returns the exit status (1 if any differs)."""
    status = 0
    for fname, data in files.items():
        path = out / fname
        if check:
            same = path.exists() and path.read_bytes() == data
            print(f"{fname}: {'identical' if same else 'DIFFERS'}")
            status |= not same
        else:
            path.write_bytes(data)
            print(f"{fname}: {len(data):,} bytes, sha256 {_sha256(data)}")
    return status


if __name__ == "__main__":
    sys.exit(main())

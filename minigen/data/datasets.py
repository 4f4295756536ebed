"""The data sets minigen trains on: shipped files (digits, names, surnames, chorales, the shakespeare
and code corpora) and 2-D samplers.

Everything here runs on the host with NumPy; ``DataLoader`` moves batches to the device.
See README.md in this folder for where the files come from and their licences.
"""
import functools
import gzip
import os
import re
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from minigen.data.idx import load_idx

SPLITS = ("train", "test", "all")

# ----- digits -----
DIGITS_TRAIN = 1437  # the first 1,437 images in file order; the last 360 are the test split
DIGITS_MAX = 16  # pixels are counts of on-pixels in 4x4 blocks: 0..16


def _check_split(fn, split):
    if split not in SPLITS:
        raise ValueError(f"{fn}: split must be one of {', '.join(map(repr, SPLITS))}, got {split!r}")


def _open(fname):
    return resources.files(__package__).joinpath(fname).open("rb")


@functools.lru_cache(maxsize=None)
def _digits_raw():
    with _open("digits.npz") as f, np.load(f, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_digits(split="train", binary=False):
    """The 8x8 handwritten digits (UCI, 1,797 images): ``(images, labels)`` NumPy arrays.

    ``images`` float32 (N, 1, 8, 8): pixels 0..16 scaled linearly to [-1, 1] (``2 * p / 16 - 1``),
    or with ``binary=True`` the values {0., 1.} (1 where the pixel is >= 8). ``labels`` int64 (N,)
    in 0..9. Split: ``"train"`` the first 1,437 images in file order, ``"test"`` the last 360,
    ``"all"`` all 1,797. Each call returns fresh arrays.
    """
    _check_split("load_digits", split)
    pixels, labels = _digits_raw()
    sl = {"train": slice(None, DIGITS_TRAIN), "test": slice(DIGITS_TRAIN, None), "all": slice(None)}[split]
    pixels, labels = pixels[sl], labels[sl]
    if binary:
        images = (pixels >= DIGITS_MAX // 2).astype(np.float32)
    else:
        images = pixels.astype(np.float32) * np.float32(2.0 / DIGITS_MAX) - np.float32(1.0)
    return images[:, None], labels.astype(np.int64)


# ----- names -----
NAME_KINDS = ("names", "surnames")
NAMES_SPLIT_SEED = 0


@functools.lru_cache(maxsize=None)
def _names_split(kind):
    """(train, test) tuples for a kind: the sorted list shuffled by default_rng(0), last 10% test."""
    with _open(f"{kind}.txt.gz") as f:
        text = gzip.decompress(f.read()).decode("ascii")
    names = sorted(set(text.split()))
    order = np.random.default_rng(NAMES_SPLIT_SEED).permutation(len(names))
    shuffled = tuple(names[i] for i in order)
    n_test = len(shuffled) // 10
    return shuffled[:len(shuffled) - n_test], shuffled[len(shuffled) - n_test:]


def load_names(kind="names", split="train"):
    """US census first names (``kind="names"``) or surnames (``"surnames"``), lowercase a-z.

    The shipped list is sorted and unique (5,163 first names, 88,799 surnames). Split: the sorted
    list is put in the order ``numpy.random.default_rng(0).permutation(n)``; the test split is the
    last ``n // 10`` of that order (10% rounded down: 516 first names, 8,879 surnames), the train
    split the rest, ``"all"`` the train split followed by the test split. Returns a new list.
    """
    if kind not in NAME_KINDS:
        raise ValueError(f"load_names: kind must be 'names' or 'surnames', got {kind!r}")
    _check_split("load_names", split)
    train, test = _names_split(kind)
    return list({"train": train, "test": test, "all": train + test}[split])


# ----- chorales -----
@functools.lru_cache(maxsize=None)
def _chorales_raw():
    with _open("chorales.npz") as f, np.load(f, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    for a in arrays.values():
        a.flags.writeable = False
    return arrays


def load_chorales(split="train"):
    """Bach's four-part chorales (music21's corpus, 293 in 4/4): ``(rolls, info)``.

    ``rolls``: a list of new int64 arrays (4, T), one per chorale: the MIDI pitch each voice
    (soprano, alto, tenor, bass) sounds at every eighth note, 0 for a rest; transposed to
    C major or A minor. ``info``: {"names", "tonic", "mode", "shift"}, one entry per chorale
    (the key before transposition: tonic pitch class, 0 major / 1 minor; the semitones added).
    Split by chorale, fixed when the file was built: 249 train, 44 test (minigen/data/README.md).
    """
    _check_split("load_chorales", split)
    raw = _chorales_raw()
    keep = np.ones(len(raw["test"]), bool) if split == "all" else raw["test"] == (split == "test")
    starts = raw["starts"]
    rolls = [raw["rolls"][starts[c]:starts[c + 1]].T.astype(np.int64) for c in np.flatnonzero(keep)]
    info = {k: raw[k][keep].tolist() for k in ("names", "tonic", "mode", "shift")}
    return rolls, info



# ----- text corpora: shakespeare, code -----
CORPORA = ("shakespeare", "code")
SHAKESPEARE_TRAIN = 0.9          # nanoGPT's split: the first 90% of the characters train, the rest test
CODE_SPLIT_SEED = 0
CODE_HEADER = re.compile(r"^# file: (.+)\n", re.MULTILINE)   # the line before each file in code.txt.gz


def _read_text(fname):
    with _open(fname) as f:
        return gzip.decompress(f.read()).decode("ascii")


@functools.lru_cache(maxsize=None)
def _corpus_split(name):
    """((train texts), (test texts), (train paths), (test paths)) of a corpus."""
    if name == "shakespeare":
        text = _read_text("shakespeare.txt.gz")
        n = int(len(text) * SHAKESPEARE_TRAIN)
        return (text[:n],), (text[n:],), ("tinyshakespeare.txt[:90%]",), ("tinyshakespeare.txt[90%:]",)
    pieces = CODE_HEADER.split(_read_text("code.txt.gz"))[1:]        # path, text, path, text, ...
    files = sorted(zip(pieces[0::2], pieces[1::2]))
    order = np.random.default_rng(CODE_SPLIT_SEED).permutation(len(files))
    n_test = len(files) // 10
    train, test = [files[i] for i in order[:len(files) - n_test]], [files[i] for i in order[len(files) - n_test:]]
    return (tuple(t for _, t in train), tuple(t for _, t in test),
            tuple(p for p, _ in train), tuple(p for p, _ in test))


def load_corpus(name, split="train"):
    """A text corpus as a new list of str (its documents) and their names.

    ``"shakespeare"``: Tiny Shakespeare (1,115,394 characters, 65 distinct), split as nanoGPT
    splits it: the train split is the first ``int(0.9 * n)`` characters (1,003,854), the test split
    the rest (111,540); one document each (``"all"``: those two). ``"code"``: minigen's own source at a fixed commit, one
    document per file (127 files, printable ASCII and newlines), split by file: the files sorted
    by path, put in the order ``numpy.random.default_rng(0).permutation(127)``, the last 12 the
    test split, the other 115 the train split. ``"all"``: the train split, then the test split.
    Returns ``(texts, names)``: the documents and their file names.
    """
    if name not in CORPORA:
        raise ValueError(f"load_corpus: name must be one of {', '.join(map(repr, CORPORA))}, got {name!r}")
    _check_split("load_corpus", split)
    train, test, train_names, test_names = _corpus_split(name)
    texts = {"train": train, "test": test, "all": train + test}[split]
    names = {"train": train_names, "test": test_names, "all": train_names + test_names}[split]
    return list(texts), list(names)


EIGHT_GAUSSIANS_RADIUS = 2.0
EIGHT_GAUSSIANS_STD = 0.02
#: the 8 centres of ``8gaussians``: angles 0, 45, ..., 315 degrees on the circle of radius 2
EIGHT_GAUSSIANS_CENTERS = (EIGHT_GAUSSIANS_RADIUS * np.stack(
    [np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], axis=1)).astype(np.float32)
EIGHT_GAUSSIANS_CENTERS.flags.writeable = False
SWISSROLL_NOISE = 0.5
SWISSROLL_SCALE = 5.0
POINTS_DATASETS = ("8gaussians", "swissroll")


def _eight_gaussians(n, rng):
    which = rng.integers(0, 8, size=n)
    return EIGHT_GAUSSIANS_CENTERS[which].astype(np.float64) + EIGHT_GAUSSIANS_STD * rng.standard_normal((n, 2))


def _swissroll(n, rng):
    # scikit-learn's make_swiss_roll (hole=False), drawn from a numpy Generator:
    # t ~ 1.5 pi (1 + 2 U), height ~ 21 U, (t cos t, height, t sin t) + noise * N(0, I)
    t = 1.5 * np.pi * (1 + 2 * rng.uniform(size=n))
    height = 21 * rng.uniform(size=n)
    points = np.vstack((t * np.cos(t), height, t * np.sin(t)))
    points += SWISSROLL_NOISE * rng.standard_normal(size=(3, n))
    return points[[0, 2]].T / SWISSROLL_SCALE


def sample_2d(name, n, seed=0):
    """``n`` points (float32, shape (n, 2)) from a 2-D toy distribution; the same seed, the same points.

    ``"8gaussians"``: a centre chosen uniformly among ``EIGHT_GAUSSIANS_CENTERS`` (radius 2) plus
    N(0, 0.02^2 I) noise. ``"swissroll"``: scikit-learn's ``make_swiss_roll`` recipe with noise
    0.5, keeping columns 0 and 2 (the roll seen from its axis) divided by 5 (both coordinates
    within about [-2.5, 3.2]).
    Uses its own ``numpy.random.default_rng(seed)``, never a global generator.
    """
    if name not in POINTS_DATASETS:
        raise ValueError(f"sample_2d: unknown 2-D data set {name!r}; use one of {', '.join(POINTS_DATASETS)}")
    n = int(n)
    if n < 0:
        raise ValueError(f"sample_2d: n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    points = _eight_gaussians(n, rng) if name == "8gaussians" else _swissroll(n, rng)
    return np.ascontiguousarray(points, dtype=np.float32)


# ----- one entry point -----
POINTS_SIZES = {"train": 10_000, "test": 2_500}
POINTS_SEEDS = {"train": 0, "test": 1}
DATASET_NAMES = ("8gaussians", "swissroll", "digits", "digits-binary", "names", "surnames", "shakespeare",
                 "code", "chorales", "idx:PATH")


@dataclass(eq=False)
class Dataset:
    """One split of a data set, as ``get_dataset`` returns it.

    ``kind``: ``"points"`` (``data`` float32 (N, 2)), ``"images"`` (``data`` float32 (N, C, H, W)),
    ``"text"`` (``data`` a list of str: names, or a corpus's documents) or ``"music"`` (``data`` a list of int64 rolls (4, T)).
    ``labels``: int64 (N,) class labels or None.
    ``shape``: one item's shape ((2,) or (C, H, W); () for text). ``value_range``: the (low, high)
    the values lie in ((-1, 1) or (0, 1) for images; None for points, which are unbounded).
    ``binary``: values are exactly {0, 1}. ``num_classes``: for labelled data (for ``idx:`` data,
    the split's largest label + 1). ``vocab``: for text, the sorted characters used by every split
    (so train and test encode alike). ``max_len``: for names, the longest string over every split
    (None for a corpus: its documents are read in blocks).
    ``info``: anything else (sizes and seeds of points, the 8 centres, an IDX path, the number of
    intensity ``levels`` a digit's pixel takes: 17, the scanner's 0..16, or 2 when binary...).
    """
    name: str
    split: str
    kind: str
    data: object
    labels: object = None
    shape: tuple = ()
    value_range: tuple = None
    binary: bool = False
    num_classes: int = None
    vocab: tuple = None
    max_len: int = None
    info: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.data)

    def _as(self, kind):
        if self.kind != kind:
            raise AttributeError(f"{self.name}: a {self.kind} data set has no .{kind}; use .data")
        return self.data

    @property
    def images(self):
        """``data`` for an images data set (AttributeError for the other kinds)."""
        return self._as("images")

    @property
    def points(self):
        """``data`` for a points data set."""
        return self._as("points")

    @property
    def rolls(self):
        """``data`` for a music data set."""
        return self._as("music")

    @property
    def text(self):
        """``data`` for a text data set."""
        return self._as("text")

    def to_unit(self, x):
        """Images from this data's value range to [0, 1] (clipped), float32: what ``minigen sample``
        writes and ``--given`` reads. Points (no range) pass through as float32."""
        if self.value_range is not None:
            low, high = self.value_range
            x = ((x - low) / (high - low)).clip(0, 1)
        return x.astype("float32")

    def from_unit(self, u):
        """The inverse of ``to_unit``: [0, 1] images back to this data's own values, float32."""
        if self.value_range is not None:
            low, high = self.value_range
            u = u * (high - low) + low
        return u.astype("float32")

    def __repr__(self):
        extra = f", vocab={''.join(self.vocab)!r}" if self.vocab else f", shape={self.shape}"
        return f"Dataset({self.name!r}, split={self.split!r}, kind={self.kind!r}, n={len(self)}{extra})"


def get_dataset(name, split="train"):
    """The data set the CLI's ``--data NAME`` names, as a ``Dataset``.

    Names: ``8gaussians`` and ``swissroll`` (points: the train split is 10,000 samples drawn with
    seed 0, the test split 2,500 with seed 1, ``"all"`` both, train first); ``digits`` (images in
    [-1, 1]) and ``digits-binary`` (images in {0, 1}), split as ``load_digits``; ``names`` and
    ``surnames`` (text), split as ``load_names``; ``shakespeare`` and ``code`` (text corpora: a list
    of documents, ``info["files"]`` their names), split as ``load_corpus``; ``chorales`` (music), split as
    ``load_chorales``; ``idx:PATH`` (MNIST-style IDX files, a directory
    or one images file, see ``load_idx``; images in [-1, 1]). Raises ValueError for anything else.
    """
    _check_split("get_dataset", split)
    name = str(name)
    if name in POINTS_DATASETS:
        parts = ["train", "test"] if split == "all" else [split]
        data = np.concatenate([sample_2d(name, POINTS_SIZES[p], POINTS_SEEDS[p]) for p in parts])
        info = {"sizes": {p: POINTS_SIZES[p] for p in parts}, "seeds": {p: POINTS_SEEDS[p] for p in parts}}
        if name == "8gaussians":
            info.update(centers=EIGHT_GAUSSIANS_CENTERS, std=EIGHT_GAUSSIANS_STD)
        return Dataset(name, split, "points", data, shape=(2,), info=info)
    if name in ("digits", "digits-binary"):
        binary = name == "digits-binary"
        images, labels = load_digits(split, binary=binary)
        return Dataset(name, split, "images", images, labels, shape=images.shape[1:],
                       value_range=(0.0, 1.0) if binary else (-1.0, 1.0), binary=binary, num_classes=10,
                       info={"levels": 2 if binary else DIGITS_MAX + 1})
    if name in NAME_KINDS:
        every = load_names(name, "all")
        vocab = tuple(sorted(set("".join(every))))
        return Dataset(name, split, "text", load_names(name, split), vocab=vocab,
                       max_len=max(map(len, every)))
    if name in CORPORA:
        texts, files = load_corpus(name, split)
        vocab = tuple(sorted(set("".join(load_corpus(name, "all")[0]))))
        return Dataset(name, split, "text", texts, vocab=vocab, info={"files": files})
    if name == "chorales":
        rolls, info = load_chorales(split)
        return Dataset(name, split, "music", rolls, shape=(4,), info=info)
    if name.startswith("idx:") and len(name) > 4:
        path = os.path.expanduser(name[4:])
        images, labels = load_idx(path, split)
        num_classes = int(labels.max()) + 1 if labels is not None and len(labels) else None
        return Dataset(name, split, "images", images, labels, shape=images.shape[1:],
                       value_range=(-1.0, 1.0), num_classes=num_classes, info={"path": path})
    raise ValueError(f"unknown data set {name!r}; valid names: {', '.join(DATASET_NAMES)} "
                     "(idx:PATH is a directory of MNIST-style IDX files or one images file)")

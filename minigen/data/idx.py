"""IDX files (the format of MNIST and Fashion-MNIST), read and written with NumPy alone.

An IDX file is a header and a flat block of big-endian numbers:

    bytes 0-1   zero
    byte  2     the element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     the number of dimensions, D
    4 * D bytes the size of each dimension, big-endian uint32
    the data    prod(sizes) elements, big-endian, C order

MNIST ships these files gzipped; ``read_idx`` recognises gzip by its magic bytes (1f 8b), so a
decompressed file with a ``.gz`` name, or a gzipped one without, both load.
"""
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

# type code -> big-endian NumPy dtype
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"

# the standard MNIST names; Kaggle's copies write a dot before "idx" instead of a dash
_STANDARD = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _raw_bytes(path):
    """The file's bytes, gunzipped when it starts with the gzip magic number."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"read_idx: {path}: looks gzipped but does not decompress ({exc})") from exc
    return raw


def read_idx(path):
    """Read an IDX file (gzipped or not) into a NumPy array of its own dtype and shape.

    The result is in native byte order: uint8 images come back as uint8 (N, H, W), labels as
    uint8 (N,). Raises ValueError naming the file when the magic number is wrong, the type code
    unknown, or the data size does not match the header (a truncated or padded file).
    """
    path = os.fspath(path)
    raw = _raw_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"read_idx: {path}: {len(raw)} bytes is too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"read_idx: {path}: bad magic number 0x{raw[:4].hex()}: an IDX file "
                         "starts with two zero bytes, a type code and the number of dimensions")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} {dt.name}" for c, dt in IDX_DTYPES.items())
        raise ValueError(f"read_idx: {path}: unknown IDX type code 0x{code:02X} (known: {known})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path}: the header announces {ndim} dimensions "
                         f"({header} bytes) but the file holds only {len(raw)} bytes")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        raise ValueError(f"read_idx: {path}: size mismatch: the header says shape {shape} of "
                         f"{dtype.name} ({expected} bytes of data), the file has {got} bytes of data"
                         f"{' (truncated?)' if got < expected else ''}")
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def write_idx(path, array):
    """Write ``array`` as an IDX file; gzipped when ``path`` ends with ``.gz`` (mtime 0).

    The dtype must be one IDX knows: uint8, int8, int16, int32, float32 or float64.
    """
    path = os.fspath(path)
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"write_idx: {path}: dtype {array.dtype} has no IDX type code "
                         "(use uint8, int8, int16, int32, float32 or float64)")
    if array.ndim > 255:
        raise ValueError(f"write_idx: {path}: IDX allows at most 255 dimensions")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    body = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if path.endswith(".gz"):
        with open(path, "wb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
            gz.write(body)
    else:
        with open(path, "wb") as f:
            f.write(body)


def scale_pixels(images, path="images"):
    """uint8 images (N, H, W) -> float32 (N, 1, H, W) with 0..255 mapped onto [-1, 1]."""
    if images.dtype != np.uint8:
        raise ValueError(f"load_idx: {path}: image pixels must be uint8 (0..255), got {images.dtype}")
    if images.ndim != 3:
        raise ValueError(f"load_idx: {path}: images must be 3-D (N, H, W), got shape {images.shape}")
    out = images.astype(np.float32)[:, None]
    out *= 2.0 / 255.0
    out -= 1.0
    return out


def _find(directory, stem):
    """The file in ``directory`` for a standard MNIST stem, gzipped or not, dash or dot before idx."""
    candidates = []
    for name in (stem, stem.replace("-idx", ".idx")):
        candidates += [name, name + ".gz"]
    for name in candidates:
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"load_idx: {directory}: no {stem} file (looked for {', '.join(candidates)})")


def _labels_partner(path):
    """For an images file named the MNIST way, the labels file beside it (or None)."""
    name = path.name
    for images_part, labels_part in (("-images-idx3-", "-labels-idx1-"), ("-images.idx3-", "-labels.idx1-")):
        if images_part in name:
            partner = path.with_name(name.replace(images_part, labels_part))
            if partner.is_file():
                return partner
            if partner.name.endswith(".gz") and partner.with_name(partner.name[:-3]).is_file():
                return partner.with_name(partner.name[:-3])
            if partner.with_name(partner.name + ".gz").is_file():
                return partner.with_name(partner.name + ".gz")
    return None


def _read_pair(images_path, labels_path):
    images = scale_pixels(read_idx(images_path), images_path)
    if labels_path is None:
        return images, None
    labels = read_idx(labels_path)
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"load_idx: {labels_path}: labels of shape {labels.shape} do not match "
                         f"{len(images)} images in {images_path}")
    return images, labels.astype(np.int64)


def load_idx(path, split="train"):
    """Images and labels from MNIST-style IDX files.

    ``path`` a directory: it must hold the standard MNIST names (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
    optionally ``.gz``; Kaggle's ``train-images.idx3-ubyte`` spelling is accepted too). Split
    ``"train"`` reads the train files, ``"test"`` the t10k files, ``"all"`` both, train first.

    ``path`` a single images file: that file is the whole data set. Its labels come from the file
    beside it named the MNIST way (``X-images-idx3-ubyte[.gz]`` -> ``X-labels-idx1-ubyte[.gz]``)
    when there is one, else labels are None. The split is then made like the names split, in
    file order: ``"test"`` is the last N // 10 images, ``"train"`` the rest, ``"all"`` everything.

    Returns ``(images, labels)``: images float32 (N, 1, H, W) with pixels 0..255 scaled to
    [-1, 1] (as ``load_digits``), labels int64 (N,) or None.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"load_idx: split must be 'train', 'test' or 'all', got {split!r}")
    path = Path(os.path.expanduser(os.fspath(path)))
    if path.is_dir():
        parts = ["train", "test"] if split == "all" else [split]
        pairs = [_read_pair(_find(path, _STANDARD[p][0]), _find(path, _STANDARD[p][1])) for p in parts]
        if len(pairs) == 1:
            return pairs[0]
        return (np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))
    if not path.is_file():
        raise FileNotFoundError(f"load_idx: {path}: no such file or directory")
    images, labels = _read_pair(path, _labels_partner(path))
    if split == "all":
        return images, labels
    cut = len(images) - len(images) // 10
    sl = slice(None, cut) if split == "train" else slice(cut, None)
    return images[sl], (None if labels is None else labels[sl])

"""Save and load checkpoints as .npz files that can hold data but never code.

A checkpoint is a (possibly nested) dict: a model's state_dict, an optimizer's, a step
count, a config. ``save`` splits it in two:

- every array (a minigen Tensor, a NumPy or CuPy array, a NumPy scalar) becomes one
  ``.npy`` entry of the zip, named by its path of keys joined with '/', e.g.
  ``model/fc1.weight`` or ``optimizer/state/0/exp_avg``;
- everything else (the nesting, numbers, strings, lists, None) goes into one JSON text,
  stored as the uint8 entry ``__meta__.json``, in which each array appears as a reference.

Pickle is never used: arrays are written and read with ``allow_pickle=False`` and the rest
is JSON, so loading a file, even a hostile one, cannot run code. An object array (the only
kind NumPy must pickle) is refused on both sides. The file is any ``numpy.load`` can open.

In the JSON each node is tagged: ``{"dict": {key: node}}``, ``{"list": [node, ...]}``,
``{"tuple": [...]}``, ``{"array": "entry"}``, ``{"scalar": "entry"}`` (a NumPy scalar, kept
with its dtype) or ``{"value": json}`` (a number, string, None, or a list of those).
"""
import json
import os
import uuid
import zipfile
import zlib

import numpy

from minigen import backend
from minigen.tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

META = "__meta__.json"
FORMAT = "minigen-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a readable minigen checkpoint; the message names the file."""


# ----- save -----
def save(obj, path, compress=False):
    """Write ``obj`` to ``path`` (which must end in .npz), atomically.

    ``obj``'s leaves may be Tensors (saved as their values, on the host), NumPy or CuPy
    arrays, NumPy scalars, or JSON values (numbers, strings, bools, None, lists); dict keys
    must be non-empty strings without '/'. The file is written under a temporary name
    in the same folder and renamed into place, so an interrupted save leaves either the
    old file or the new one, never half of one. ``compress=True`` deflates the arrays.
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        raise ValueError(f"save: {path}: a checkpoint file name must end in .npz")
    arrays = {}
    tree = _encode(obj, (), arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    _write_atomic(path, arrays, meta.encode("utf-8"), compress)


def _where(keys):
    return "obj" + "".join(f"[{k!r}]" for k in keys)


def _is_plain(value):
    """A JSON scalar, or a list of plain values (stored in the JSON text as it is)."""
    if isinstance(value, numpy.generic):
        return False
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return type(value) is list and all(_is_plain(v) for v in value)


def _encode(obj, keys, arrays):
    """The JSON node for ``obj``; its arrays are added to ``arrays`` under their entry names."""
    if isinstance(obj, Tensor):
        obj = obj.data
    if backend.is_array(obj) or isinstance(obj, numpy.generic):
        array = backend.to_host(obj)
        if array.dtype.hasobject:
            raise TypeError(f"save: {_where(keys)} is an array of Python objects (dtype {array.dtype}); "
                            "only numeric, bool and string arrays can be saved without pickle")
        entry = "/".join(keys) or "_"
        if entry == META:
            raise ValueError(f"save: the key {META!r} is reserved for the checkpoint's metadata")
        arrays[entry] = array
        return {"scalar" if isinstance(obj, numpy.generic) else "array": entry}
    if isinstance(obj, dict):
        node = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"save: {_where(keys)} has the key {key!r} ({type(key).__name__}); "
                                "checkpoint keys must be strings")
            if not key or "/" in key:
                raise ValueError(f"save: {_where(keys)} has the key {key!r}; checkpoint keys must be "
                                 "non-empty and contain no '/' (it separates nested keys)")
            node[key] = _encode(value, keys + (key,), arrays)
        return {"dict": node}
    if _is_plain(obj):  # nan and inf too: Python's json writes and reads NaN, Infinity
        return {"value": obj}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, keys + (str(i),), arrays) for i, v in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    raise TypeError(f"save: {_where(keys)} is a {type(obj).__name__}; a checkpoint holds dicts, "
                    "lists, tuples, Tensors, arrays, numbers, strings, bools and None")


def _write_atomic(path, arrays, meta, compress):
    """Write the zip under a temporary name next to ``path``, flush it to disk, rename it."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    try:
        # os.open with mode 0o666 lets the umask decide the permissions, as open() would
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as fh:
                with zipfile.ZipFile(fh, "w", compression=method, allowZip64=True) as zf:
                    _write_entry(zf, META, numpy.frombuffer(meta, dtype=numpy.uint8))
                    for entry, array in arrays.items():
                        _write_entry(zf, entry, array)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as exc:
        raise OSError(exc.errno, f"save: cannot write {path}: {exc.strerror or exc}") from exc
    _fsync_folder(folder)


def _write_entry(zf, entry, array):
    """One .npy entry, stamped with a fixed date: the same state writes the same bytes."""
    info = zipfile.ZipInfo(entry + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zf.compression
    with zf.open(info, "w", force_zip64=True) as f:
        numpy.lib.format.write_array(f, numpy.asarray(array), allow_pickle=False)


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX); not possible everywhere, and then skipped."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----- load -----
def load(path):
    """Read a checkpoint written by ``save``: the same nesting, with every array as a NumPy
    array on the host (Tensors come back as arrays; ``load_state_dict`` accepts them),
    NumPy scalars as NumPy scalars, tuples as tuples, and JSON values as they were.

    Raises CheckpointError (a ValueError) naming the file when it is truncated, not a zip,
    lacks the metadata entry, or holds an array of pickled objects (never unpickled);
    OSError when it cannot be opened.
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise CheckpointError(f"load: {path} is not a complete .npz (zip) file: it is truncated, "
                                  f"damaged, or not a checkpoint ({exc})") from None
        with zf:
            names = set(zf.namelist())
            if META + ".npy" not in names:
                raise CheckpointError(f"load: {path} has no {META} entry: it was not written by "
                                      "minigen.save (plain numpy.savez files have none)")
            meta = _read_entry(zf, META, path)
            if meta.dtype != numpy.uint8 or meta.ndim != 1:
                raise CheckpointError(f"load: {path}: the {META} entry is {meta.dtype} {meta.shape}, "
                                      "not uint8 text")
            try:
                meta = json.loads(meta.tobytes().decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise CheckpointError(f"load: {path}: the {META} entry is not JSON text ({exc})") from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT or "tree" not in meta:
                raise CheckpointError(f"load: {path}: the {META} entry is not minigen checkpoint metadata")
            if meta.get("version") != VERSION:
                raise CheckpointError(f"load: {path}: checkpoint format version {meta.get('version')!r}; "
                                      f"this minigen reads version {VERSION}")
            try:
                return _decode(meta["tree"], zf, path)
            except RecursionError:
                raise CheckpointError(f"load: {path}: the metadata is nested too deeply") from None


def _read_entry(zf, entry, path):
    """One array entry, read with allow_pickle=False."""
    try:
        with zf.open(entry + ".npy") as f:
            return numpy.lib.format.read_array(f, allow_pickle=False)
    except KeyError:
        raise CheckpointError(f"load: {path}: the metadata names the array {entry!r}, "
                              "which the file does not contain") from None
    except ValueError as exc:
        hint = (" -- it holds pickled Python objects, which minigen never unpickles "
                "(unpickling can run arbitrary code)") if "allow_pickle" in str(exc) else ""
        raise CheckpointError(f"load: {path}: cannot read the array {entry!r}{hint} ({exc})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise CheckpointError(f"load: {path}: the array {entry!r} is damaged or truncated ({exc})") from None


def _decode(node, zf, path):
    if not (isinstance(node, dict) and len(node) == 1):
        raise CheckpointError(f"load: {path}: malformed metadata node {str(node)[:80]!r}")
    (tag, value), = node.items()
    if tag == "value":
        return value
    if tag in ("array", "scalar") and isinstance(value, str):
        array = _read_entry(zf, value, path)
        if tag == "array":
            return array
        if array.ndim != 0:
            raise CheckpointError(f"load: {path}: the scalar {value!r} has shape {array.shape}")
        return array[()]
    if tag == "dict" and isinstance(value, dict):
        return {key: _decode(child, zf, path) for key, child in value.items()}
    if tag in ("list", "tuple") and isinstance(value, list):
        items = [_decode(child, zf, path) for child in value]
        return items if tag == "list" else tuple(items)
    raise CheckpointError(f"load: {path}: malformed metadata node {str(node)[:80]!r}")

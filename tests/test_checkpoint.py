"""Checkpoints: bit-exact round trips, the nesting kept, hostile or broken files refused."""
import json
import os
import tempfile
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen as mg
from minigen import checkpoint
from minigen.checkpoint import CheckpointError, load, save

DTYPES = ["float32", "float64", "float16", "int8", "int32", "int64", "uint8", "bool", "complex64"]


def same_bits(a, b):
    """Same dtype, shape and bytes (so nan, -0.0 and every last bit count)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@given(st.data())
def test_round_trip_is_bit_exact_for_any_array(data):
    dtype = data.draw(st.sampled_from(DTYPES))
    array = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=4, max_side=5)))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "a.npz")
        save({"x": array, "nested": {"again": array}}, path)
        out = load(path)
    assert same_bits(out["x"], array)
    assert same_bits(out["nested"]["again"], array)


def test_nested_structure_and_json_values_come_back_as_they_were(tmp_path):
    state = {
        "model": {"fc1.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "fc1.bias": np.zeros(2)},
        "optimizer": {"type": "Adam", "hyper": {"lr": 1e-3, "betas": (0.9, 0.999)},
                      "state": {"0": {"step": 7, "exp_avg": np.ones(3, np.float32)}}},
        "step": 1234, "loss": 0.125, "name": "vae-digits", "done": False, "note": None,
        "history": [1.5, 2.5, None, "x", [1, 2]], "empty": {}, "big": 2 ** 70,
        "mixed": [np.int64(3), {"a": np.ones(2)}, (1, "two")], "nan": float("nan"), "inf": -float("inf"),
    }
    save(state, tmp_path / "c.npz")
    out = load(tmp_path / "c.npz")
    assert list(out) == list(state)  # key order kept
    assert out["optimizer"]["hyper"] == {"lr": 1e-3, "betas": (0.9, 0.999)}
    assert isinstance(out["optimizer"]["hyper"]["betas"], tuple)
    assert out["optimizer"]["state"]["0"]["step"] == 7
    for key in ("step", "loss", "name", "done", "note", "history", "empty", "big", "inf"):
        assert out[key] == state[key] and type(out[key]) is type(state[key]), key
    assert np.isnan(out["nan"])
    assert out["mixed"][0] == 3 and out["mixed"][0].dtype == np.int64  # a NumPy scalar stays one
    assert same_bits(out["mixed"][1]["a"], np.ones(2)) and out["mixed"][2] == (1, "two")
    assert same_bits(out["model"]["fc1.weight"], state["model"]["fc1.weight"])
    assert same_bits(out["optimizer"]["state"]["0"]["exp_avg"], np.ones(3, np.float32))


def test_tensors_are_saved_as_host_arrays_keeping_their_dtype(tmp_path):
    state = {"w32": mg.tensor([[1.5, -2.25]], requires_grad=True),
             "w64": mg.tensor([1 / 3], dtype="float64"), "idx": mg.tensor(np.array([3, 1, 2]))}
    save(state, tmp_path / "t.npz")
    out = load(tmp_path / "t.npz")
    for key, t in state.items():
        assert isinstance(out[key], np.ndarray)
        assert same_bits(out[key], t.numpy()), key
    assert out["w32"].dtype == np.float32 and out["w64"].dtype == np.float64
    assert out["idx"].dtype == np.int64


def test_odd_layouts_scalars_and_a_bare_array(tmp_path):
    fortran = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    strided = np.arange(20, dtype=np.int32)[::3]
    save({"f": fortran, "s": strided, "zero_d": np.array(2.5), "strings": np.array(["ab", "c"])},
         tmp_path / "o.npz")
    out = load(tmp_path / "o.npz")
    np.testing.assert_array_equal(out["f"], fortran)
    np.testing.assert_array_equal(out["s"], strided)
    assert out["zero_d"].shape == () and out["zero_d"] == 2.5
    assert list(out["strings"]) == ["ab", "c"]
    save(np.arange(3), tmp_path / "bare.npz")
    np.testing.assert_array_equal(load(tmp_path / "bare.npz"), np.arange(3))


def test_the_file_is_a_plain_npz_that_numpy_reads_without_pickle(tmp_path):
    save({"model": {"w": np.ones((2, 2), np.float32)}, "step": 3}, tmp_path / "n.npz")
    with np.load(tmp_path / "n.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["__meta__.json", "model/w"]
        np.testing.assert_array_equal(npz["model/w"], np.ones((2, 2)))
        meta = json.loads(npz["__meta__.json"].tobytes())
    assert meta["tree"]["dict"]["step"] == {"value": 3}


def test_compressed_round_trip(tmp_path):
    array = np.zeros((100, 100), np.float32)
    save({"a": array}, tmp_path / "small.npz", compress=True)
    save({"a": array}, tmp_path / "large.npz")
    assert same_bits(load(tmp_path / "small.npz")["a"], array)
    assert os.path.getsize(tmp_path / "small.npz") < os.path.getsize(tmp_path / "large.npz") / 10


# ----- what save refuses -----
def test_save_refuses_what_it_cannot_store_without_pickle(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match=r"obj\['a'\]\['b'\] is an array of Python objects"):
        save({"a": {"b": np.array([{"x": 1}], dtype=object)}}, path)
    with pytest.raises(TypeError, match="keys must be strings"):
        save({1: np.ones(2)}, path)
    with pytest.raises(ValueError, match="no '/'"):
        save({"a/b": np.ones(2)}, path)
    with pytest.raises(TypeError, match="set"):
        save({"s": {1, 2}}, path)
    with pytest.raises(ValueError, match="end in .npz"):
        save({"a": 1}, tmp_path / "x.pt")
    assert not os.listdir(tmp_path)  # nothing was written, not even a temporary file


# ----- atomic writes -----
def test_an_interrupted_save_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"step": 1, "w": np.ones(3)}, path)
    before = path.read_bytes()
    calls = []
    real = checkpoint._write_entry

    def failing(zf, entry, array):
        calls.append(entry)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C halfway through
        real(zf, entry, array)

    monkeypatch.setattr(checkpoint, "_write_entry", failing)
    with pytest.raises(KeyboardInterrupt):
        save({"step": 2, "w": np.zeros(3), "v": np.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # the temporary file is gone
    assert load(path)["step"] == 1


def test_saving_into_a_missing_folder_names_the_file(tmp_path):
    path = tmp_path / "nope" / "c.npz"
    with pytest.raises(OSError, match="c.npz"):
        save({"a": 1}, path)


def test_saving_over_an_existing_file_replaces_it(tmp_path):
    path = tmp_path / "c.npz"
    save({"a": np.ones(2)}, path)
    save({"b": np.zeros(1)}, path)
    assert list(load(path)) == ["b"]


# ----- what load refuses -----
def test_truncated_file_raises_a_clear_error(tmp_path):
    path = tmp_path / "t.npz"
    save({"w": np.arange(1000.0)}, path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 10, 0):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="t.npz"):
            load(path)


def test_damaged_array_data_raises_a_clear_error(tmp_path):
    path = tmp_path / "d.npz"
    save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the array: the zip's CRC check fails
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"d.npz: the array 'w' is damaged"):
        load(path)


def test_a_file_that_is_not_a_zip_raises_a_clear_error(tmp_path):
    text = tmp_path / "text.npz"
    text.write_text("hello, I am not a checkpoint")
    npy = tmp_path / "array.npz"
    with open(npy, "wb") as f:
        np.save(f, np.ones(3))
    for path in (text, npy):
        with pytest.raises(CheckpointError, match="not a complete .npz"):
            load(path)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load(tmp_path / "missing.npz")


UNPICKLED = []


def _record_unpickling():
    UNPICKLED.append(True)
    return "pwned"


class Trap:
    """Unpickling this object calls _record_unpickling: the test sees whether it happened."""

    def __reduce__(self):
        return (_record_unpickling, ())


def _write_npy(zf, name, array, allow_pickle=False):
    with zf.open(name + ".npy", "w") as f:
        np.lib.format.write_array(f, array, allow_pickle=allow_pickle)


def test_a_pickled_object_array_is_refused_and_never_unpickled(tmp_path):
    evil = np.array([Trap()], dtype=object)
    # 1) a hand-made checkpoint whose metadata points at the object array
    path = tmp_path / "evil.npz"
    meta = json.dumps({"format": "minigen-checkpoint", "version": 1,
                       "tree": {"dict": {"w": {"array": "w"}}}}).encode()
    with zipfile.ZipFile(path, "w") as zf:
        _write_npy(zf, "__meta__.json", np.frombuffer(meta, np.uint8))
        _write_npy(zf, "w", evil, allow_pickle=True)
    with pytest.raises(ValueError, match=r"evil.npz.*pickled Python objects"):
        load(path)
    # 2) numpy.savez of an object array (no metadata at all)
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=evil)
    with pytest.raises(ValueError, match=r"plain.npz.*__meta__.json"):
        load(plain)
    assert UNPICKLED == []


def test_missing_or_broken_metadata_raises_a_clear_error(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.ones(2))
    with pytest.raises(CheckpointError, match=r"plain.npz has no __meta__.json entry"):
        load(plain)

    def with_meta(name, meta_bytes, arrays=()):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as zf:
            _write_npy(zf, "__meta__.json", np.frombuffer(meta_bytes, np.uint8))
            for entry, array in arrays:
                _write_npy(zf, entry, array)
        return path

    def meta(tree, version=1):
        return json.dumps({"format": "minigen-checkpoint", "version": version, "tree": tree}).encode()

    cases = [
        (with_meta("notjson.npz", b"{not json"), "not JSON"),
        (with_meta("other.npz", b'{"hello": 1}'), "not minigen checkpoint metadata"),
        (with_meta("future.npz", meta({"value": 1}, version=99)), "version 99"),
        (with_meta("dangling.npz", meta({"dict": {"w": {"array": "w"}}})), "does not contain"),
        (with_meta("badtag.npz", meta({"code": "rm -rf"})), "malformed"),
        (with_meta("deep.npz", meta({"value": 0}).replace(b'{"value": 0}', b'{"list": [' * 5000
                                                          + b']}' * 5000)), "not JSON|deeply"),
    ]
    for path, message in cases:
        with pytest.raises(CheckpointError, match=message):
            load(path)
        with pytest.raises(CheckpointError, match=path.name):
            load(path)


def test_device_tensors_are_copied_to_the_host(tmp_path, device):
    t = mg.tensor([[1.0, 2.0]], device=device)
    save({"t": t}, tmp_path / "d.npz")
    out = load(tmp_path / "d.npz")["t"]
    assert isinstance(out, np.ndarray) and same_bits(out, np.array([[1.0, 2.0]], np.float32))

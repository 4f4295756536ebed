"""minigen.data: shipped data sets, 2-D samplers, IDX files, get_dataset and the DataLoader."""
import gzip
import struct

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.data import (DATASET_NAMES, EIGHT_GAUSSIANS_CENTERS, EIGHT_GAUSSIANS_STD, DataLoader,
                          Dataset, get_dataset, load_digits, load_idx, load_names, read_idx,
                          sample_2d, write_idx)


# ----------------------------------------------------------------- digits
def test_digits_splits_shapes_and_dtypes():
    sizes = {"train": 1437, "test": 360, "all": 1797}
    for split, n in sizes.items():
        for binary in (False, True):
            x, y = load_digits(split, binary=binary)
            assert x.shape == (n, 1, 8, 8) and x.dtype == np.float32
            assert y.shape == (n,) and y.dtype == np.int64
            assert set(np.unique(y)) == set(range(10))


def test_digits_split_is_file_order():
    x_all, y_all = load_digits("all")
    x_tr, y_tr = load_digits("train")
    x_te, y_te = load_digits("test")
    np.testing.assert_array_equal(np.concatenate([x_tr, x_te]), x_all)
    np.testing.assert_array_equal(np.concatenate([y_tr, y_te]), y_all)
    np.testing.assert_array_equal(y_all[:10], np.arange(10))  # the file starts 0, 1, ..., 9
    assert np.bincount(y_all).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_scaling_and_binary():
    x, _ = load_digits("all")
    assert x.min() == -1.0 and x.max() == 1.0
    pixels = (x + 1) * 8  # back to 0..16
    np.testing.assert_allclose(pixels, np.round(pixels), atol=1e-5)
    assert set(np.unique(np.round(pixels)).astype(int)) <= set(range(17))
    xb, _ = load_digits("all", binary=True)
    assert set(np.unique(xb).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(xb, (np.round(pixels) >= 8).astype(np.float32))
    # the first image is a zero: a ring of ink, an empty middle
    assert xb[0, 0, 3, 3] == 0 and xb[0, 0, 0, 3] == 1


def test_digits_returns_fresh_arrays_and_checks_split():
    x, y = load_digits("test")
    x[:] = 7
    y[:] = 7
    x2, y2 = load_digits("test")
    assert x2.max() == 1.0 and y2.min() == 0
    with pytest.raises(ValueError, match="split"):
        load_digits("valid")


# ----------------------------------------------------------------- names
@pytest.mark.parametrize("kind, total, test_size", [("names", 5163, 516), ("surnames", 88799, 8879)])
def test_names_counts_and_split(kind, total, test_size):
    every = load_names(kind, "all")
    train, test = load_names(kind, "train"), load_names(kind, "test")
    assert len(every) == len(set(every)) == total
    assert len(test) == test_size == total // 10 and len(train) == total - test_size
    assert not set(train) & set(test)
    assert train + test == every
    # the documented rule, recomputed here: the sorted list in default_rng(0).permutation order
    ordered = sorted(every)
    order = np.random.default_rng(0).permutation(total)
    assert [ordered[i] for i in order[total - test_size:]] == test
    assert all(name.isascii() and name.isalpha() and name.islower() for name in every)


def test_names_content_and_errors():
    first, last = set(load_names("names", "all")), set(load_names("surnames", "all"))
    assert {"mary", "james", "john", "patricia"} <= first
    assert {"smith", "johnson", "williams"} <= last
    assert load_names("names") == load_names("names", "train")
    with pytest.raises(ValueError, match="kind"):
        load_names("pets")
    with pytest.raises(ValueError, match="split"):
        load_names("names", "dev")


# ----------------------------------------------------------------- 2-D
@pytest.mark.parametrize("name", ["8gaussians", "swissroll"])
def test_sample_2d_shape_dtype_determinism(name):
    a = sample_2d(name, 500, seed=3)
    assert a.shape == (500, 2) and a.dtype == np.float32 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, sample_2d(name, 500, seed=3))
    assert not np.array_equal(a, sample_2d(name, 500, seed=4))
    np.random.seed(123)  # the global generators do not matter
    mg.manual_seed(123)
    np.testing.assert_array_equal(a, sample_2d(name, 500, seed=3))
    assert sample_2d(name, 0, seed=0).shape == (0, 2)


def test_eight_gaussians_has_eight_clusters_on_radius_2():
    assert EIGHT_GAUSSIANS_CENTERS.shape == (8, 2) and EIGHT_GAUSSIANS_STD == 0.02
    np.testing.assert_allclose(np.linalg.norm(EIGHT_GAUSSIANS_CENTERS, axis=1), 2.0, rtol=1e-6)
    angles = np.sort(np.mod(np.arctan2(EIGHT_GAUSSIANS_CENTERS[:, 1], EIGHT_GAUSSIANS_CENTERS[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, np.arange(8) * np.pi / 4, atol=1e-6)
    x = sample_2d("8gaussians", 8000, seed=0).astype(np.float64)
    dist = np.linalg.norm(x[:, None] - EIGHT_GAUSSIANS_CENTERS[None], axis=2)
    nearest = dist.argmin(1)
    assert dist.min(1).max() < 0.02 * 6  # every point sits on a centre
    counts = np.bincount(nearest, minlength=8)
    assert counts.min() > 850 and counts.max() < 1150  # 1000 each, uniformly chosen
    for k in range(8):
        spread = x[nearest == k] - EIGHT_GAUSSIANS_CENTERS[k]
        np.testing.assert_allclose(spread.std(0), 0.02, rtol=0.1)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1).mean(), 2.0, atol=0.005)


def test_swissroll_follows_the_recipe():
    x = sample_2d("swissroll", 10000, seed=0).astype(np.float64)
    assert np.abs(x).max() < 4.0
    # (x, z) * 5 = t (cos t, sin t) + 0.5 noise with t uniform on [1.5 pi, 4.5 pi]
    radius = np.linalg.norm(x * 5, axis=1)
    assert abs(radius.mean() - 3 * np.pi) < 0.15
    assert radius.min() > 1.5 * np.pi - 2.5 and radius.max() < 4.5 * np.pi + 2.5
    with pytest.raises(ValueError, match="8gaussians"):
        sample_2d("moons", 10, 0)


# ----------------------------------------------------------------- get_dataset
def test_get_dataset_points():
    for name in ("8gaussians", "swissroll"):
        train, test, every = (get_dataset(name, s) for s in ("train", "test", "all"))
        assert isinstance(train, Dataset) and train.kind == "points"
        assert train.data.shape == (10000, 2) and test.data.shape == (2500, 2) and len(every) == 12500
        assert train.data.dtype == np.float32 and train.labels is None and train.shape == (2,)
        np.testing.assert_array_equal(train.data, sample_2d(name, 10000, 0))
        np.testing.assert_array_equal(test.data, sample_2d(name, 2500, 1))
        np.testing.assert_array_equal(every.data, np.concatenate([train.data, test.data]))
    assert get_dataset("8gaussians").info["std"] == 0.02


def test_get_dataset_images_and_text():
    d = get_dataset("digits", "train")
    assert d.kind == "images" and d.data.shape == (1437, 1, 8, 8) and d.shape == (1, 8, 8)
    assert d.value_range == (-1.0, 1.0) and not d.binary and d.num_classes == 10
    assert d.labels.dtype == np.int64 and len(d) == 1437
    b = get_dataset("digits-binary", "test")
    assert b.data.shape == (360, 1, 8, 8) and b.binary and b.value_range == (0.0, 1.0)
    assert set(np.unique(b.data).tolist()) == {0.0, 1.0}
    for name, longest in (("names", 11), ("surnames", 13)):
        t = get_dataset(name, "test")
        assert t.kind == "text" and isinstance(t.data, list) and t.labels is None
        assert t.vocab == tuple("abcdefghijklmnopqrstuvwxyz") and t.max_len == longest
        assert t.data == load_names(name, "test")
    assert "kind='text'" in repr(t)


def test_get_dataset_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError) as info:
        get_dataset("mnist")
    for valid in DATASET_NAMES:
        assert valid in str(info.value)
    with pytest.raises(ValueError, match="split"):
        get_dataset("digits", "validation")
    with pytest.raises(ValueError, match="valid names"):
        get_dataset("idx:")


# ----------------------------------------------------------------- IDX
def _idx_bytes(code, shape, payload):
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def test_read_idx_parses_a_hand_made_file(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "img"
    path.write_bytes(_idx_bytes(0x08, (2, 3, 4), images.tobytes()))
    got = read_idx(path)
    assert got.dtype == np.uint8 and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, images)
    floats = np.array([1.5, -2.25, 3e6], dtype=np.float32)
    (tmp_path / "f").write_bytes(_idx_bytes(0x0D, (3,), floats.astype(">f4").tobytes()))
    got = read_idx(tmp_path / "f")
    assert got.dtype == np.float32 and got.dtype.isnative
    np.testing.assert_array_equal(got, floats)
    got[0] = 0  # a writable array of its own


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    for shape in [(7,), (5, 3, 4), (2, 3, 1, 2)]:
        array = (rng.standard_normal(shape) * 100).astype(dtype)
        path = tmp_path / f"a{len(shape)}{suffix}"
        write_idx(path, array)
        assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
        got = read_idx(path)
        assert got.dtype == np.dtype(dtype) and got.shape == shape
        np.testing.assert_array_equal(got, array)


def test_read_idx_detects_gzip_by_content_not_name(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    raw = _idx_bytes(0x08, (5,), labels.tobytes())
    (tmp_path / "gz-without-suffix").write_bytes(gzip.compress(raw))
    (tmp_path / "plain-with-suffix.gz").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "gz-without-suffix"), labels)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "plain-with-suffix.gz")), labels)


@pytest.mark.parametrize("content, message", [
    (b"\x08\x03\x00\x00" + bytes(20), "bad magic number"),
    (_idx_bytes(0x0A, (2,), bytes(2)), "unknown IDX type code 0x0A"),
    (_idx_bytes(0x08, (2, 3, 4), bytes(23)), "size mismatch.*24 bytes.*23 bytes.*truncated"),
    (_idx_bytes(0x0C, (3,), bytes(16)), r"size mismatch.*\(3,\)"),
    (bytes([0, 0, 8, 3, 0, 0]), "announces 3 dimensions"),
    (b"\x00\x00", "too short"),
    (b"\x1f\x8b\x08\x00garbage", "does not decompress"),
])
def test_read_idx_bad_input_raises_naming_the_file(tmp_path, content, message):
    path = tmp_path / "broken-file-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_truncated_gzip_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.gz"
    write_idx(path, np.zeros((50, 4, 4), np.uint8))
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(ValueError, match="cut.gz"):
        read_idx(path)


def test_write_idx_rejects_dtypes_idx_lacks(tmp_path):
    with pytest.raises(ValueError, match="int64"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))


def _fake_mnist(directory, n_train=30, n_test=7, gz=True, dot=False):
    rng = np.random.default_rng(1)
    out = {}
    for split, n, prefix in (("train", n_train, "train"), ("test", n_test, "t10k")):
        images = rng.integers(0, 256, size=(n, 5, 4)).astype(np.uint8)
        images[0, 0, 0], images[0, 0, 1] = 0, 255
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        sep = "." if dot else "-"
        for kind, array, ndim in (("images", images, 3), ("labels", labels, 1)):
            fname = f"{prefix}-{kind}{sep}idx{ndim}-ubyte" + (".gz" if gz and kind == "images" else "")
            write_idx(directory / fname, array)
        out[split] = (images, labels)
    return out


@pytest.mark.parametrize("gz, dot", [(True, False), (False, True)])
def test_load_idx_directory(tmp_path, gz, dot):
    truth = _fake_mnist(tmp_path, gz=gz, dot=dot)
    for split, n in (("train", 30), ("test", 7)):
        x, y = load_idx(tmp_path, split)
        assert x.shape == (n, 1, 5, 4) and x.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        np.testing.assert_allclose(x[:, 0], truth[split][0] / 255.0 * 2 - 1, atol=1e-6)
        np.testing.assert_array_equal(y, truth[split][1])
        assert x[0, 0, 0, 0] == -1.0 and x[0, 0, 0, 1] == 1.0
    x, y = load_idx(str(tmp_path), "all")
    assert x.shape == (37, 1, 5, 4) and y.shape == (37,)
    d = get_dataset(f"idx:{tmp_path}", "test")
    assert d.kind == "images" and d.data.shape == (7, 1, 5, 4) and d.shape == (1, 5, 4)
    assert d.value_range == (-1.0, 1.0) and d.labels.dtype == np.int64


def test_load_idx_missing_files_and_bad_split(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((3, 2, 2), np.uint8))
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        load_idx(tmp_path, "train")
    with pytest.raises(ValueError, match="split"):
        load_idx(tmp_path, "dev")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_idx(tmp_path / "nowhere")


def test_load_idx_single_file(tmp_path):
    truth = _fake_mnist(tmp_path, n_train=25)
    x, y = load_idx(tmp_path / "train-images-idx3-ubyte.gz", "all")  # labels found beside it
    assert x.shape == (25, 1, 5, 4)
    np.testing.assert_array_equal(y, truth["train"][1])
    x_tr, y_tr = load_idx(tmp_path / "train-images-idx3-ubyte.gz", "train")
    x_te, y_te = load_idx(tmp_path / "train-images-idx3-ubyte.gz", "test")
    assert len(x_te) == 25 // 10 and len(x_tr) == 25 - 25 // 10
    np.testing.assert_array_equal(np.concatenate([y_tr, y_te]), y)
    lonely = tmp_path / "lonely.idx"
    write_idx(lonely, np.full((10, 3, 3), 255, np.uint8))
    x, y = load_idx(lonely, "all")
    assert y is None and x.shape == (10, 1, 3, 3) and (x == 1.0).all()
    with pytest.raises(ValueError, match="3-D"):
        load_idx(tmp_path / "train-labels-idx1-ubyte", "all")
    write_idx(tmp_path / "floats", np.zeros((2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="uint8"):
        load_idx(tmp_path / "floats")


# ----------------------------------------------------------------- DataLoader
def _epoch(loader):
    return [tuple(t.numpy() for t in batch) for batch in loader]


def test_dataloader_batches_cover_everything_once():
    x = np.arange(103, dtype=np.float64).reshape(103, 1) * np.ones((1, 3))
    y = np.arange(103)
    loader = DataLoader(x, y, batch_size=10)
    assert len(loader) == 11
    batches = _epoch(loader)
    assert len(batches) == 11 and [len(b[1]) for b in batches] == [10] * 10 + [3]
    xs = np.concatenate([b[0] for b in batches])
    ys = np.concatenate([b[1] for b in batches])
    assert sorted(ys.tolist()) == list(range(103))
    np.testing.assert_array_equal(xs[:, 0], ys)  # arrays stay aligned
    assert not np.array_equal(ys, np.arange(103))  # shuffled
    first = next(iter(DataLoader(x, y, batch_size=10)))
    assert first[0].dtype == np.float32 and first[1].dtype == y.dtype  # floats -> float32, ints kept
    assert isinstance(first[0], mg.Tensor) and not first[0].requires_grad


def test_dataloader_drop_last_and_no_shuffle():
    y = np.arange(103)
    loader = DataLoader(y, batch_size=10, drop_last=True)
    assert len(loader) == 10
    assert [len(b[0]) for b in _epoch(loader)] == [10] * 10
    plain = DataLoader(y, batch_size=25, shuffle=False)
    got = np.concatenate([b[0] for b in _epoch(plain)])
    np.testing.assert_array_equal(got, y)
    batch = next(iter(plain))[0]
    batch.data[:] = -1  # a batch never aliases the data set
    assert y.min() == 0
    assert len(DataLoader(y, batch_size=200)) == 1


def test_dataloader_shuffle_is_reproducible_per_epoch():
    y = np.arange(50)
    a = DataLoader(y, batch_size=8, seed=5)
    e0, e1 = _epoch(a), _epoch(a)
    assert a.epoch == 2
    flat = [np.concatenate([b[0] for b in e]) for e in (e0, e1)]
    assert not np.array_equal(flat[0], flat[1])  # a new order every epoch
    np.random.seed(99)
    mg.manual_seed(99)  # global seeds play no part
    b = DataLoader(y, batch_size=8, seed=5)
    b.set_epoch(1)  # a resumed run reproduces epoch 1 directly
    np.testing.assert_array_equal(np.concatenate([t[0] for t in _epoch(b)]), flat[1])
    np.testing.assert_array_equal(a.order(0), flat[0])
    np.testing.assert_array_equal(a.order(1), np.random.default_rng([5, 1]).permutation(50))
    c = DataLoader(y, batch_size=8, seed=6)
    assert not np.array_equal(np.concatenate([t[0] for t in _epoch(c)]), flat[0])


def test_dataloader_steps_runs_across_epochs():
    loader = DataLoader(np.arange(10), batch_size=4)
    batches = list(loader.steps(7))
    assert len(batches) == 7 and loader.epoch == 3  # 3 batches an epoch
    assert [len(b[0]) for b in batches] == [4, 4, 2, 4, 4, 2, 4]
    assert list(loader.steps(0)) == []


def test_dataloader_accepts_tensors_and_checks_arguments():
    loader = DataLoader(mg.tensor(np.ones((6, 2))), np.zeros(6, np.int64), batch_size=4)
    assert [b[0].shape for b in loader] == [(4, 2), (2, 2)]
    with pytest.raises(ValueError, match="length"):
        DataLoader(np.zeros(5), np.zeros(6), batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.zeros(5), batch_size=0)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(np.zeros(5), batch_size=6, drop_last=True)
    with pytest.raises(ValueError, match="no samples"):
        DataLoader(np.zeros((0, 3)), batch_size=2)
    with pytest.raises(ValueError, match="at least one"):
        DataLoader(batch_size=2)


def test_dataloader_device_placement(device):
    x, y = load_digits("test")
    loader = DataLoader(x, y, batch_size=64, device=device)
    want = backend.normalize_device(device)
    n = 0
    for xb, yb in loader:
        assert xb.device == want and yb.device == want
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        n += len(xb)
    assert n == 360 and len(loader) == 6
    xb, yb = next(iter(DataLoader(x, y, batch_size=64, device=device, seed=0)))
    order = np.random.default_rng([0, 0]).permutation(360)[:64]
    np.testing.assert_array_equal(xb.numpy(), x[order])
    np.testing.assert_array_equal(yb.numpy(), y[order])


def test_dataset_kind_accessors():
    d = get_dataset("digits", "test")
    assert d.images is d.data
    with pytest.raises(AttributeError, match="no .points"):
        d.points
    assert get_dataset("names", "test").text == load_names("names", "test")


# ----------------------------------------------------------------- shipped files
def test_shipped_files_are_what_the_build_script_writes():
    """tools/maintenance/build_data.py rebuilds the shipped bytes exactly (checked here without the network)."""
    import importlib.util
    from importlib import resources
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "tools" / "maintenance" / "build_data.py"
    if not script.exists():
        pytest.skip("tools/maintenance/build_data.py is not in this checkout")
    spec = importlib.util.spec_from_file_location("build_data", script)
    build_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_data)
    shipped = resources.files("minigen.data")
    with shipped.joinpath("digits.npz").open("rb") as f, np.load(f) as npz:
        images, labels = npz["images"], npz["labels"]
    assert images.dtype == labels.dtype == np.uint8 and images.shape == (1797, 8, 8)
    assert build_data.npz_bytes(images=images, labels=labels) == shipped.joinpath("digits.npz").read_bytes()
    for kind in ("names", "surnames"):
        raw = shipped.joinpath(f"{kind}.txt.gz").read_bytes()
        lines = gzip.decompress(raw).decode("ascii").splitlines()
        assert lines == sorted(set(lines)) and len(lines) == build_data.EXPECTED[kind]
        assert build_data.text_gz_bytes(lines) == raw

"""The classifier family: exact resumption of training, the counting model, the augmentation."""
import numpy as np
import pytest

import minigen as mg
from minigen import backend, runs
from minigen.data import load_digits
from minigen.models import build, loop
from minigen.models.loop import Config, train
from minigen.models.classifier import BernoulliBayes, random_shift


# ----- a resumed run continues with identical numbers -----

def _config(model, steps, batch_size, out):
    # seed 3, not 0: the conftest seeds every test with 0, so a run that forgot its own seed
    # would still look reproducible with 0
    return Config(family="classifier", data="digits", model=model, steps=steps, batch_size=batch_size,
                  lr=1e-3, device="cpu", seed=3, out=str(out))


def _state(trainer):
    """Weights and optimizer state of a trainer, flattened to {name: numpy array}."""
    def flatten(tree, prefix):
        if isinstance(tree, dict):
            return {k: v for key, sub in tree.items() for k, v in flatten(sub, f"{prefix}{key}/").items()}
        return {prefix.rstrip("/"): np.asarray(tree.numpy() if isinstance(tree, mg.Tensor) else tree)}
    state = trainer.state_dict()
    return flatten({"modules": state["modules"], "optimizers": state["optimizers"]}, "")


def _resume(model, steps, batch_size, tmp_path, sabotage=None):
    """Train steps // 2, write the run folder, reopen it, (optionally break one piece of the
    restored state), train to ``steps``. Returns (trainer, losses of the second half)."""
    half = build(_config(model, steps // 2, batch_size, tmp_path / "half"))
    history, seconds = train(half, quiet=True)
    runs.write_run(half, history, seconds, tmp_path / "half")
    resumed = runs.open_run(tmp_path / "half")
    assert resumed.step_count == steps // 2
    if sabotage is not None:
        sabotage(resumed)
    resumed.config.steps = steps
    history, _ = train(resumed, quiet=True)
    return resumed, history["loss"]


# model, steps, batch size: both resume in the middle of the second epoch (1437 // 64 = 22 and
# 1437 // 128 = 11 batches an epoch), with dropout and random shifts drawing from the RNG
RESUME_CASES = [("mlp", 50, 64), ("cnn", 30, 128)]


@pytest.fixture(scope="module")
def uninterrupted():
    """The reference runs, trained in one go (shared: the mlp one is used by several tests)."""
    done = {}

    def get(model, steps, batch_size):
        key = (model, steps, batch_size)
        if key not in done:
            trainer = build(_config(model, steps, batch_size, "unused"))
            history, _ = train(trainer, quiet=True)
            done[key] = (_state(trainer), history["loss"])
        return done[key]
    return get


@pytest.mark.parametrize("model,steps,batch_size", RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_resumed_training_is_bit_identical(model, steps, batch_size, tmp_path, uninterrupted):
    reference, reference_losses = uninterrupted(model, steps, batch_size)
    resumed, losses = _resume(model, steps, batch_size, tmp_path)
    assert resumed.step_count == steps
    assert losses == reference_losses[steps // 2:], "the second half's losses differ"
    state = _state(resumed)
    assert state.keys() == reference.keys()
    for name in reference:  # weights and Adam moments, bit for bit
        np.testing.assert_array_equal(state[name], reference[name], err_msg=name)


def _fresh_optimizer(trainer):
    rng = backend.get_rng_state("cpu")  # build() reseeds: keep the restored RNG state
    fresh = build(trainer.config)
    backend.set_rng_state("cpu", rng)
    trainer.optimizers["net"].load_state_dict(fresh.optimizers["net"].state_dict())


SABOTAGE = {
    "rng state": lambda trainer: mg.manual_seed(trainer.config.seed),
    "optimizer state": _fresh_optimizer,
}


@pytest.mark.parametrize("broken", list(SABOTAGE) + ["data position"])
def test_the_resume_check_notices_a_missing_piece_of_state(broken, tmp_path, uninterrupted, monkeypatch):
    """The comparison above is sharp: drop any one piece of the restored state and it fails."""
    reference, _ = uninterrupted("mlp", 50, 64)
    if broken == "data position":  # the loader restarts at epoch 0, batch 0
        real_endless = loop.endless
        monkeypatch.setattr(loop, "endless", lambda loader, start_step=0: real_endless(loader, 0))
        sabotage = None
    else:
        sabotage = SABOTAGE[broken]
    resumed, _ = _resume("mlp", 50, 64, tmp_path, sabotage)
    state = _state(resumed)
    assert any(not np.array_equal(state[k], reference[k]) for k in reference if k.startswith("modules/"))


# ----- BernoulliBayes: fitting is counting -----

# two classes, three pixels, images shaped (N, 1, 1, 3)
TINY_X = np.array([[1, 0, 0], [1, 1, 0],                      # class 0: two images
                   [0, 0, 1], [0, 1, 1], [0, 0, 1]],          # class 1: three images
                  dtype=np.float32).reshape(5, 1, 1, 3)
TINY_Y = np.array([0, 0, 1, 1, 1])
# (ones + 1) / (images + 2): class 0 has ones [2, 1, 0] of 2, class 1 has ones [0, 1, 3] of 3
TINY_THETA = np.array([[3 / 4, 2 / 4, 1 / 4],
                       [1 / 5, 2 / 5, 4 / 5]])


def test_bernoulli_fit_counts_with_laplace_smoothing():
    model = BernoulliBayes(classes=2).fit(TINY_X, TINY_Y)
    np.testing.assert_allclose(model.theta.numpy(), TINY_THETA, rtol=1e-6, atol=0)
    np.testing.assert_allclose(np.exp(model.log_prior.numpy()), [2 / 5, 3 / 5], rtol=1e-6)
    # the fit does not depend on the order of the images
    order = np.array([4, 2, 0, 3, 1])
    shuffled = BernoulliBayes(classes=2).fit(TINY_X[order], TINY_Y[order])
    np.testing.assert_allclose(shuffled.theta.numpy(), TINY_THETA, rtol=1e-6, atol=0)


def test_bernoulli_log_joint_is_log_prior_plus_coin_flips():
    model = BernoulliBayes(classes=2).fit(TINY_X, TINY_Y)
    x = np.array([1, 0, 1], dtype=np.float32).reshape(1, 1, 1, 3)
    expected = [np.log(2 / 5) + np.log(3 / 4) + np.log(1 - 2 / 4) + np.log(1 / 4),
                np.log(3 / 5) + np.log(1 / 5) + np.log(1 - 2 / 5) + np.log(4 / 5)]
    np.testing.assert_allclose(model.log_joint(x).numpy()[0], expected, rtol=1e-5)
    # Bayes' rule on the training images themselves: each is most likely under its own class
    np.testing.assert_array_equal(model.predict(TINY_X), TINY_Y)


@pytest.fixture(scope="module")
def digits_model():
    images, labels = load_digits("train", binary=True)
    return BernoulliBayes().fit(images, labels)


def test_bernoulli_classifies_its_own_class_prototypes(digits_model):
    prototypes = (digits_model.theta.numpy() > 0.5).astype(np.float32).reshape(10, 1, 8, 8)
    np.testing.assert_array_equal(digits_model.predict(prototypes), np.arange(10))


def test_bernoulli_is_a_reasonable_classifier_of_test_digits(digits_model):
    images, labels = load_digits("test", binary=True)
    accuracy = (digits_model.predict(images) == labels).mean()
    assert 0.80 <= accuracy < 0.95, accuracy  # measured 0.839: far above chance, below the networks


def test_bernoulli_samples_are_binary_images_from_the_right_coins(digits_model):
    labels = [3] * 4000 + [7] * 4000
    samples = digits_model.sample(labels, seed=0)
    assert samples.shape == (8000, 1, 8, 8) and samples.dtype == np.float32
    assert set(np.unique(samples)) <= {0.0, 1.0}
    theta = digits_model.theta.numpy().reshape(10, 1, 8, 8)
    for label, part in ((3, samples[:4000]), (7, samples[4000:])):
        # each pixel's frequency of ones is its coin's probability, within 5 standard errors
        sigma = np.sqrt(theta[label] * (1 - theta[label]) / 4000)
        assert np.all(np.abs(part.mean(axis=0) - theta[label]) < 5 * sigma + 1e-6)
    again = digits_model.sample(labels[:50], seed=0)
    np.testing.assert_array_equal(again, samples[:50])
    assert not np.array_equal(digits_model.sample(labels[:50], seed=1), again)


# ----- random_shift -----

def _shifted(image, dy, dx, background=-1.0):
    """``image`` (C, H, W) moved by (dy, dx) pixels, uncovered pixels set to ``background``."""
    c, h, w = image.shape
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)), constant_values=background)
    return padded[:, 1 - dy:1 - dy + h, 1 - dx:1 - dx + w]


def test_random_shift_moves_each_image_by_at_most_one_pixel():
    images, _ = load_digits("train")                         # (1437, 1, 8, 8) in [-1, 1]
    batch = images[:200]
    out = random_shift(mg.tensor(batch), np.random.default_rng(0)).numpy()
    assert out.shape == batch.shape and out.dtype == np.float32
    assert out.min() >= -1.0 and out.max() <= 1.0
    seen = set()
    for original, moved in zip(batch, out):
        matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if np.array_equal(moved, _shifted(original, dy, dx))]
        assert matches, "each output must be its input moved by at most one pixel"
        seen.update(matches)
    assert len(seen) == 9, f"all nine shifts should occur in 200 images, saw {sorted(seen)}"
    assert np.mean([not np.array_equal(a, b) for a, b in zip(batch, out)]) > 0.5, "it must actually shift"


def test_random_shift_is_reproducible_from_its_generator():
    images = mg.tensor(load_digits("test")[0][:32])
    a = random_shift(images, np.random.default_rng(5)).numpy()
    b = random_shift(images, np.random.default_rng(5)).numpy()
    c = random_shift(images, np.random.default_rng(6)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)

"""The diffusion family (minigen/models/diffusion.py): its networks' gradients, inpainting, short
training runs, checkpoints (old ones too), the figure, the command line; conditional runs
(classifier-free guidance): the label reaches the output, its dropout, guided sampling of the
class asked for, completions, the command line. (The reverse process itself, on a problem with a
known answer: tests/test_denoising.py.)"""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigen as mg
import strategies as S
from minigen import metrics, nn
from minigen.cli import main
from minigen.data import write_idx
from minigen.data.completion import half_mask, hidden_mask
from minigen.models import diffusion, judge
from minigen.models import make as make_family
from minigen.models.loop import train
from minigen.runs import open_run, write_run


def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), dtype="float64", requires_grad=True)


# ----- gradients of the new layers -----
@given(t=S.arrays((3,), S.floats(0.0, 1000.0)), dim=st.sampled_from([2, 4, 8]))
def test_sinusoidal_embedding_matches_central_differences_first_and_second_order(t, dim):
    fn = lambda t: diffusion.sinusoidal_embedding(t, dim)      # noqa: E731
    assert mg.gradcheck(fn, [leaf(t)])
    assert mg.gradgradcheck(fn, [leaf(t)])


def test_sinusoidal_embedding_is_sines_and_cosines_of_geometric_frequencies():
    t = np.array([0.0, 1.0, 37.0])
    got = diffusion.sinusoidal_embedding(mg.tensor(t, dtype="float64"), 6).numpy()
    freqs = 10000.0 ** (-np.arange(3) / 3)
    np.testing.assert_allclose(got, np.concatenate([np.sin(np.outer(t, freqs)), np.cos(np.outer(t, freqs))], 1),
                               rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="dim must be even"):
        diffusion.sinusoidal_embedding(mg.tensor(t), 5)


NETWORKS = {  # name: (make, the shape of x for a batch of 2)
    "time_mlp": (lambda: diffusion.TimeMLP(3, emb_dim=4), None),
    "point_mlp": (lambda: diffusion.PointMLP(2, hidden=4, depth=2, emb_dim=4), (2, 2)),
    "residual_block": (lambda: diffusion.ResidualBlock(4), (2, 4)),
    "residual_mlp": (lambda: diffusion.ResidualMLP((1, 2, 2), width=4, blocks=2, emb_dim=4), (2, 1, 2, 2)),
    "conv_block": (lambda: diffusion.ConvBlock(2, 4, 3), (1, 2, 3, 3)),
    "unet": (lambda: diffusion.UNet((1, 4, 4), width=2, emb_dim=4), (1, 1, 4, 4)),
    # conditional: labels y of 3 classes (3: no label); gradients in x, t and the label table
    "residual_mlp_conditional": (lambda: diffusion.ResidualMLP((1, 2, 2), width=4, blocks=2, emb_dim=4,
                                                               num_classes=3), (2, 1, 2, 2)),
    # width 16: GroupNorm's groups hold 2 channels or more (with one channel a group, as at
    # width <= 8, the norm would remove the per-channel offset that carries t and y)
    "unet_conditional": (lambda: diffusion.UNet((1, 4, 4), width=16, emb_dim=4, num_classes=3), (1, 1, 4, 4)),
}
SLOW = ("unet", "unet_conditional")



@pytest.mark.parametrize("name", [name for name in NETWORKS if name not in SLOW])
@given(seed=S.seeds())
def test_every_network_matches_central_differences_in_its_inputs_and_weights(name, seed):
    check_network(name, seed)


@pytest.mark.parametrize("name", SLOW)
@settings(max_examples=4)      # the slowest to difference: its input and level, a few examples
@given(seed=S.seeds())
def test_the_unet_matches_central_differences_in_its_input_and_level(name, seed):
    check_network(name, seed)


def check_network(name, seed):
    make, shape = NETWORKS[name]
    mg.manual_seed(seed)
    net = make().double()
    rng = np.random.default_rng(seed)
    t = leaf(rng.uniform(0, 1000, size=2 if shape is None else shape[0]))
    # the first layers' weights (the later ones see their gradient pass through anyway)
    weights = [] if name == "unet" else list(net.parameters())[:3]
    if name == "time_mlp":
        assert mg.gradcheck(lambda t, *_: net(t), [t, *weights])
        return
    x = leaf(rng.normal(size=shape))
    if name.endswith("_conditional"):
        y = rng.integers(0, 4, size=shape[0])                      # a class or 3, "no label"
        assert mg.gradcheck(lambda x, t, table: net(x, t, y), [x, t, net.label.weight])
    elif name == "residual_block":
        temb = leaf(rng.normal(size=(2, 4)))
        assert mg.gradcheck(lambda x, e, *_: net(x, e), [x, temb, *weights])
    elif name == "conv_block":
        temb = leaf(rng.normal(size=(1, 3)))
        assert mg.gradcheck(lambda x, e, *_: net(x, e), [x, temb, *weights])
    else:
        assert mg.gradcheck(lambda x, t, *_: net(x, t), [x, t, *weights])


@pytest.mark.parametrize("model", ["residual_mlp", "unet"])
def test_a_conditional_network_output_depends_on_the_label_through_its_embedding(model):
    mg.manual_seed(0)
    make = NETWORKS[model + "_conditional"][0]
    net = make().double()
    x, t = leaf(np.random.default_rng(0).normal(size=(4, 1, 4, 4) if model == "unet" else (4, 1, 2, 2))), leaf([5.0])
    y = np.array([0, 1, 2, 3])
    (grad,) = mg.grad((net(x, t, y) ** 2).sum(), [net.label.weight])
    # every row used (the three classes and "no label") gets a gradient, none is zero
    assert np.all(np.abs(grad.numpy()).sum(1) > 1e-8)
    with mg.no_grad():
        a, b = net(x, t, np.array([0, 0, 0, 0])).numpy(), net(x, t, np.array([1, 1, 1, 1])).numpy()
    assert not np.allclose(a, b)                                   # another label, another output
    with pytest.raises(ValueError, match="is conditional; it needs labels"):
        net(x, t)
    unconditional = NETWORKS[model][0]().double()
    assert unconditional.label is None
    with pytest.raises(ValueError, match="unconditional \\(trained without --conditional\\); it takes no labels"):
        unconditional(x, t, y)
    with pytest.raises(ValueError, match="takes no label"):
        diffusion.PointMLP(2, hidden=4, depth=1, emb_dim=4)(mg.zeros(2, 2), mg.tensor([1.0]), y[:2])


@pytest.mark.parametrize("size", [8, 28])
def test_the_unet_keeps_the_image_shape_and_refuses_sides_not_divisible_by_4(size):
    net = diffusion.UNet((1, size, size), width=4)
    assert net(mg.randn(3, 1, size, size), mg.tensor([1.0, 500.0, 999.0])).shape == (3, 1, size, size)
    with pytest.raises(ValueError, match="divisible by 4"):
        diffusion.UNet((1, 10, 10))


# ----- the trainer -----
def make(data="8gaussians", model=None, steps=100, batch_size=None, **settings):
    """A small diffusion family: narrow networks, small batches."""
    points = data in ("8gaussians", "swissroll")
    small = {"width": 4} if model == "unet" else {"hidden": 32, "depth": 2} if points else {"width": 16, "blocks": 1}
    return make_family("diffusion", data, model=model, steps=steps,
                       batch_size=batch_size or (64 if points else 16), **{**small, **settings})


def test_a_short_run_lowers_the_energy_distance_on_8gaussians():
    trainer = make(steps=300, T=50, lr_warmup=20, ema=0.9)
    test = trainer.test_data.points[:500]
    before = metrics.energy_distance(trainer.sample(500, 0, sampler="ddim", sample_steps=10), test)
    history, _ = train(trainer, quiet=True)
    after = metrics.energy_distance(trainer.sample(500, 0, sampler="ddim", sample_steps=10), test)
    assert after < 0.2 * before, (before, after)
    assert len(history["loss"]) == 300 and np.mean(history["loss"][-50:]) < np.mean(history["loss"][:50])


def test_defaults_follow_the_data_and_the_unet_refuses_points():
    points = make(steps=None)
    assert (points.config.model, points.config.steps, points.config.batch_size) == ("mlp", 6000, 64)
    assert points.settings["T"] == 100 and isinstance(points.net, diffusion.PointMLP)
    images = make("digits", steps=None)
    assert images.config.model == "mlp" and isinstance(images.net, diffusion.ResidualMLP)
    assert images.settings["T"] == 1000 and images.config.steps == 4000
    with pytest.raises(ValueError, match="--model unet needs images"):
        make(model="unet")
    assert points.config.extra["lr_schedule"] == "cosine" and "lr_warmup" in points.settings
    assert list(points.optimizers) == ["eps_model"] and points.average.decay == 0.999


def test_the_same_seed_gives_the_same_samples_and_another_seed_others():
    def run(seed):
        trainer = make(steps=20, seed=seed, T=20)
        train(trainer, quiet=True)
        return trainer.sample(30, 0, sampler="ddim", sample_steps=5)

    a, b, c = run(3), run(3), run(4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_sampling_options_are_checked_and_other_families_options_refused():
    trainer = make(steps=1, T=20)
    assert trainer.sample(4, 0, sampler="ddpm", sample_steps=7).shape == (4, 2)
    for option, value in (("temperature", 0.5), ("top_k", 3), ("prompt", "a")):
        with pytest.raises(NotImplementedError, match=option.replace("_", "-")):
            trainer.sample(2, 0, **{option: value})
    for option in ("label", "guidance"):
        with pytest.raises(NotImplementedError, match="not conditional"):
            trainer.sample(2, 0, **{option: 1})
    with pytest.raises(ValueError, match="--sample-steps: must be between 1 and T = 20, got 21"):
        trainer.sample(2, 0, sampler="ddim", sample_steps=21)
    with pytest.raises(ValueError, match="--sampler"):
        trainer.sample(2, 0, sampler="euler")
    with pytest.raises(ValueError, match="inpainting needs images"):
        trainer.sample(2, 0, given=np.zeros((1, 1, 8, 8), np.float32), mask="top")


@pytest.mark.parametrize("mask", ["top", "bottom", "left", "right"])
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_inpainting_keeps_the_given_pixels_exactly_and_fills_the_masked_half(mask, sampler):
    trainer = make("digits", steps=2, T=20)
    given = ((trainer.test_data.images[:3] + 1) / 2).astype(np.float32)     # [-1, 1] -> [0, 1]
    out = trainer.sample(3, 0, sampler=sampler, given=given, mask=mask)
    hidden = half_mask(out.shape, mask)
    assert out.shape == (3, 1, 8, 8) and out.dtype == np.float32
    np.testing.assert_array_equal(out[~hidden], given[~hidden])
    assert not np.allclose(out[hidden], given[hidden])
    with pytest.raises(ValueError, match="--given: expected images of shape"):
        trainer.sample(3, 0, given=given[:, :, :4], mask=mask)
    with pytest.raises(ValueError, match="go together"):
        trainer.sample(3, 0, given=given)


def test_digits_train_and_are_judged_for_both_samplers(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)            # a quick judge: the keys, not the values
    trainer = make("digits", steps=5, T=20)
    train(trainer, quiet=True)
    result = trainer.evaluate()
    for prefix in ("", "ddim_"):
        assert result[prefix + "frechet_distance"] > result[prefix + "frechet_floor"] > 0
        assert 1 <= result[prefix + "classes_found"] <= 10 and result[prefix + "samples"] == 1000
        assert result[prefix + "sample_seconds"] > 0
    images = trainer.sample(6, 0)
    assert images.shape == (6, 1, 8, 8) and images.min() >= 0 and images.max() <= 1


def test_the_unet_trains_on_digits_and_moves_its_samples():
    trainer = make("digits", model="unet", steps=3, T=20)
    before = trainer.sample(2, 0, sampler="ddim", sample_steps=4)
    history, _ = train(trainer, quiet=True)
    after = trainer.sample(2, 0, sampler="ddim", sample_steps=4)
    assert np.all(np.isfinite(history["loss"])) and not np.allclose(before, after)


def test_the_weight_average_is_checkpointed_and_used_for_samples(tmp_path):
    trainer = make(steps=30, T=20, ema=0.9)
    history, seconds = train(trainer, quiet=True)
    write_run(trainer, history, seconds, tmp_path)
    x, t = mg.tensor(np.zeros((1, 2))), mg.tensor([10.0])
    with mg.no_grad():
        raw = trainer.net(x, t).numpy()
        with trainer.averaged():
            averaged = trainer.net(x, t).numpy()
    assert not np.allclose(averaged, raw)
    np.testing.assert_array_equal(trainer.net(x, t).numpy(), raw)          # the trained weights, back
    reopened = open_run(tmp_path)
    np.testing.assert_array_equal(reopened.sample(20, 0), trainer.sample(20, 0))
    assert reopened.step_count == 30 and reopened.average.num_updates == 30


def test_a_checkpoint_of_the_older_shape_opens_with_its_average():
    # before the shared loop, the average was the optimizer entry "eps_model_ema" (its shadow named
    # as the network's parameters) beside a learning-rate schedule "lr_schedule"
    trainer = make(steps=12, T=20, ema=0.9)
    train(trainer, quiet=True)
    state = trainer.state_dict()
    average = state.pop("average")
    shadow = {name[len("eps_model."):]: s for name, s in average["shadow"].items()}
    state["optimizers"].update(eps_model_ema={**average, "shadow": shadow},
                               lr_schedule={"base_lr": 2e-3, "warmup_steps": 200, "total_steps": 12,
                                            "min_lr": 0.0, "last_step": 12})
    reopened = make(steps=12, T=20, ema=0.9)
    reopened.load_state_dict(state)
    assert reopened.average.num_updates == 12
    np.testing.assert_array_equal(reopened.sample(20, 0), trainer.sample(20, 0))


def test_the_figure_draws_samples_and_their_reverse_trajectories():
    points = make(steps=1, T=10).figure()
    assert len(points.axes) == 6                               # the samples, and the cloud at five levels
    digits = make("digits", steps=1, T=10, conditional=True).figure()
    assert len(digits.axes) == 2 and "class k in column k" in digits.axes[0].get_title()


# ----- the command line -----
def small_recipe(monkeypatch, key, **smaller):
    """The command line's defaults for ``key`` = (model, kind of data), made small (few levels,
    narrow) for a quick test."""
    model, kind = key
    monkeypatch.setitem(diffusion.RECIPES[model], kind, {**diffusion.RECIPES[model][kind], **smaller})


def test_train_sample_eval_round_trip_through_the_command_line(tmp_path, capsys, monkeypatch):
    small_recipe(monkeypatch, ("mlp", "points"), T=20, hidden=32)
    run = tmp_path / "run"
    main(["train", "diffusion", "--data", "swissroll", "--steps", "30", "--seed", "1", "--out", str(run), "--quiet"])
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"energy_distance", "energy_distance_floor", "ddim_energy_distance", "sample_seconds",
            "ddim_sample_seconds"} <= set(trained)
    for name in ("checkpoint.npz", "config.json", "metrics.json", "losses.png", "samples.png"):
        assert (run / name).exists(), name
    main(["eval", str(run)])
    evaluated = json.loads(capsys.readouterr().out)
    timing = ("train_seconds", "steps", "sample_seconds", "ddim_sample_seconds")
    assert {k: v for k, v in evaluated.items() if k not in timing} == \
        {k: v for k, v in trained.items() if k not in timing}
    main(["sample", str(run), "--n", "7", "--sampler", "ddim", "--sample-steps", "10", "--out", str(tmp_path / "s.npy")])
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (7, 2) and samples.dtype == np.float32
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(run), "--temperature", "0.5", "--out", str(tmp_path / "t.npy")])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("mask", ["box:2,2,6,6", "array"])
def test_inpainting_a_hole_keeps_every_pixel_around_it_exactly(mask):
    trainer = make("digits", steps=2, T=20)
    given = ((trainer.test_data.images[:3] + 1) / 2).astype(np.float32)
    if mask == "array":
        mask = np.zeros((8, 8), bool)
        mask[[0, 3, 7], [5, 1, 7]] = True                                   # three scattered pixels
    out = trainer.sample(3, 0, sampler="ddim", sample_steps=5, given=given, mask=mask)
    hidden = hidden_mask(out.shape, mask)
    np.testing.assert_array_equal(out[~hidden], given[~hidden])
    assert not np.allclose(out[hidden], given[hidden])


def test_the_unet_on_28x28_idx_files_through_the_command_line(tmp_path, capsys, monkeypatch):
    small_recipe(monkeypatch, ("unet", "images"), T=20, width=4)
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(40, 28, 28)) > 0.8).astype(np.uint8) * 255
    write_idx(tmp_path / "toy-images-idx3-ubyte", images)
    run = tmp_path / "run"
    main(["train", "diffusion", "--data", f"idx:{tmp_path / 'toy-images-idx3-ubyte'}", "--model", "unet",
          "--steps", "2", "--batch-size", "4", "--out", str(run), "--quiet"])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["steps"] == 2 and "note" in line and "ddim_note" in line     # no labels: nothing to judge
    given = np.zeros((1, 1, 28, 28), np.float32)
    np.save(tmp_path / "given.npy", given)
    main(["sample", str(run), "--n", "2", "--sampler", "ddim", "--sample-steps", "3", "--given",
          str(tmp_path / "given.npy"), "--mask", "bottom", "--out", str(tmp_path / "x.npy")])
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (2, 1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(x[:, :, :14], 0.0)
    hole = np.zeros((28, 28), bool)
    hole[10:18, 10:18] = True
    np.save(tmp_path / "hole.npy", hole)
    for mask in (["--mask", "box:10,10,18,18"], ["--mask-file", str(tmp_path / "hole.npy")]):
        main(["sample", str(run), "--n", "2", "--sampler", "ddim", "--sample-steps", "3", "--given",
              str(tmp_path / "given.npy"), *mask, "--out", str(tmp_path / "x.npy")])
        x = np.load(tmp_path / "x.npy")
        np.testing.assert_array_equal(x[:, :, ~hole], 0.0)
    with pytest.raises(SystemExit):       # a usage error: both masks at once
        main(["sample", str(run), "--given", str(tmp_path / "given.npy"), "--mask", "top",
              "--mask-file", str(tmp_path / "hole.npy"), "--out", str(tmp_path / "x.npy")])


# ----- conditional runs: classifier-free guidance -----
def make_conditional(steps=2, model=None, **extra):
    return make("digits", model=model, steps=steps, conditional=True, T=20, **extra)


class ExactClasses(nn.Module):
    """The exact noise predictor of 8x8 "digits" of 10 classes, class k a Gaussian N(mu_k, s^2 I)
    around its own pattern mu_k, classes equally likely; label 10 ("no label") gets the
    mixture's: sum_k p(k | x_t) eps_k(x_t). t arrives as the family scales it (0..1000)."""

    def __init__(self, alpha_bars, s=0.05):
        super().__init__()
        self.alpha_bars, self.s2 = alpha_bars, s * s
        rng = np.random.default_rng(0)
        self.means = np.where(rng.uniform(size=(10, 64)) < 0.5, -0.8, 0.8)     # (10, 64)
        self.seen = []

    def forward(self, x, t, labels):
        T = len(self.alpha_bars) - 1
        abar = self.alpha_bars[round(float(t.numpy()[0]) * T / 1000)]
        v = abar * self.s2 + 1 - abar
        flat, y = x.numpy().reshape(len(x.numpy()), 64).astype(np.float64), np.asarray(labels.numpy())
        self.seen.append(y)
        diffs = flat[:, None, :] - math.sqrt(abar) * self.means[None]               # (B, 10, 64)
        eps_k = diffs * math.sqrt(1 - abar) / v
        log_r = -(diffs ** 2).sum(2) / (2 * v)
        r = np.exp(log_r - log_r.max(1, keepdims=True))
        r /= r.sum(1, keepdims=True)                                                # p(k | x_t)
        mixture = (r[:, :, None] * eps_k).sum(1)
        own = eps_k[np.arange(len(y)), np.minimum(y, 9)]
        eps = np.where((y == 10)[:, None], mixture, own)
        return mg.tensor(eps.reshape(x.shape).astype(np.float32))


def nearest_class(trainer, images):
    """The class whose pattern each sample (in [0, 1]) is nearest to."""
    flat = trainer.train_data.from_unit(images).reshape(len(images), 64)
    return ((flat[:, None, :] - trainer.net.means[None]) ** 2).sum(2).argmin(1)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_sample_with_a_label_gives_that_class_and_without_one_the_classes_in_turn(sampler):
    trainer = make_conditional(steps=0)
    trainer.net = ExactClasses(trainer.alpha_bars)          # the exact eps of each class, and of their mixture
    for guidance in (0.0, 2.0):
        for k in (0, 7):
            trainer.net.seen.clear()
            x = trainer.sample(20, 1, sampler=sampler, label=k, guidance=guidance)
            np.testing.assert_array_equal(nearest_class(trainer, x), k)
            seen = np.concatenate(trainer.net.seen)            # what the network was asked, every step
            assert set(seen) == ({k, 10} if guidance else {k})  # guided: the label and "no label" twice over
        x = trainer.sample(100, 0, sampler=sampler, guidance=guidance)
        # a 10-column grid shows one class a column: sample j is of class j mod 10
        np.testing.assert_array_equal(nearest_class(trainer, x), np.arange(100) % 10)
    # completions without --label ask the "no label" branch only; with one, that class (guided)
    given = trainer.train_data.to_unit(trainer.net.means[[3, 5]].reshape(2, 1, 8, 8)).astype(np.float32)
    for label, asked in ((None, {10}), (4, {4, 10})):
        trainer.net.seen.clear()
        trainer.sample(2, 0, sampler=sampler, given=given, mask="bottom", label=label)
        assert set(np.concatenate(trainer.net.seen)) == asked


def test_guidance_0_is_the_conditional_models_eps_exactly_and_guidance_mixes_two_calls():
    trainer = make_conditional(steps=3, p_uncond=0.5)
    train(trainer, quiet=True)
    x = mg.randn(4, 1, 8, 8)
    labels = mg.tensor([0, 3, 3, 9], dtype="int64")
    null = mg.tensor([10] * 4, dtype="int64")
    level = trainer.time_input(np.full((1,), 7))
    with mg.no_grad():
        cond, uncond = trainer.net(x, level, labels).numpy(), trainer.net(x, level, null).numpy()
        np.testing.assert_array_equal(trainer.eps_fn(x, 7, labels, 0.0).numpy(), cond)
        np.testing.assert_allclose(trainer.eps_fn(x, 7, labels, 1.5).numpy(), 2.5 * cond - 1.5 * uncond,
                                   rtol=1e-5, atol=1e-5)
    assert not np.allclose(cond, uncond)


def test_labels_are_dropped_in_training_at_the_rate_asked():
    trainer = make_conditional(steps=1, p_uncond=0.2, batch_size=1000)
    seen = []
    forward = trainer.net.forward
    trainer.net.forward = lambda x, t, labels: seen.append(labels.numpy()) or forward(x, t, labels)
    batches = trainer.batches()
    batch = next(batches)
    trainer.train_step(batch)
    y, true = seen[0], batch[1].numpy()
    dropped = y == 10
    assert abs(dropped.mean() - 0.2) <= 4 * math.sqrt(0.2 * 0.8 / 1000), dropped.mean()
    np.testing.assert_array_equal(y[~dropped], true[~dropped])      # the others keep their own label


def test_conditional_settings_are_recorded_and_unconditional_runs_have_none():
    trainer = make_conditional()
    assert {"p_uncond", "guidance"} <= set(trainer.config.extra)
    assert trainer.net.label.num_embeddings == 11
    assert not {"p_uncond", "guidance"} & set(make("digits", steps=1).config.extra)
    with pytest.raises(ValueError, match="--guidance: the guidance weight must be a number >= 0"):
        make_conditional(guidance=-1)


def test_conditional_sampling_options_are_checked():
    trainer = make_conditional()
    given = trainer.test_data.to_unit(trainer.test_data.images[:2]).astype(np.float32)
    for bad in (-0.5, float("nan"), float("inf"), "2"):
        with pytest.raises(ValueError, match="--guidance: the guidance weight must be a number >= 0"):
            trainer.sample(2, 0, guidance=bad)
    for bad in (10, -1, 2.5, True):
        with pytest.raises(ValueError, match="--label: must be a class of digits, an integer from 0 to 9"):
            trainer.sample(2, 0, label=bad)
    with pytest.raises(ValueError, match="--guidance: a completion without --label"):
        trainer.sample(2, 0, given=given, mask="top", guidance=1.0)
    with pytest.raises(NotImplementedError, match="--temperature"):
        trainer.sample(2, 0, temperature=0.5)


@pytest.mark.parametrize("label", [None, 4])
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_a_conditional_completion_keeps_the_given_pixels_exactly(label, sampler):
    trainer = make_conditional(steps=2)
    given = trainer.test_data.to_unit(trainer.test_data.images[:3]).astype(np.float32)
    for mask in ("top", "right"):
        out = trainer.sample(3, 0, sampler=sampler, given=given, mask=mask, label=label)
        hidden = half_mask(out.shape, mask)
        np.testing.assert_array_equal(out[~hidden], given[~hidden])
        assert not np.allclose(out[hidden], given[hidden])


def test_conditional_train_sample_eval_through_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)
    small_recipe(monkeypatch, ("mlp", "images"), T=10, width=16, blocks=1)
    run = tmp_path / "run"
    main(["train", "diffusion", "--data", "digits", "--conditional", "--steps", "5", "--batch-size", "16",
          "--out", str(run), "--quiet"])
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    config = json.loads((run / "config.json").read_text())
    assert config["conditional"] and trained["guidance"] == config["extra"]["guidance"]
    for prefix in ("", "ddim_"):
        assert 0 <= trained[prefix + "label_accuracy"] <= 1 and len(trained[prefix + "per_label_accuracy"]) == 10
        assert trained[prefix + "frechet_distance"] > trained[prefix + "frechet_floor"]
    assert 0 <= trained["completion_accuracy"] <= 1 and trained["completions"] == 360
    main(["sample", str(run), "--n", "6", "--label", "3", "--guidance", "0.5", "--sampler", "ddim",
          "--out", str(tmp_path / "three.npy")])
    assert np.load(tmp_path / "three.npy").shape == (6, 1, 8, 8)
    capsys.readouterr()
    for flags in (["--label", "10"], ["--guidance", "-1"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["sample", str(run), *flags, "--out", str(tmp_path / "x.npy")])
        assert exit_info.value.code == 2
        assert flags[0] in capsys.readouterr().err


def test_guidance_and_label_on_an_unconditional_run_are_refused_by_the_command_line(tmp_path, capsys, monkeypatch):
    small_recipe(monkeypatch, ("mlp", "points"), T=10, hidden=16)
    run = tmp_path / "run"
    main(["train", "diffusion", "--data", "8gaussians", "--steps", "2", "--out", str(run), "--quiet"])
    capsys.readouterr()
    for flags in (["--guidance", "2"], ["--label", "1"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["sample", str(run), *flags, "--out", str(tmp_path / "x.npy")])
        assert exit_info.value.code == 2 and "not conditional" in capsys.readouterr().err

"""The GAN family: its metrics on samples with known answers, short training runs for every
loss, the DCGAN on 8x8 and 28x28 images, checkpoints, and the command line; conditional GANs:
the label layers gradchecked (float64, to second order), the gradient penalty of a conditional
critic, both label embeddings learning, --label and the balanced grid, refusals."""
import functools
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigen import backend, metrics
from minigen.cli import main
from minigen.data import EIGHT_GAUSSIANS_CENTERS, EIGHT_GAUSSIANS_STD, sample_2d, write_idx
from minigen.models import gan, judge
from minigen.models import make as make_family
from minigen.models.loop import Config, train
from minigen.objectives import minimax as M
from minigen.runs import open_run, write_run

import minigen as mg
import strategies as S

CENTERS, STD = EIGHT_GAUSSIANS_CENTERS, EIGHT_GAUSSIANS_STD


# ----- metrics on known answers -----
def test_true_8gaussians_samples_cover_all_8_modes_almost_all_high_quality():
    cover = metrics.mode_coverage(sample_2d("8gaussians", 2500, seed=5), CENTERS, STD)
    # in 2-D, P(|x - centre| <= 3 sigma) = 1 - exp(-9/2) = 0.989
    assert cover["modes"] == 8
    assert 0.98 <= cover["hq_share"] <= 0.995
    assert all(0.09 < share < 0.16 for share in cover["per_mode"])


def test_samples_all_at_one_centre_cover_one_mode():
    cover = metrics.mode_coverage(np.repeat(CENTERS[3:4], 2500, axis=0), CENTERS, STD)
    assert cover["modes"] == 1 and cover["hq_share"] == 1.0 and cover["per_mode"][3] == 1.0


def test_a_mode_is_covered_from_one_percent_of_the_samples():
    for on_mode_0, modes in ((24, 1), (25, 2)):
        samples = np.concatenate([np.repeat(CENTERS[0:1], on_mode_0, 0), np.repeat(CENTERS[1:2], 2500 - on_mode_0, 0)])
        assert metrics.mode_coverage(samples, CENTERS, STD)["modes"] == modes


def test_high_quality_means_within_three_standard_deviations_of_a_centre():
    radial = CENTERS[2] / np.linalg.norm(CENTERS[2])
    near, far = CENTERS[2] + 0.059 * radial, CENTERS[2] + 0.061 * radial
    assert metrics.mode_coverage(np.array([near, near]), CENTERS, STD)["hq_share"] == 1.0
    assert metrics.mode_coverage(np.array([far, [0.0, 0.0]]), CENTERS, STD) == {
        "modes": 0, "hq_share": 0.0, "per_mode": [0.0] * 8}


def test_energy_distance_of_two_point_masses_is_twice_their_distance():
    x, y = np.zeros((50, 2)), np.tile([3.0, 4.0], (70, 1))
    assert metrics.energy_distance(x, y) == pytest.approx(10.0)


def test_energy_distance_is_zero_for_one_set_small_for_one_law_and_large_between_laws():
    a, b = sample_2d("8gaussians", 1000, seed=1), sample_2d("8gaussians", 1000, seed=2)
    roll = sample_2d("swissroll", 1000, seed=3)
    assert metrics.energy_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    same, different = metrics.energy_distance(a, b), metrics.energy_distance(a, roll)
    assert 0 < same < 0.01 < 0.1 < different
    assert metrics.energy_distance(a, roll) == pytest.approx(metrics.energy_distance(roll, a))


def test_frechet_distance_known_answers():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5))
    shift = np.array([1.0, -2.0, 0.0, 0.5, 3.0])
    cov_trace = np.trace(np.cov(features, rowvar=False))
    assert metrics.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)
    # the same cloud moved: only the means differ
    assert metrics.frechet_distance(features, features + shift) == pytest.approx((shift ** 2).sum(), rel=1e-8)
    # the same cloud scaled by 2: ||2 mu - mu||^2 + tr S + tr 4S - 2 tr 2S = ||mu||^2 + tr S
    mu = features.mean(0)
    assert metrics.frechet_distance(features, 2 * features) == pytest.approx((mu ** 2).sum() + cov_trace, rel=1e-8)


def test_class_statistics_see_mode_collapse():
    uniform = np.eye(10)[np.arange(1000) % 10] * 0.9 + 0.01
    stats = metrics.class_statistics(uniform)
    assert stats["class_entropy"] == pytest.approx(math.log(10)) and stats["classes_found"] == 10
    assert stats["mean_confidence"] == pytest.approx(0.91)
    collapsed = metrics.class_statistics(np.tile(np.eye(10)[7] * 0.5 + 0.05, (100, 1)))
    assert collapsed["class_entropy"] == 0.0 and collapsed["classes_found"] == 1
    assert collapsed["class_histogram"][7] == 100


# ----- training -----
def make(loss="nonsaturating", data="8gaussians", model="mlp", steps=150, lr=1e-3, seed=0, **extra):
    small = {"g_width": 64, "d_width": 64} if model == "mlp" else {"g_width": 8, "d_width": 8}
    return make_family("gan", data, model=model, loss=loss, steps=steps, lr=lr, seed=seed,
                       batch_size=128 if model == "mlp" else 32, **{**small, **extra})


@pytest.mark.parametrize("loss, steps, lr", [("minimax", 150, 1e-3), ("nonsaturating", 150, 1e-3),
                                             ("wgan-gp", 250, 3e-3)])
def test_a_short_run_moves_the_samples_toward_the_data(loss, steps, lr):
    trainer = make(loss, steps=steps, lr=lr)
    test = trainer.test_data.points[:500]
    before = metrics.energy_distance(trainer.sample(500, 0), test)
    history, _ = train(trainer, quiet=True)
    after = metrics.energy_distance(trainer.sample(500, 0), test)
    assert after < 0.4 * before
    assert len(history["D"]) == len(history["G"]) == steps and np.all(np.isfinite(history["D"]))


def test_wgan_gp_updates_the_generator_once_per_n_critic_steps():
    trainer = make("wgan-gp", steps=10)
    assert trainer.settings["n_critic"] == 5
    before = [p.numpy().copy() for p in trainer.G.parameters()]
    batches = trainer.batches()
    for k in range(10):
        trainer.train_step(next(batches))
        moved = any(not np.array_equal(a, p.numpy()) for a, p in zip(before, trainer.G.parameters()))
        assert moved == (k >= 4), k              # G first moves on the 5th step
    assert trainer.optimizers["generator"].state[0]["step"] == 2
    assert trainer.optimizers["discriminator"].state[0]["step"] == 10


def test_the_same_seed_gives_the_same_samples_and_another_seed_others():
    def run(seed):  # build seeds every generator; then train at once, as the command line does
        trainer = make(steps=20, seed=seed)
        train(trainer, quiet=True)
        return trainer.sample(50, 0)

    a, b, c = run(3), run(3), run(4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_the_defaults_are_the_recipes_per_loss():
    trainer = make(steps=None, lr=None)
    assert (trainer.config.loss, trainer.config.steps, trainer.config.lr) == ("nonsaturating", 6000, 2e-4)
    trainer = make("wgan-gp", steps=None, lr=None)
    assert (trainer.config.steps, trainer.config.lr, trainer.settings["n_critic"]) == (10000, 1e-3, 5)
    assert trainer.settings["betas"] == [0.5, 0.9]
    trainer = make(model="dcgan", data="digits", steps=None, lr=None)
    assert trainer.settings["betas"] == [0.5, 0.999] and trainer.config.steps == 3000


def test_settings_resolve_per_model_loss_and_data():
    def resolved(data, **fields):
        return gan.GAN.resolve(Config(family="gan", data=data, **fields))

    plain, minimax = resolved("8gaussians"), resolved("8gaussians", loss="minimax")
    assert minimax.extra == plain.extra and minimax.steps == plain.steps     # the same game, the other G loss
    assert (plain.extra["z_dim"], resolved("digits").extra["z_dim"]) == (2, 32)   # z_dim 32 on images
    assert plain.extra["lr_schedule"] == "linear" and plain.extra["d_lr_scale"] == 2.0
    assert "label_dim" not in plain.extra and resolved("digits", conditional=True).extra["label_dim"] == 16
    assert resolved("digits", model="dcgan").batch_size == 64


def test_the_learning_rate_decays_linearly_to_0_with_d_at_twice_g():
    trainer = make(steps=4, lr=1e-3, d_lr_scale=2.0)
    batches = trainer.batches()
    for k in range(4):
        trainer.train_step(next(batches))
        g, d = trainer.optimizers["generator"].lr, trainer.optimizers["discriminator"].lr
        assert g == pytest.approx(1e-3 * (1 - k / 4)) and d == pytest.approx(2 * g)
    constant = make(steps=4, lr=1e-3, lr_schedule="constant")
    batches = constant.batches()
    for _ in range(4):
        constant.train_step(next(batches))
        assert constant.optimizers["generator"].lr == 1e-3


@pytest.mark.parametrize("size, z_dim", [(8, 16), (28, 4)])
def test_dcgan_networks_map_noise_to_images_and_images_to_one_logit(size, z_dim):
    g, d = gan.DCGenerator(z_dim, 1, size, width=4), gan.DCDiscriminator(1, size, width=4)
    images = g(mg.randn(3, z_dim))
    assert images.shape == (3, 1, size, size)
    assert np.all(np.abs(images.numpy()) <= 1)
    assert d(images).shape == (3,)


def test_dcgan_trains_on_digits_and_is_judged_by_the_classifier(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)            # a quick judge: the keys, not the values
    trainer = make(loss="nonsaturating", data="digits", model="dcgan", steps=4, lr=2e-4)
    train(trainer, quiet=True)
    images = trainer.sample(6, 0)
    assert images.shape == (6, 1, 8, 8) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    result = trainer.evaluate()
    assert 1 <= result["classes_found"] <= 10 and 0 <= result["class_entropy"] <= math.log(10) + 1e-9
    assert 0.1 <= result["mean_confidence"] <= 1
    assert result["frechet_distance"] > result["frechet_floor"] > 0
    assert 0 < result["test_class_entropy"] <= math.log(10) and 0.1 <= result["test_mean_confidence"] <= 1
    assert sum(result["class_histogram"]) == result["samples"] == 1000


@pytest.mark.parametrize("model, loss", [("dcgan", "wgan-gp"), ("mlp", "nonsaturating")])
def test_other_image_gans_train_a_few_steps_and_move_the_generator(model, loss):
    trainer = make(loss=loss, data="digits", model=model, steps=5, lr=1e-3)
    before = trainer.sample(4, 0)
    history, _ = train(trainer, quiet=True)
    after = trainer.sample(4, 0)
    assert after.shape == (4, 1, 8, 8) and np.all(np.isfinite(history["D"]))
    assert not np.allclose(before, after)                    # G took its step (the 5th, for WGAN-GP)


def test_dcgan_refuses_2d_points():
    with pytest.raises(ValueError, match="dcgan needs images"):
        make(model="dcgan", data="8gaussians")


def test_dcgan_on_28x28_idx_files_through_the_command_line(tmp_path, capsys):
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(40, 28, 28)) > 0.8).astype(np.uint8) * 255
    write_idx(tmp_path / "toy-images-idx3-ubyte", images)
    run = tmp_path / "run"
    main(["train", "gan", "--data", f"idx:{tmp_path / 'toy-images-idx3-ubyte'}", "--model", "dcgan",
          "--steps", "2", "--batch-size", "8", "--out", str(run), "--quiet"])
    metrics_line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics_line["steps"] == 2 and "note" in metrics_line          # no labels: nothing to judge
    main(["sample", str(run), "--n", "3", "--out", str(tmp_path / "x.npy")])
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1


def test_train_sample_eval_round_trip_through_the_command_line(tmp_path, capsys):
    run = tmp_path / "run"
    main(["train", "gan", "--data", "8gaussians", "--steps", "30", "--seed", "1", "--out", str(run), "--quiet"])
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"modes", "hq_share", "energy_distance", "energy_distance_floor"} <= set(trained)
    for name in ("checkpoint.npz", "config.json", "metrics.json", "losses.png", "samples.png"):
        assert (run / name).exists(), name
    main(["eval", str(run)])
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated == {k: v for k, v in trained.items() if k not in ("train_seconds", "steps")}
    main(["sample", str(run), "--n", "7", "--out", str(tmp_path / "s.npy")])
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (7, 2) and samples.dtype == np.float32


def test_the_generator_average_is_checkpointed_and_used_for_samples(tmp_path):
    trainer = make(steps=20, ema=0.9)
    history, seconds = train(trainer, quiet=True)
    write_run(trainer, history, seconds, tmp_path)
    assert set(trainer.average.shadow) == {f"generator.{k}" for k, _ in trainer.G.named_parameters()}   # G's alone
    z = backend.fixed_normal((20, 2), 0)                      # the noise of sample(20, seed=0)
    with trainer.average.average_parameters(), mg.no_grad():
        averaged = trainer.G(mg.tensor(z)).numpy()
    raw = trainer.G(mg.tensor(z)).numpy()
    assert not np.allclose(averaged, raw)                     # the average is not the last iterate
    np.testing.assert_array_equal(trainer.sample(20, 0), averaged)
    reopened = open_run(tmp_path)
    np.testing.assert_array_equal(reopened.sample(20, 0), trainer.sample(20, 0))
    key = "generator.body.0.weight"
    np.testing.assert_array_equal(reopened.average.shadow[key], trainer.average.shadow[key])


def test_a_checkpoint_with_the_older_generator_ema_entry_opens_with_its_average():
    trainer = make(steps=10, ema=0.9)
    train(trainer, quiet=True)
    state = trainer.state_dict()
    average = state.pop("average")                            # as written before: an optimizer "generator_ema"
    state["optimizers"]["generator_ema"] = {
        "decay": average["decay"], "num_updates": average["num_updates"],
        "shadow": {k[len("generator."):]: v for k, v in average["shadow"].items()}}
    reopened = make(steps=10, ema=0.9)
    reopened.load_state_dict(state)
    reopened.eval_mode()
    np.testing.assert_array_equal(reopened.sample(20, 0), trainer.sample(20, 0))


# ----- conditional GANs: p(x | y) -----
def make_conditional(model="mlp", loss="nonsaturating", data="digits", steps=5, lr=1e-3, seed=0, **extra):
    small = {"g_width": 16, "d_width": 16} if model == "mlp" else {"g_width": 4, "d_width": 4}
    return make_family("gan", data, model=model, loss=loss, steps=steps, lr=lr, seed=seed, conditional=True,
                       batch_size=32, **{**small, **extra})


def labels_of(values):
    return mg.tensor(np.asarray(values, dtype=np.int64), dtype="int64")


@st.composite
def projection_inputs(draw):
    """features h (N, F) and a class table (C, F) in float64, labels (N,) in [0, C); size-1 sides often."""
    n, f, c = (draw(st.sampled_from([1, 1, 2, 3, 4])) for _ in range(3))
    h, table = draw(S.arrays((n, f))), draw(S.arrays((c, f)))
    labels = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.int64)
    return h, table, labels


@given(drawn=projection_inputs())
def test_the_projection_term_matches_central_differences_first_and_second_order(drawn):
    h, table, labels = drawn
    head = gan.Projection(table.shape[0], table.shape[1]).double()
    head.embed.weight.data[...] = table
    fn = lambda h, _table: head(h, labels_of(labels))           # noqa: E731 (gradcheck nudges the table in place)
    inputs = [mg.tensor(h, dtype="float64", requires_grad=True), head.embed.weight]
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)
    np.testing.assert_allclose(fn(*inputs).numpy(), (table[labels] * h).sum(1), rtol=1e-12, atol=1e-12)


@given(drawn=projection_inputs(), z_dim=st.integers(1, 3))
def test_labelled_noise_matches_central_differences_first_and_second_order(drawn, z_dim):
    z, table, labels = drawn                                  # z (N, F), the label table (C, F)
    z = z[:, :z_dim] if z.shape[1] >= z_dim else np.tile(z, (1, z_dim))[:, :z_dim]
    joined = gan.LabelledNoise(z_dim, table.shape[0], table.shape[1]).double()
    joined.embed.weight.data[...] = table
    fn = lambda z, _table: joined(z, labels_of(labels))        # noqa: E731
    inputs = [mg.tensor(z, dtype="float64", requires_grad=True), joined.embed.weight]
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)
    np.testing.assert_array_equal(fn(*inputs).numpy(), np.concatenate([z, table[labels]], axis=1))


def conditional_critic(model, seed):
    """A small float64 conditional critic with a random (non-zero) class table, and its input shape."""
    mg.manual_seed(seed)
    if model == "mlp":
        critic, shape = gan.MLPDiscriminator((1, 2, 2), hidden=5, depth=2, num_classes=3), (1, 2, 2)
    else:
        critic, shape = gan.DCDiscriminator(1, 4, width=1, num_classes=3), (1, 4, 4)    # 78 weights
    critic = critic.double()
    table = critic.projection.embed.weight
    table.data[...] = np.random.default_rng(seed).normal(size=table.shape)
    return critic, shape


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
@given(seed=st.integers(0, 2**16), n=st.integers(1, 3))
def test_conditional_critics_and_their_gradient_penalty_match_central_differences(model, seed, n):
    critic, shape = conditional_critic(model, seed)
    rng = np.random.default_rng(seed + 1)
    real, fake = (mg.tensor(rng.normal(size=(n,) + shape), dtype="float64") for _ in range(2))
    alpha = mg.tensor(rng.uniform(size=n), dtype="float64")
    y = labels_of(rng.integers(0, 3, size=n))
    x = mg.tensor(rng.normal(size=(n,) + shape), dtype="float64", requires_grad=True)
    # D(x, y) in x, to second order: the gradient penalty differentiates grad_x D(x_hat, y)
    assert mg.gradcheck(lambda x: critic(x, y), [x])
    assert mg.gradgradcheck(lambda x: critic(x, y), [x])
    # and the penalty itself in every weight of the critic, the class table included
    penalty = lambda *_: M.gradient_penalty(functools.partial(critic, labels=y), real, fake, alpha)   # noqa: E731
    assert mg.gradcheck(penalty, list(critic.parameters()), atol=1e-6, rtol=1e-5)


def test_the_penalty_of_a_linear_conditional_critic_is_each_class_slope_minus_one_squared():
    # no hidden layer: D(x, y) = <w + e_y, x> + b, so grad_x D(x_hat, y) = w + e_y for every x_hat
    critic = gan.MLPDiscriminator((3,), depth=0, num_classes=2).double()
    table = critic.projection.embed.weight
    table.data[...] = np.array([[0.5, 0.0, -1.0], [2.0, 1.0, 0.0]])
    w = critic.body[0].weight.numpy().ravel()
    y = np.array([0, 1, 1, 0, 1])
    rng = np.random.default_rng(3)
    real, fake = (mg.tensor(rng.normal(size=(5, 3)), dtype="float64") for _ in range(2))
    gp = M.gradient_penalty(functools.partial(critic, labels=labels_of(y)), real, fake)
    slopes = np.linalg.norm(w + table.numpy()[y], axis=1)
    assert gp.item() == pytest.approx(((slopes - 1) ** 2).mean(), rel=1e-9)


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_conditioning_is_real_both_label_embeddings_get_a_gradient(model):
    trainer = make_conditional(model)
    y = labels_of([0, 3, 3, 9])
    fakes = trainer.G(trainer.noise(4), y)                                  # (4, 1, 8, 8)
    g_table, d_table = trainer.G.input.embed.weight, trainer.D.projection.embed.weight
    (g_grad,) = mg.grad(fakes.sum(), [g_table])                              # G's output in G's label embedding
    (d_grad,) = mg.grad(trainer.D(fakes.detach(), y).sum(), [d_table])       # D's output in D's class vectors
    for grad in (g_grad.numpy(), d_grad.numpy()):
        used = np.abs(grad).sum(axis=1) > 0
        np.testing.assert_array_equal(used, np.isin(np.arange(10), [0, 3, 9]))   # the rows of the labels used
    # so the label changes what G makes from the same z
    z = trainer.noise(2)
    assert not np.allclose(trainer.G(z, labels_of([1, 1])).numpy(), trainer.G(z, labels_of([2, 2])).numpy())


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_an_unconditional_gan_takes_no_label_and_a_conditional_one_needs_one(model):
    plain = make(model=model, data="digits")
    assert not any("embed" in name for m in (plain.G, plain.D) for name, _ in m.named_parameters())
    with pytest.raises(ValueError, match="unconditional \\(trained without --conditional\\); it takes no labels"):
        plain.G(plain.noise(2), labels_of([1, 2]))
    with pytest.raises(ValueError, match="unconditional \\(trained without --conditional\\); it takes no labels"):
        plain.D(mg.zeros(2, 1, 8, 8), labels_of([1, 2]))
    conditional = make_conditional(model)
    with pytest.raises(ValueError, match="is conditional; it needs labels .N,., the class of each input"):
        conditional.G(conditional.noise(2))
    with pytest.raises(ValueError, match="is conditional; it needs labels .N,., the class of each input"):
        conditional.D(mg.zeros(2, 1, 8, 8))


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
@pytest.mark.parametrize("loss", ["minimax", "nonsaturating", "wgan-gp"])
def test_every_loss_trains_a_conditional_gan_a_few_steps(model, loss):
    trainer = make_conditional(model, loss)
    tables = [trainer.G.input.embed.weight, trainer.D.projection.embed.weight]
    before = [t.numpy().copy() for t in tables]
    history, _ = train(trainer, quiet=True)                  # 5 steps: for WGAN-GP, 5 critic steps and 1 of G
    assert np.all(np.isfinite(history["D"])) and np.isfinite(history["G"][-1])
    for table, old in zip(tables, before):
        assert not np.allclose(table.numpy(), old)           # both label embeddings learned something


def test_sample_with_a_label_draws_that_class_and_without_one_the_classes_in_turn():
    trainer = make_conditional("mlp", steps=3)
    train(trainer, quiet=True)
    grid = trainer.sample(100, 0)                            # a 10-column grid: class k in column k
    for k in range(10):
        of_k = trainer.sample(100, 0, label=k)               # the same z, all of class k
        np.testing.assert_array_equal(grid[k::10], of_k[k::10])
        assert not np.allclose(of_k[k::10], trainer.sample(100, 0, label=(k + 1) % 10)[k::10])
    assert trainer.sample_labels(100) == list(range(10)) * 10
    assert grid.shape == (100, 1, 8, 8) and grid.min() >= 0 and grid.max() <= 1


def test_bad_labels_and_options_are_refused_by_name():
    conditional, plain = make_conditional("mlp"), make(model="mlp", data="digits")
    with pytest.raises(ValueError, match="--label: .* from 0 to 9, got 10"):
        conditional.sample(4, 0, label=10)
    with pytest.raises(NotImplementedError, match="^--guidance: is for conditional diffusion runs; this gan "
                                                  "\\(mlp\\) run samples with --n, --seed, --label$"):
        conditional.sample(4, 0, guidance=2.0)
    with pytest.raises(NotImplementedError, match="^--sample-steps: is for diffusion runs; .* with --n, --seed$"):
        plain.sample(4, 0, temperature=0.5, sample_steps=3)
    with pytest.raises(NotImplementedError, match="--label: this gan run is not conditional"):
        plain.sample(4, 0, label=3)


def test_a_conditional_run_is_judged_on_its_labels(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)            # a quick judge: the keys, not the values
    trainer = make_conditional("dcgan", steps=4)
    train(trainer, quiet=True)
    result = trainer.evaluate()
    assert {"frechet_distance", "frechet_floor", "class_entropy", "label_accuracy"} <= set(result)
    assert len(result["per_label_accuracy"]) == 10 and 0 <= result["label_accuracy"] <= 1
    assert result["label_accuracy"] == pytest.approx(np.mean(result["per_label_accuracy"]))


def test_a_conditional_run_through_the_command_line_on_28x28_idx_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 5)
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(80, 28, 28)) > 0.8).astype(np.uint8) * 255      # 72 train images: the judge's batch fits
    write_idx(tmp_path / "toy-images-idx3-ubyte", images)
    write_idx(tmp_path / "toy-labels-idx1-ubyte", (np.arange(80) % 3).astype(np.uint8))
    run = tmp_path / "run"
    main(["train", "gan", "--data", f"idx:{tmp_path / 'toy-images-idx3-ubyte'}", "--model", "dcgan", "--conditional",
          "--steps", "2", "--batch-size", "8", "--out", str(run), "--quiet"])
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(trained["per_label_accuracy"]) == 3
    assert json.loads((run / "config.json").read_text())["conditional"] is True
    main(["sample", str(run), "--n", "4", "--label", "2", "--out", str(tmp_path / "x.npy")])
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (4, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(x, open_run(run).sample(4, 0, label=2))    # reopened: the same G and labels
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(run), "--n", "4", "--label", "3", "--out", str(tmp_path / "y.npy")])
    assert exit_info.value.code == 2 and "--label: must be a class" in capsys.readouterr().err


def test_label_on_an_unconditional_run_is_a_usage_error(tmp_path, capsys):
    run = tmp_path / "run"
    main(["train", "gan", "--data", "8gaussians", "--steps", "2", "--out", str(run), "--quiet"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(run), "--label", "1", "--out", str(tmp_path / "s.npy")])
    assert exit_info.value.code == 2 and "not conditional" in capsys.readouterr().err

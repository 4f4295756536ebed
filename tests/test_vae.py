"""The VAE family (its networks: test_vae_networks.py): a short training run that improves the held-out ELBO, both
losses, sampling (binary draws, seeds, refused options), log_prob against eval's nll_iwae, the
Gaussian likelihood on digits, the conv VAE on 28x28 IDX files, checkpoints and the command line.

Completions of any mask keep the given pixels and follow the seed. The conditional VAE
(--conditional): the label reaches the encoder's and the decoder's outputs (non-zero gradients on each
embedding), unconditional networks take none; samples of class K are class K's paintings, a
balanced sample has class k in column k; labels are required by a conditional run's log_prob and
refused by an unconditional one's; run folders and the command line."""
import json

import numpy as np
import pytest

import minigen as mg
from minigen.cli import main
from minigen.data import write_idx
from minigen.data.completion import hidden_mask
from minigen import models
from minigen.models import judge
from minigen.models.loop import train
from minigen.runs import open_run, write_run

SMALL = {"hidden": 32, "z_dim": 4, "width": 4}


def make(data="digits-binary", steps=30, batch_size=32, **settings):
    """A small VAE: the defaults of `minigen train vae`, with small networks, 30 steps of 32."""
    return models.make("vae", data, steps=steps, batch_size=batch_size, **{**SMALL, **settings})


@pytest.fixture
def quick_judge(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)              # a quick judge: the keys, not the values


# ----- training -----
def test_a_short_run_lowers_the_negative_elbo_on_held_out_digits():
    trainer = make(steps=150, dropout=0.0)
    test = trainer.test_data.images[:100]

    def neg_elbo():
        _, recon, kl = trainer.bounds(test, k=20)
        return float((kl - recon).mean())

    before = neg_elbo()
    history, _ = train(trainer, quiet=True)
    after = neg_elbo()
    assert after < before - 10                                   # from ~45 nats to below 35
    assert len(history["loss"]) == 150 and np.all(np.isfinite(history["loss"]))
    assert set(history) == {"loss", "reconstruction", "kl"}


def test_iwae_training_uses_k_draws_and_its_loss_is_below_the_elbo_loss():
    trainer = make(loss="iwae", steps=40)
    assert trainer.settings["samples"] == 5
    train(trainer, quiet=True)
    x = mg.tensor(trainer.train_x[:64])
    mg.manual_seed(1)
    with mg.no_grad():
        iwae, ll, kl = trainer.objective(x, k=50, loss="iwae")
    elbo = ll.mean(axis=0) - kl
    assert iwae.mean().item() > elbo.mean().item()               # L_50 >= L_1 (on average)


def test_kl_warm_up_and_cosine_schedule_set_beta_and_lr_per_step():
    trainer = make(steps=10, kl_warmup=0.4)
    batches = trainer.batches()
    lrs, betas = [], []
    for _ in range(10):
        betas.append(trainer.kl_weight())
        trainer.train_step(next(batches))
        lrs.append(trainer.optimizers["vae"].lr)
    assert betas == [0.25, 0.5, 0.75] + [1.0] * 7
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] < 1e-4 and all(a > b for a, b in zip(lrs, lrs[1:]))


def test_the_same_seed_gives_the_same_model_and_another_seed_another():
    def run(seed):
        trainer = make(steps=15, seed=seed)
        train(trainer, quiet=True)
        return trainer.sample(20, 0)

    a, b, c = run(3), run(3), run(4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# ----- sampling -----
def test_samples_are_binary_draws_of_the_data_shape_and_follow_the_seed():
    trainer = make(steps=20)
    train(trainer, quiet=True)
    x = trainer.sample(30, 5)
    assert x.shape == (30, 1, 8, 8) and x.dtype == np.float32
    assert set(np.unique(x)) <= {0.0, 1.0}
    np.testing.assert_array_equal(x, trainer.sample(30, 5))
    assert not np.array_equal(x, trainer.sample(30, 6))
    # the draws follow the decoder's probabilities: over many draws of one code, their mean
    probs = trainer.decode(np.zeros((1, 4), dtype=np.float32))
    assert probs.min() >= 0 and probs.max() <= 1 and not set(np.unique(probs)) <= {0.0, 1.0}


@pytest.mark.parametrize("option, message", [({"label": 3}, "not conditional"), ({"guidance": 2.0}, "not conditional"),
                                              ({"temperature": 0.5}, "--temperature"),
                                              ({"sampler": "ddim"}, "--sampler")])
def test_sampling_refuses_options_it_does_not_take(option, message):
    with pytest.raises(NotImplementedError, match=message):
        make(steps=0).sample(4, 0, **option)


@pytest.mark.parametrize("data", ["digits-binary", "digits"])
def test_completions_keep_every_given_pixel_fill_the_hole_and_follow_the_seed(data):
    trainer = make(data, steps=20, complete_steps=5)
    train(trainer, quiet=True)
    given = trainer.train_data.to_unit(trainer.test_data.images[:4])
    hole = hidden_mask(given.shape, "box:2,2,6,6")
    filled = trainer.sample(4, 0, given=given, mask="box:2,2,6,6")
    assert filled.shape == given.shape and filled.dtype == np.float32
    np.testing.assert_array_equal(filled[~hole], given[~hole])
    assert filled.min() >= 0 and filled.max() <= 1
    if data == "digits-binary":
        assert set(np.unique(filled)) <= {0.0, 1.0}
    np.testing.assert_array_equal(filled, trainer.sample(4, 0, given=given, mask="box:2,2,6,6"))
    assert not np.array_equal(filled, trainer.sample(4, 1, given=given, mask="box:2,2,6,6"))


def test_a_conditional_completion_needs_the_label_and_given_needs_a_mask():
    given = np.zeros((1, 1, 8, 8), np.float32)
    with pytest.raises(ValueError, match="--label K"):
        make(steps=0, conditional=True).sample(2, 0, given=given, mask="top")
    with pytest.raises(ValueError, match="go together"):
        make(steps=0).sample(2, 0, given=given)
    assert make(steps=0, conditional=True, complete_steps=2).sample(2, 0, given=given, mask="top", label=3).shape == (2, 1, 8, 8)


def test_reconstructions_and_interpolations_are_pictures_of_the_data_shape():
    trainer = make(steps=20)
    train(trainer, quiet=True)
    test = trainer.test_data.images
    rec = trainer.decode(trainer.encode(test[:6])[0])            # the pictures of the posterior means
    assert rec.shape == (6, 1, 8, 8) and 0 <= rec.min() and rec.max() <= 1
    walk = trainer.interpolate(test[0], test[1], steps=7)
    assert walk.shape == (7, 1, 8, 8)
    np.testing.assert_allclose(walk[0], rec[0], atol=1e-6)       # the walk starts at the first code
    np.testing.assert_allclose(walk[-1], rec[1], atol=1e-6)      # and ends at the second


# ----- likelihood and evaluation -----
def test_log_prob_is_the_k_1000_estimate_that_eval_reports_as_nll_iwae(quick_judge):
    trainer = make(steps=30)
    train(trainer, quiet=True)
    test = trainer.test_data.images
    result = trainer.evaluate()
    log_p = trainer.log_prob(test)
    assert log_p.shape == (360,) and result["iwae_k"] == 1000 and result["test_size"] == 360
    assert -log_p.mean() == pytest.approx(result["nll_iwae"], rel=1e-12)
    np.testing.assert_array_equal(trainer.log_prob(test[:20]), log_p[:20])    # deterministic
    assert result["nll_iwae"] <= result["neg_elbo"]                          # L_1000 >= ELBO
    assert result["neg_elbo"] == pytest.approx(result["reconstruction"] + result["kl"], rel=1e-9)
    assert 0 <= result["active_units"] <= 4
    for key in ("frechet_distance", "frechet_floor", "class_entropy", "mean_confidence"):
        assert key in result
    assert result == trainer.evaluate()                                       # the same numbers again


def test_log_prob_refuses_images_of_another_shape():
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 1, 8, 8\)"):
        make(steps=0).log_prob(np.zeros((3, 8, 8), dtype=np.float32))


def test_active_units_count_latent_dimensions_whose_mean_varies_across_the_data():
    trainer = make(steps=0)
    # a fresh encoder's means vary a little; zeroing the second half of the head switches half off
    head = trainer.encoder.body[-1]
    head.weight.data[2:4] = 0.0
    head.bias.data[2:4] = 0.0
    head.weight.data[0:2] *= 100.0
    assert trainer.active_units(trainer.test_data.images) == 2


def test_gaussian_vae_on_digits_learns_a_floored_variance_and_samples_means(quick_judge):
    trainer = make(data="digits", steps=40)
    assert trainer.settings["likelihood"] == "gaussian"
    train(trainer, quiet=True)
    x = trainer.sample(10, 0)
    assert x.shape == (10, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
    assert len(np.unique(x)) > 2                                  # means, not draws
    result = trainer.evaluate()
    assert np.isfinite(result["nll_iwae"]) and result["nll_iwae"] <= result["neg_elbo"]
    # the floor: a variance pushed far below it counts as the floor
    trainer.decoder.log_var.data[...] = -50.0
    low = trainer.log_prob(trainer.test_data.images[:5])
    trainer.decoder.log_var.data[...] = trainer.settings["min_log_var"]
    np.testing.assert_allclose(low, trainer.log_prob(trainer.test_data.images[:5]), rtol=1e-6)


# ----- run folders and the command line -----
def test_a_reopened_run_samples_and_evaluates_as_the_trained_one(tmp_path, quick_judge):
    trainer = make(steps=20)
    history, seconds = train(trainer, quiet=True)
    metrics = write_run(trainer, history, seconds, tmp_path)
    run = open_run(tmp_path)
    np.testing.assert_array_equal(run.sample(16, 2), trainer.sample(16, 2))
    np.testing.assert_array_equal(run.log_prob(trainer.test_data.images[:10]),
                                  trainer.log_prob(trainer.test_data.images[:10]))
    assert run.evaluate()["nll_iwae"] == metrics["nll_iwae"]
    for name in ("checkpoint.npz", "config.json", "metrics.json", "losses.png", "samples.png"):
        assert (tmp_path / name).exists(), name


def test_conv_vae_on_28x28_idx_files_binarises_trains_samples_and_evaluates(tmp_path, capsys):
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(40, 28, 28)) > 0.8).astype(np.uint8) * 255
    write_idx(tmp_path / "toy-images-idx3-ubyte", images)
    run = tmp_path / "run"
    main(["train", "vae", "--data", f"idx:{tmp_path / 'toy-images-idx3-ubyte'}", "--model", "conv",
          "--steps", "3", "--batch-size", "8", "--out", str(run), "--quiet"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["steps"] == 3 and "note" in result                # no labels: no judge
    assert np.isfinite(result["nll_iwae"]) and result["iwae_k"] == 100 and result["test_size"] == 4
    main(["sample", str(run), "--n", "3", "--out", str(tmp_path / "x.npy")])
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32 and set(np.unique(x)) <= {0.0, 1.0}


def test_train_sample_eval_round_trip_through_the_command_line(tmp_path, capsys, quick_judge):
    run = tmp_path / "run"
    main(["train", "vae", "--data", "digits-binary", "--steps", "20", "--out", str(run), "--quiet"])
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"nll_iwae", "neg_elbo", "reconstruction", "kl", "active_units", "frechet_distance"} <= set(trained)
    main(["eval", str(run)])
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated == {k: v for k, v in trained.items() if k not in ("train_seconds", "steps")}
    main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "s.npy")])
    assert np.load(tmp_path / "s.npy").shape == (5, 1, 8, 8)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(run), "--label", "3", "--out", str(tmp_path / "t.npy")])
    assert exit_info.value.code == 2 and "not conditional" in capsys.readouterr().err


def test_unknown_loss_and_likelihood_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="elbo"):
        make(loss="wgan-gp")
    with pytest.raises(ValueError, match="likelihood"):
        make(likelihood="poisson")


def test_the_weight_average_is_checkpointed_and_used_to_evaluate_and_sample(tmp_path):
    trainer = make(steps=20, ema=0.9)
    history, seconds = train(trainer, quiet=True)
    raw = trainer.decoder.body[0].weight.numpy().copy()
    with trainer.averaged():
        averaged = trainer.decoder.body[0].weight.numpy().copy()
    assert not np.allclose(raw, averaged)                        # the average is not the last iterate
    np.testing.assert_array_equal(trainer.decoder.body[0].weight.numpy(), raw)   # and put back after
    trainer.figure().savefig(tmp_path / "samples.png")
    state = trainer.state_dict()
    mg.save({"config": json.loads(trainer.config.to_json()), "state": state}, tmp_path / "checkpoint.npz")
    reopened = open_run(tmp_path)
    np.testing.assert_array_equal(reopened.sample(20, 0), trainer.sample(20, 0))
    np.testing.assert_array_equal(reopened.log_prob(trainer.test_data.images[:5]), trainer.log_prob(trainer.test_data.images[:5]))
    # a checkpoint written before the shared average kept one per network, "encoder_ema" and
    # "decoder_ema", among the optimizers: it opens with the same averaged weights
    average = state.pop("average")
    for net in ("encoder", "decoder"):
        state["optimizers"][f"{net}_ema"] = {
            "decay": average["decay"], "num_updates": average["num_updates"],
            "shadow": {k[len(net) + 1:]: v for k, v in average["shadow"].items() if k.startswith(net + ".")}}
    mg.save({"config": json.loads(trainer.config.to_json()), "state": state}, tmp_path / "checkpoint.npz")
    np.testing.assert_array_equal(open_run(tmp_path).sample(20, 0), trainer.sample(20, 0))


# ----- the conditional VAE -----
@pytest.mark.parametrize("model", ["mlp", "conv"])
def test_the_label_reaches_the_outputs_of_encoder_and_decoder_through_their_embeddings(model):
    trainer = make(model=model, conditional=True)
    x = mg.tensor(trainer.train_x[:6])
    y = mg.tensor(trainer.train_data.labels[:6])
    mu, log_var = trainer.encoder(x, y)
    logits = trainer.decoder(mu.detach(), y)                     # a graph of its own
    for net, out in ((trainer.encoder, mu + log_var), (trainer.decoder, logits)):
        table = net.label.embedding.weight
        (g,) = mg.grad((out * out).sum(), [table])
        used = np.isin(np.arange(10), y.numpy())
        assert np.abs(g.numpy()[used]).sum(axis=1).min() > 0          # every label in the batch moves it
        np.testing.assert_array_equal(g.numpy()[~used], 0.0)          # the others do not
    # another label, another code and another picture of the same x and z
    other = mg.tensor((trainer.train_data.labels[:6] + 1) % 10)
    assert not np.allclose(trainer.encoder(x, other)[0].numpy(), mu.numpy())
    assert not np.allclose(trainer.decoder(mu, other).numpy(), logits.numpy())


@pytest.mark.parametrize("model", ["mlp", "conv"])
def test_unconditional_networks_take_no_label_and_conditional_ones_need_one(model):
    plain, conditional = make(model=model), make(model=model, conditional=True)
    x, y = mg.tensor(plain.train_x[:3]), mg.tensor(plain.train_data.labels[:3])
    assert not any("label" in name for net in (plain.encoder, plain.decoder) for name, _ in net.named_parameters())
    with pytest.raises(ValueError, match="unconditional \\(trained without --conditional\\); it takes no labels"):
        plain.encoder(x, y)
    with pytest.raises(ValueError, match="unconditional \\(trained without --conditional\\); it takes no labels"):
        plain.decoder(mg.zeros(3, 4), y)
    with pytest.raises(ValueError, match="it needs labels"):
        conditional.encoder(x)
    with pytest.raises(ValueError, match="it needs labels"):
        conditional.decoder(mg.zeros(3, 4))


def nearest_class_mean(images, data):
    """A cheap judge for tests: the class whose mean training image is nearest (about 85% right on
    real test digits, against 10% by chance)."""
    means = np.stack([data.images[data.labels == c].mean(axis=0) for c in range(data.num_classes)])
    distances = ((images[:, None] - means[None]) ** 2).reshape(len(images), data.num_classes, -1).sum(axis=2)
    return distances.argmin(axis=1)


def test_a_conditional_run_paints_the_class_it_is_asked_for():
    trainer = make(conditional=True, steps=600, batch_size=64, hidden=128, z_dim=8)
    train(trainer, quiet=True)
    real = nearest_class_mean(trainer.test_data.images, trainer.train_data)
    assert (real == trainer.test_data.labels).mean() > 0.8
    hits = [(nearest_class_mean(trainer.sample(50, 0, label=k), trainer.train_data) == k).mean() for k in range(10)]
    assert np.mean(hits) > 0.7 and min(hits) > 0.3


def test_a_balanced_sample_has_class_k_in_column_k_and_label_k_paints_every_sample_as_k():
    trainer = make(conditional=True, steps=30)
    train(trainer, quiet=True)
    balanced = trainer.sample(100, 0)
    assert balanced.shape == (100, 1, 8, 8) and set(np.unique(balanced)) <= {0.0, 1.0}
    by_label = {k: trainer.sample(100, 0, label=k) for k in range(10)}
    for i in range(100):                       # sample i: the same z and draws, painted as class i % 10
        np.testing.assert_array_equal(balanced[i], by_label[i % 10][i])
    assert not np.array_equal(by_label[3], by_label[4])
    np.testing.assert_array_equal(by_label[3], trainer.sample(100, 0, label=3))         # follows the seed
    assert not np.array_equal(by_label[3], trainer.sample(100, 1, label=3))


@pytest.mark.parametrize("option, error, message", [
    ({"label": 10}, ValueError, r"--label: must be a class of digits-binary, an integer from 0 to 9, got 10"),
    ({"label": -1}, ValueError, "--label"), ({"label": 2.5}, ValueError, "--label"),
    ({"guidance": 2.0}, NotImplementedError, "--guidance: is for conditional diffusion runs; .* --n, --seed, --label")])
def test_conditional_sampling_refuses_a_label_out_of_range_and_options_it_does_not_take(option, error, message):
    with pytest.raises(error, match=message):
        make(steps=0, conditional=True).sample(4, 0, **option)


def test_log_prob_of_a_conditional_run_needs_one_label_per_image_and_an_unconditional_one_takes_none():
    conditional, plain = make(steps=0, conditional=True), make(steps=0)
    images, labels = plain.test_data.images[:4], plain.test_data.labels[:4]
    with pytest.raises(ValueError, match="this run is conditional .* give labels, one class from 0 to 9"):
        conditional.log_prob(images)
    for bad in (labels[:3], [0, 1, 2, 10], [0, 1, 2, -1], [0.0, 1.0, 2.0, 3.0], "0123"):
        with pytest.raises(ValueError, match=r"labels must be 4 integers from 0 to 9 \(one per example\)"):
            conditional.log_prob(images, labels=bad)
    with pytest.raises(ValueError, match="labels are for a run trained with --conditional; this one is not"):
        plain.log_prob(images, labels=labels)
    assert conditional.log_prob(images, labels=list(labels)).shape == (4,)


def test_a_conditional_evaluation_scores_log_p_x_given_y_per_label_and_the_labels_of_its_samples(quick_judge):
    trainer = make(steps=40, conditional=True)
    train(trainer, quiet=True)
    result = trainer.evaluate()
    test, labels = trainer.test_data.images, trainer.test_data.labels
    log_p = trainer.log_prob(test, labels=labels)
    assert -log_p.mean() == pytest.approx(result["nll_iwae"], rel=1e-12)
    per_label = result["nll_iwae_per_label"]
    assert len(per_label) == 10
    for k in range(10):
        assert per_label[k] == pytest.approx(-log_p[labels == k].mean(), rel=1e-12)
    assert not np.allclose(log_p, trainer.log_prob(test, labels=(labels + 1) % 10))    # the label matters
    assert 0 <= result["label_accuracy"] <= 1 and len(result["per_label_accuracy"]) == 10
    assert result["label_accuracy"] == pytest.approx(np.mean(result["per_label_accuracy"]))
    assert result["nll_iwae"] <= result["neg_elbo"]
    for key in ("frechet_distance", "frechet_floor", "class_entropy"):
        assert key in result


@pytest.mark.parametrize("data, model, loss", [("digits-binary", "conv", "iwae"), ("digits", "mlp", "elbo"),
                                               ("digits", "conv", "iwae")])
def test_conditional_conv_iwae_and_gaussian_vaes_train_and_sample_the_asked_class(data, model, loss):
    trainer = make(data=data, model=model, loss=loss, steps=10, conditional=True)
    history, _ = train(trainer, quiet=True)
    assert np.all(np.isfinite(history["loss"]))
    x = trainer.sample(20, 0, label=7)
    assert x.shape == (20, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(trainer.sample(20, 0)[7], x[7])
    assert np.isfinite(trainer.log_prob(trainer.test_data.images[:5], labels=[7, 1, 2, 3, 0])).all()


def test_a_reopened_conditional_run_samples_and_scores_as_the_trained_one(tmp_path):
    trainer = make(steps=20, conditional=True)
    history, seconds = train(trainer, quiet=True)
    trainer.figure().savefig(tmp_path / "samples.png")
    mg.save({"config": json.loads(trainer.config.to_json()), "state": trainer.state_dict()}, tmp_path / "checkpoint.npz")
    run = open_run(tmp_path)
    assert run.config.conditional
    np.testing.assert_array_equal(run.sample(16, 2, label=5), trainer.sample(16, 2, label=5))
    test, labels = trainer.test_data.images[:10], trainer.test_data.labels[:10]
    np.testing.assert_array_equal(run.log_prob(test, labels=labels), trainer.log_prob(test, labels=labels))
    with pytest.raises(ValueError, match="give labels"):
        run.log_prob(test)


def test_conditional_train_sample_eval_round_trip_through_the_command_line(tmp_path, capsys, quick_judge):
    run = tmp_path / "run"
    main(["train", "vae", "--data", "digits-binary", "--conditional", "--steps", "20", "--out", str(run), "--quiet"])
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"nll_iwae", "nll_iwae_per_label", "label_accuracy", "per_label_accuracy", "frechet_distance",
            "frechet_floor", "class_entropy"} <= set(trained)
    main(["sample", str(run), "--n", "5", "--label", "3", "--out", str(tmp_path / "s.npy")])
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), open_run(run).sample(5, 0, label=3))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(run), "--label", "12", "--out", str(tmp_path / "t.npy")])
    assert exit_info.value.code == 2 and "--label" in capsys.readouterr().err

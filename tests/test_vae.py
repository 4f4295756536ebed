"""The VAE family: its networks, a short training run that improves the held-out ELBO, both
losses, sampling (binary draws, seeds, refused options), log_prob against eval's nll_iwae, the
Gaussian likelihood on digits, the conv VAE on 28x28 IDX files, checkpoints and the command line."""
import json

import numpy as np
import pytest

import minigen as mg
from minigen.cli import main
from minigen.data import write_idx
from minigen.models import judge, trainer_class, vae
from minigen.runs import Config, build, fill_defaults, open_run, train, write_run

SMALL = {"hidden": 32, "z_dim": 4, "width": 4}


def make(data="digits-binary", model="mlp", loss="elbo", steps=30, seed=0, batch_size=32, **extra):
    config = Config(family="vae", data=data, model=model, loss=loss, steps=steps, seed=seed,
                    batch_size=batch_size, extra={**SMALL, **extra})
    return build(fill_defaults(config, trainer_class("vae")))


@pytest.fixture
def quick_judge(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)              # a quick judge: the keys, not the values


# ----- networks -----
@pytest.mark.parametrize("size", [8, 28])
def test_conv_networks_map_images_to_codes_and_codes_to_images(size):
    encoder, decoder = vae.ConvEncoder((1, size, size), 3, width=4), vae.ConvDecoder((1, size, size), 3, width=4)
    mu, log_var = encoder(mg.randn(5, 1, size, size))
    assert mu.shape == log_var.shape == (5, 3)
    assert decoder(mu).shape == (5, 1, size, size)


def test_mlp_networks_map_images_to_codes_and_codes_to_images():
    encoder, decoder = vae.MLPEncoder((1, 8, 8), 6, hidden=16), vae.MLPDecoder((1, 8, 8), 6, hidden=16)
    mu, log_var = encoder(mg.randn(4, 1, 8, 8))
    assert mu.shape == log_var.shape == (4, 6)
    assert decoder(mu).shape == (4, 1, 8, 8)
    assert not hasattr(decoder, "log_var")
    assert vae.MLPDecoder((1, 8, 8), 6, learn_variance=True).log_var.shape == (1, 8, 8)


def test_conv_refuses_images_whose_side_is_not_a_multiple_of_4():
    with pytest.raises(ValueError, match="multiple of 4"):
        vae.ConvEncoder((1, 10, 10), 3)


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
        iwae, ll, kl = trainer.objective(x, 50, 1.0)
    elbo = ll.mean(axis=0) - kl
    assert iwae.mean().item() > elbo.mean().item()               # L_50 >= L_1 (on average)


def test_kl_warm_up_and_cosine_schedule_set_beta_and_lr_per_step():
    trainer = make(steps=10, warmup=0.4)
    batches = trainer.batches()
    lrs, betas = [], []
    for _ in range(10):
        betas.append(trainer.kl_weight())
        trainer.train_step(next(batches))
        lrs.append(trainer.optimizers["vae"].lr)
        trainer.step_count += 1
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


def test_reconstructions_and_interpolations_are_pictures_of_the_data_shape():
    trainer = make(steps=20)
    train(trainer, quiet=True)
    test = trainer.test_data.images
    rec = trainer.reconstruct(test[:6])
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
    with trainer.evaluating():
        averaged = trainer.decoder.body[0].weight.numpy().copy()
    assert not np.allclose(raw, averaged)                        # the average is not the last iterate
    np.testing.assert_array_equal(trainer.decoder.body[0].weight.numpy(), raw)   # and put back after
    trainer.save_figure(tmp_path / "samples.png")
    mg.save({"config": json.loads(trainer.config.to_json()), "state": trainer.state_dict()}, tmp_path / "checkpoint.npz")
    reopened = open_run(tmp_path)
    np.testing.assert_array_equal(reopened.sample(20, 0), trainer.sample(20, 0))
    np.testing.assert_array_equal(reopened.log_prob(trainer.test_data.images[:5]), trainer.log_prob(trainer.test_data.images[:5]))

"""The loop every family shares (minigen/models/loop.py) and the one-call constructor: settings
resolved once from a recipe, one learning-rate schedule, one weight average that warms up."""
import math

import pytest

from minigen.models import make
from minigen.models.loop import Config


def test_settings_are_resolved_once_from_the_recipe_without_touching_the_callers_config():
    from minigen.models.vae import VAE
    given = Config(family="vae", data="digits-binary", conditional=True, extra={"z_dim": 4})
    resolved = VAE.resolve(given)
    assert given.steps is None and given.model is None and given.extra == {"z_dim": 4}
    assert resolved.model == "mlp" and resolved.loss == "elbo"
    assert resolved.steps == VAE.CONDITIONAL_RECIPES["mlp"]["steps"] != VAE.RECIPES["mlp"]["steps"]
    assert resolved.extra["z_dim"] == 4 and "steps" not in resolved.extra
    assert VAE.resolve(Config(family="vae", data="digits-binary", steps=7)).steps == 7
    # make(device="cuda") runs on "cuda:0", as --device cuda does (backend.generator needs the ordinal)
    assert VAE.resolve(Config(family="vae", data="digits-binary", device="cuda")).device == "cuda:0"


def test_make_takes_flags_and_recipe_settings_by_keyword():
    vae = make("vae", "digits-binary", steps=3, seed=1, z_dim=4)
    assert (vae.config.steps, vae.config.seed, vae.settings["z_dim"]) == (3, 1, 4)
    assert vae.config.extra is vae.settings                 # config.json records every setting
    with pytest.raises(ValueError, match="gan: unknown --model 'nope'; choose from"):
        make("gan", "digits", model="nope")
    with pytest.raises(ValueError, match="classifier: cannot train on --data 'names'"):
        make("classifier", "names")
    with pytest.raises(ValueError, match="--conditional needs labelled data"):
        make("diffusion", "8gaussians", conditional=True)
    with pytest.raises(ValueError, match="unknown family 'gam'"):
        make("gam", "digits")
    with pytest.raises(ValueError, match=r"vae \(mlp\): unknown setting\(s\) \['warmup'\]; its settings are .*'kl_warmup'"):
        make("vae", "digits-binary", warmup=0.2)               # a misspelt or retired setting is no silent no-op


def test_the_linear_schedule_decays_to_zero_and_scales_the_discriminator():
    gan = make("gan", "8gaussians", steps=10, lr=1e-3)           # lr_schedule "linear", d_lr_scale 2
    gan.step_count = 4
    assert gan.learning_rate() == pytest.approx(1e-3 * (1 - 4 / 10))
    gan.train_step(next(gan.batches()))
    assert gan.optimizers["generator"].lr == pytest.approx(6e-4)
    assert gan.optimizers["discriminator"].lr == pytest.approx(1.2e-3)


def test_the_cosine_schedule_warms_up_then_decays_and_its_warm_up_fits_in_the_run():
    net = make("diffusion", "8gaussians", steps=10, lr=1e-3, lr_warmup=4, min_lr=1e-4)
    at = []
    for k in range(10):
        net.step_count = k
        at.append(net.learning_rate())
    assert at[:4] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3])                 # (k + 1) / warm-up
    assert at[4] == pytest.approx(1e-3)                                           # the cosine starts at lr
    assert at[9] == pytest.approx(1e-4 + 0.9e-3 * (1 + math.cos(math.pi * 5 / 6)) / 2)
    short = make("diffusion", "8gaussians", steps=3, lr=1e-3, lr_warmup=200)
    short.step_count = 2
    assert short.learning_rate() == pytest.approx(1e-3)                           # warm-up capped at 3 steps


def test_a_constant_schedule_keeps_the_learning_rate():
    classifier = make("classifier", "digits", steps=10, lr=3e-3)
    classifier.step_count = 7
    assert classifier.learning_rate() == 3e-3
    with pytest.raises(ValueError, match="gan: lr_schedule must be constant, linear or cosine, got 'none'"):
        make("gan", "8gaussians", lr_schedule="none")


def test_the_average_warms_up_and_follows_only_the_modules_it_is_told_to():
    diffusion = make("diffusion", "8gaussians", steps=3)                   # ema 0.999
    batches = diffusion.batches()
    for k in range(3):
        diffusion.train_step(next(batches))
        assert diffusion.average.decay == pytest.approx(min(0.999, (1 + k) / (10 + k)))
    gan = make("gan", "8gaussians", steps=3, ema=0.5)
    assert set(name.split(".")[0] for name in gan.average.shadow) == {"generator"}
    assert make("gan", "8gaussians", steps=3).average is None               # ema 0: no average

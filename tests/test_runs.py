"""The loop every family shares (minigen/runs.py): what a conditional run is drawn for, and its defaults."""
import numpy as np
import pytest

from minigen.data import get_dataset


def test_a_conditional_run_draws_every_class_equally_or_the_one_asked_for():
    from minigen.runs import Trainer
    trainer = Trainer.__new__(Trainer)
    trainer.train_data, trainer.config = get_dataset("digits", "train"), type("C", (), {"data": "digits"})()
    assert trainer.sample_labels(23) == [k % 10 for k in range(23)]
    assert trainer.sample_labels(3, label=np.int64(7)) == [7, 7, 7]
    for bad in (10, -1, 2.5, "3", True):
        with pytest.raises(ValueError, match="--label: must be a class of digits, an integer from 0 to 9"):
            trainer.sample_labels(3, label=bad)


def test_a_conditional_run_takes_its_familys_conditional_defaults():
    from minigen.models.vae import VAETrainer
    from minigen.runs import Config, fill_defaults
    plain = fill_defaults(Config(family="vae", data="digits-binary"), VAETrainer)
    conditional = fill_defaults(Config(family="vae", data="digits-binary", conditional=True), VAETrainer)
    chosen = fill_defaults(Config(family="vae", data="digits-binary", conditional=True, steps=7), VAETrainer)
    assert plain.steps == VAETrainer.DEFAULTS["mlp"]["steps"]
    assert conditional.steps == VAETrainer.CONDITIONAL_DEFAULTS["mlp"]["steps"] != plain.steps
    assert chosen.steps == 7 and conditional.lr == plain.lr

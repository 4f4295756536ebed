"""What the user passes in, checked before any work (minigen/models/checks.py): labels, images,
sampling options, a network's labels. Each refusal names the argument and what fits."""
import numpy as np
import pytest

import minigen as mg
from minigen.data import get_dataset
from minigen.models import make
from minigen.models.checks import check_network_labels
from minigen.models.loop import Config, Family


def test_a_conditional_run_draws_every_class_equally_or_the_one_asked_for():
    family = Family.__new__(Family)
    family.train_data, family.config = get_dataset("digits", "train"), Config(family="gan", data="digits")
    assert family.sample_labels(23) == [k % 10 for k in range(23)]
    assert family.sample_labels(3, label=np.int64(7)) == [7, 7, 7]
    for bad in (10, -1, 2.5, "3", True):
        with pytest.raises(ValueError, match="--label: must be a class of digits, an integer from 0 to 9"):
            family.sample_labels(3, label=bad)


def test_sampling_options_a_run_does_not_take_are_refused_by_name():
    gan = make("gan", "8gaussians", steps=1)
    with pytest.raises(NotImplementedError, match="--temperature: is for autoregressive runs"):
        gan.sample(4, 0, temperature=0.5)
    with pytest.raises(NotImplementedError, match="--label: this gan run is not conditional"):
        gan.sample(4, 0, label=3)


def test_labels_are_one_class_per_example_for_a_conditional_run_and_none_for_another():
    conditional = make("vae", "digits-binary", steps=1, conditional=True)
    labels = conditional.check_labels([0, 9, np.int64(3)], 3, "log_prob")
    assert labels.dtype == np.int64 and labels.tolist() == [0, 9, 3] and isinstance(labels, np.ndarray)
    for bad in ([0, 10, 3], [0, 1], [0.5, 1, 2], "012"):
        with pytest.raises(ValueError, match="vae log_prob: labels must be 3 integers from 0 to 9"):
            conditional.check_labels(bad, 3, "log_prob")
    with pytest.raises(ValueError, match="this run is conditional .* give labels"):
        conditional.check_labels(None, 3, "log_prob")
    assert conditional.check_labels(None, 3, "log_prob", required=False) is None
    plain = make("vae", "digits-binary", steps=1)
    with pytest.raises(ValueError, match="vae encode: labels are for a run trained with --conditional"):
        plain.check_labels([1, 2, 3], 3, "encode")
    assert plain.check_labels(None, 3, "encode") is None


def test_images_must_have_the_datas_shape_and_binary_data_binary_pixels():
    family = make("vae", "digits-binary", steps=1)
    ok = np.ones((2, 1, 8, 8), dtype=np.float64)
    images = family.check_images(ok, "log_prob")
    assert images.dtype == np.float32 and images.shape == (2, 1, 8, 8)
    with pytest.raises(ValueError, match=r"vae log_prob: expected images of shape \(N, 1, 8, 8\).*got \(2, 8, 8\)"):
        family.check_images(np.ones((2, 8, 8)), "log_prob")
    with pytest.raises(ValueError, match="digits-binary images are binary; pixels must be 0 or 1"):
        family.check_images(ok * 0.5, "log_prob")


def test_a_network_refuses_labels_it_cannot_use_and_asks_for_those_it_needs():
    with pytest.raises(ValueError, match="UNet: this network is unconditional .* it takes no labels"):
        check_network_labels("UNet", mg.tensor([1]), conditional=False)
    with pytest.raises(ValueError, match="LabelledNoise: this network is conditional; it needs labels"):
        check_network_labels("LabelledNoise", None, conditional=True)
    check_network_labels("UNet", None, conditional=False)
    check_network_labels("UNet", mg.tensor([1]), conditional=True)

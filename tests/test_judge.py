"""The judge every family shares: true samples score at their floor, and worse ones above it."""
import numpy as np
import pytest

from minigen.data import get_dataset, sample_2d
from minigen.models import judge


def test_true_8gaussians_points_score_like_the_floor_and_noise_far_above_it():
    test = get_dataset("8gaussians", "test")
    true = judge.point_sample_metrics(sample_2d("8gaussians", 2500, seed=7), "8gaussians", test)
    noise = judge.point_sample_metrics(np.random.default_rng(0).normal(size=(2500, 2)), "8gaussians", test)
    assert true["modes"] == 8 and true["hq_share"] > 0.97
    assert true["energy_distance"] < 3 * true["energy_distance_floor"]
    assert noise["energy_distance"] > 20 * noise["energy_distance_floor"] and noise["hq_share"] < 0.05
    assert set(judge.point_sample_metrics(sample_2d("swissroll", 100, seed=7), "swissroll",
                                          get_dataset("swissroll", "test"), prefix="ddim_")) == {
        "ddim_energy_distance", "ddim_energy_distance_floor", "ddim_samples"}


def test_real_digits_score_near_the_floor_and_blank_images_far_above_it(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 150)
    train, test = get_dataset("digits", "train"), get_dataset("digits", "test")
    real = judge.image_sample_metrics(train.images[-300:], "digits", train, test)
    blank = judge.image_sample_metrics(np.full((300, 1, 8, 8), -1.0, np.float32), "digits", train, test)
    assert real["classes_found"] == 10 and blank["classes_found"] == 1 and blank["class_entropy"] == 0.0
    assert real["frechet_distance"] < 3 * real["frechet_floor"] < blank["frechet_distance"]


def test_images_without_labels_get_a_note_not_numbers():
    train = get_dataset("digits", "train")
    unlabelled = type(train)(**{**train.__dict__, "labels": None})
    assert judge.image_sample_metrics(train.images[:5], "digits", unlabelled, unlabelled) == {
        "note": "no labels: no classifier to judge the samples"}

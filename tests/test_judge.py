"""The judge every family shares: true samples score at their floor, and worse ones above it."""
import numpy as np
import pytest

from minigen.data import get_dataset, sample_2d
from minigen import metrics
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
    real = judge.image_sample_metrics(train.to_unit(train.images[-300:]), "digits", train, test)
    blank = judge.image_sample_metrics(np.zeros((300, 1, 8, 8), np.float32), "digits", train, test)
    assert real["classes_found"] == 10 and blank["classes_found"] == 1 and blank["class_entropy"] == 0.0
    assert real["frechet_distance"] < 3 * real["frechet_floor"] < blank["frechet_distance"]


def test_label_accuracy_is_the_share_of_each_asked_class_the_judge_sees(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 150)
    train, test = get_dataset("digits", "train"), get_dataset("digits", "test")
    images = train.to_unit(train.images[-300:])
    right = judge.image_sample_metrics(images, "digits", train, test, labels=train.labels[-300:])
    wrong = judge.image_sample_metrics(images, "digits", train, test, labels=(train.labels[-300:] + 1) % 10)
    assert right["label_accuracy"] > 0.85 and wrong["label_accuracy"] < 0.1
    assert len(right["per_label_accuracy"]) == 10
    assert right["label_accuracy"] == pytest.approx(np.mean(right["per_label_accuracy"]))


def test_label_accuracy_counts_each_asked_class_once():
    probs = np.eye(3)[[0, 0, 1, 2, 2, 2]]                      # the classifier's verdicts: 0 0 1 2 2 2
    assert metrics.label_accuracy(probs, [0, 1, 1, 2, 2, 0], 3) == [0.5, 0.5, 1.0]
    assert metrics.label_accuracy(probs, [2] * 6, 3) == [0.5]   # only the classes asked for


def test_completion_accuracy_of_the_true_images_is_the_judges_accuracy(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 150)
    test = get_dataset("digits", "test")
    keep_all = judge.completion_metrics(lambda given, mask: given, "digits", test)
    blank = judge.completion_metrics(lambda given, mask: given * 0, "digits", test)
    assert keep_all["completion_accuracy"] == pytest.approx(judge.digit_judge("digits").accuracy)
    assert blank["completion_accuracy"] < 0.2 and keep_all["completions"] == 360


def test_a_judge_trained_on_a_split_judges_from_then_on_and_has_not_seen_the_held_digits(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 150)
    monkeypatch.setattr(judge, "_JUDGES", {})
    train = get_dataset("digits", "train")
    fit, held = (type(train)(**{**train.__dict__, "data": train.data[sl], "labels": train.labels[sl]})
                 for sl in (slice(None, -360), slice(-360, None)))
    whole = judge.digit_judge("digits")
    on_fit = judge.digit_judge("digits", split=(fit, held))
    assert judge.digit_judge("digits") is on_fit is not whole
    keep_all = judge.completion_metrics(lambda given, mask: given, "digits", held)
    assert keep_all["completion_accuracy"] == pytest.approx(on_fit.accuracy)     # scored on held
    seen, _ = judge.judge_outputs(whole, held.images)
    assert on_fit.accuracy < (seen.argmax(1) == held.labels).mean()             # it never saw them


def test_images_without_labels_get_a_note_not_numbers():
    train = get_dataset("digits", "train")
    unlabelled = type(train)(**{**train.__dict__, "labels": None})
    assert judge.image_sample_metrics(train.images[:5], "digits", unlabelled, unlabelled) == {
        "note": "no labels: no classifier to judge the samples"}


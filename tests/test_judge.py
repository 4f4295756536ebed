"""The judge every family shares: conditional samples are scored by the label asked for."""
import numpy as np
import pytest

from minigen.data import get_dataset
from minigen.models import judge


@pytest.fixture
def quick_judge(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 150)


def test_label_accuracy_of_real_digits_is_high_with_their_labels_and_low_with_wrong_ones(quick_judge):
    test = get_dataset("digits", "test")
    right = judge.label_accuracy(test.images, test.labels, "digits")
    wrong = judge.label_accuracy(test.images, (test.labels + 1) % 10, "digits")
    assert right["label_accuracy"] > 0.8 > 0.1 > wrong["label_accuracy"]
    assert sorted(right["label_accuracy_per_label"]) == list(range(10))
    per_label = right["label_accuracy_per_label"]
    assert right["label_accuracy"] == pytest.approx(np.mean(list(per_label.values())))


def test_label_accuracy_weighs_every_label_the_same(quick_judge):
    test = get_dataset("digits", "test")
    zeros = test.images[test.labels == 0]
    ones = test.images[test.labels == 1][:3]
    both = np.concatenate([zeros, ones])
    labels = np.array([0] * len(zeros) + [7] * len(ones))       # every "7" is wrong
    result = judge.label_accuracy(both, labels, "digits")
    assert result["label_accuracy_per_label"][7] == 0.0
    assert result["label_accuracy"] == pytest.approx(result["label_accuracy_per_label"][0] / 2)

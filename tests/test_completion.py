"""--given/--mask: which half is hidden, and what given images must look like."""
import numpy as np
import pytest

from minigen.data.completion import SIDES, check_given, half_mask, hidden_mask


@pytest.mark.parametrize("h, w", [(8, 8), (7, 5), (1, 2)])
def test_each_mask_hides_one_half_and_the_opposite_sides_are_complements_for_even_sizes(h, w):
    masks = {side: half_mask((2, 1, h, w), side) for side in SIDES}
    assert masks["top"][..., :h // 2, :].all() and not masks["top"][..., h // 2:, :].any()
    assert masks["bottom"].sum() == masks["top"].sum() == 2 * (h // 2) * w
    assert masks["left"].sum() == masks["right"].sum() == 2 * h * (w // 2)
    if h % 2 == 0:
        assert (masks["top"] ^ masks["bottom"]).all()
    if w % 2 == 0:
        assert (masks["left"] ^ masks["right"]).all()


def test_an_unknown_side_is_refused():
    with pytest.raises(ValueError, match="--mask.*middle"):
        half_mask((1, 1, 8, 8), "middle")


def test_check_given_repeats_one_image_and_keeps_n_images():
    one = np.zeros((1, 1, 8, 8), np.float32)
    assert check_given(one, 5, (1, 8, 8), binary=True).shape == (5, 1, 8, 8)
    many = np.random.default_rng(0).uniform(size=(3, 1, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(check_given(many, 3, (1, 8, 8), binary=False), many)


@pytest.mark.parametrize("given, n, binary, message", [
    (np.zeros((2, 1, 4, 4)), 2, False, r"shape \(N, 1, 8, 8\).*\(2, 1, 4, 4\)"),
    (np.zeros((3, 1, 8, 8)), 2, False, "holds 3 images"),
    (np.full((1, 1, 8, 8), 1.5), 1, False, r"\[0, 1\]"),
    (np.full((1, 1, 8, 8), np.nan), 1, False, r"\[0, 1\]"),
    (np.full((1, 1, 8, 8), 0.5), 1, True, "binary"),
])
def test_check_given_names_what_does_not_fit(given, n, binary, message):
    with pytest.raises(ValueError, match=message):
        check_given(given, n, (1, 8, 8), binary)


def test_a_box_hides_its_rows_and_columns_as_python_slices_count_them():
    hidden = hidden_mask((2, 1, 8, 8), "box:2,3,6,5")
    expected = np.zeros((8, 8), bool)
    expected[2:6, 3:5] = True
    assert hidden.shape == (2, 1, 8, 8) and (hidden == expected).all()
    np.testing.assert_array_equal(hidden_mask((1, 1, 8, 8), "bottom"), half_mask((1, 1, 8, 8), "bottom"))


def test_a_mask_array_is_broadcast_from_one_image_or_taken_per_image():
    one = np.zeros((8, 8), bool)
    one[0, 0] = True
    assert hidden_mask((3, 1, 8, 8), one).sum() == 3
    each = np.zeros((3, 1, 8, 8), bool)
    each[1, 0, 4, 4] = True
    np.testing.assert_array_equal(hidden_mask((3, 1, 8, 8), each), each)


@pytest.mark.parametrize("mask, message", [
    ("box:2,3,6", "a box is box:R0,C0,R1,C1, four integers"),
    ("box:a,b,c,d", "four integers"),
    ("box:6,3,2,5", "inside the 8x8 image with R0 < R1"),
    ("box:0,0,9,8", "inside the 8x8 image"),
    ("middle", "must be one of top, bottom, left, right"),
    (np.ones((8, 8), dtype=np.uint8), "a boolean array"),
    (np.ones((7, 8), dtype=bool), r"shape \(7, 8\) fits neither an image \(8, 8\)"),
    (np.zeros((8, 8), dtype=bool), "it hides no pixel"),
])
def test_a_bad_mask_is_refused_saying_what_is_wrong(mask, message):
    with pytest.raises(ValueError, match=message):
        hidden_mask((2, 1, 8, 8), mask)

"""Captioned digits (--captions): the attributes measured on images (minigen/data/captions.py) against
hand-made images, their terciles (from the training split only), the caption grammar and its
refusals, the word ids; the text encoder's gradients (float64, to second order) and what it
pools; the words dropped in training; tiny captioned runs of diffusion and the GAN that train,
sample a prompt (command line and open_run alike), evaluate with the caption keys, and refuse
what they cannot do."""
import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import strategies as S
from minigen.cli import main
from minigen.data import captions as C
from minigen.data import get_dataset
from minigen.models import diffusion, judge, make
from minigen.models.captions import CaptionEncoder, drop_words
from minigen.models.loop import train
from minigen.runs import open_run


def image(pixels, value=1.0):
    """One 8x8 image (1, 1, 8, 8) in [0, 1] with ``value`` at the (row, column) pairs given."""
    x = np.zeros((1, 1, 8, 8))
    for r, c in pixels:
        x[0, 0, r, c] = value
    return x


# ----- attributes -----
def test_ink_is_the_sum_of_the_pixels():
    assert C.ink(image([(0, 0), (3, 4), (7, 7)])) == pytest.approx([3.0])
    assert C.ink(image([(1, 1), (2, 2)], 0.25)) == pytest.approx([0.5])


@pytest.mark.parametrize("pixels, expected", [
    ([(r, 7 - r) for r in range(8)], 1.0),          # bottom left to top right: one column right per row up
    ([(r, r) for r in range(8)], -1.0),             # top left to bottom right: leaning left
    ([(r, 3) for r in range(8)], 0.0),              # a vertical stroke: upright
    ([(r, 2 + r // 2) for r in range(0, 8, 2)], -0.5),   # half a column per row, leaning left
    ([(4, c) for c in range(8)], 0.0),              # a horizontal stroke: no rows to lean over
    ([], 0.0),                                      # no ink
])
def test_slant_is_minus_the_ink_weighted_slope_of_column_on_row(pixels, expected):
    assert C.slant(image(pixels)) == pytest.approx([expected])


def test_slant_does_not_depend_on_where_the_stroke_is_or_how_dark():
    stroke = [(r, 7 - r) for r in range(2, 6)]
    moved = [(r + 1, c - 1) for r, c in stroke]
    assert C.slant(image(stroke)) == pytest.approx(C.slant(image(moved, 0.3)))


def test_tercile_bins_put_a_value_at_a_cut_in_the_upper_bin():
    cuts = np.array([[1.0, 2.0], [10.0, 20.0]])
    got = C.tercile_bins(np.array([0.5, 1.0, 1.5, 2.0, 5.0, 5.0, 15.0, 25.0]), np.array([0, 0, 0, 0, 0, 1, 1, 1]), cuts)
    np.testing.assert_array_equal(got, [0, 1, 1, 2, 2, 0, 1, 2])


def test_the_terciles_come_from_the_split_given_per_digit_and_split_it_in_thirds():
    train = get_dataset("digits", "train")
    captions = C.Captions(train)
    unit = train.to_unit(train.images)
    sevens = C.ink(unit)[train.labels == 7]
    np.testing.assert_allclose(captions.cuts["ink"][7], np.quantile(sevens, [1 / 3, 2 / 3]))
    ink, slant = captions.attributes(unit, train.labels)
    for d in range(10):
        for bins in (ink, slant):
            share = np.bincount(bins[train.labels == d], minlength=3) / (train.labels == d).sum()
            assert (abs(share - 1 / 3) < 0.03).all(), (d, share)
    test = get_dataset("digits", "test")           # the test digits are measured, never used for the cuts
    assert not np.allclose(C.Captions(dataclasses.replace(train, data=test.data, labels=test.labels)).cuts["ink"],
                           captions.cuts["ink"])
    with pytest.raises(ValueError, match="labelled grey digits"):
        C.Captions(get_dataset("digits-binary", "train"))


# ----- the grammar -----
def test_captions_read_like_the_contract():
    assert C.caption(7, 2, 2) == "a thick seven leaning right"
    assert C.caption(2, 0, 0) == "a thin two leaning left"
    assert C.caption(4, None, 1) == "a four upright"
    assert C.caption(8) == "an eight" and C.caption(8, 1) == "a medium eight"


def test_every_caption_parses_back_to_what_made_it():
    for d in range(10):
        for ink in (None, 0, 1, 2):
            for slant in (None, 0, 1, 2):
                assert C.parse(C.caption(d, ink, slant)) == (d, ink, slant)
    assert C.parse("A Thin TWO, leaning left") == (2, 0, 0)
    assert C.parse("seven thick") == (7, 2, None)                # any order: a bag of words
    assert C.parse("") == C.parse("   ") == (None, None, None)  # the empty prompt: no caption


@pytest.mark.parametrize("prompt, message", [
    ("a purple seven", "unknown word 'purple'; the words are a, an, zero"),
    ("a thick thin seven", "two ink words \\('thick' and 'thin'\\)"),
    ("a seven leaning left upright", "two slant words"),
    ("a seven two", "two digit words"),
    ("a thin leaning left", "name the digit"),
    ("a seven leaning", "'leaning' goes with 'left' or 'right'"),
    ("a seven leaning up", "'leaning' goes with"),
    (7, "a caption such as"),
])
def test_bad_prompts_are_refused_naming_what_is_wrong(prompt, message):
    with pytest.raises(ValueError, match=message):
        C.parse(prompt)


def test_word_ids_sit_in_their_slots_and_pad_what_is_left_out():
    ids = C.tokens([7, 8, None], [2, None, None], [2, 1, None])
    word = C.VOCABULARY.index
    np.testing.assert_array_equal(ids, [[C.START, word("thick"), word("seven"), word("leaning"), word("right")],
                                        [C.START, C.PAD, word("eight"), word("upright"), C.PAD],
                                        [C.START, C.PAD, C.PAD, C.PAD, C.PAD]])


# ----- the encoder and the words dropped -----
def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), dtype="float64", requires_grad=True)


@st.composite
def captions_ids(draw):
    n = draw(st.integers(1, 3))
    return C.tokens(draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)),
                    draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n)),
                    draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n)))


@given(ids=captions_ids(), seed=S.seeds())
def test_the_encoder_matches_central_differences_in_its_weights_to_second_order(ids, seed):
    mg.manual_seed(seed)
    encoder = CaptionEncoder(3, dim=4).double()
    first = encoder.body[0]
    inputs = [leaf(encoder.words.weight.numpy()), leaf(first.weight.numpy()), leaf(first.bias.numpy())]

    def fn(table, w, b):
        encoder.words.weight, first.weight, first.bias = table, w, b
        return encoder(ids)
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


def test_the_encoder_pools_the_words_given_whatever_their_order():
    encoder = CaptionEncoder(6, dim=5).double()
    ids = C.tokens([3], [0], [2])
    shuffled = ids[:, [0, 4, 2, 1, 3]]
    np.testing.assert_allclose(encoder(ids).numpy(), encoder(shuffled).numpy(), rtol=1e-12)
    words = encoder.words.weight.numpy()[ids[0]]
    h = words.mean(axis=0)                                        # five words, all given: their mean
    np.testing.assert_allclose(encoder(ids).numpy()[0], encoder.body(mg.tensor(h[None], dtype="float64")).numpy()[0])
    empty = encoder(C.tokens([None])).numpy()[0]                 # only <caption>: its own vector
    start = encoder.words.weight.numpy()[C.START][None]
    np.testing.assert_allclose(empty, encoder.body(mg.tensor(start, dtype="float64")).numpy()[0])
    assert np.abs(CaptionEncoder(4, zero=True)(ids).numpy()).max() == 0
    with pytest.raises(ValueError, match="word ids \\(B, L\\)"):
        encoder(ids[0])


def test_drop_words_drops_each_attribute_and_the_whole_caption_at_their_rates():
    ids = mg.tensor(C.tokens([7, 7, 7, 7], [2, 2, 2, 2], [0, 0, 0, 0]))
    u = mg.tensor(np.array([[0.9, 0.9, 0.9], [0.1, 0.9, 0.9], [0.9, 0.1, 0.9], [0.9, 0.9, 0.05]]))
    got = drop_words(ids, u, p_attribute=0.2, p_uncond=0.1).numpy()
    np.testing.assert_array_equal(got, C.tokens([7, 7, 7, None], [2, None, 2, None], [0, 0, None, None]))
    with pytest.raises(ValueError, match="p_attribute"):
        drop_words(ids, u, 1.0, 0.1)
    with pytest.raises(ValueError, match="draws have shape"):
        drop_words(ids, mg.rand(4, 2), 0.2, 0.1)


# ----- tiny captioned runs -----
@pytest.fixture
def tiny(monkeypatch):
    """Small diffusion and judge for quick runs: the keys and the plumbing, not the quality."""
    monkeypatch.setattr(judge, "JUDGE_STEPS", 40)
    monkeypatch.setattr(judge, "CAPTION_SAMPLES", 2)
    monkeypatch.setitem(diffusion.RECIPES["mlp"], "images", {**diffusion.RECIPES["mlp"]["images"], "width": 16,
                                                             "blocks": 1})
    monkeypatch.setitem(diffusion.CONDITIONAL_RECIPES, "mlp", {"images": {"T": 8}})


CAPTION_KEYS = ("caption_label_accuracy", "caption_ink_match", "caption_slant_match", "caption_both_ink_match",
                "caption_both_slant_match", "caption_both_match", "caption_all_match")


def test_a_captioned_diffusion_trains_samples_a_prompt_and_evaluates(tmp_path, capsys, tiny):
    run = tmp_path / "run"
    main(["train", "diffusion", "--data", "digits", "--captions", "--steps", "4", "--batch-size", "16",
          "--out", str(run), "--quiet"])
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    config = json.loads((run / "config.json").read_text())
    assert config["captions"] and config["extra"]["p_attribute"] == diffusion.Diffusion.CAPTIONS["p_attribute"]
    assert all(0 <= trained[k] <= 1 for k in CAPTION_KEYS) and trained["caption_prompts"] == 150
    assert trained["caption_samples"] == 300 and 0 <= trained["label_accuracy"] <= 1
    main(["sample", str(run), "--prompt", "a thin two leaning left", "--n", "5", "--seed", "3",
          "--out", str(tmp_path / "twos.npy")])
    twos = np.load(tmp_path / "twos.npy")
    assert twos.shape == (5, 1, 8, 8) and 0 <= twos.min() and twos.max() <= 1
    family = open_run(run)
    np.testing.assert_allclose(family.sample(5, 3, prompt="a thin two leaning left"), twos, atol=1e-6)
    assert not np.allclose(family.sample(5, 3, prompt="a thick seven"), twos)
    family.sample(2, 0, prompt="", guidance=0.0)                     # the empty prompt: the unconditional model
    capsys.readouterr()
    for flags, message in ((["--prompt", "a purple two"], "unknown word 'purple'"),
                           (["--prompt", "a thick thin two"], "contradict"),
                           (["--label", "2"], "--label: this diffusion run is captioned")):
        with pytest.raises(SystemExit) as exit_info:
            main(["sample", str(run), *flags, "--out", str(tmp_path / "x.npy")])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_a_captioned_gan_trains_samples_a_list_of_prompts_and_evaluates(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 40)
    monkeypatch.setattr(judge, "CAPTION_SAMPLES", 2)
    gan = make("gan", "digits", captions=True, steps=3, batch_size=16, seed=0, g_width=16, d_width=16)
    train(gan, quiet=True)
    x = gan.sample(4, 0, prompt=["a seven", "a thin seven", "", "a one leaning right"])
    assert x.shape == (4, 1, 8, 8)
    np.testing.assert_allclose(gan.sample(1, 0, prompt="a seven"), x[:1], atol=1e-6)
    result = gan.evaluate()
    assert all(0 <= result[k] <= 1 for k in CAPTION_KEYS)
    with pytest.raises(ValueError, match="one per sample \\(3\\)"):
        gan.sample(3, 0, prompt=["a seven", "a one"])


def test_the_digits_in_turn_without_a_prompt(tiny):
    family = make("diffusion", "digits", captions=True, steps=1)
    np.testing.assert_array_equal(family.condition(12), C.tokens([k % 10 for k in range(12)]))
    np.testing.assert_array_equal(family.condition(2, null=True), C.tokens([None, None]))


@pytest.mark.parametrize("family, data, extra, message", [
    ("vae", "digits", {}, "--captions is for diffusion and gan"),
    ("diffusion", "8gaussians", {}, "on --data digits"),
    ("gan", "swissroll", {}, "on --data digits"),
    ("diffusion", "digits", {"conditional": True}, "with it"),
])
def test_captions_are_refused_where_they_cannot_be_made_or_learned(family, data, extra, message):
    with pytest.raises(ValueError, match=message):
        make(family, data, captions=True, steps=1, **extra)


def test_a_prompt_for_a_run_without_captions_is_refused(tiny):
    family = make("diffusion", "digits", steps=1)
    with pytest.raises(NotImplementedError, match="--prompt: this diffusion run is not captioned"):
        family.sample(1, 0, prompt="a seven")


@pytest.mark.parametrize("family", ["diffusion", "gan"])
def test_captioned_runs_train_and_sample_a_prompt_on_every_device(family, device, tiny):
    model = make(family, "digits", captions=True, steps=2, batch_size=8, device=device)
    train(model, quiet=True)
    x = model.sample(3, 0, prompt="a thick seven leaning right", **({"sample_steps": 4} if family == "diffusion" else {}))
    assert x.shape == (3, 1, 8, 8) and np.isfinite(x).all()

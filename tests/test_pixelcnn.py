"""The PixelCNN (minigen/models/pixelcnn.py): causality in raster order proven by gradients,
normalisation proven by enumeration, the row-band forward pass sampling uses, exact log_prob,
samples and completions, the conditional model as a Bayes classifier, errors, checkpoints and
the command line."""
import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
from minigen import backend, nn
from minigen.cli import main
from minigen.data import get_dataset, write_idx
from minigen.data.completion import hidden_mask
from minigen.models import judge
from minigen.models import make as make_family
from minigen.models.loop import train
from minigen.models.pixelcnn import VisibleTapsConv
from minigen.runs import open_run, write_run
from strategies import arrays

SMALL = {"width": 8, "blocks": 2, "eval_samples": 40}


def make(data="digits-binary", steps=20, seed=0, conditional=False, **settings):
    """A small PixelCNN on ``data``, as `minigen train autoregressive` makes one."""
    return make_family("autoregressive", data, model="pixelcnn", steps=steps, seed=seed, batch_size=32,
                       conditional=conditional, **{**SMALL, **settings})


def written_and_reopened(family, folder):
    """Train ``family`` (to its steps), write its run folder, and open that again."""
    history, seconds = train(family, quiet=True)
    write_run(family, history, seconds, folder)
    return open_run(folder)


def toy_model(data, steps=20, **options):
    """A PixelCNN trained briefly on ``data``, a few tiny images (both splits), then in float64."""
    family = make_family("autoregressive", data.name, split=(data, data), model="pixelcnn", steps=steps,
                         batch_size=4, lr=0.02, **options, **SMALL)
    train(family, quiet=True)
    family.net.double()
    return family


def assert_raster_causal(net, *labels):
    """The logit at raster position i of a 5x5 image has zero gradient with respect to the pixels
    at i and after, and a non-zero one with respect to those before (the net does see them)."""
    x = mg.tensor(np.random.default_rng(1).integers(0, 2, size=(2, 1, 5, 5)).astype(np.float32),
                  requires_grad=True)
    logits = net(x, *labels)                                          # (2, 1, 5, 5)
    for i in range(25):
        r, c = divmod(i, 5)
        (g,) = mg.grad(logits[:, 0, r, c].sum(), x, retain_graph=True)
        raster = np.abs(g.numpy()).sum(axis=(0, 1)).reshape(25)
        assert np.all(raster[i:] == 0), (i, raster)
        if i > 0:
            assert raster[:i].sum() > 0


def test_pixelcnn_logit_at_raster_position_i_has_zero_gradient_wrt_pixels_at_i_and_after():
    assert_raster_causal(make(steps=0).net)


def test_pixelcnn_row_logits_from_a_band_of_rows_equal_the_full_forward_pass():
    family = make(steps=0)
    net = family.net
    net.eval()                                                          # no dropout: the same network twice
    x = mg.tensor(np.random.default_rng(2).integers(0, 2, size=(3, 1, 8, 8)).astype(np.float32))
    full = net(x).numpy()
    maps = [np.zeros((3, 8, 8, 8), np.float32) for _ in range(1 + len(net.blocks))]
    for r in range(8):
        np.testing.assert_allclose(net.row_logits(x, r, maps).numpy(), full[:, :, r], rtol=1e-5, atol=1e-5)


@st.composite
def masked_conv_case(draw):
    kernel, kind = draw(st.sampled_from([(3, "A"), (3, "B"), (5, "A"), (5, "B"), (7, "A"), (1, "B")]))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), c_in, draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    return kernel, kind, c_out, draw(arrays(shape))


@given(case=masked_conv_case())
def test_visible_taps_conv_equals_masked_conv2d_and_matches_central_differences(case):
    kernel, kind, c_out, x = case
    conv = VisibleTapsConv(x.shape[1], c_out, kernel, kind).double()
    leaf = mg.tensor(x, dtype="float64", requires_grad=True)
    np.testing.assert_allclose(conv(leaf).numpy(), nn.MaskedConv2d.forward(conv, leaf).numpy(), rtol=1e-12,
                               atol=1e-12)
    inputs = [leaf, mg.tensor(conv.weight.numpy(), dtype="float64", requires_grad=True),
              mg.tensor(conv.bias.numpy(), dtype="float64", requires_grad=True)]
    fn = lambda v, w, b: VisibleTapsConv.forward(with_weight(conv, w, b), v)      # noqa: E731
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


def with_weight(conv, weight, bias):
    """The layer with its weight and bias replaced by the given tensors (to differentiate by them)."""
    conv.weight, conv.bias = weight, bias
    return conv


def test_pixelcnn_probabilities_of_the_16_binary_2x2_images_sum_to_one():
    images = np.array(list(itertools.product([0.0, 1.0], repeat=4)), dtype=np.float32).reshape(16, 1, 2, 2)
    base = get_dataset("digits-binary", "train")
    data = dataclasses.replace(base, data=images[[0, 5, 5, 15, 9, 5]], labels=None, shape=(1, 2, 2))
    family = toy_model(data)
    p = np.exp(family.log_prob(images.astype(np.float64)))
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert p[5] > 1 / 16                                                   # it learnt something


def test_grey_pixelcnn_probabilities_of_the_81_three_level_2x2_images_sum_to_one():
    levels = np.array(list(itertools.product([0, 1, 2], repeat=4)), dtype=np.float32).reshape(81, 1, 2, 2)
    images = levels - 1.0                                                 # the data's own values, [-1, 1]
    base = get_dataset("digits", "train")
    data = dataclasses.replace(base, data=images[[0, 40, 40, 80, 13, 40]], labels=None, shape=(1, 2, 2),
                               info={"levels": 3})
    family = toy_model(data)
    assert family.net.out.weight.shape[0] == 3                           # a softmax over 3 levels per pixel
    p = np.exp(family.log_prob(images.astype(np.float64)))
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert p[40] > 1 / 81                                                  # it learnt something


def test_log_prob_of_images_is_the_bernoulli_chain_rule_and_needs_binary_pixels():
    family = make(steps=3)
    family.eval_mode()                                                 # no dropout
    x = family.test_data.images[:4]
    with mg.no_grad():
        logits = family.net(mg.tensor(x)).numpy().astype(np.float64)
    expected = -(x * np.logaddexp(0, -logits) + (1 - x) * np.logaddexp(0, logits)).reshape(4, -1).sum(1)
    np.testing.assert_allclose(family.log_prob(x), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="binary; pixels must be 0 or 1"):
        family.log_prob(x * 0.5)
    with pytest.raises(ValueError, match=r"shape \(N, 1, 8, 8\)"):
        family.log_prob(x[:, :, :4])


def test_log_prob_of_grey_digits_is_the_softmax_chain_rule_over_17_levels_and_needs_them():
    family = make("digits", steps=3)
    family.eval_mode()
    x = family.test_data.images[:4]                                      # [-1, 1]: levels 0..16
    with mg.no_grad():
        logits = family.net(mg.tensor((x + 1) / 2)).numpy().astype(np.float64)   # (4, 17, 8, 8)
    assert logits.shape == (4, 17, 8, 8)
    level = np.rint((x[:, 0] + 1) * 8).astype(int)                        # (4, 8, 8)
    log_softmax = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    picked = np.take_along_axis(log_softmax, level[:, None], axis=1)
    np.testing.assert_allclose(family.log_prob(x), picked.reshape(4, -1).sum(1), rtol=1e-5)
    with pytest.raises(ValueError, match=r"log_prob: digits pixels take 17 levels, k / 16"):
        family.log_prob(x + 0.05)


# ----- images: samples and completion -----
def test_grey_pixelcnn_samples_are_levels_and_completions_keep_the_given_top_half():
    family = make("digits", steps=5)
    samples = family.sample(5, 0)
    assert samples.shape == (5, 1, 8, 8) and samples.dtype == np.float32
    np.testing.assert_array_equal(samples * 16, np.rint(samples * 16))     # on the grid k / 16
    assert 0 <= samples.min() and samples.max() <= 1 and len(np.unique(samples)) > 2
    given = family.test_data.to_unit(family.test_data.images[:6])
    filled = family.sample(6, 0, given=given, mask="bottom")
    np.testing.assert_allclose(filled[:, :, :4], given[:, :, :4], atol=1e-6)
    np.testing.assert_array_equal(filled * 16, np.rint(filled * 16))
    with pytest.raises(ValueError, match="--given: digits pixels take 17 levels"):
        family.sample(1, 0, given=np.full((1, 1, 8, 8), 0.03, np.float32), mask="bottom")


def test_pixelcnn_samples_are_binary_and_completions_keep_the_given_top_half():
    family = make(steps=5)
    samples = family.sample(5, 0)
    assert samples.shape == (5, 1, 8, 8) and samples.dtype == np.float32
    assert set(np.unique(samples)) <= {0.0, 1.0}
    given = family.test_data.images[:6]
    filled = family.sample(6, 0, given=given, mask="bottom")
    np.testing.assert_array_equal(filled[:, :, :4], given[:, :, :4])
    assert set(np.unique(filled)) <= {0.0, 1.0}
    one = family.sample(4, 0, given=given[:1], mask="bottom")            # one image, repeated
    np.testing.assert_array_equal(one[:, :, :4], np.repeat(given[:1, :, :4], 4, axis=0))


def test_pixelcnn_completes_any_number_of_whole_bottom_rows_keeping_the_rows_above():
    family = make(steps=0)
    given = family.test_data.images[:3]
    mask = np.zeros((8, 8), bool)
    mask[5:] = True
    for hidden in ("box:5,0,8,8", mask):
        filled = family.sample(3, 0, given=given, mask=hidden)
        np.testing.assert_array_equal(filled[:, :, :5], given[:, :, :5])
    np.testing.assert_array_equal(family.sample(3, 0, given=given, mask="box:4,0,8,8"),
                                  family.sample(3, 0, given=given, mask="bottom"))


@pytest.mark.parametrize("mask", ["top", "left", "box:2,2,6,6", "box:6,0,8,7"])
def test_pixelcnn_fills_any_hole_keeping_every_given_pixel(mask):
    family = make(steps=0, candidates=4)
    given = family.test_data.images[:3]
    filled = family.sample(3, 0, given=given, mask=mask)
    kept = ~hidden_mask(given.shape, mask)
    np.testing.assert_array_equal(filled[kept], given[kept])
    assert set(np.unique(filled)) <= {0.0, 1.0}


def test_a_hole_is_filled_from_the_exact_conditional_by_importance_resampling():
    # 2x2 binary images, the top-left pixel hidden: raster order draws it before seeing the three
    # given pixels, so its proposal p(x_0) is not p(x_0 | x_1, x_2, x_3); resampling 64 candidates
    # by the given pixels' likelihood brings the share of 1s to the exact conditional (enumerated).
    images = np.array(list(itertools.product([0.0, 1.0], repeat=4)), dtype=np.float32).reshape(16, 1, 2, 2)
    base = get_dataset("digits-binary", "train")
    data = dataclasses.replace(base, data=images[[0, 5, 5, 15, 9, 6, 10, 3]], labels=None, shape=(1, 2, 2))
    family = toy_model(data, steps=40)
    p = np.exp(family.log_prob(images.astype(np.float64))).reshape(2, 8)      # p(x_0, rest)
    exact = p[1] / p.sum(0)                                                    # p(x_0 = 1 | rest), per rest
    rest = int(np.argmax(np.abs(exact - p[1].sum() / p.sum())))   # where it differs most from p(x_0 = 1)
    given = images[8 + rest][None]                                            # x_0 = 1, then the rest
    mask = np.array([[True, False], [False, False]])
    n = 2000
    for candidates, close in ((64, True), (1, False)):
        family.settings["candidates"] = candidates
        share = family.sample(n, 0, given=given, mask=mask)[:, 0, 0, 0].mean()
        assert (abs(share - exact[rest]) < 4 * np.sqrt(exact[rest] * (1 - exact[rest]) / n) + 0.02) == close, \
            (candidates, share, exact[rest])


@pytest.mark.parametrize("options, error, message", [
    ({"given": np.zeros((1, 1, 8, 8), np.float32)}, ValueError, "--given and --mask go together"),
    ({"given": np.full((1, 1, 8, 8), 0.5, np.float32), "mask": "bottom"}, ValueError, "binary"),
    ({"prompt": "a"}, NotImplementedError, "--prompt: is for autoregressive text runs and captioned runs"),
    ({"top_k": 2}, NotImplementedError, "--top-k: is for autoregressive text runs"),
    ({"label": 1}, NotImplementedError, "not conditional"),
])
def test_bad_image_sampling_options_are_refused_saying_why(options, error, message):
    with pytest.raises(error, match=message):
        make(steps=0).sample(2, 0, **options)


def test_pixelcnn_eval_reports_exact_nll_and_the_judges_sample_metrics(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)                       # a quick judge: the keys, not the values
    family = make(steps=3)
    result = family.evaluate()
    assert result["nll"] == pytest.approx(-family.log_prob(family.test_data.images).mean(), rel=1e-12)
    assert result["nll_per_token"] == pytest.approx(result["nll"] / 64)
    assert result["samples"] == 40 and {"frechet_distance", "frechet_floor", "class_entropy"} <= set(result)
    assert result["completions"] == 360 and 0 <= result["completion_accuracy"] <= 1     # 360 test halves filled in


def test_pixelcnn_run_reopens_and_completes_given_digits_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)
    family = make(steps=3)
    reopened = written_and_reopened(family, tmp_path / "run")
    x = family.test_data.images[:5]
    np.testing.assert_array_equal(reopened.log_prob(x), family.log_prob(x))
    np.save(tmp_path / "given.npy", x)
    main(["sample", str(tmp_path / "run"), "--n", "5", "--given", str(tmp_path / "given.npy"), "--mask", "bottom",
          "--out", str(tmp_path / "filled.npy")])
    filled = np.load(tmp_path / "filled.npy")
    np.testing.assert_array_equal(filled[:, :, :4], x[:, :, :4])
    main(["sample", str(tmp_path / "run"), "--n", "5", "--given", str(tmp_path / "given.npy"), "--mask",
          "box:2,2,6,6", "--out", str(tmp_path / "hole.npy")])
    filled = np.load(tmp_path / "hole.npy")
    np.testing.assert_array_equal(filled[:, :, 6:], x[:, :, 6:])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(tmp_path / "run"), "--n", "5", "--given", str(tmp_path / "given.npy"), "--mask",
              "box:2,2,9,6", "--out", str(tmp_path / "bad.npy")])
    assert exit_info.value.code == 2 and "inside the 8x8 image" in capsys.readouterr().err


def test_pixelcnn_trains_on_28x28_idx_images_binarised_at_zero(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "toy-images-idx3-ubyte", (rng.uniform(size=(20, 28, 28)) > 0.7).astype(np.uint8) * 255)
    family = make_family("autoregressive", f"idx:{tmp_path / 'toy-images-idx3-ubyte'}", steps=2, batch_size=4,
                         width=4, blocks=1)
    assert family.config.model == "pixelcnn"
    history, seconds = train(family, quiet=True)
    metrics = write_run(family, history, seconds, tmp_path / "run")
    assert "note" in metrics and metrics["nll"] == pytest.approx(metrics["nll_per_token"] * 784)
    x = family.train_data.images[:2]                                   # in [-1, 1]
    np.testing.assert_allclose(family.log_prob(x), family.log_prob((x > 0).astype(np.float32) * 2 - 1))
    samples = family.sample(2, 0)
    assert samples.shape == (2, 1, 28, 28) and set(np.unique(samples)) <= {0.0, 1.0}


@pytest.mark.parametrize("data", ["digits-binary", "digits"])
def test_a_short_run_lowers_the_test_nll(data):
    family = make(data, steps=30)
    test = family.test_data.images
    before = -family.log_prob(test).mean()
    history, _ = train(family, quiet=True)
    after = -family.log_prob(test).mean()
    assert after < before - 0.5 and np.all(np.isfinite(history["nll"]))


def test_the_same_seed_gives_the_same_samples():
    family = make(steps=2)
    np.testing.assert_array_equal(family.sample(3, 1), family.sample(3, 1))


# ----- the conditional PixelCNN: p(x | y), Bayes' rule, label-conditioned completion -----
def make_conditional(steps=20, **settings):
    """A small conditional PixelCNN on digits-binary, trained for ``steps`` steps."""
    family = make(steps=steps, conditional=True, **settings)
    train(family, quiet=True)
    return family


def toy_conditional_model(steps=30):
    """A conditional PixelCNN on 2x2 binary images with three labels, trained briefly."""
    images = np.array(list(itertools.product([0.0, 1.0], repeat=4)), dtype=np.float32).reshape(16, 1, 2, 2)
    base = get_dataset("digits-binary", "train")
    pick = [0, 5, 5, 15, 9, 5, 3, 15]
    data = dataclasses.replace(base, data=images[pick], labels=np.array([0, 1, 1, 2, 0, 1, 2, 2]),
                               shape=(1, 2, 2), num_classes=3)
    return toy_model(data, steps=steps, conditional=True), images


def test_the_conditional_output_has_a_nonzero_gradient_wrt_the_class_table_of_every_masked_layer():
    family = make_conditional(steps=0)
    net = family.net
    x = mg.tensor(np.random.default_rng(4).integers(0, 2, size=(3, 1, 8, 8)).astype(np.float32))
    labels = np.array([2, 7, 2])
    tables = [table.weight for table in net.label_bias]
    assert len(tables) == 1 + len(net.blocks)                                     # the first layer and each block
    grads = mg.grad(net(x, labels).sum(), tables)
    for g in grads:
        per_class = np.abs(g.numpy()).sum(axis=1)                                 # (C,)
        assert np.all(per_class[[2, 7]] > 0)                                      # the labels asked for
        assert np.all(np.delete(per_class, [2, 7]) == 0)                          # and no other class


def test_an_unconditional_pixelcnn_takes_no_label_and_a_conditional_one_needs_one():
    x = mg.tensor(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match="PixelCNN: this network is unconditional .trained without --conditional.; it takes no labels"):
        make(steps=0).net(x, np.array([1, 2]))
    with pytest.raises(ValueError, match="PixelCNN: this network is conditional; it needs labels"):
        make_conditional(steps=0).net(x)
    assert make(steps=0).net.label_bias == []


def test_the_conditional_pixelcnn_is_still_causal_in_raster_order():
    assert_raster_causal(make_conditional(steps=3).net, np.array([3, 8]))       # tables no longer zero


def test_conditional_row_logits_from_a_band_of_rows_equal_the_full_forward_pass():
    net = make_conditional(steps=3).net
    net.eval()
    x = mg.tensor(np.random.default_rng(2).integers(0, 2, size=(3, 1, 8, 8)).astype(np.float32))
    labels = np.array([0, 4, 9])
    full = net(x, labels).numpy()
    maps = [np.zeros((3, 8, 8, 8), np.float32) for _ in range(1 + len(net.blocks))]
    for r in range(8):
        np.testing.assert_allclose(net.row_logits(x, r, maps, labels).numpy(), full[:, :, r], rtol=1e-5, atol=1e-5)


def test_class_conditional_probabilities_of_the_16_binary_2x2_images_sum_to_one_for_each_label():
    family, images = toy_conditional_model()
    for y in range(3):
        p = np.exp(family.log_prob(images.astype(np.float64), labels=np.full(16, y)))
        assert p.sum() == pytest.approx(1.0, abs=1e-6), y
    marginal = np.exp(family.log_prob(images.astype(np.float64)))                 # y summed out
    assert marginal.sum() == pytest.approx(1.0, abs=1e-6)
    p5 = np.exp(family.log_prob(images[[5, 5, 5]].astype(np.float64), labels=np.array([0, 1, 2])))
    assert p5[1] > max(p5[0], p5[2])                                               # it learnt that 5 is a 1


def test_the_top_rows_likelihood_is_the_bottom_rows_summed_out():
    family, images = toy_conditional_model()
    by_top = {}
    for y in range(3):
        full = np.exp(family.image_log_likelihood(images.astype(np.float64), np.full(16, y)))       # (16,)
        top = np.exp(family.image_log_likelihood(images.astype(np.float64), np.full(16, y), rows=1))
        for k in range(16):                                                        # images 4a..4a+3 share a top row
            by_top.setdefault((y, k // 4), []).append((full[k], top[k]))
    for pairs in by_top.values():
        full, top = zip(*pairs)
        assert sum(full) == pytest.approx(top[0], rel=1e-9) and np.ptp(top) < 1e-12


def test_bayes_rule_gives_a_distribution_over_labels_and_eval_reports_the_model_as_a_classifier(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)
    family = make_conditional(steps=30)
    images, labels = family.test_data.images[:20], family.test_data.labels[:20]
    joint = family.class_log_likelihoods(images)                                  # (20, 10): log p(x | y)
    prior = np.bincount(family.train_data.labels, minlength=10) / len(family.train_data)
    posterior = joint + np.log(prior) - np.logaddexp.reduce(joint + np.log(prior), axis=1, keepdims=True)
    np.testing.assert_allclose(np.exp(posterior).sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(family.log_prob(images), np.logaddexp.reduce(joint + np.log(prior), axis=1),
                               rtol=1e-12)
    part = family.evaluate_classifier(images, labels)
    assert part["bayes_accuracy"] == pytest.approx((posterior.argmax(1) == labels).mean())
    assert part["bayes_nll"] == pytest.approx(-posterior[np.arange(20), labels].mean(), rel=1e-9)
    assert part["nll"] == pytest.approx(-family.log_prob(images, labels=labels).mean(), rel=1e-9)
    result = family.evaluate()
    assert {"nll", "nll_marginal", "bayes_accuracy", "bayes_nll", "label_accuracy", "per_label_accuracy",
            "frechet_distance", "frechet_floor", "class_entropy", "completion_accuracy"} <= set(result)
    assert result["nll"] < result["nll_marginal"]                                  # knowing y helps


def test_conditional_samples_cycle_through_the_classes_and_a_label_picks_one():
    family = make_conditional(steps=60)
    mixed = family.sample(20, 3)
    assert mixed.shape == (20, 1, 8, 8) and set(np.unique(mixed)) <= {0.0, 1.0}
    for k in range(10):   # the same uniforms per position: image i of the mix is a draw of class i % 10
        np.testing.assert_array_equal(family.sample(20, 3, label=k)[k::10], mixed[k::10])
    assert not np.array_equal(family.sample(20, 3, label=1), family.sample(20, 3, label=2))


def test_a_completion_with_a_label_keeps_the_given_pixels_and_without_one_draws_it_from_the_top_half():
    family = make_conditional(steps=10)
    given = family.test_data.images[:6]
    for options in ({"label": 3}, {}):
        filled = family.sample(6, 0, given=given, mask="bottom", **options)
        np.testing.assert_array_equal(filled[:, :, :4], given[:, :, :4])
        assert set(np.unique(filled)) <= {0.0, 1.0}
    with_3 = family.sample(6, 0, given=given, mask="bottom", label=3)
    # a fixed label, drawn from the same generator: the same as completing under that label by hand
    np.testing.assert_array_equal(with_3, family.complete(given, "bottom", 6, 0, labels=[3] * 6))
    # without a label: the labels drawn from p(y | top half), then the completion under them
    rng = backend.private_generator(0)
    top = given.copy()
    top[:, :, 4:] = 0
    drawn = family.posterior_labels(top, 4, rng)
    assert drawn.shape == (6,) and set(drawn) <= set(range(10))
    np.testing.assert_array_equal(family.sample(6, 0, given=given, mask="bottom"),
                                  family.fill(top, hidden_mask(top.shape, "bottom"), rng, 1.0, drawn)[0])


@pytest.mark.parametrize("options, message", [({"label": 10}, "--label: must be a class of digits-binary"),
                                              ({"label": -1}, "an integer from 0 to 9"),
                                              ({"guidance": 2.0}, "--guidance: is for conditional diffusion runs")])
def test_bad_conditional_sampling_options_are_refused_naming_the_flag(options, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        make_conditional(steps=0).sample(2, 0, **options)


@pytest.mark.parametrize("labels, message", [(np.array([1, 2]), "3 integers"), (np.array([0, 1, 10]), "from 0 to 9"),
                                             (np.array([0.0, 1.0, 2.0]), "3 integers")])
def test_log_prob_refuses_labels_that_do_not_fit(labels, message):
    x = get_dataset("digits-binary", "test").images[:3]
    with pytest.raises(ValueError, match=message):
        make_conditional(steps=0).log_prob(x, labels=labels)
    with pytest.raises(ValueError, match="trained with --conditional"):
        make(steps=0).log_prob(x, labels=np.array([0, 1, 2]))


def test_conditional_run_samples_a_label_and_completes_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)
    family = make_conditional(steps=5)
    reopened = written_and_reopened(family, tmp_path / "run")
    x = family.test_data.images[:4]
    np.testing.assert_array_equal(reopened.log_prob(x, labels=np.array([1, 2, 3, 4])),
                                  family.log_prob(x, labels=np.array([1, 2, 3, 4])))
    main(["sample", str(tmp_path / "run"), "--n", "6", "--label", "7", "--seed", "2", "--out", str(tmp_path / "7.npy")])
    np.testing.assert_array_equal(np.load(tmp_path / "7.npy"), family.sample(6, 2, label=7))
    np.save(tmp_path / "given.npy", x)
    main(["sample", str(tmp_path / "run"), "--n", "4", "--label", "2", "--given", str(tmp_path / "given.npy"),
          "--mask", "bottom", "--out", str(tmp_path / "filled.npy")])
    np.testing.assert_array_equal(np.load(tmp_path / "filled.npy")[:, :, :4], x[:, :, :4])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(tmp_path / "run"), "--label", "12", "--out", str(tmp_path / "bad.npy")])
    assert exit_info.value.code == 2 and "--label" in capsys.readouterr().err


def test_a_conditional_pixelcnn_run_takes_its_own_defaults_and_an_unconditional_one_keeps_its_own():
    plain = make_family("autoregressive", "digits-binary")
    conditional = make_family("autoregressive", "digits-binary", conditional=True)
    assert (plain.config.steps, plain.settings["dropout"]) == (600, 0.2)
    assert (conditional.config.steps, conditional.settings["dropout"]) == (900, 0.1)
    assert conditional.config.extra["dropout"] == 0.1                 # recorded in config.json
    assert conditional.config.lr == plain.config.lr and conditional.settings["width"] == plain.settings["width"]
    assert plain.settings["lr_warmup"] == 50 and plain.settings["max_grad_norm"] == 1.0   # the shared loop's names

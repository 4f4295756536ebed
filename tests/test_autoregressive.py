"""The autoregressive family (minigen/models/autoregressive.py): causality proven by gradients,
normalisation proven by enumeration, the KV cache, exact log_prob, sampling (temperature, top-k,
prompts, completion), errors, checkpoints and the command line."""
import dataclasses
import itertools
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
from minigen import backend, nn
from minigen.cli import main
from minigen.data import get_dataset, write_idx
from minigen.models import autoregressive as AR
from minigen.models import judge, trainer_class
from minigen.objectives.autoregressive import BOUNDARY
from minigen.runs import Config, build, fill_defaults, open_run, train, write_run
from strategies import arrays

SMALL = {"transformer": {"d_model": 16, "n_layers": 2, "n_heads": 2, "dropout": 0.0},
         "mlp": {"context": 3, "d_embed": 4, "hidden": 16, "dropout": 0.0},
         "bigram": {},
         "pixelcnn": {"width": 8, "blocks": 2, "eval_samples": 40}}


def make(model="transformer", data="names", steps=20, seed=0, **extra):
    config = Config(family="autoregressive", data=data, model=model, steps=steps, seed=seed,
                    batch_size=32, extra={**SMALL[model], **extra})
    return build(fill_defaults(config, trainer_class("autoregressive")))


def toy_text_trainer(model, names=("ab", "b", "aab", "ba", ""), max_len=3, steps=30):
    """A trainer on a two-letter vocabulary ('a', 'b') whose names have at most max_len letters."""
    base = get_dataset("names", "train")
    data = dataclasses.replace(base, data=list(names), vocab=("a", "b"), max_len=max_len)
    config = fill_defaults(Config(family="autoregressive", data="names", model=model, steps=steps,
                                  batch_size=4, lr=0.05, extra=dict(SMALL[model])), trainer_class("autoregressive"))
    mg.manual_seed(0)
    trainer = AR.AutoregressiveTrainer(config, data, data)
    train(trainer, quiet=True)
    return trainer


# ----- causality, by gradients -----
@pytest.mark.parametrize("model", ["bigram", "mlp", "transformer"])
def test_text_output_at_t_has_zero_gradient_wrt_inputs_after_t_and_sees_its_own(model):
    trainer = make(model, steps=0)
    net = trainer.net
    tokens = np.random.default_rng(0).integers(1, 27, size=(2, 8))
    tokens[:, 0] = BOUNDARY
    e = mg.tensor(net.embed(tokens).numpy(), requires_grad=True)     # (B, T, E): one leaf per input position
    out = net.decode(e)                                               # (B, T, V)
    for t in range(tokens.shape[1]):
        (g,) = mg.grad(out[:, t].sum(), e, retain_graph=True)
        per_position = np.abs(g.numpy()).sum(axis=(0, 2))             # (T,)
        assert np.all(per_position[t + 1:] == 0), (model, t, per_position)
        assert per_position[t] > 0                                    # position t predicts from input t
        if model == "mlp":                                            # a fixed window of k inputs
            assert np.all(per_position[:max(0, t - 2)] == 0)


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
    assert_raster_causal(make("pixelcnn", data="digits-binary", steps=0).net)


def test_pixelcnn_row_logits_from_a_band_of_rows_equal_the_full_forward_pass():
    trainer = make("pixelcnn", data="digits-binary", steps=0)
    net = trainer.net
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
    conv = AR.VisibleTapsConv(x.shape[1], c_out, kernel, kind).double()
    leaf = mg.tensor(x, dtype="float64", requires_grad=True)
    np.testing.assert_allclose(conv(leaf).numpy(), nn.MaskedConv2d.forward(conv, leaf).numpy(), rtol=1e-12,
                               atol=1e-12)
    inputs = [leaf, mg.tensor(conv.weight.numpy(), dtype="float64", requires_grad=True),
              mg.tensor(conv.bias.numpy(), dtype="float64", requires_grad=True)]
    fn = lambda v, w, b: AR.VisibleTapsConv.forward(with_weight(conv, w, b), v)      # noqa: E731
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


def with_weight(conv, weight, bias):
    """The layer with its weight and bias replaced by the given tensors (to differentiate by them)."""
    conv.weight, conv.bias = weight, bias
    return conv


# ----- normalisation, by enumeration -----
@pytest.mark.parametrize("model", ["bigram", "mlp", "transformer"])
def test_probabilities_of_every_name_up_to_max_length_sum_to_one(model):
    trainer = toy_text_trainer(model)
    trainer.net.double()
    every = ["".join(letters) for n in range(4) for letters in itertools.product("ab", repeat=n)]   # 15 names
    p = np.exp(trainer.log_prob(every))
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert p.max() < 1 and p[every.index("ab")] > 1 / 15                  # trained: not uniform


def test_pixelcnn_probabilities_of_the_16_binary_2x2_images_sum_to_one():
    images = np.array(list(itertools.product([0.0, 1.0], repeat=4)), dtype=np.float32).reshape(16, 1, 2, 2)
    base = get_dataset("digits-binary", "train")
    data = dataclasses.replace(base, data=images[[0, 5, 5, 15, 9, 5]], labels=None, shape=(1, 2, 2))
    config = fill_defaults(Config(family="autoregressive", data="digits-binary", model="pixelcnn", steps=20,
                                  batch_size=4, lr=0.02, extra=dict(SMALL["pixelcnn"])),
                           trainer_class("autoregressive"))
    trainer = AR.AutoregressiveTrainer(config, data, data)
    train(trainer, quiet=True)
    trainer.net.double()
    p = np.exp(trainer.log_prob(images.astype(np.float64)))
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert p[5] > 1 / 16                                                   # it learnt something


def test_grey_pixelcnn_probabilities_of_the_81_three_level_2x2_images_sum_to_one():
    levels = np.array(list(itertools.product([0, 1, 2], repeat=4)), dtype=np.float32).reshape(81, 1, 2, 2)
    images = levels - 1.0                                                 # the data's own values, [-1, 1]
    base = get_dataset("digits", "train")
    data = dataclasses.replace(base, data=images[[0, 40, 40, 80, 13, 40]], labels=None, shape=(1, 2, 2),
                               info={"levels": 3})
    config = fill_defaults(Config(family="autoregressive", data="digits", model="pixelcnn", steps=20,
                                  batch_size=4, lr=0.02, extra=dict(SMALL["pixelcnn"])),
                           trainer_class("autoregressive"))
    trainer = AR.AutoregressiveTrainer(config, data, data)
    assert trainer.net.out.weight.shape[0] == 3                           # a softmax over 3 levels per pixel
    train(trainer, quiet=True)
    trainer.net.double()
    p = np.exp(trainer.log_prob(images.astype(np.float64)))
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert p[40] > 1 / 81                                                  # it learnt something


# ----- the KV cache -----
def test_kv_cache_logits_equal_the_full_forward_pass_at_every_step():
    trainer = make("transformer", steps=5)
    net = trainer.net
    net.eval()
    tokens = np.random.default_rng(3).integers(0, 27, size=(4, net.block_size))
    with mg.no_grad():
        full = net(tokens).numpy()                                      # (B, T, V)
        cache = [[] for _ in net.blocks]
        for t in range(tokens.shape[1]):
            step = net.decode_step(net.embed(tokens[:, t:t + 1]), cache).numpy()   # (B, V)
            np.testing.assert_allclose(step, full[:, t], rtol=1e-5, atol=1e-5)
    assert cache[0][0].shape == (4, 2, net.block_size, 8)               # (B, H, T, D) keys of every position


def test_sampling_with_and_without_the_cache_draws_the_same_names():
    trainer = make("transformer", steps=20)
    assert trainer.sample_text(30, 5, cache=True) == trainer.sample_text(30, 5, cache=False)


# ----- log_prob -----
def test_log_prob_agrees_with_eval_nll_and_with_the_chain_rule_one_name_at_a_time():
    trainer = make("mlp", steps=30)
    metrics = trainer.evaluate()
    test = trainer.test_data.text
    log_p = trainer.log_prob(test)
    assert log_p.dtype == np.float64 and log_p.shape == (len(test),)
    assert metrics["nll"] == pytest.approx(-log_p.mean(), rel=1e-12)
    assert metrics["nll_per_token"] == pytest.approx(-log_p.sum() / sum(len(s) + 1 for s in test), rel=1e-12)
    assert metrics["test_predictions"] == 3668
    # the chain rule by hand: log p(x_t | x_<t) from a fresh forward pass over each prefix
    with mg.no_grad():
        for name, value in zip(test[:5], log_p[:5]):
            tokens = [BOUNDARY] + [trainer.index[ch] for ch in name] + [BOUNDARY]
            total = 0.0
            for t in range(1, len(tokens)):
                logits = trainer.net(np.array([tokens[:t]]))[:, -1].numpy()[0].astype(np.float64)
                total += logits[tokens[t]] - np.logaddexp.reduce(logits)
            assert value == pytest.approx(total, abs=1e-4)


def test_log_prob_of_images_is_the_bernoulli_chain_rule_and_needs_binary_pixels():
    trainer = make("pixelcnn", data="digits-binary", steps=3)
    trainer.eval_mode()                                                 # no dropout
    x = trainer.test_data.images[:4]
    with mg.no_grad():
        logits = trainer.net(mg.tensor(x)).numpy().astype(np.float64)
    expected = -(x * np.logaddexp(0, -logits) + (1 - x) * np.logaddexp(0, logits)).reshape(4, -1).sum(1)
    np.testing.assert_allclose(trainer.log_prob(x), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="binary; pixels must be 0 or 1"):
        trainer.log_prob(x * 0.5)
    with pytest.raises(ValueError, match=r"shape \(N, 1, 8, 8\)"):
        trainer.log_prob(x[:, :, :4])


def test_log_prob_of_grey_digits_is_the_softmax_chain_rule_over_17_levels_and_needs_them():
    trainer = make("pixelcnn", data="digits", steps=3)
    trainer.eval_mode()
    x = trainer.test_data.images[:4]                                      # [-1, 1]: levels 0..16
    with mg.no_grad():
        logits = trainer.net(mg.tensor((x + 1) / 2)).numpy().astype(np.float64)   # (4, 17, 8, 8)
    assert logits.shape == (4, 17, 8, 8)
    level = np.rint((x[:, 0] + 1) * 8).astype(int)                        # (4, 8, 8)
    log_softmax = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    picked = np.take_along_axis(log_softmax, level[:, None], axis=1)
    np.testing.assert_allclose(trainer.log_prob(x), picked.reshape(4, -1).sum(1), rtol=1e-5)
    with pytest.raises(ValueError, match=r"log_prob: digits pixels take 17 levels, k / 16"):
        trainer.log_prob(x + 0.05)


@pytest.mark.parametrize("name, message", [("m4ry", "the character '4' is not in the vocabulary"),
                                           ("x" * 12, "at most 11")])
def test_log_prob_refuses_names_the_model_cannot_hold(name, message):
    with pytest.raises(ValueError, match=message):
        make("bigram", steps=0).log_prob([name])


# ----- sampling -----
def greedy(trainer, prompt):
    """The argmax continuation, by hand: full forward passes, the likeliest token each time."""
    tokens = [BOUNDARY] + [trainer.index[ch] for ch in prompt]
    with mg.no_grad():
        while len(tokens) <= trainer.max_len:
            nxt = int(trainer.net(np.array([tokens]))[:, -1].numpy().argmax())
            if nxt == BOUNDARY:
                break
            tokens.append(nxt)
    return "".join(trainer.vocab[i] for i in tokens[1:])


@pytest.mark.parametrize("model", ["mlp", "transformer"])
def test_temperature_to_zero_and_top_1_give_the_argmax_continuation_of_the_prompt(model):
    trainer = make(model, steps=100)
    expected = greedy(trainer, "ma")
    assert expected.startswith("ma")
    assert trainer.sample(6, 0, prompt="ma", top_k=1) == [expected] * 6
    assert trainer.sample(6, 1, prompt="ma", temperature=1e-6) == [expected] * 6


def test_every_sample_starts_with_the_prompt_and_ends_within_the_maximum_length():
    trainer = make("bigram", steps=30)
    samples = trainer.sample(200, 0, prompt="jo", temperature=1.5, top_k=5)
    assert all(s.startswith("jo") and len(s) <= trainer.max_len for s in samples)
    assert len(set(samples)) > 20
    assert trainer.sample(3, 0, prompt="x" * 11) == ["x" * 11] * 3     # the end is certain at max_len


def test_the_same_seed_gives_the_same_samples_and_another_seed_others():
    trainer = make("mlp", steps=10)
    assert trainer.sample(50, 3) == trainer.sample(50, 3) != trainer.sample(50, 4)
    images = make("pixelcnn", data="digits-binary", steps=2)
    np.testing.assert_array_equal(images.sample(3, 1), images.sample(3, 1))


@pytest.mark.parametrize("options, error, message", [
    ({"prompt": "ma3"}, ValueError, "the character '3' is not in the vocabulary"),
    ({"prompt": "x" * 12}, ValueError, "at most 11"),
    ({"temperature": 0.0}, ValueError, "--temperature"),
    ({"top_k": 0}, ValueError, "--top-k"),
    ({"label": 3}, NotImplementedError, "not conditional"),
    ({"guidance": 2.0}, NotImplementedError, "not conditional"),
    ({"sampler": "ddim"}, NotImplementedError, "diffusion"),
    ({"given": np.zeros((1, 1, 8, 8), np.float32), "mask": "bottom"}, NotImplementedError, "--given: is for image runs"),
])
def test_bad_text_sampling_options_are_refused_naming_the_flag(options, error, message):
    with pytest.raises(error, match=message):
        make("bigram", steps=0).sample(2, 0, **options)


# ----- images: samples and completion -----
def test_grey_pixelcnn_samples_are_levels_and_completions_keep_the_given_top_half():
    trainer = make("pixelcnn", data="digits", steps=5)
    samples = trainer.sample(5, 0)
    assert samples.shape == (5, 1, 8, 8) and samples.dtype == np.float32
    np.testing.assert_array_equal(samples * 16, np.rint(samples * 16))     # on the grid k / 16
    assert 0 <= samples.min() and samples.max() <= 1 and len(np.unique(samples)) > 2
    given = trainer.test_data.to_unit(trainer.test_data.images[:6])
    filled = trainer.sample(6, 0, given=given, mask="bottom")
    np.testing.assert_allclose(filled[:, :, :4], given[:, :, :4], atol=1e-6)
    np.testing.assert_array_equal(filled * 16, np.rint(filled * 16))
    with pytest.raises(ValueError, match="--given: digits pixels take 17 levels"):
        trainer.sample(1, 0, given=np.full((1, 1, 8, 8), 0.03, np.float32), mask="bottom")



def test_pixelcnn_samples_are_binary_and_completions_keep_the_given_top_half():
    trainer = make("pixelcnn", data="digits-binary", steps=5)
    samples = trainer.sample(5, 0)
    assert samples.shape == (5, 1, 8, 8) and samples.dtype == np.float32
    assert set(np.unique(samples)) <= {0.0, 1.0}
    given = trainer.test_data.images[:6]
    filled = trainer.sample(6, 0, given=given, mask="bottom")
    np.testing.assert_array_equal(filled[:, :, :4], given[:, :, :4])
    assert set(np.unique(filled)) <= {0.0, 1.0}
    one = trainer.sample(4, 0, given=given[:1], mask="bottom")            # one image, repeated
    np.testing.assert_array_equal(one[:, :, :4], np.repeat(given[:1, :, :4], 4, axis=0))


@pytest.mark.parametrize("options, error, message", [
    ({"given": np.zeros((1, 1, 8, 8), np.float32), "mask": "top"}, ValueError, "raster order.*--mask bottom"),
    ({"given": np.zeros((1, 1, 8, 8), np.float32), "mask": "left"}, ValueError, "raster order.*--mask bottom"),
    ({"given": np.full((1, 1, 8, 8), 0.5, np.float32), "mask": "bottom"}, ValueError, "binary"),
    ({"prompt": "a"}, NotImplementedError, "--prompt: is for text runs"),
    ({"top_k": 2}, NotImplementedError, "--top-k: is for text runs"),
    ({"label": 1}, NotImplementedError, "not conditional"),
])
def test_bad_image_sampling_options_are_refused_saying_why(options, error, message):
    with pytest.raises(error, match=message):
        make("pixelcnn", data="digits-binary", steps=0).sample(2, 0, **options)


# ----- training, defaults, errors -----
@pytest.mark.parametrize("model, data, steps", [("bigram", "names", 60), ("mlp", "names", 60),
                                                ("transformer", "names", 60),
                                                ("pixelcnn", "digits-binary", 30), ("pixelcnn", "digits", 30)])
def test_a_short_run_lowers_the_test_nll(model, data, steps):
    trainer = make(model, data=data, steps=steps)
    test = trainer.test_data.text if trainer.text else trainer.test_data.images
    before = -trainer.log_prob(test).mean()
    history, _ = train(trainer, quiet=True)
    after = -trainer.log_prob(test).mean()
    assert after < before - 0.5 and np.all(np.isfinite(history["nll"]))


def test_the_default_model_fits_the_data_and_the_wrong_kind_is_refused():
    cls = trainer_class("autoregressive")
    for data, model in (("names", "transformer"), ("surnames", "transformer"), ("digits-binary", "pixelcnn"),
                        ("digits", "pixelcnn"), ("idx:/some/where", "pixelcnn")):
        assert fill_defaults(Config(family="autoregressive", data=data), cls).model == model
    with pytest.raises(ValueError, match="--model pixelcnn is for images"):
        make("pixelcnn", data="names")
    with pytest.raises(ValueError, match="--model transformer is for text"):
        make("transformer", data="digits-binary")


def test_the_transformer_recipe_sets_adams_betas_a_run_can_override_them_and_a_reopened_run_keeps_them(tmp_path):
    assert make("transformer", steps=2).optimizers["net"].betas == (0.9, 0.99)
    assert make("mlp", steps=2).optimizers["net"].betas == (0.9, 0.999)     # a recipe without betas: Adam's
    trainer = make("transformer", steps=2, betas=[0.8, 0.95])
    assert trainer.optimizers["net"].betas == (0.8, 0.95)
    history, seconds = train(trainer, quiet=True)
    write_run(trainer, history, seconds, tmp_path)
    assert tuple(open_run(tmp_path).optimizers["net"].betas) == (0.8, 0.95)


def test_pixelcnn_eval_reports_exact_nll_and_the_judges_sample_metrics(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)                       # a quick judge: the keys, not the values
    trainer = make("pixelcnn", data="digits-binary", steps=3)
    result = trainer.evaluate()
    assert result["nll"] == pytest.approx(-trainer.log_prob(trainer.test_data.images).mean(), rel=1e-12)
    assert result["nll_per_token"] == pytest.approx(result["nll"] / 64)
    assert result["samples"] == 40 and {"frechet_distance", "frechet_floor", "class_entropy"} <= set(result)
    assert result["completions"] == 360 and 0 <= result["completion_accuracy"] <= 1     # 360 test halves filled in


# ----- checkpoints and the command line -----
def test_train_sample_eval_round_trip_through_the_command_line(tmp_path, capsys):
    run = tmp_path / "run"
    main(["train", "autoregressive", "--data", "names", "--model", "mlp", "--steps", "20", "--out", str(run),
          "--quiet"])
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"nll", "nll_per_token", "novel_share", "test_name_share", "sample_mean_length",
            "data_mean_length"} <= set(trained)
    for name in ("checkpoint.npz", "config.json", "metrics.json", "losses.png", "samples.png"):
        assert (run / name).exists(), name
    main(["eval", str(run)])
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated == {k: v for k, v in trained.items() if k not in ("train_seconds", "steps")}
    main(["sample", str(run), "--n", "7", "--prompt", "an", "--temperature", "0.8", "--top-k", "5",
          "--out", str(tmp_path / "names.txt")])
    lines = (tmp_path / "names.txt").read_text().splitlines()
    assert len(lines) == 7 and all(line.startswith("an") for line in lines)
    run_again, again = open_run(run), open_run(run)       # two loads of the checkpoint agree, bit for bit
    np.testing.assert_array_equal(run_again.log_prob(["anna", "bob"]), again.log_prob(["anna", "bob"]))
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(run), "--prompt", "a1", "--out", str(tmp_path / "bad.txt")])
    assert exit_info.value.code == 2 and "'1' is not in the vocabulary" in capsys.readouterr().err


def test_pixelcnn_run_reopens_and_completes_given_digits_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)
    trainer = make("pixelcnn", data="digits-binary", steps=3)
    history, seconds = train(trainer, quiet=True)
    write_run(trainer, history, seconds, tmp_path / "run")
    reopened = open_run(tmp_path / "run")
    x = trainer.test_data.images[:5]
    np.testing.assert_array_equal(reopened.log_prob(x), trainer.log_prob(x))
    np.save(tmp_path / "given.npy", x)
    main(["sample", str(tmp_path / "run"), "--n", "5", "--given", str(tmp_path / "given.npy"), "--mask", "bottom",
          "--out", str(tmp_path / "filled.npy")])
    filled = np.load(tmp_path / "filled.npy")
    np.testing.assert_array_equal(filled[:, :, :4], x[:, :, :4])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(tmp_path / "run"), "--n", "5", "--given", str(tmp_path / "given.npy"), "--mask", "top",
              "--out", str(tmp_path / "bad.npy")])
    assert exit_info.value.code == 2 and "raster order" in capsys.readouterr().err


def test_pixelcnn_trains_on_28x28_idx_images_binarised_at_zero(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "toy-images-idx3-ubyte", (rng.uniform(size=(20, 28, 28)) > 0.7).astype(np.uint8) * 255)
    config = Config(family="autoregressive", data=f"idx:{tmp_path / 'toy-images-idx3-ubyte'}", steps=2,
                    batch_size=4, extra={"width": 4, "blocks": 1})
    trainer = build(fill_defaults(config, trainer_class("autoregressive")))
    assert trainer.config.model == "pixelcnn"
    history, seconds = train(trainer, quiet=True)
    metrics = write_run(trainer, history, seconds, tmp_path / "run")
    assert "note" in metrics and metrics["nll"] == pytest.approx(metrics["nll_per_token"] * 784)
    x = trainer.train_data.images[:2]                                   # in [-1, 1]
    np.testing.assert_allclose(trainer.log_prob(x), trainer.log_prob((x > 0).astype(np.float32) * 2 - 1))
    samples = trainer.sample(2, 0)
    assert samples.shape == (2, 1, 28, 28) and set(np.unique(samples)) <= {0.0, 1.0}


def test_the_weight_average_is_checkpointed_and_used_for_log_prob_and_samples(tmp_path):
    trainer = make("mlp", steps=30, ema=0.9)
    history, seconds = train(trainer, quiet=True)
    write_run(trainer, history, seconds, tmp_path)
    names = trainer.test_data.text[:20]
    averaged = trainer.log_prob(names)
    raw = trainer.ema
    trainer.ema = None                                                  # the last iterate, for comparison
    assert not np.allclose(trainer.log_prob(names), averaged)
    trainer.ema = raw
    reopened = open_run(tmp_path)
    np.testing.assert_array_equal(reopened.log_prob(names), averaged)
    assert reopened.sample(20, 0) == trainer.sample(20, 0)


# ----- the conditional PixelCNN: p(x | y), Bayes' rule, label-conditioned completion -----
def make_conditional(steps=20, **extra):
    """A small conditional PixelCNN on digits-binary, trained for ``steps`` steps."""
    config = Config(family="autoregressive", data="digits-binary", model="pixelcnn", steps=steps, seed=0,
                    batch_size=32, conditional=True, extra={**SMALL["pixelcnn"], **extra})
    trainer = build(fill_defaults(config, trainer_class("autoregressive")))
    train(trainer, quiet=True)
    return trainer


def toy_conditional_trainer(steps=30):
    """A conditional PixelCNN on 2x2 binary images with three labels, trained briefly."""
    images = np.array(list(itertools.product([0.0, 1.0], repeat=4)), dtype=np.float32).reshape(16, 1, 2, 2)
    base = get_dataset("digits-binary", "train")
    pick = [0, 5, 5, 15, 9, 5, 3, 15]
    data = dataclasses.replace(base, data=images[pick], labels=np.array([0, 1, 1, 2, 0, 1, 2, 2]),
                               shape=(1, 2, 2), num_classes=3)
    config = fill_defaults(Config(family="autoregressive", data="digits-binary", model="pixelcnn", steps=steps,
                                  batch_size=4, lr=0.02, conditional=True, extra=dict(SMALL["pixelcnn"])),
                           trainer_class("autoregressive"))
    mg.manual_seed(0)
    trainer = AR.AutoregressiveTrainer(config, data, data)
    train(trainer, quiet=True)
    trainer.net.double()
    return trainer, images


def test_the_conditional_output_has_a_nonzero_gradient_wrt_the_class_table_of_every_masked_layer():
    trainer = make_conditional(steps=0)
    net = trainer.net
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
        make("pixelcnn", data="digits-binary", steps=0).net(x, np.array([1, 2]))
    with pytest.raises(ValueError, match="PixelCNN: this network is conditional; it needs the labels"):
        make_conditional(steps=0).net(x)
    assert make("pixelcnn", data="digits-binary", steps=0).net.label_bias == []


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
    trainer, images = toy_conditional_trainer()
    for y in range(3):
        p = np.exp(trainer.log_prob(images.astype(np.float64), labels=np.full(16, y)))
        assert p.sum() == pytest.approx(1.0, abs=1e-6), y
    marginal = np.exp(trainer.log_prob(images.astype(np.float64)))                 # y summed out
    assert marginal.sum() == pytest.approx(1.0, abs=1e-6)
    p5 = np.exp(trainer.log_prob(images[[5, 5, 5]].astype(np.float64), labels=np.array([0, 1, 2])))
    assert p5[1] > max(p5[0], p5[2])                                               # it learnt that 5 is a 1


def test_the_top_rows_likelihood_is_the_bottom_rows_summed_out():
    trainer, images = toy_conditional_trainer()
    by_top = {}
    for y in range(3):
        full = np.exp(trainer.image_log_likelihood(images.astype(np.float64), np.full(16, y)))       # (16,)
        top = np.exp(trainer.image_log_likelihood(images.astype(np.float64), np.full(16, y), rows=1))
        for k in range(16):                                                        # images 4a..4a+3 share a top row
            by_top.setdefault((y, k // 4), []).append((full[k], top[k]))
    for pairs in by_top.values():
        full, top = zip(*pairs)
        assert sum(full) == pytest.approx(top[0], rel=1e-9) and np.ptp(top) < 1e-12


def test_bayes_rule_gives_a_distribution_over_labels_and_eval_reports_the_model_as_a_classifier(monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)
    trainer = make_conditional(steps=30)
    images, labels = trainer.test_data.images[:20], trainer.test_data.labels[:20]
    joint = trainer.class_log_likelihoods(images)                                  # (20, 10): log p(x | y)
    prior = np.bincount(trainer.train_data.labels, minlength=10) / len(trainer.train_data)
    posterior = joint + np.log(prior) - np.logaddexp.reduce(joint + np.log(prior), axis=1, keepdims=True)
    np.testing.assert_allclose(np.exp(posterior).sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(trainer.log_prob(images), np.logaddexp.reduce(joint + np.log(prior), axis=1),
                               rtol=1e-12)
    part = trainer.evaluate_classifier(images, labels)
    assert part["bayes_accuracy"] == pytest.approx((posterior.argmax(1) == labels).mean())
    assert part["bayes_nll"] == pytest.approx(-posterior[np.arange(20), labels].mean(), rel=1e-9)
    assert part["nll"] == pytest.approx(-trainer.log_prob(images, labels=labels).mean(), rel=1e-9)
    result = trainer.evaluate()
    assert {"nll", "nll_marginal", "bayes_accuracy", "bayes_nll", "label_accuracy", "per_label_accuracy",
            "frechet_distance", "frechet_floor", "class_entropy", "completion_accuracy"} <= set(result)
    assert result["nll"] < result["nll_marginal"]                                  # knowing y helps


def test_conditional_samples_cycle_through_the_classes_and_a_label_picks_one():
    trainer = make_conditional(steps=60)
    mixed = trainer.sample(20, 3)
    assert mixed.shape == (20, 1, 8, 8) and set(np.unique(mixed)) <= {0.0, 1.0}
    for k in range(10):   # the same uniforms per position: image i of the mix is a draw of class i % 10
        np.testing.assert_array_equal(trainer.sample(20, 3, label=k)[k::10], mixed[k::10])
    assert not np.array_equal(trainer.sample(20, 3, label=1), trainer.sample(20, 3, label=2))


def test_a_completion_with_a_label_keeps_the_given_pixels_and_without_one_draws_it_from_the_top_half():
    trainer = make_conditional(steps=10)
    given = trainer.test_data.images[:6]
    for options in ({"label": 3}, {}):
        filled = trainer.sample(6, 0, given=given, mask="bottom", **options)
        np.testing.assert_array_equal(filled[:, :, :4], given[:, :, :4])
        assert set(np.unique(filled)) <= {0.0, 1.0}
    with_3 = trainer.sample(6, 0, given=given, mask="bottom", label=3)
    # a fixed label, drawn from the same generator: the same as completing under that label by hand
    np.testing.assert_array_equal(with_3, trainer.complete(given, "bottom", 6, 0, labels=[3] * 6))
    # without a label: the labels drawn from p(y | top half), then the completion under them
    rng = backend.private_generator(0)
    top = given.copy()
    top[:, :, 4:] = 0
    drawn = trainer.posterior_labels(top, 4, rng)
    assert drawn.shape == (6,) and set(drawn) <= set(range(10))
    np.testing.assert_array_equal(trainer.sample(6, 0, given=given, mask="bottom"),
                                  trainer.fill(top, 32, rng, 1.0, 1000, drawn))


@pytest.mark.parametrize("options, message", [({"label": 10}, "--label: must be a class of digits-binary"),
                                              ({"label": -1}, "an integer from 0 to 9"),
                                              ({"guidance": 2.0}, "--guidance: classifier-free guidance is for diffusion")])
def test_bad_conditional_sampling_options_are_refused_naming_the_flag(options, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        make_conditional(steps=0).sample(2, 0, **options)


@pytest.mark.parametrize("labels, message", [(np.array([1, 2]), "3 integers"), (np.array([0, 1, 10]), "from 0 to 9"),
                                             (np.array([0.0, 1.0, 2.0]), "dtype float64")])
def test_log_prob_refuses_labels_that_do_not_fit(labels, message):
    x = get_dataset("digits-binary", "test").images[:3]
    with pytest.raises(ValueError, match=message):
        make_conditional(steps=0).log_prob(x, labels=labels)
    with pytest.raises(ValueError, match="trained with --conditional"):
        make("pixelcnn", data="digits-binary", steps=0).log_prob(x, labels=np.array([0, 1, 2]))


def test_conditional_is_refused_for_text_and_label_for_text_runs(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "autoregressive", "--data", "names", "--conditional", "--out", str(tmp_path / "r"), "--quiet"])
    assert exit_info.value.code == 2 and "--conditional needs labelled data" in capsys.readouterr().err
    with pytest.raises(NotImplementedError, match="--label: this autoregressive run is not conditional"):
        make("bigram", steps=0).sample(2, 0, label=1)


def test_conditional_run_samples_a_label_and_completes_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(judge, "JUDGE_STEPS", 60)
    trainer = make_conditional(steps=5)
    history, seconds = train(trainer, quiet=True)
    write_run(trainer, history, seconds, tmp_path / "run")
    reopened = open_run(tmp_path / "run")
    x = trainer.test_data.images[:4]
    np.testing.assert_array_equal(reopened.log_prob(x, labels=np.array([1, 2, 3, 4])),
                                  trainer.log_prob(x, labels=np.array([1, 2, 3, 4])))
    main(["sample", str(tmp_path / "run"), "--n", "6", "--label", "7", "--seed", "2", "--out", str(tmp_path / "7.npy")])
    np.testing.assert_array_equal(np.load(tmp_path / "7.npy"), trainer.sample(6, 2, label=7))
    np.save(tmp_path / "given.npy", x)
    main(["sample", str(tmp_path / "run"), "--n", "4", "--label", "2", "--given", str(tmp_path / "given.npy"),
          "--mask", "bottom", "--out", str(tmp_path / "filled.npy")])
    np.testing.assert_array_equal(np.load(tmp_path / "filled.npy")[:, :, :4], x[:, :, :4])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(tmp_path / "run"), "--label", "12", "--out", str(tmp_path / "bad.npy")])
    assert exit_info.value.code == 2 and "--label" in capsys.readouterr().err


def test_a_conditional_pixelcnn_run_takes_its_own_defaults_and_an_unconditional_one_keeps_its_own():
    cls = trainer_class("autoregressive")
    plain = AR.AutoregressiveTrainer(fill_defaults(Config(family="autoregressive", data="digits-binary"), cls),
                                     get_dataset("digits-binary", "train"), get_dataset("digits-binary", "test"))
    config = fill_defaults(Config(family="autoregressive", data="digits-binary", conditional=True), cls)
    conditional = AR.AutoregressiveTrainer(config, get_dataset("digits-binary", "train"),
                                           get_dataset("digits-binary", "test"))
    assert (plain.config.steps, plain.settings["dropout"]) == (600, 0.2)
    assert (conditional.config.steps, conditional.settings["dropout"]) == (900, 0.1)
    assert conditional.config.extra["dropout"] == 0.1                 # recorded in config.json
    assert conditional.config.lr == plain.config.lr and conditional.settings["width"] == plain.settings["width"]

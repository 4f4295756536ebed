"""The text models (minigen/models/text.py): causality proven by gradients, normalisation
proven by enumeration, the KV cache, exact log_prob, sampling (temperature, top-k, prompts),
errors, checkpoints and the command line."""
import dataclasses
import itertools
import json

import numpy as np
import pytest

import minigen as mg
from minigen.cli import main
from minigen.data import get_dataset
from minigen.models import family_class
from minigen.models import make as make_family
from minigen.models.loop import Config, train
from minigen.objectives.autoregressive import BOUNDARY
from minigen.runs import open_run, write_run

SMALL = {"transformer": {"d_model": 16, "n_layers": 2, "n_heads": 2, "dropout": 0.0},
         "mlp": {"context": 3, "d_embed": 4, "hidden": 16, "dropout": 0.0},
         "bigram": {}}


def make(model="transformer", data="names", steps=20, seed=0, **settings):
    """A small text model on ``data``, as `minigen train autoregressive` makes one."""
    return make_family("autoregressive", data, model=model, steps=steps, seed=seed, batch_size=32,
                       **{**SMALL[model], **settings})


def toy_text_model(model, names=("ab", "b", "aab", "ba", ""), max_len=3, steps=30):
    """A model on a two-letter vocabulary ('a', 'b') whose names have at most max_len letters, trained."""
    base = get_dataset("names", "train")
    data = dataclasses.replace(base, data=list(names), vocab=("a", "b"), max_len=max_len)
    family = make_family("autoregressive", "names", split=(data, data), model=model, steps=steps, batch_size=4,
                         lr=0.05, **SMALL[model])
    train(family, quiet=True)
    return family


# ----- causality, by gradients -----
@pytest.mark.parametrize("model", ["bigram", "mlp", "transformer"])
def test_text_output_at_t_has_zero_gradient_wrt_inputs_after_t_and_sees_its_own(model):
    family = make(model, steps=0)
    net = family.net
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


# ----- normalisation, by enumeration -----
@pytest.mark.parametrize("model", ["bigram", "mlp", "transformer"])
def test_probabilities_of_every_name_up_to_max_length_sum_to_one(model):
    family = toy_text_model(model)
    family.net.double()
    every = ["".join(letters) for n in range(4) for letters in itertools.product("ab", repeat=n)]   # 15 names
    p = np.exp(family.log_prob(every))
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert p.max() < 1 and p[every.index("ab")] > 1 / 15                  # trained: not uniform


# ----- the KV cache -----
def test_kv_cache_logits_equal_the_full_forward_pass_at_every_step():
    family = make("transformer", steps=5)
    net = family.net
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
    family = make("transformer", steps=20)
    assert family.sample_text(30, 5, cache=True) == family.sample_text(30, 5, cache=False)


# ----- log_prob -----
def test_log_prob_agrees_with_eval_nll_and_with_the_chain_rule_one_name_at_a_time():
    family = make("mlp", steps=30)
    metrics = family.evaluate()
    test = family.test_data.text
    log_p = family.log_prob(test)
    assert log_p.dtype == np.float64 and log_p.shape == (len(test),)
    assert metrics["nll"] == pytest.approx(-log_p.mean(), rel=1e-12)
    assert metrics["nll_per_token"] == pytest.approx(-log_p.sum() / sum(len(s) + 1 for s in test), rel=1e-12)
    assert metrics["test_predictions"] == 3668
    # the chain rule by hand: log p(x_t | x_<t) from a fresh forward pass over each prefix
    with mg.no_grad():
        for name, value in zip(test[:5], log_p[:5]):
            tokens = [BOUNDARY] + [family.tokenizer.index[ch] for ch in name] + [BOUNDARY]
            total = 0.0
            for t in range(1, len(tokens)):
                logits = family.net(np.array([tokens[:t]]))[:, -1].numpy()[0].astype(np.float64)
                total += logits[tokens[t]] - np.logaddexp.reduce(logits)
            assert value == pytest.approx(total, abs=1e-4)


@pytest.mark.parametrize("name, message", [("m4ry", "the character '4' is not in the vocabulary"),
                                           ("x" * 12, "at most 11")])
def test_log_prob_refuses_names_the_model_cannot_hold(name, message):
    with pytest.raises(ValueError, match=message):
        make("bigram", steps=0).log_prob([name])


# ----- sampling -----
def greedy(family, prompt):
    """The argmax continuation, by hand: full forward passes, the likeliest token each time."""
    tokens = [BOUNDARY] + [family.tokenizer.index[ch] for ch in prompt]
    with mg.no_grad():
        while len(tokens) <= family.max_len:
            nxt = int(family.net(np.array([tokens]))[:, -1].numpy().argmax())
            if nxt == BOUNDARY:
                break
            tokens.append(nxt)
    return "".join(family.tokenizer.vocab[i] for i in tokens[1:])


@pytest.mark.parametrize("model", ["mlp", "transformer"])
def test_temperature_to_zero_and_top_1_give_the_argmax_continuation_of_the_prompt(model):
    family = make(model, steps=100)
    expected = greedy(family, "ma")
    assert expected.startswith("ma")
    assert family.sample(6, 0, prompt="ma", top_k=1) == [expected] * 6
    assert family.sample(6, 1, prompt="ma", temperature=1e-6) == [expected] * 6


def test_every_sample_starts_with_the_prompt_and_ends_within_the_maximum_length():
    family = make("bigram", steps=30)
    samples = family.sample(200, 0, prompt="jo", temperature=1.5, top_k=5)
    assert all(s.startswith("jo") and len(s) <= family.max_len for s in samples)
    assert len(set(samples)) > 20
    assert family.sample(3, 0, prompt="x" * 11) == ["x" * 11] * 3     # the end is certain at max_len


def test_the_same_seed_gives_the_same_samples_and_another_seed_others():
    family = make("mlp", steps=10)
    assert family.sample(50, 3) == family.sample(50, 3) != family.sample(50, 4)


@pytest.mark.parametrize("options, error, message", [
    ({"prompt": "ma3"}, ValueError, "the character '3' is not in the vocabulary"),
    ({"prompt": "x" * 12}, ValueError, "at most 11"),
    ({"temperature": 0.0}, ValueError, "--temperature"),
    ({"top_k": 0}, ValueError, "--top-k"),
    ({"label": 3}, NotImplementedError, "not conditional"),
    ({"guidance": 2.0}, NotImplementedError, "not conditional"),
    ({"sampler": "ddim"}, NotImplementedError, "diffusion"),
    ({"given": np.zeros((1, 1, 8, 8), np.float32), "mask": "bottom"}, NotImplementedError, "--given: is for image"),
])
def test_bad_text_sampling_options_are_refused_naming_the_flag(options, error, message):
    with pytest.raises(error, match=message):
        make("bigram", steps=0).sample(2, 0, **options)


# ----- training, defaults, errors -----
@pytest.mark.parametrize("model", ["bigram", "mlp", "transformer"])
def test_a_short_run_lowers_the_test_nll(model):
    family = make(model, steps=60)
    test = family.test_data.text
    before = -family.log_prob(test).mean()
    history, _ = train(family, quiet=True)
    after = -family.log_prob(test).mean()
    assert after < before - 0.5 and np.all(np.isfinite(history["nll"]))


def test_the_default_model_fits_the_data_and_the_wrong_kind_is_refused():
    for data, model, kind in (("names", "transformer", "TextModel"), ("surnames", "transformer", "TextModel"),
                              ("digits-binary", "pixelcnn", "PixelCNNModel"), ("digits", "pixelcnn", "PixelCNNModel"),
                              ("idx:/some/where", "pixelcnn", "PixelCNNModel")):
        cls = family_class("autoregressive", data)
        assert cls.__name__ == kind
        assert cls.resolve(Config(family="autoregressive", data=data)).model == model
    with pytest.raises(ValueError, match=r"--model pixelcnn is for images; on text \(names\) choose from "
                                         r"\['transformer', 'mlp', 'bigram'\]"):
        make_family("autoregressive", "names", model="pixelcnn")
    with pytest.raises(ValueError, match=r"--model transformer is for text; on images \(digits-binary\) choose "
                                         r"from \['pixelcnn'\]"):
        make_family("autoregressive", "digits-binary", model="transformer")


def test_the_transformer_recipe_sets_adams_betas_a_run_can_override_them_and_a_reopened_run_keeps_them(tmp_path):
    assert make("transformer", steps=2).optimizers["net"].betas == (0.9, 0.99)
    assert make("mlp", steps=2).optimizers["net"].betas == (0.9, 0.999)     # a recipe without betas: Adam's
    family = make("transformer", steps=2, betas=[0.8, 0.95])
    assert family.optimizers["net"].betas == (0.8, 0.95)
    history, seconds = train(family, quiet=True)
    write_run(family, history, seconds, tmp_path)
    assert tuple(open_run(tmp_path).optimizers["net"].betas) == (0.8, 0.95)


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


def test_the_weight_average_is_checkpointed_and_used_for_log_prob_and_samples(tmp_path):
    family = make("mlp", steps=30, ema=0.9)
    history, seconds = train(family, quiet=True)
    write_run(family, history, seconds, tmp_path)
    names = family.test_data.text[:20]
    averaged = family.log_prob(names)
    raw = family.average
    family.average = None                                              # the last iterate, for comparison
    assert not np.allclose(family.log_prob(names), averaged)
    family.average = raw
    reopened = open_run(tmp_path)
    np.testing.assert_array_equal(reopened.log_prob(names), averaged)
    assert reopened.sample(20, 0) == family.sample(20, 0)


def test_conditional_is_refused_for_text_and_label_for_text_runs(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "autoregressive", "--data", "names", "--conditional", "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "--conditional needs labelled data" in err
    with pytest.raises(NotImplementedError, match="--label: this autoregressive run is not conditional"):
        make("bigram", steps=0).sample(2, 0, label=1)


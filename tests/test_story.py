"""The text corpora (shakespeare, code) and their storytellers (minigen/models/story.py): the
shipped content by its hash, the splits, the block-by-block likelihood against a direct
computation, the random windows, --length sampling, prompts, errors and the command line."""
import gzip
import hashlib
import json
from importlib import resources

import numpy as np
import pytest

import minigen as mg
from minigen.cli import main
from minigen.data import get_dataset
from minigen.data import load_corpus
from minigen.models import family_class, make
from minigen.models.loop import train
from minigen.models.story import StoryModel, python_shares

SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"   # char-rnn's input.txt
CODE_SHA256 = "3b48a1b9314331fc2b1e903e070eb85ea7b5803468b75a5e8fb9a46725c56e2e"
SMALL = {"transformer": {"d_model": 16, "n_layers": 1, "n_heads": 2, "dropout": 0.0},
         "mlp": {"context": 3, "d_embed": 4, "hidden": 16, "dropout": 0.0},
         "bigram": {}}


def small(data="shakespeare", model="transformer", steps=10, block_size=8, **settings):
    family = make("autoregressive", data, model=model, steps=steps, batch_size=8, seed=0, block_size=block_size,
                  eval_samples=2, length=20, **{**SMALL[model], **settings})
    train(family, quiet=True)
    return family


def shipped_text(fname):
    return gzip.decompress(resources.files("minigen.data").joinpath(fname).read_bytes()).decode("ascii")


# ----- the data -----
def test_the_shipped_corpora_have_the_recorded_content():
    assert hashlib.sha256(shipped_text("shakespeare.txt.gz").encode()).hexdigest() == SHAKESPEARE_SHA256
    assert hashlib.sha256(shipped_text("code.txt.gz").encode()).hexdigest() == CODE_SHA256


def test_shakespeare_is_split_by_position_as_nanogpt_splits_it():
    text = shipped_text("shakespeare.txt.gz")
    (train_text,), _ = load_corpus("shakespeare", "train")
    (test_text,), _ = load_corpus("shakespeare", "test")
    assert len(text) == 1_115_394 and len(train_text) == int(0.9 * len(text)) == 1_003_854
    assert train_text + test_text == text and len(test_text) == 111_540
    assert len(get_dataset("shakespeare").vocab) == 65


def test_code_is_split_by_file_with_the_documented_permutation():
    train_texts, train_files = load_corpus("code", "train")
    test_texts, test_files = load_corpus("code", "test")
    assert (len(train_files), len(test_files)) == (115, 12)
    every = sorted(train_files + test_files)
    assert len(set(every)) == 127 and all(f.startswith("minigen/") and f.endswith(".py") for f in every)
    order = np.random.default_rng(0).permutation(127)
    assert test_files == [every[i] for i in order[115:]] and train_files == [every[i] for i in order[:115]]
    whole = shipped_text("code.txt.gz")
    for name, text in zip(test_files, test_texts):
        assert f"# file: {name}\n{text}" in whole
    vocab = get_dataset("code").vocab
    assert vocab[0] == "\n" and set(vocab) <= {"\n"} | {chr(c) for c in range(32, 127)}


def test_the_corpora_pick_the_story_model_and_the_transformer_by_default():
    for data in ("shakespeare", "code"):
        assert family_class("autoregressive", data) is StoryModel
        assert make("autoregressive", data, steps=0).config.model == "transformer"
    with pytest.raises(ValueError, match="pixelcnn is for images"):
        make("autoregressive", "shakespeare", model="pixelcnn")


# ----- the likelihood -----
@pytest.mark.parametrize("model", ["transformer", "mlp", "bigram"])
def test_log_prob_equals_a_direct_block_by_block_computation(model):
    family = small(model=model)
    text = get_dataset("shakespeare", "test").text[0][:61]             # 60 predictions: 7 whole blocks and 4
    t, index = family.block_size, family.index
    tokens = np.array([index[c] for c in text])
    expected = 0.0
    with mg.no_grad():
        family.net.eval()
        for i in range(0, len(tokens) - 1, t):
            block = tokens[i:i + t + 1]
            logits = family.net(block[None, :-1]).numpy()[0].astype("float64")   # (len - 1, V)
            log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            expected += log_softmax[np.arange(len(block) - 1), block[1:]].sum()
    got = family.log_prob([text, text[:1], ""])
    assert got[0] == pytest.approx(expected, rel=1e-5) and list(got[1:]) == [0, 0]
    with pytest.raises(ValueError, match="list of texts"):
        family.log_prob(text)


def test_eval_reports_the_nll_per_character_of_the_whole_test_text_and_python_shares_on_code():
    family = small("code", model="bigram")
    test = family.test_data.text
    result = family.evaluate()
    predictions = sum(len(s) - 1 for s in test)
    assert result["test_predictions"] == predictions and result["test_documents"] == 12
    assert result["nll_per_token"] == pytest.approx(-family.log_prob(test).sum() / predictions, rel=1e-9)
    assert 0 <= result["tokenize_share"] <= 1 and 0 <= result["parse_share"] <= 1
    assert "tokenize_share" not in small(model="bigram").evaluate()


def test_python_shares_count_whole_lines_that_tokenize_and_parse():
    good = "def f(x):\n    return x + 1\nprint("           # the cut-off last line is not read
    open_bracket = "y = f(1,\n"                             # cut inside a bracket: tokenizes, does not parse
    bad = "def f(x):\n        y = 1\n    return y\n"        # a dedent to no level
    assert python_shares([good, open_bracket, bad]) == {"tokenize_share": 2 / 3, "parse_share": 1 / 3}


# ----- training batches -----
def test_batches_are_windows_of_the_training_text_and_a_resumed_run_sees_the_same_ones():
    family = small(steps=0)
    windows = [w for _, w in zip(range(3), family.batches())]
    text = family.text
    for w in windows:
        assert w.shape == (8, 9)
        for row in w:
            starts = np.flatnonzero(text[:len(text) - 9] == row[0])
            assert any((text[s:s + 9] == row).all() for s in starts)
    family.step_count = 2
    assert (next(family.batches()) == windows[2]).all()


def test_a_short_run_lowers_the_nll():
    before = small(steps=0).evaluate()["nll_per_token"]
    assert small(steps=60, lr=1e-2).evaluate()["nll_per_token"] < before - 0.3


# ----- sampling -----
def test_samples_are_the_prompt_then_length_characters_past_the_block_size():
    family = small()
    samples = family.sample(3, 7, prompt="ROMEO:", length=30)       # 30 > block_size 8: the window slides
    assert all(s.startswith("ROMEO:") and len(s) == 36 for s in samples)
    assert family.sample(3, 7, prompt="ROMEO:", length=30) == samples
    assert family.sample(3, 8, prompt="ROMEO:", length=30) != samples
    assert [len(s) for s in family.sample(2, 0)] == [20, 20]         # the recipe's length (here 20)


@pytest.mark.parametrize("options, message", [({"prompt": "caf\u00e9"}, "--prompt"), ({"length": 0}, "--length"),
                                              ({"temperature": 0}, "--temperature"), ({"label": 3}, "--label")])
def test_bad_sampling_options_are_refused_naming_the_flag(options, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        small(steps=0).sample(2, 0, **options)


def test_train_sample_eval_through_the_command_line(tmp_path, capsys):
    run = tmp_path / "run"
    main(["train", "autoregressive", "--data", "code", "--model", "mlp", "--steps", "5", "--batch-size", "8",
          "--out", str(run), "--quiet"])
    capsys.readouterr()
    out = tmp_path / "code.txt"
    main(["sample", str(run), "--n", "2", "--prompt", "def ", "--length", "40", "--out", str(out)])
    text = out.read_text()
    assert text.startswith("=== sample 1 of 2 ===\ndef ") and len(text) >= 2 * 44
    main(["eval", str(run)])
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics["nll_per_token"] > 0 and "tokenize_share" in metrics


def test_shakespeare_trains_from_the_command_line_and_writes_passages_under_headers(tmp_path, capsys):
    # the corpus is one training document: --batch-size counts its windows, not its documents
    run = tmp_path / "run"
    main(["train", "autoregressive", "--data", "shakespeare", "--model", "bigram", "--steps", "3", "--out", str(run),
          "--quiet"])
    out = tmp_path / "scene.txt"
    main(["sample", str(run), "--n", "2", "--prompt", "ROMEO:", "--length", "80", "--out", str(out)])
    parts = out.read_text().split("=== sample ")
    assert parts[0] == "" and [p.split("\n", 1)[0] for p in parts[1:]] == ["1 of 2 ===", "2 of 2 ==="]
    assert all(p.split("\n", 1)[1].startswith("ROMEO:") for p in parts[1:])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "autoregressive", "--data", "shakespeare", "--batch-size", "2000000", "--steps", "1",
              "--out", str(tmp_path / "big")])
    assert "training examples of shakespeare" in capsys.readouterr().err

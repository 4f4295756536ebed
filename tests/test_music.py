"""Music: the shipped chorales, the roll <-> MIDI / WAV conversions, and the chorales models."""
import wave

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import strategies as S
from minigen.data import get_dataset, load_chorales
from minigen.data import music
from minigen.models.music import CausalConv, MaskedLinear


# ----- the shipped data -----
def test_chorales_shape_ranges_and_split_by_chorale():
    train, info = load_chorales("train")
    test, test_info = load_chorales("test")
    assert (len(train), len(test)) == (249, 44)
    assert not set(info["names"]) & set(test_info["names"])            # split by chorale
    for roll in train + test:
        assert roll.dtype == np.int64 and roll.shape[0] == 4 and roll.shape[1] >= 48
        notes = roll[roll > 0]
        assert notes.min() >= music.LOW and notes.max() <= music.HIGH
        assert (roll == 0).mean() < 0.2                                   # mostly notes, few rests
    every = np.concatenate(train, axis=1)
    means = [every[v][every[v] > 0].mean() for v in range(4)]
    assert means == sorted(means, reverse=True)                           # soprano highest, bass lowest
    assert set(info["mode"]) == {0, 1}
    assert get_dataset("chorales", "test").kind == "music"


# ----- conversions -----
def piece():
    """A short four-voice piece: a held note, a repeated one (a rest between), an octave apart."""
    return np.array([[72, 72, 74, 0, 74, 76, 76, 77],
                     [67, 67, 67, 67, 69, 69, 67, 67],
                     [64, 64, 65, 65, 0, 0, 60, 60],
                     [48, 48, 50, 50, 53, 53, 48, 41]])


def test_midi_round_trip(tmp_path):
    import mido

    path = tmp_path / "piece.mid"
    music.write_midi(path, piece())
    tracks = [t for t in mido.MidiFile(str(path)).tracks if any(m.type == "note_on" for m in t)]
    assert len(tracks) == 4
    np.testing.assert_array_equal(music.read_midi(path), piece())


def test_wav_is_sound(tmp_path):
    path = tmp_path / "piece.wav"
    music.write_wav(path, piece())
    with wave.open(str(path)) as f:
        frames = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2")
        assert f.getnchannels() == 1 and f.getframerate() == music.RATE
    assert len(frames) >= 8 * 0.3 * music.RATE and np.abs(frames).max() > 10000


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"not a midi file at all"), "cannot read it as a MIDI file"),
    (lambda p: music.write_midi(p, piece()[:3].tolist() + [[0] * 8]), "3 tracks hold notes"),
    (lambda p: p.write_bytes(b""), "cannot read it as a MIDI file"),
])
def test_bad_midi_is_refused_in_one_line(tmp_path, make, message):
    path = tmp_path / "bad.mid"
    if "3 tracks" in message:
        import mido
        midi = mido.MidiFile(type=1)
        for v in piece()[:3]:
            midi.tracks.append(mido.MidiTrack([mido.Message("note_on", note=int(v[0]), velocity=64, time=0),
                                               mido.Message("note_off", note=int(v[0]), velocity=0, time=240)]))
        midi.save(str(path))
    else:
        make(path)
    with pytest.raises(ValueError, match=message) as error:
        music.read_midi(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_other_time_signature_and_range_are_refused(tmp_path):
    import mido

    path = tmp_path / "waltz.mid"
    music.write_midi(path, piece())
    midi = mido.MidiFile(str(path))
    for i, m in enumerate(midi.tracks[0]):
        if m.type == "time_signature":
            midi.tracks[0][i] = m.copy(numerator=3)
    midi.save(str(path))
    with pytest.raises(ValueError, match="time signature 3/4"):
        music.read_midi(path)
    with pytest.raises(ValueError, match="leave the model's range"):
        music.check_roll(piece() + 30, "x.npy")
    with pytest.raises(ValueError, match="one row per voice"):
        music.check_roll(piece()[:3], "x.npy")


def test_parse_mask():
    assert music.parse_mask("alto,tenor,bass") == (1, 2, 3)
    assert music.parse_mask("end") == "end"
    with pytest.raises(ValueError, match="name the voices"):
        music.parse_mask("alto,piano")


# ----- the models -----
import itertools                                                          # noqa: E402

from minigen.models import make                                           # noqa: E402
from minigen.models import music as chorales                              # noqa: E402
from minigen.models.loop import train                                     # noqa: E402

TINY = {"arcnn": dict(width=8, hidden=8, d_embed=4, steps=3, batch_size=8, eval_samples=2, length=8),
        "transformer": dict(d_model=8, n_layers=1, n_heads=2, d_embed=4, window=4, steps=3, batch_size=8,
                            eval_samples=2, length=8)}


def tiny_nets(vocab):
    mg.manual_seed(0)
    return [chorales.ARCNN(vocab, d_embed=3, width=6, hidden=5, dilations=(1, 2)),
            chorales.NoteTransformer(vocab, window=2, d_model=8, n_layers=1, n_heads=2, d_embed=3)]


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("given", [(), (0,)])
def test_likelihood_sums_to_one_over_every_piece(which, given):
    """Every piece of 3 steps over 2 tokens (2^12), or of its unseen voices given the soprano:
    the probabilities sum to 1 (the transformer's window of 2 steps is slid once)."""
    net = tiny_nets(2)[which].to(mg.float64)
    net.eval()
    pieces = np.array(list(itertools.product(range(2), repeat=12))).reshape(-1, 4, 3)
    if given:
        pieces = pieces[(pieces[:, 0] == [1, 0, 1]).all(axis=1)]
    flags = mg.tensor([[float(v in given) for v in range(4)]] * len(pieces), dtype="float64")
    with mg.no_grad():
        nll, count = chorales.sequence_nll(net, pieces, flags)
    assert count == len(pieces) * 3 * (4 - len(given))
    assert np.exp(-nll.numpy()).sum() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("which", [0, 1])
def test_logits_are_causal_and_the_sampler_sees_what_forward_sees(which):
    net = tiny_nets(5)[which]
    net.eval()
    tokens = np.random.default_rng(0).integers(0, 5, size=(2, 4, 9))
    given = mg.tensor([[1.0, 0, 0, 0], [0, 0, 0, 0]])
    with mg.no_grad():
        full = net(tokens, given).numpy()                                 # (2, 4, 9, 5)
        cond = net.condition(tokens, given)
        for t in range(9):
            step = net.present(net.past(tokens, cond, t), tokens, t).numpy()
            np.testing.assert_allclose(step, full[:, :, t], atol=1e-5)
        changed = tokens.copy()
        changed[1, 2, 6] = (changed[1, 2, 6] + 1) % 5                       # the tenor at step 6
        after = net(changed, given).numpy()
    np.testing.assert_allclose(after[1, :, :6], full[1, :, :6], atol=1e-6)   # earlier steps: unchanged
    np.testing.assert_allclose(after[1, :3, 6], full[1, :3, 6], atol=1e-6)   # the voices before it too


@pytest.fixture(scope="module", params=["arcnn", "transformer"])
def run(request):
    model = make("autoregressive", "chorales", model=request.param, **TINY[request.param])
    train(model, quiet=True)
    return model


def test_sampling_keeps_the_given_notes(run):
    bach = run.test_data.rolls[0][:, :12]
    harmonised = run.sample(3, 0, given=bach, mask="alto,tenor,bass")
    assert harmonised.shape == (3, 4, 12)
    np.testing.assert_array_equal(harmonised[:, 0], np.repeat(bach[None, 0], 3, axis=0))
    continued = run.sample(2, 1, given=bach, mask="end", length=5)
    assert continued.shape == (2, 4, 17)
    np.testing.assert_array_equal(continued[:, :, :12], np.repeat(bach[None], 2, axis=0))
    composed = run.sample(2, 0)
    assert composed.shape == (2, 4, 8) and ((composed == 0) | (composed >= music.LOW)).all()
    np.testing.assert_array_equal(run.sample(2, 0), composed)                     # seeded


def test_eval_reports_nll_per_note_beside_the_baselines(run):
    result = run.evaluate()
    for key in ("nll_per_note", "harmonise_nll_per_note", "unigram_nll_per_note", "bigram_nll_per_note",
                "sample_in_key_share", "bach_in_key_share", "harmonised_bach_share"):
        assert np.isfinite(result[key]), key
    assert result["nll_per_note"] < np.log(music.VOCAB) + 0.5                     # about uniform at worst


def test_bad_mask_is_refused(run):
    with pytest.raises(ValueError, match="name the voices"):
        run.sample(1, 0, given=run.test_data.rolls[0], mask="top")


def test_sample_command_writes_music_and_keeps_the_given_voice(tmp_path):
    import mido

    from minigen.cli import main
    from minigen.runs import write_run

    model = make("autoregressive", "chorales", model="arcnn", out=str(tmp_path / "run"), **TINY["arcnn"])
    history, seconds = train(model, quiet=True)
    write_run(model, history, seconds, model.config.out)
    for name in ("piece.mid", "piece.wav", "piece.npy", "piece.png"):
        assert main(["sample", model.config.out, "--n", "2", "--length", "8", "--out", str(tmp_path / name)]) in (0,
                                                                                                            None)
    tracks = mido.MidiFile(str(tmp_path / "piece.mid")).tracks
    assert len([t for t in tracks if any(m.type == "note_on" for m in t)]) == 4
    assert np.load(tmp_path / "piece.npy").shape == (2, 4, 8)
    music.write_midi(tmp_path / "bach.mid", model.test_data.rolls[0][:, :16])
    main(["sample", model.config.out, "--n", "1", "--given", str(tmp_path / "bach.mid"), "--mask", "alto,tenor,bass",
          "--out", str(tmp_path / "harmonised.npy")])
    np.testing.assert_array_equal(np.load(tmp_path / "harmonised.npy")[0, 0], model.test_data.rolls[0][0, :16])


# ----- the AR-CNN's own layers: float64 gradients against central differences, to second order -----
@st.composite
def causal_conv_case(draw):
    kernel, dilation, centred = draw(st.sampled_from([1, 2, 3])), draw(st.integers(1, 2)), draw(st.booleans())
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 5)), c_in)                    # (B, T, C)
    return kernel, dilation, centred, c_out, draw(S.arrays(shape))


def _leaf(array):
    return mg.tensor(np.asarray(array), dtype="float64", requires_grad=True)


def _with_linear(lin, weight, bias):
    """The linear layer with its weight and bias replaced by the given tensors (to differentiate by them)."""
    lin.weight, lin.bias = weight, bias
    return lin


@given(case=causal_conv_case())
def test_causal_conv_gradients_match_central_differences_to_second_order(case):
    kernel, dilation, centred, c_out, x = case
    conv = CausalConv(x.shape[2], c_out, kernel, dilation, centred).double()
    inputs = [_leaf(x), _leaf(conv.lin.weight.numpy()), _leaf(conv.lin.bias.numpy())]

    def fn(v, w, b):
        _with_linear(conv.lin, w, b)
        return conv(v)
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


@given(x=S.arrays((2, 3, 6)), seed=st.integers(0, 3))
def test_masked_linear_gradients_match_central_differences_and_hidden_weights_get_none(x, seed):
    mask = (np.random.default_rng(seed).random((4, 6)) < 0.5).astype("float32")
    layer = MaskedLinear(6, 4, mask).double()
    inputs = [_leaf(x), _leaf(layer.weight.numpy()), _leaf(layer.bias.numpy())]

    def fn(v, w, b):
        _with_linear(layer, w, b)
        return layer(v)
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)
    (gw,) = mg.grad(fn(*inputs).sum(), [inputs[1]])
    assert (gw.numpy()[mask == 0] == 0).all()

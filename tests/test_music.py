"""Music: the shipped chorales, the roll <-> MIDI / WAV conversions, and the chorales models."""
import wave

import numpy as np
import pytest

from minigen.data import get_dataset, load_chorales
from minigen.data import music


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

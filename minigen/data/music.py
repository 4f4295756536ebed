"""Four-voice music as arrays, and out to MIDI and sound: what the chorales models read and write.

A piece is a roll: an int array (4, T) of MIDI pitches, one row per voice (soprano, alto, tenor,
bass), one column per eighth note, 0 for a rest. A voice that holds a note repeats its pitch,
so a held note and a repeated one look the same on the grid; written out, a run of one pitch
becomes one note (the documented conversion back). The models see tokens instead: 0 a rest,
1 .. PITCHES the pitches LOW .. HIGH (the chorales' whole range, every voice alike).

    read_midi(path)        a .mid file (four tracks with notes, 4/4) -> roll (4, T)
    write_midi(path, roll) four tracks, one per voice, tempo QUARTER_SECONDS a quarter note
    write_wav(path, roll)  a mono 16-bit WAV: an additive synthesiser, NumPy only
    parse_mask(text)       --mask alto,tenor,bass (the voices to write) or end (continue)

mido reads and writes the MIDI files; nothing here needs music21.
"""
import wave

import numpy as np

VOICES = ("soprano", "alto", "tenor", "bass")
LOW, HIGH = 31, 84                  # MIDI pitches of the chorales (G1 .. C6): tokens 1 .. 54
PITCHES = HIGH - LOW + 1
VOCAB = PITCHES + 1                 # token 0: a rest
STEPS_PER_QUARTER = 2               # the grid: an eighth note
QUARTER_SECONDS = 0.6               # 100 quarter notes a minute
TICKS = 480                         # MIDI ticks per quarter note
RATE = 22050                        # WAV samples per second


def to_tokens(roll):
    """MIDI pitches (..., 4, T) (0: rest) -> tokens int64: 0 a rest, pitch - LOW + 1 else."""
    roll = np.asarray(roll).astype(np.int64)
    return np.where(roll > 0, roll - LOW + 1, 0)


def to_pitches(tokens):
    """The inverse of ``to_tokens``: tokens (..., 4, T) -> MIDI pitches int64 (0: rest)."""
    tokens = np.asarray(tokens).astype(np.int64)
    return np.where(tokens > 0, tokens + LOW - 1, 0)


def check_roll(roll, what):
    """``roll`` as int64 (N, 4, T) MIDI pitches ((4, T) becomes (1, 4, T)), or a one-line
    ValueError naming ``what``: not whole numbers, not four voices, empty, out of LOW..HIGH."""
    roll = np.asarray(roll)
    if roll.ndim == 2:
        roll = roll[None]
    if roll.dtype.kind not in "iuf" or (roll.dtype.kind == "f" and not np.all(roll == np.round(roll))):
        raise ValueError(f"{what}: expected whole MIDI pitches (0 for a rest), got dtype {roll.dtype}")
    if roll.ndim != 3 or roll.shape[1] != len(VOICES):
        raise ValueError(f"{what}: expected a roll (4, T) or (N, 4, T), one row per voice "
                         f"(soprano, alto, tenor, bass), got shape {roll.shape}")
    if roll.shape[2] == 0:
        raise ValueError(f"{what}: the roll is empty (no time steps)")
    notes = roll[roll != 0]
    if notes.size and (notes.min() < LOW or notes.max() > HIGH):
        raise ValueError(f"{what}: pitches {int(notes.min())}..{int(notes.max())} leave the model's range "
                         f"{LOW}..{HIGH} (MIDI; 0 is a rest)")
    return roll.astype(np.int64)


def parse_mask(text):
    """--mask: "end" (continue after the given steps) or the voices to write, as a tuple of
    their indices ("alto,tenor,bass" -> (1, 2, 3)); one-line ValueError for anything else."""
    if text == "end":
        return "end"
    names = [v.strip() for v in str(text).split(",")]
    unknown = [v for v in names if v not in VOICES]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(f"--mask: name the voices to write ({', '.join(VOICES)}, comma-separated, each "
                         f"once) or end, got {text!r}")
    return tuple(sorted(VOICES.index(v) for v in names))


def notes(voice):
    """One voice (T,) as notes: a list of (start step, steps, pitch), a run of one pitch one
    note, rests left out."""
    out, start = [], 0
    for t in range(1, len(voice) + 1):
        if t == len(voice) or voice[t] != voice[start]:
            if voice[start] != 0:
                out.append((start, t - start, int(voice[start])))
            start = t
    return out


# ----- MIDI, through mido -----
def write_midi(path, roll):
    """A standard MIDI file (type 1) of ``roll`` (4, T): four tracks, one per voice, each named
    after its voice; the first also holds the tempo and the 4/4 time signature."""
    import mido

    roll = check_roll(roll, str(path))[0]
    ticks = TICKS // STEPS_PER_QUARTER
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS)
    for v, name in enumerate(VOICES):
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
        if v == 0:
            track += [mido.MetaMessage("set_tempo", tempo=round(QUARTER_SECONDS * 1e6), time=0),
                      mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0)]
        now = 0
        for start, steps, pitch in notes(roll[v]):
            track.append(mido.Message("note_on", channel=v, note=pitch, velocity=80, time=(start * ticks) - now))
            track.append(mido.Message("note_off", channel=v, note=pitch, velocity=0, time=steps * ticks))
            now = (start + steps) * ticks
        midi.tracks.append(track)
    midi.save(str(path))


def read_midi(path):
    """The roll (4, T) of a MIDI file with four tracks that hold notes (soprano first), in 4/4.

    Conversions (documented, not refused): each voice is sampled at every eighth note (the pitch
    sounding then, or a rest), so shorter notes between two grid points are dropped; where a
    voice sounds two notes at once its highest counts; tracks with no notes (tempo, names) are
    skipped. Refused, one line each: not a MIDI file, no notes, not four voices, another time
    signature, pitches outside LOW..HIGH."""
    import mido

    try:
        midi = mido.MidiFile(str(path))
    except (OSError, ValueError, EOFError, KeyError, IndexError) as exc:
        raise ValueError(f"{path}: cannot read it as a MIDI file ({exc})") from None
    for track in midi.tracks:
        for m in track:
            if m.type == "time_signature" and (m.numerator, m.denominator) != (4, 4):
                raise ValueError(f"{path}: time signature {m.numerator}/{m.denominator}; the chorales "
                                 "models know 4/4 only")
    voices = [v for v in (track_notes(track) for track in midi.tracks) if v]
    if not voices:
        raise ValueError(f"{path}: holds no notes")
    if len(voices) != len(VOICES):
        raise ValueError(f"{path}: {len(voices)} tracks hold notes; expected 4 (soprano, alto, tenor, bass), "
                         "one voice a track")
    step = midi.ticks_per_beat / STEPS_PER_QUARTER
    steps = int(np.ceil(max(end for v in voices for _, end, _ in v) / step - 1e-6))
    roll = np.zeros((len(VOICES), steps), dtype=np.int64)
    grid = np.arange(steps) * step                                   # each step's time in ticks
    for v, voice in enumerate(voices):
        for start, end, pitch in voice:
            sounding = (grid >= start) & (grid < end)
            roll[v, sounding] = np.maximum(roll[v, sounding], pitch)
    return check_roll(roll, str(path))[0]


def track_notes(track):
    """A track's notes as (start tick, end tick, pitch) triples (a note_on of velocity 0 ends a note)."""
    now, sounding, out = 0, {}, []
    for m in track:
        now += m.time
        if m.type == "note_on" and m.velocity > 0:
            sounding[m.note] = now
        elif m.type in ("note_on", "note_off") and m.note in sounding:
            out.append((sounding.pop(m.note), now, m.note))
    return out


# ----- sound: an additive synthesiser -----
HARMONICS = (1.0, 0.5, 0.25, 0.12)      # amplitudes of partials 1..4: a soft organ-like tone


def render(roll, rate=RATE):
    """``roll`` (4, T) as float samples in [-1, 1]: each note a sum of four harmonics of its
    frequency f = 440 * 2 ** ((pitch - 69) / 12), shaped by an envelope (a 10 ms attack, a slow
    exponential decay, a 40 ms release, so repeated notes are heard apart), the voices summed."""
    roll = check_roll(roll, "render")[0]
    step = QUARTER_SECONDS / STEPS_PER_QUARTER
    out = np.zeros(int(roll.shape[1] * step * rate) + 1)
    for voice in roll:
        for start, steps, pitch in notes(voice):
            t = np.arange(int(steps * step * rate)) / rate                       # seconds into the note
            f = 440.0 * 2 ** ((pitch - 69) / 12)
            tone = sum(a * np.sin(2 * np.pi * (k + 1) * f * t) for k, a in enumerate(HARMONICS))
            envelope = np.minimum(1, t / 0.01) * np.exp(-t / 1.5) * np.minimum(1, (t[-1] - t) / 0.04)
            first = int(start * step * rate)
            out[first:first + len(t)] += tone * envelope
    peak = np.abs(out).max()
    return out * (0.8 / peak) if peak > 0 else out


def write_wav(path, roll, rate=RATE):
    """``roll`` (4, T) rendered (``render``) to a mono 16-bit WAV file."""
    samples = (render(roll, rate) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(samples.tobytes())


# ----- musical statistics: what the judge of a chorale counts -----
WHITE = (0, 2, 4, 5, 7, 9, 11)       # C major = A natural minor (the shipped chorales' two keys)
LEADING = (6, 8)                     # F# and G#: A minor's raised sixth and seventh


def in_key_share(rolls):
    """The share of notes in the piece's key: C major, or A minor when the last bass note is an A
    (then F# and G#, the melodic minor's raised degrees, count as in the key too)."""
    inside = total = 0
    for roll in rolls:
        sounding = roll[roll > 0] % 12
        bass = roll[3][roll[3] > 0]
        scale = WHITE + (LEADING if len(bass) and bass[-1] % 12 == 9 else ())
        inside += np.isin(sounding, scale).sum()
        total += sounding.size
    return float(inside / max(total, 1))


def parallels(rolls):
    """Parallel fifths and octaves: among the steps where two voices both move to a new note, the
    share where they were a perfect fifth (or an octave/unison) apart, mod 12, before and after."""
    fifths = octaves = moves = 0
    for roll in rolls:
        before, after = roll[:, :-1], roll[:, 1:]
        for u in range(len(VOICES)):
            for v in range(u + 1, len(VOICES)):
                both = (before[u] > 0) & (before[v] > 0) & (after[u] > 0) & (after[v] > 0) & \
                       (before[u] != after[u]) & (before[v] != after[v])
                was, now = (before[u] - before[v]) % 12, (after[u] - after[v]) % 12
                fifths += (both & (was == 7) & (now == 7)).sum()
                octaves += (both & (was == 0) & (now == 0)).sum()
                moves += both.sum()
    return float(fifths / max(moves, 1)), float(octaves / max(moves, 1))


def crossings(rolls):
    """The share of steps where a lower voice sounds above the voice over it (notes only)."""
    crossed = steps = 0
    for roll in rolls:
        upper, lower = roll[:-1], roll[1:]
        crossed += ((upper > 0) & (lower > 0) & (lower > upper)).any(axis=0).sum()
        steps += roll.shape[1]
    return float(crossed / max(steps, 1))


def statistics(rolls):
    """A dict of the statistics above for ``rolls`` (a list or array of (4, T) MIDI rolls), with
    each voice's range (its lowest and highest pitch) and its mean pitch."""
    every = np.concatenate([np.asarray(r) for r in rolls], axis=1)
    fifths, octaves = parallels(rolls)
    out = {"in_key_share": in_key_share(rolls), "parallel_fifths": fifths, "parallel_octaves": octaves,
           "crossings": crossings(rolls)}
    for v, name in enumerate(VOICES):
        notes_v = every[v][every[v] > 0]
        out[f"{name}_range"] = [int(notes_v.min()), int(notes_v.max())] if notes_v.size else None
        out[f"{name}_mean"] = float(notes_v.mean()) if notes_v.size else None
    return out



def compare(bach, samples, harmonised):
    """``statistics`` of Bach's chorales, of samples and of harmonisations of his sopranos (keys
    prefixed bach_, sample_, harmonised_), and ``harmonised_bach_share``: the share of his alto,
    tenor and bass notes the harmonisations reproduce, step by step."""
    out = {}
    for name, rolls in (("bach", bach), ("sample", samples), ("harmonised", harmonised)):
        out.update({f"{name}_{k}": v for k, v in statistics(rolls).items()})
    same = sum((h[1:] == b[1:]).sum() for h, b in zip(harmonised, bach))
    out["harmonised_bach_share"] = float(same / sum(b[1:].size for b in bach))
    return out


# ----- the count baselines -----
def count_baselines(train, test, alpha=0.1):
    """Per-voice count models, NLL per note on ``test`` (lists of MIDI rolls (4, T)): unigram
    p(x_{t,v}) and bigram p(x_{t,v} | x_{t-1,v}) (the first step: the unigram), each count plus
    ``alpha`` (additive smoothing), normalised."""
    vocab = VOCAB
    uni, bi = np.full((len(VOICES), vocab), alpha), np.full((len(VOICES), vocab, vocab), alpha)
    for roll in map(to_tokens, train):
        for v in range(len(VOICES)):
            np.add.at(uni[v], roll[v], 1)
            np.add.at(bi[v], (roll[v, :-1], roll[v, 1:]), 1)
    uni = np.log(uni / uni.sum(axis=1, keepdims=True))
    bi = np.log(bi / bi.sum(axis=2, keepdims=True))
    nll_uni = nll_bi = count = 0.0
    for roll in map(to_tokens, test):
        for v in range(len(VOICES)):
            nll_uni -= uni[v, roll[v]].sum()
            nll_bi -= uni[v, roll[v, 0]] + bi[v, roll[v, :-1], roll[v, 1:]].sum()
        count += roll.size
    return {"unigram_nll_per_note": float(nll_uni / count), "bigram_nll_per_note": float(nll_bi / count)}

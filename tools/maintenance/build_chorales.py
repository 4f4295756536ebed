"""Build minigen/data/chorales.npz: Bach's four-part chorales from music21's corpus as piano rolls.

    pip install music21                                # build time only; minigen never imports it
    python -m tools.maintenance.build_chorales          # writes minigen/data/chorales.npz
    python -m tools.maintenance.build_chorales --check  # rebuilds in memory, compares with the shipped file

What is kept. Every chorale of ``music21.corpus.chorales.Iterator()`` (371 entries, 350 files:
it lists some twice; a setting whose roll equals an earlier one's is dropped too) that has exactly
four parts and is in 4/4 time throughout (the rest, mostly 3/4, are left out: one bar length
keeps the grid and the tests simple). Each part's notes are read with ties merged
(``stripTies``); a chord inside one part (rare) counts as its top note.

The grid: an eighth note. Each voice's value at step k is the MIDI pitch sounding at time
k / 2 quarter notes after the start, or 0 (a rest). An eighth is the shortest value that carries
the chorales' harmony: the sixteenths are passing and neighbour notes (about 3% of the notes),
and a sixteenth grid would double every sequence for them. A note shorter than an eighth that
does not sound at a grid point is lost; a note that spans several steps repeats its pitch (so a
held note and a repeated one look the same, as in Coconet's data).

Keys. Each chorale is transposed by the smallest interval (-6..+5 semitones) that takes the key
music21 finds (``analyze("key")``, Krumhansl-Schmuckler) to C major or A minor, so the model
learns one key per mode instead of twelve copies of each from 300 pieces; ``tonic`` and ``mode``
record the key before transposition and ``shift`` the semitones added.

Split, by chorale: the kept chorales sorted by their corpus name, put in the order
``numpy.random.default_rng(0).permutation(n)``; the last 15% of that order is the test split.

Output arrays (np.savez with a fixed zip timestamp: the same bytes on every run):
``rolls`` int8 (S, 4): every chorale's steps one after another, voices soprano, alto, tenor, bass;
``starts`` int32 (C + 1,): chorale c is rolls[starts[c]:starts[c + 1]]; ``names`` (C,) str
("bwv269"); ``tonic`` int8 (C,) pitch class 0..11; ``mode`` int8 (C,) 0 major, 1 minor;
``shift`` int8 (C,); ``test`` bool (C,).
"""
import argparse
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

STEP = 0.5          # quarter notes per step: an eighth note
TEST_SHARE = 0.15
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
OUT = Path(__file__).resolve().parents[2] / "minigen" / "data" / "chorales.npz"


def roll_of(part, steps):
    """One part as (steps,) MIDI pitches sampled at the grid's points (0: a rest)."""
    voice = np.zeros(steps, dtype=np.int8)
    for n in part.stripTies().flatten().notes:
        if n.duration.quarterLength == 0:            # a grace note: no time on the grid
            continue
        start, end = float(n.offset), float(n.offset + n.duration.quarterLength)
        first, stop = int(np.ceil(start / STEP - 1e-6)), int(np.ceil(end / STEP - 1e-6))
        voice[first:min(stop, steps)] = max(p.midi for p in n.pitches)
    return voice


def read_chorale(name):
    """(roll (steps, 4) int8, tonic, mode, shift) of one corpus chorale, or None when it is not
    four parts in 4/4."""
    from music21 import corpus, interval, pitch

    score = corpus.parse(name)
    if len(score.parts) != 4:
        return None
    signatures = {ts.ratioString for ts in score.recurse().getElementsByClass("TimeSignature")}
    if signatures != {"4/4"}:
        return None
    key = score.analyze("key")
    target = "C" if key.mode == "major" else "A"
    shift = (pitch.Pitch(target).pitchClass - key.tonic.pitchClass) % 12
    shift = shift - 12 if shift > 5 else shift                   # -6..+5 semitones
    score = score.transpose(interval.Interval(shift))
    steps = int(round(float(score.highestTime) / STEP))
    roll = np.stack([roll_of(part, steps) for part in score.parts], axis=1)   # (steps, 4)
    return roll, key.tonic.pitchClass, int(key.mode != "major"), shift


def build():
    """The arrays of chorales.npz (see the module's docstring)."""
    from music21 import corpus

    names = sorted(set(corpus.chorales.Iterator(returnType="filename")))   # the iterator repeats 21
    kept, seen = [], set()
    for name in names:
        read = read_chorale(name)
        if read is not None and read[0].tobytes() not in seen:          # 3 settings appear twice
            seen.add(read[0].tobytes())
            kept.append((name.split("/")[-1],) + read)
    order = np.random.default_rng(0).permutation(len(kept))
    test = np.zeros(len(kept), dtype=bool)
    test[order[len(kept) - round(TEST_SHARE * len(kept)):]] = True
    rolls = [k[1] for k in kept]
    return {"rolls": np.concatenate(rolls).astype(np.int8),
            "starts": np.concatenate([[0], np.cumsum([len(r) for r in rolls])]).astype(np.int32),
            "names": np.array([k[0] for k in kept]),
            "tonic": np.array([k[2] for k in kept], dtype=np.int8),
            "mode": np.array([k[3] for k in kept], dtype=np.int8),
            "shift": np.array([k[4] for k in kept], dtype=np.int8),
            "test": test}


def npz_bytes(arrays):
    """np.savez's format, with every entry dated ZIP_DATE (byte-for-byte reproducible)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(value), allow_pickle=False)
            z.writestr(zipfile.ZipInfo(f"{key}.npy", ZIP_DATE), buffer.getvalue(), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write (default: minigen/data/chorales.npz)")
    parser.add_argument("--check", action="store_true", help="compare with --out, write nothing")
    args = parser.parse_args(argv)
    arrays = build()
    data = npz_bytes(arrays)
    print(f"{len(arrays['names'])} chorales ({int(arrays['test'].sum())} test), {len(arrays['rolls'])} steps, "
          f"{len(data):,} bytes")
    if args.check:
        if args.out.read_bytes() != data:
            sys.exit(f"build_chorales: {args.out} differs from a fresh build")
        print(f"{args.out}: identical")
        return
    args.out.write_bytes(data)


if __name__ == "__main__":
    main()

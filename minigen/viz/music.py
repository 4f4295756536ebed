"""Piano rolls: four voices in colour over time (models/music.py's samples.png, `minigen sample --out X.png`).

A roll is an int array (4, T) of MIDI pitches, soprano to bass, one column per eighth note, 0 a rest
(minigen/data/music.py)."""
from matplotlib.patches import Patch

from minigen.viz import figure as new_figure

VOICES = ("soprano", "alto", "tenor", "bass")
COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd")
BAR = 8                                                      # eighth notes in a 4/4 bar
GIVEN_PIECE = 0                                              # the test chorale the gallery harmonises


def piano_roll(ax, roll, title="", given=()):
    """Draw one roll (4, T) of MIDI pitches on ``ax``: a bar per note, a colour per voice; the
    voices in ``given`` (indices) drawn pale, as what the model was given."""
    for v, voice in enumerate(roll):
        start = 0
        for t in range(1, len(voice) + 1):                   # a run of one pitch: one bar
            if t == len(voice) or voice[t] != voice[start]:
                if voice[start]:
                    ax.broken_barh([(start, t - start)], (voice[start] - 0.4, 0.8), color=COLOURS[v],
                                   alpha=0.35 if v in given else 1.0)
                start = t
    for bar in range(0, roll.shape[1] + 1, BAR):
        ax.axvline(bar, color="0.85", lw=0.5, zorder=0)
    ax.set_xlim(0, roll.shape[1])
    notes = roll[roll > 0]
    ax.set_ylim(notes.min() - 2 if notes.size else 30, notes.max() + 2 if notes.size else 85)
    ax.set_xlabel("eighth notes")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title, fontsize=10)


def rolls_figure(rolls, titles=None, given=()):
    """A figure of the rolls (N, 4, T), one panel per piece, and a legend of the voices."""
    fig = new_figure(figsize=(9, 2.2 * len(rolls) + 0.4), layout="constrained")
    axes = fig.subplots(len(rolls), 1, squeeze=False)[:, 0]
    for k, (ax, roll) in enumerate(zip(axes, rolls)):
        piano_roll(ax, roll, titles[k] if titles else f"piece {k}", given)
    axes[0].legend(handles=[Patch(color=c, label=v) for v, c in zip(VOICES, COLOURS)], loc="upper right",
                   fontsize=7, ncol=4)
    return fig


def figure(model):
    """samples.png: a chorale composed from nothing, and a test chorale's soprano harmonised
    beside Bach's own setting (the given soprano pale)."""
    bach = model.test_data.rolls[GIVEN_PIECE][:, :64]
    composed = model.sample(1, 0)[0]
    harmonised = model.sample(1, 0, given=bach, mask=(1, 2, 3))[0]
    return rolls_figure([composed, harmonised, bach],
                        ["composed from nothing", "Bach's soprano, harmonised by the model", "Bach's own setting"])

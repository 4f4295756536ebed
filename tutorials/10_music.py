# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10 · The storyteller composes: Bach's chorales, note by note
#
# Tutorial 06's storyteller continued names letter by letter and painted digits pixel by pixel.
# Here it writes music. A Bach chorale is four voices (soprano, alto, tenor, bass) singing
# together, a few hundred short pieces that every student of harmony learns from: the ideal
# teaching piece, with structure a listener can hear. In this tutorial we
#
# 1. look at (and listen to) the chorales as minigen ships them: four rows of MIDI pitches on an
#    eighth-note grid;
# 2. measure how much structure simple counts find (per-voice unigram and bigram);
# 3. train an autoregressive CNN with the exact likelihood, in the order "time first, then the
#    voices top down", and see how a whole melody can still be *given* to it;
# 4. let it compose, continue and harmonise, and hear the result;
# 5. train the names transformer on the same notes, and compare the two on one number: the test
#    NLL per note.
#
# Run it as a script (`python tutorials/10_music.py`, a few minutes on a CPU; `MINIGEN_QUICK=1`
# trains only briefly) or open it as a notebook. From the command line:
# `minigen train autoregressive --data chorales [--model transformer]`, `minigen eval DIR`,
# `minigen sample DIR --out piece.mid` (or `.wav`, `.npy`, `.png`).

# %%
import numpy as np
from _setup import IN_NOTEBOOK, QUICK, save, show_source

from minigen.data import get_dataset, music
from minigen.models import make
from minigen.models import music as chorales
from minigen.models.loop import train
from minigen.viz.music import rolls_figure


def listen(roll):
    """In a notebook, a player for the piece (minigen's own synthesiser); as a script, nothing."""
    if IN_NOTEBOOK:
        from IPython.display import Audio, display
        display(Audio(music.render(roll), rate=music.RATE))


# %% [markdown]
# ## 1. The data: four voices on a grid
#
# Each chorale is an array (4, T): one row per voice, one column per eighth note, each entry the
# MIDI pitch sounding then (60 is middle C), 0 for a rest. A held note repeats its pitch. Every
# chorale was transposed to C major or A minor when the file was built, so the model learns one
# key per mode (minigen/data/README.md says how, and why an eighth note).

# %%
train_split, test_split = get_dataset("chorales", "train"), get_dataset("chorales", "test")
print(f"{len(train_split)} training chorales, {len(test_split)} test chorales")
bach = test_split.rolls[0]
print("the first two bars of", test_split.info["names"][0], "\n", bach[:, :16])
save(rolls_figure([bach[:, :64]], [f"Bach, {test_split.info['names'][0]}: the first eight bars"]),
     "10_bach.png")
listen(bach)

# %% [markdown]
# ## 2. What counting finds
#
# A **unigram** per voice says how often each pitch is sung; a **bigram** per voice,
# p(x_{t,v} | x_{t-1,v}), which pitch follows which in the same voice (tutorial 04's bigram,
# counted). Both are exact likelihoods too, so their test NLL per note is the bar to clear.

# %%
baselines = music.count_baselines(train_split.rolls, test_split.rolls)
print({k: round(v, 3) for k, v in baselines.items()})

# %% [markdown]
# ## 3. An autoregressive CNN with an exact order
#
# The order is **time first, then the voices top down**: S_1 A_1 T_1 B_1 S_2 ... and the chain
# rule gives p(x) = prod_t prod_v p(x_{t,v} | x_{<t}, x_{t,<v}), as the PixelCNN's raster order on
# a picture of T rows and 4 columns. Two parts keep each conditional honest: causal dilated
# convolutions over the chords before t (the past), and a masked layer within the step (the
# alto sees the soprano of its own step, the bass all three).
#
# **How can a whole melody be given?** In this order the alto at step 3 comes before the soprano
# at step 9, so "given the soprano" is not a prefix. The model takes the given voices as a
# *conditioning input* instead: their notes at every step, through two-sided convolutions, with
# one flag per voice saying which are given. It then learns p(alto, tenor, bass | soprano), exact,
# the given notes never scored; the same network, trained half the time with no voice given, is
# the unconditional p(x).

# %%
show_source(chorales.ARCNN.forward, chorales.sequence_nll)
quick = {"steps": 20, "eval_samples": 4} if QUICK else {}
arcnn = make("autoregressive", "chorales", model="arcnn", seed=0, **quick)
history, seconds = train(arcnn, quiet=True)
arcnn_metrics = arcnn.evaluate()
print(f"trained {arcnn.config.steps} steps in {seconds:.0f} s: test NLL per note "
      f"{arcnn_metrics['nll_per_note']:.3f} nats (bigram {baselines['bigram_nll_per_note']:.3f}), "
      f"given Bach's soprano {arcnn_metrics['harmonise_nll_per_note']:.3f}")

# %% [markdown]
# ## 4. Compose, continue, harmonise
#
# The three uses are one sampler: draw the notes that are not given, step by step, voice by voice.
# Composing gives nothing; continuing gives the first bars (they come first in the order);
# harmonising gives the soprano (through the conditioning input). Below, the model's alto, tenor
# and bass under Bach's soprano, beside Bach's own.

# %%
melody = bach[:, :64]
composed = arcnn.sample(1, 0)[0]
continued = arcnn.sample(1, 0, given=melody[:, :32], mask="end", length=32)[0]
harmonised = arcnn.sample(1, 0, given=melody, mask="alto,tenor,bass")[0]
assert (harmonised[0] == melody[0]).all() and (continued[:, :32] == melody[:, :32]).all()   # given notes kept
save(rolls_figure([composed, continued, harmonised, melody],
                  ["composed from nothing", "Bach's first four bars, continued", "Bach's soprano, harmonised",
                   "Bach's own setting"]), "10_uses.png")
listen(harmonised)

# %% [markdown]
# ## 5. The transformer on the same notes
#
# The names transformer (tutorial 06) reads the voice-steps as tokens, S_1 A_1 T_1 B_1 S_2 ...,
# with the same conditioning input for given voices. A chorale longer than its window is scored in
# windows shifted by half a window, each conditional still a normalised distribution: the NLL per
# note stays exact and comparable.

# %%
gpt = make("autoregressive", "chorales", model="transformer", seed=0, **quick)
train(gpt, quiet=True)
gpt_metrics = gpt.evaluate()
rows = [("unigram (counts)", baselines["unigram_nll_per_note"]), ("bigram (counts)", baselines["bigram_nll_per_note"]),
        ("AR-CNN", arcnn_metrics["nll_per_note"]), ("transformer", gpt_metrics["nll_per_note"])]
for name, value in rows:
    print(f"{name:<18} {value:.3f} nats per note")

# %% [markdown]
# ## What the numbers mean
#
# A note costs log 55 = 4.0 nats when every pitch (and the rest) is equally likely. The unigram
# knows each voice's range; the bigram that a voice mostly holds or steps to a neighbour. The
# models know harmony too: what the other voices sing now and did before. Samples are judged
# beside Bach's own chorales: the share of notes in the key, parallel fifths and octaves (which
# Bach avoids), voice crossings, and for harmonisations the share of his own alto, tenor and bass
# notes the model finds.

# %%
for key in ("in_key_share", "parallel_fifths", "parallel_octaves", "crossings"):
    print(f"{key:<18} Bach {arcnn_metrics['bach_' + key]:.3f}   AR-CNN samples {arcnn_metrics['sample_' + key]:.3f}"
          f"   harmonisations {arcnn_metrics['harmonised_' + key]:.3f}")
print(f"Bach's own alto, tenor and bass notes found: {arcnn_metrics['harmonised_bach_share']:.3f}")
print(np.round([arcnn_metrics["nll_per_note"], gpt_metrics["nll_per_note"]], 3))

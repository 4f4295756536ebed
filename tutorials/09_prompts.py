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
# # 09 · Prompt, model, response, use
#
# Every chapter so far trained a model and looked at its samples. Used for something, a
# generative model sits in a loop with four parts:
#
# 1. a **prompt**: what we tell the model we want: a label ("a 7"), a description ("a thin two
#    leaning left"), the beginning of a text ("ROMEO:"), part of an image (its top half, or all
#    of it but a hole), a melody;
# 2. the **model**: a trained family, which turns the prompt into a conditional distribution,
#    p(x | label), p(x | caption), p(rest of the text | "ROMEO:"), p(hole | the pixels around it),
#    p(alto, tenor, bass | soprano);
# 3. the **response**: one or more draws from that distribution, in the data's own form (an
#    array of images, a list of strings, a piano roll);
# 4. the **use**: something done with the response: shown to someone, checked, ranked, fed to
#    another program, or turned into an answer to a question.
#
# A discriminative model answers "which class is this?"; a generative one, prompted, *guesses
# the data for a prediction*. This chapter runs the loop five times, once per kind of prompt,
# through the same interface the command line uses: `make` and `train` build a family, a run
# folder stores it, `open_run` gives it back, and `run.sample(n, seed, **options)` answers a
# prompt (the options of `minigen sample`: `label`, `prompt`, `given` and `mask`, `length`, ...).
# The runs here are shorter than the defaults, so that the chapter runs in minutes; the
# README's tables measure the defaults.
#
# Run it as a script (`python tutorials/09_prompts.py`, several minutes on a CPU; `MINIGEN_QUICK=1`
# trains only briefly) or open it as a notebook.

# %%
import tempfile
from pathlib import Path

import numpy as np
from _plots import image_rows, number_written, prompt_gallery
from _setup import QUICK, glue, save

from minigen.data import captions, music
from minigen.data.completion import hidden_mask
from minigen.models import judge, make
from minigen.models.loop import train
from minigen.runs import open_run, write_run
from minigen.viz.music import rolls_figure

if QUICK:
    judge.JUDGE_STEPS = 60          # a quick judge: the figures, not the numbers
RUNS = Path(tempfile.mkdtemp(prefix="minigen-09-"))


def trained_run(family, data, steps, **settings):
    """Train a family as `minigen train` does, write its run folder, and open it again: the
    model a user of the command line (`minigen sample DIR`) would be prompting."""
    model = make(family, data, seed=0, steps=steps, **settings)
    history, seconds = train(model, quiet=True)
    folder = RUNS / f"{family}-{data}{'-conditional' * settings.get('conditional', False)}" \
        f"{'-captions' * settings.get('captions', False)}"
    write_run(model, history, seconds, folder)
    print(f"{family} on {data}: {steps} steps in {seconds:.0f} s -> {folder.name}")
    return open_run(folder)


# %% [markdown]
# ## 1 · A label as the prompt
#
# The prompt: a digit, say 7. The model: a conditional VAE (tutorial 05), which learned
# p(x | y) for every label y. The response: `run.sample(n, seed, label=7)`, an array of n
# binary 8x8 images. The use here: write a number, one digit drawn per character, and check
# each drawn digit with an independent reader, the project's digits classifier (the judge of
# every chapter), which was never shown the model's pictures.

# %%
vae = trained_run("vae", "digits-binary", 300 if QUICK else 4000, conditional=True)
response = vae.sample(5, seed=0, label=7)
print("response to label=7:", type(response).__name__, response.shape, response.dtype,
      "values", np.unique(response))

number = "2026"
digits = np.concatenate([vae.sample(1, seed=k, label=int(ch)) for k, ch in enumerate(number)])
reader = judge.digit_judge("digits-binary")
probs, _ = judge.judge_outputs(reader, vae.test_data.from_unit(digits))
read = "".join(str(k) for k in probs.argmax(1))
print(f"asked to write {number}; the reader reads {read}")
save(number_written(digits, number, read), "09_number.png")

asked = np.repeat(np.arange(10), 20)
drawn = np.concatenate([vae.sample(20, seed=1, label=k) for k in range(10)])
agreement = float((judge.judge_outputs(reader, vae.test_data.from_unit(drawn))[0].argmax(1) == asked).mean())
print(f"of 200 digits asked for (20 of each), the reader agrees with the prompt on {agreement:.1%}")
glue("label_agreement", f"{agreement:.0%}")

# %% [markdown]
# Of 200 digits asked for, the reader agrees with the prompt on {glue:text}`label_agreement`:
# that share is how well this model follows its prompt, and it is the `label_accuracy` that
# `minigen eval` reports for every conditional run.
#
# ## 2 · A description as the prompt
#
# The prompt: a few words that describe the picture, "a thin two leaning left". The model:
# diffusion (tutorial 07) trained with `--captions`. Every training digit got a caption made
# from its label and two things measured on its own pixels (`minigen.data.captions`): its
# **ink** (the sum of its pixels: `thin`, `medium` or `thick`, a third of the digits of its class
# each) and its **slant** (how far its ink moves right per row upward, from the ink's second
# moments: `leaning left`, `upright`, `leaning right`, a third each). A small text encoder
# looks each word up in a table of vectors and averages them; that vector takes the label's
# place in the network, and classifier-free guidance mixes the captioned and the uncaptioned
# predictions as it mixed the labelled ones. During training each attribute word is dropped
# now and then, so a prompt that leaves one out ("a thin two") asks for any slant. The
# response: `run.sample(n, seed, prompt="a thin two leaning left")`. The use: check each
# response against its description, with readers that did not make it: the judge reads the
# digit, and the measurements that wrote the training captions read its ink and slant.

# %%
painter = trained_run("diffusion", "digits", 100 if QUICK else 2000, captions=True)
measure = captions.Captions(painter.train_data)           # the training split's terciles, per digit
prompts = ["a thin two leaning left", "a thick two leaning right", "a thin seven", "a seven leaning right",
           "a thick zero", "an eight leaning left"]
per_prompt = 10 if QUICK else 40
rows, matched, asked_words = [], 0, 0
for k, prompt in enumerate(prompts):
    digit, ink, slant = captions.parse(prompt)                                      # None: not asked
    response = painter.sample(per_prompt, seed=k, prompt=prompt)                    # (n, 1, 8, 8) in [0, 1]
    read = judge.judge_outputs(judge.digit_judge("digits"), painter.test_data.from_unit(response))[0].argmax(1)
    inks, slants = measure.attributes(response, [digit] * per_prompt)               # 0, 1, 2 each
    checks = {"digit": read == digit}
    if ink is not None:
        checks["ink"] = inks == ink
    if slant is not None:
        checks["slant"] = slants == slant
    matched += sum(int(c.sum()) for c in checks.values())
    asked_words += per_prompt * len(checks)
    print(f"{prompt!r:28}", ", ".join(f"{name} as asked {c.mean():.0%}" for name, c in checks.items()))
    rows.append(response[:8])
save(image_rows(rows, [repr(p) for p in prompts], "prompt -> responses"), "09_captions.png")
glue("caption_match", f"{matched / asked_words:.0%}")

# %% [markdown]
# Over these prompts, {glue:text}`caption_match` of the things asked for (the digit, and each
# attribute word given) are there when the response is measured; chance would be a tenth for
# the digit and a third for each attribute word. `minigen eval` on a captioned run asks 150
# prompts (every digit with each ink word, each slant, and both) and reports each share
# (`caption_label_accuracy`, `caption_ink_match`, `caption_slant_match`, ...).
#
# **What a real text-to-image model adds.** The loop is the same in DALL-E or Stable Diffusion:
# a text encoder turns the prompt into vectors, and a diffusion model is guided by them
# (classifier-free guidance, as here). What the large systems add is scale and structure. Their
# text encoder was trained on hundreds of millions of image-caption pairs (CLIP) or is a large
# language model (T5 in Imagen), so it knows words no caption here uses. The image network
# attends to every word separately (cross-attention) instead of reading one average, so "a red
# cube on a blue ball" differs from "a blue cube on a red ball"; the average here cannot tell
# word order, and needs no more, since every caption has one slot for each word. And the
# diffusion runs on a compressed picture (latent diffusion: an autoencoder's codes of a
# 512x512 image), trained on billions of images for thousands of GPU-days. The judge-based
# checks above are the small version of how those models are scored too (a classifier's
# features, as in FID; a text-image model's agreement, as in CLIP score).
#
# ## 3 · A text prefix as the prompt
#
# The prompt: the first letters of a name. The model: the names transformer (tutorial 06),
# p(next letter | letters so far). The response: `run.sample(n, seed, prompt="mar")`, a list of
# strings, each starting with the prompt. The uses: keep only names that are new (not in the
# training list), and rank the responses by how likely the model finds them, with
# `run.log_prob`, the exact log-likelihood of each name in {term}`nats`.

# %%
names = trained_run("autoregressive", "names", 150 if QUICK else 1500, model="transformer")
response = names.sample(20, seed=0, prompt="mar")
print("response to prompt='mar':", type(response).__name__, "of", len(response), type(response[0]).__name__)
known = set(names.train_data.text)
new = sorted({name for name in response if name not in known})
ranked = sorted(set(response), key=lambda name: -names.log_prob([name])[0])
print("new names:", ", ".join(new) or "(none)")
print("the likeliest five:", ", ".join(f"{n} ({-names.log_prob([n])[0]:.1f} nats)" for n in ranked[:5]))
glue("new_share", f"{len(new)} of {len(set(response))}")

# %% [markdown]
# Of the distinct names drawn, {glue:text}`new_share` are not in the training list: the model
# has learned how names are made, not a list of them. The ranking uses the one thing only a
# likelihood model can give: a number for how plausible each response is. (A GAN or a diffusion
# model has no cheap likelihood to rank with.)
#
# The same storyteller, given stories instead of names: trained on Tiny Shakespeare (40,000
# lines of his plays, a character a token), it has no end token to stop at, so the response
# is as long as asked, `length` characters after the prompt (`minigen sample DIR --prompt
# "ROMEO:" --length 500`). The use here: read it, and check its spelling against the plays,
# the share of the words it wrote that Shakespeare used somewhere in the training text.

# %%
story = trained_run("autoregressive", "shakespeare", 60 if QUICK else 1500)
scene = story.sample(1, seed=0, prompt="ROMEO:", length=100 if QUICK else 400)[0]
print(scene)
vocabulary = set(" ".join(story.train_data.text).split())
written = scene.split()
known = sum(word in vocabulary for word in written) / max(len(written), 1)
print(f"{known:.0%} of the {len(written)} words written are words of the training text")
glue("known_words", f"{known:.0%}")

# %% [markdown]
# {glue:text}`known_words` of the words in this scene are Shakespeare's, though the model
# spells one character at a time and was never given a word list. Larger models, trained longer
# (nanoGPT's GPU recipe: six layers, a context of 256 characters), write more convincing scenes;
# the prompt, the loop and the check stay the same.
# The code storyteller (`--data code`, Python source) answers `--prompt "def "` the same way,
# and `minigen eval` checks its answers with Python's own reader: the share whose lines
# tokenize, and whose whole text parses.
#
# ## 4 · Half an image, or a hole, as the prompt
#
# The prompt: the top half of a test digit. The model: a PixelCNN (tutorial 06), which draws
# pixels in raster order, so it can condition on the given top half exactly. The response:
# `run.sample(n, seed, given=images, mask="bottom")`, the images with their bottom halves
# filled in, the given pixels untouched. The use: answer a question the top half alone cannot
# settle, "which digit is this?", by reading each completion with the judge and taking a vote
# over several completions of the same half.

# %%
pixelcnn = trained_run("autoregressive", "digits-binary", 40 if QUICK else 500)
test = pixelcnn.test_data
n_digits, votes = (30, 3) if QUICK else (100, 5)
given = test.images[:n_digits]
completions = np.stack([pixelcnn.sample(n_digits, seed=s, given=given, mask="bottom") for s in range(votes)])
print("response to given + mask='bottom':", completions.shape[1:], "per draw;",
      "the given top halves kept exactly:", bool(np.array_equal(completions[:, :, :, :4], np.broadcast_to(
          given[:, :, :4], completions[:, :, :, :4].shape))))
reads = np.stack([judge.judge_outputs(reader, test.from_unit(c))[0].argmax(1) for c in completions])   # (votes, n)
vote = np.array([np.bincount(column, minlength=10).argmax() for column in reads.T])
truth = test.labels[:n_digits]
one_draw = float((reads[0] == truth).mean())
voted = float((vote == truth).mean())
print(f"the class of the true digit, read from one completion: {one_draw:.1%}; "
      f"from a vote over {votes} completions: {voted:.1%}")
save(prompt_gallery(given, completions[:, :10], test.images[:10]), "09_completions.png")
glue("one_draw", f"{one_draw:.0%}")
glue("voted", f"{voted:.0%}")
glue("votes", votes)

# %% [markdown]
# One completion, read by the judge, names the true class of {glue:text}`one_draw` of these
# digits; a vote over {glue:text}`votes` completions of the same half, {glue:text}`voted`. How
# far such a vote can go is set by the prompt, not the model: when the top half of a digit fits
# several classes, every model must guess (tutorial 08 measures how much half a digit tells).
#
# A hole is harder for this model. It draws pixels in raster order, so the pixels of the hole
# come before the given pixels below and beside it, which it cannot see when it draws them.
# It fills the hole anyway, exactly in the limit: it draws many candidate fills (64 by default),
# weighs each by how likely the model finds the given pixels after the hole's start once that
# fill is in place, divided by the probability of the draws themselves (importance weights),
# and keeps one candidate per image with probability proportional to its weight. The prompt:
# a test digit with its centre hidden, `mask="box:2,2,6,6"` (rows and columns 2 to 5). The use:
# read the completed digits with the judge, next to the digits with the hole filled by the
# training digits' mean pixel, a fill that knows nothing about the digit around it.

# %%
hole = "box:2,2,6,6"
hidden = hidden_mask(given.shape, hole)
painted = pixelcnn.sample(n_digits, seed=0, given=given, mask=hole)
mean_fill = np.where(hidden, pixelcnn.train_data.images.mean(axis=0), given)
assert np.array_equal(painted[~hidden], given[~hidden])                          # the given pixels, kept
read_painted, read_mean = (float((judge.judge_outputs(reader, test.from_unit(x))[0].argmax(1) == truth).mean())
                           for x in (painted, mean_fill))
print(f"the judge reads the true class of {read_painted:.1%} of the painted digits, "
      f"{read_mean:.1%} of the mean-filled ones")
shown = np.where(hidden, 0.5, given)
save(image_rows([shown[:10], painted[:10], mean_fill[:10], given[:10]],
                ["prompt (grey: the hole)", "the PixelCNN's fill", "the mean pixel", "the true digit"],
                "a test digit with a 4x4 hole, filled in"), "09_hole.png")
glue("read_painted", f"{read_painted:.0%}")
glue("read_mean", f"{read_mean:.0%}")

# %% [markdown]
# The judge reads {glue:text}`read_painted` of the painted digits correctly, and
# {glue:text}`read_mean` with the training mean in the hole. Whether one fill beats the mean
# pixel depends on the model and the data: a single draw of sixteen binary pixels is one guess,
# while the mean pixel is a soft average that the judge reads easily; several draws and a vote,
# as for the halves above, or a model of the grey digits, do better. The README's "Painting a
# hole" table compares the families' defaults on the grey digits, where every fill beats the mean.
# Diffusion paints a hole by noising the given pixels to each step's level (RePaint), and the
# VAE by a Markov chain that alternates a code given the picture and a picture given the code;
# the README's "Painting a hole" table compares the three on the same test digits.
#
# ## 5 · A melody as the prompt
#
# The prompt: the soprano of a Bach chorale from the test split, eight bars of eighth notes. The
# model: the AR-CNN of tutorial 10, which writes four voices step by step and takes any voice it
# is given as a conditioning input. The response: `run.sample(1, seed, given=roll,
# mask="alto,tenor,bass")`, a piano roll (4 voices x steps of MIDI pitches) whose soprano is the
# one given. The uses: listen to it (`minigen sample DIR --given melody.mid --mask alto,tenor,bass
# --out chorale.mid` writes a MIDI file), and check it as a music teacher would: how many of
# its notes are in the key, beside Bach's own setting of the same melody.

# %%
composer = trained_run("autoregressive", "chorales", 20 if QUICK else 400, model="arcnn")
bach = composer.test_data.rolls[0][:, :64]                                     # (4, 64): eight bars
harmonised = composer.sample(1, seed=0, given=bach, mask="alto,tenor,bass")[0]
assert np.array_equal(harmonised[0], bach[0])                                    # the melody, kept
ours, his = music.in_key_share([harmonised]), music.in_key_share([bach])
print(f"notes in the key: {ours:.0%} of the model's setting, {his:.0%} of Bach's")
save(rolls_figure([harmonised, bach], ["the soprano, harmonised by the model", "Bach's own setting"]), "09_melody.png")
glue("in_key_ours", f"{ours:.0%}")
glue("in_key_bach", f"{his:.0%}")

# %% [markdown]
# {glue:text}`in_key_ours` of the model's notes are in the key, against {glue:text}`in_key_bach`
# of Bach's (who leaves the key on purpose, for colour and for modulations). Tutorial 10 goes
# further: continuing a piece, parallel fifths, and what the likelihood says.
#
# ## What each family returns, and how it is used
#
# | family | prompts it takes | response | typical use |
# | --- | --- | --- | --- |
# | GAN | a label (`--conditional`); a caption (`--captions`) | an array of images, or of 2-D points | fast samples: one pass each |
# | VAE | a label; any masked part of an image (a Markov chain); a code z to decode or walk through | an array of images (binary draws or means) | codes: interpolate, edit, compare |
# | autoregressive, text | the beginning of a name, a scene or a program, and a length | a list of strings | completion, ranking by `log_prob` |
# | autoregressive, PixelCNN | a label; the top of an image (exactly); any other mask (importance resampling) | an array of images | exact likelihoods, completions |
# | autoregressive, music | a melody or any voices; the first bars | a piano roll, a MIDI file | harmonising, continuing |
# | diffusion | a label or a caption, with guidance; any masked part of an image | an array of images, or of points | quality, flexible conditioning |
#
# The loop is the same each time: say what you want in the data's own terms, draw, and check
# the response with something that did not make it (a reader, a likelihood, a vote). A model
# that is prompted but never checked is only half used.

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
# 1. a **prompt**: what we tell the model we want: a label ("a 7"), the beginning of a text
#    ("mar..."), part of an image (its top half);
# 2. the **model**: a trained family, which turns the prompt into a conditional distribution,
#    p(x | label), p(rest of the name | "mar"), p(bottom half | top half);
# 3. the **response**: one or more draws from that distribution, in the data's own form (an
#    array of images, a list of strings);
# 4. the **use**: something done with the response: shown to someone, checked, ranked, fed to
#    another program, or turned into an answer to a question.
#
# A discriminative model answers "which class is this?"; a generative one, prompted, *guesses
# the data for a prediction*. This chapter runs the loop three times, once per kind of prompt,
# through the same interface the command line uses: `make` and `train` build a family, a run
# folder stores it, `open_run` gives it back, and `run.sample(n, seed, **options)` answers a
# prompt (the options of `minigen sample`: `label`, `prompt`, `given` and `mask`, ...).
#
# Run it as a script (`python tutorials/09_prompts.py`, a few minutes on a CPU; `MINIGEN_QUICK=1`
# trains only briefly) or open it as a notebook.

# %%
import tempfile
from pathlib import Path

import numpy as np
from _plots import number_written, prompt_gallery
from _setup import QUICK, glue, save

from minigen.models import judge, make
from minigen.models.loop import train
from minigen.runs import open_run, write_run

if QUICK:
    judge.JUDGE_STEPS = 60          # a quick judge: the figures, not the numbers
RUNS = Path(tempfile.mkdtemp(prefix="minigen-09-"))


def trained_run(family, data, steps, **settings):
    """Train a family as `minigen train` does, write its run folder, and open it again: the
    model a user of the command line (`minigen sample DIR`) would be prompting."""
    model = make(family, data, seed=0, steps=steps, **settings)
    history, seconds = train(model, quiet=True)
    folder = RUNS / f"{family}-{data}{'-conditional' * settings.get('conditional', False)}"
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
# ## 2 · A text prefix as the prompt
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
# ## 3 · Half an image as the prompt
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
# ## What each family returns, and how it is used
#
# | family | prompts it takes | response | typical use |
# | --- | --- | --- | --- |
# | GAN | a label (`--conditional`) | an array of images, or of 2-D points | fast samples: one pass each |
# | VAE | a label; a code z to decode or walk through | an array of images (binary draws or means) | codes: interpolate, edit, compare |
# | autoregressive, text | the beginning of a text | a list of strings | completion, ranking by `log_prob` |
# | autoregressive, PixelCNN | a label; the top of an image | an array of images | exact likelihoods, exact completions |
# | diffusion | a label, with guidance; any masked part of an image | an array of images, or of points | quality, flexible conditioning |
#
# The loop is the same each time: say what you want in the data's own terms, draw, and check
# the response with something that did not make it (a reader, a likelihood, a vote). A model
# that is prompted but never checked is only half used.

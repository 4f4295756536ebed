"""How every generative family is judged on samples: one place, so the numbers compare.

    point_sample_metrics   2-D points: energy distance to the test split with its floor; on
                           8gaussians also modes covered and the high-quality share
    image_sample_metrics   labelled images: what the project's digits classifier (the judge)
                           makes of them: class entropy, confidence, and the Frechet distance of
                           its penultimate features to the test split's, with its floor; for
                           samples asked for given labels, also label_accuracy
    completion_metrics     the test images with one half hidden, filled in by the model: the
                           share the judge assigns to their true label
    caption_metrics        captioned runs (--captions): samples of prompts over every digit and
                           attribute word, the judge's label and the measured attributes
    digit_judge            that classifier, trained once per process and kept

Each number comes with its floor: the value that true samples get at the same sample size
(fresh 2-D points; for images, training images against the test split). The formulas
themselves are in minigen/metrics.py.
"""
import minigen as mg
import minigen.functional as F
from minigen import backend, metrics
from minigen.data import captions as words
from minigen.data import sample_2d
from minigen.models import make
from minigen.models.loop import train

FRESH_SEED = 99         # fresh true 2-D samples for the floor (train uses seed 0, test seed 1)


def point_sample_metrics(samples, data, test_data, prefix=""):
    """Sample metrics of 2-D points (N, 2) against ``test_data`` (the test split of ``data``)."""
    n = len(samples)
    fresh = sample_2d(data, n, seed=FRESH_SEED)
    result = {}
    if data == "8gaussians":
        cover = metrics.mode_coverage(samples, test_data.info["centers"], test_data.info["std"])
        result.update(modes=cover["modes"], hq_share=cover["hq_share"], per_mode=cover["per_mode"])
    result.update(energy_distance=metrics.energy_distance(samples, test_data.points),
                  energy_distance_floor=metrics.energy_distance(fresh, test_data.points),
                  samples=n)
    return {prefix + k: v for k, v in result.items()}


def image_sample_metrics(samples, data, train_data, test_data, prefix="", labels=None):
    """Sample metrics of images (N, C, H, W) in [0, 1], as every family's ``sample`` returns them.

    ``labels`` (N,): the class each sample was asked for (a conditional run); adds
    ``label_accuracy``, the share of each requested class the judge assigns to that class,
    averaged over the classes (and ``per_label_accuracy``, one share a class).
    Needs labels in the data (the judge is a classifier); without them, says so instead of
    inventing numbers.
    """
    if train_data.labels is None:
        return {prefix + "note": "no labels: no classifier to judge the samples"}
    judge = digit_judge(data)
    n = len(samples)
    probs, feats = judge_outputs(judge, train_data.from_unit(samples))
    test_probs, test_feats = judge_outputs(judge, test_data.images)
    _, train_feats = judge_outputs(judge, train_data.images[:n])
    classes = train_data.num_classes
    real = metrics.class_statistics(test_probs, classes)          # what real digits get
    result = {**metrics.class_statistics(probs, classes),
              "frechet_distance": metrics.frechet_distance(feats, test_feats),
              "frechet_floor": metrics.frechet_distance(train_feats, test_feats),
              "test_class_entropy": real["class_entropy"], "test_mean_confidence": real["mean_confidence"],
              "judge_accuracy": judge.accuracy, "samples": n}
    if labels is not None:
        per_label = metrics.label_accuracy(probs, labels, classes)
        result.update(label_accuracy=sum(per_label) / len(per_label), per_label_accuracy=per_label)
    return {prefix + k: v for k, v in result.items()}


def completion_metrics(complete, data, test_data, mask="bottom"):
    """The test images with the ``mask`` half hidden, filled in by ``complete(given, mask)``
    (given and result in [0, 1], as ``minigen sample --given`` takes and returns them), judged:
    ``completion_accuracy``, the share the judge assigns to the image's true label."""
    if test_data.labels is None:
        return {"completion_note": "no labels: no classifier to judge the completions"}
    judge = digit_judge(data)
    filled = complete(test_data.to_unit(test_data.images), mask)
    probs, _ = judge_outputs(judge, test_data.from_unit(filled))
    return {"completion_accuracy": float((probs.argmax(1) == test_data.labels).mean()),
            "completion_mask": mask, "completions": len(filled)}


CAPTION_SAMPLES = 20    # samples of each prompt the caption metrics ask


def caption_metrics(sample, captions, train_data, per_prompt=None):
    """How well a captioned run draws what its prompt says. ``sample(prompts)``: one image in
    [0, 1] per prompt (a list of str); ``captions``: the run's Captions (its training terciles).

    Asked, ``per_prompt`` samples each (default CAPTION_SAMPLES): every digit with each ink word alone ("a thin seven": 30
    prompts), with each slant alone ("a seven leaning left": 30), and with both ("a thin seven
    leaning left": 90). Each sample's attributes are measured against the terciles of the digit
    asked for (a third of that digit's training images has each word, so chance is 1/3):

        caption_label_accuracy    the judge's label is the digit asked for (every sample)
        caption_ink_match         the measured ink word is the one asked for (ink alone)
        caption_slant_match       the measured slant is the one asked for (slant alone)
        caption_both_ink_match, caption_both_slant_match   each, on the prompts that ask both
        caption_both_match        ink and slant both as asked (prompts with both; chance 1/9)
        caption_all_match         the judge's label, ink and slant all as asked (prompts with both)
    """
    digits, inks = range(len(words.DIGITS)), range(len(words.INK))
    per_prompt = CAPTION_SAMPLES if per_prompt is None else per_prompt
    asked = ([("ink", d, i, None) for d in digits for i in inks] + [("slant", d, None, k) for d in digits for k in inks]
             + [("both", d, i, k) for d in digits for i in inks for k in inks])
    group, digit, ink, slant = (backend.host.repeat([-1 if v is None else v for v in column], per_prompt)
                                for column in zip(*asked))                     # (N,) each; -1: not asked
    x = sample([words.caption(*a[1:]) for a in asked for _ in range(per_prompt)])   # (N, 1, H, W) in [0, 1]
    probs, _ = judge_outputs(digit_judge(train_data.name), train_data.from_unit(x))
    label_ok = probs.argmax(1) == digit
    ink_ok, slant_ok = (measured == wanted for measured, wanted in zip(captions.attributes(x, digit), (ink, slant)))
    both = group == "both"
    return {"caption_label_accuracy": float(label_ok.mean()), "caption_ink_match": float(ink_ok[group == "ink"].mean()),
            "caption_slant_match": float(slant_ok[group == "slant"].mean()),
            "caption_both_ink_match": float(ink_ok[both].mean()), "caption_both_slant_match": float(slant_ok[both].mean()),
            "caption_both_match": float((ink_ok & slant_ok)[both].mean()),
            "caption_all_match": float((label_ok & ink_ok & slant_ok)[both].mean()),
            "caption_prompts": len(asked), "caption_samples": len(x)}


# ----- the judge of digit samples: the project's own classifier -----
_JUDGES = {}
JUDGE_STEPS = None  # None: the classifier family's default number of steps (tests use fewer)


def digit_judge(data, steps=None, split=None):
    """The classifier family's default model trained on ``data`` (seed 0, on the CPU, its
    default settings): the same judge for every run, every family, every seed and every device.

    Trained when first asked for in a process (about 15 s for digits on one core) and kept
    for the rest of it; nothing is written to disk. The CPU generator's state is restored
    afterwards, so judging a model does not change what it trains or samples next.

    ``split`` = (train, test) Datasets of ``data``: train it on those instead of the data set's
    splits, and judge ``data`` with it for the rest of the process. The holdout tools pass
    (fit, held), so that the judge has not seen the digits it judges, as on the test split
    (the judge of the whole training split scores the last 360 training digits 1.000, the
    test digits 0.939).
    """
    steps = JUDGE_STEPS if steps is None else steps
    if split is not None or (data, steps) not in _JUDGES:
        saved = backend.get_rng_state("cpu")
        judge = make("classifier", data, split=split, device="cpu", seed=0, steps=steps)
        train(judge, quiet=True)
        judge.accuracy = judge.evaluate()["accuracy"]
        backend.set_rng_state("cpu", saved)
        _JUDGES[data, steps] = judge
    return _JUDGES[data, steps]


def judge_outputs(judge, images, batch_size=500):
    """(class probabilities (N, C), penultimate features (N, F)) as NumPy arrays."""
    probs, feats = [], []
    with mg.no_grad():
        for i in range(0, len(images), batch_size):
            h = judge.net.features(mg.tensor(images[i:i + batch_size], device="cpu"))   # (B, F)
            probs.append(F.softmax(judge.net.head(h)))                              # (B, C)
            feats.append(h)
    return mg.concat(probs).numpy(), mg.concat(feats).numpy()

"""Captions for the digits: words made from the label and from attributes measured on the image.

Every training digit gets a caption "a [INK] DIGIT [SLANT]", e.g. "a thick seven leaning right":

    DIGIT   its label's name: zero, one, ..., nine
    INK     thin, medium, thick: the total ink sum_rc p(r, c) (pixels p in [0, 1]) against the
            terciles of that digit's training images
    SLANT   leaning left, upright, leaning right: the ink's second moments give the least-squares
            line of column on row, c = c0 + b r, weighted by ink; slant = -b, how far the ink
            moves right per row upward (rows count downward), against that digit's terciles

Both thresholds are per digit: a seven's diagonal stroke makes every seven "lean right" next to
a one, and a zero has more ink than a one; against its own digit's terciles each word covers a
third of that digit's training images, so chance is 1/3 for every prompt, and every (digit,
ink, slant) caption has training examples. The terciles are measured on the training split only
(``Captions(train)``) and measure samples and test digits alike.

A prompt is parsed with the same grammar (``parse``): "a" or "an", then the words in any order;
an attribute left out means "any" (training drops each attribute word at a rate, so the model
learns p(x | the words given), the marginal over the word left out; guided sampling favours its
typical members: "a seven" draws mostly medium, upright sevens, RESULTS.md "Captions"); the empty
prompt means "no caption", the unconditional model.
Refused, with the vocabulary: an unknown word, two words of one slot ("a thick thin seven"),
no digit name in a non-empty prompt, "leaning" without left or right.

Tokens: a caption is SLOTS word ids, [<caption>, ink, digit, slant word, slant word], <pad> (0)
where a slot has no word ("a seven": [<caption>, <pad>, seven, <pad>, <pad>]); the text encoder
(models/captions.py) pools the words it is given, so their order does not matter.
"""
import numpy as np

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
INK = ("thin", "medium", "thick")
SLANT = ("leaning left", "upright", "leaning right")
ARTICLES = ("a", "an")
VOCABULARY = ("<pad>", "<caption>", *DIGITS, *INK, "leaning", "left", "upright", "right")   # the token ids
PAD, START = 0, 1
SLOTS = 5
SLOT_OF = {"thin": 1, "medium": 1, "thick": 1, "leaning": 3, "upright": 3, "left": 4, "right": 4}   # digits: 2


# ----- attributes measured on images (N, 1, H, W) in [0, 1] -----
def ink(images):
    """The total ink of each image, (N,): the sum of its pixels."""
    return np.asarray(images, dtype=np.float64).reshape(len(images), -1).sum(axis=1)


def slant(images):
    """How far the ink moves right per row upward, (N,): -b of the ink-weighted least-squares line
    c = c0 + b r, b = sum p (r - rbar)(c - cbar) / sum p (r - rbar)^2; 0 for an image without ink."""
    p = np.asarray(images, dtype=np.float64)[:, 0]                               # (N, H, W)
    rows, cols = np.indices(p.shape[1:], dtype=np.float64)                       # (H, W) each
    mass = np.maximum(p.sum(axis=(1, 2)), 1e-12)                                 # (N,)
    rbar = (p * rows).sum(axis=(1, 2)) / mass                                    # (N,)
    cbar = (p * cols).sum(axis=(1, 2)) / mass
    dr, dc = rows - rbar[:, None, None], cols - cbar[:, None, None]              # (N, H, W)
    var = (p * dr * dr).sum(axis=(1, 2))
    return -(p * dr * dc).sum(axis=(1, 2)) / np.maximum(var, 1e-12)


def tercile_bins(values, digits, cuts):
    """0, 1 or 2 per image, (N,): below, between or above its digit's two cuts (cuts (10, 2))."""
    low, high = cuts[digits, 0], cuts[digits, 1]
    return (values >= low).astype(np.int64) + (values >= high)


class Captions:
    """The captions of one training split: its per-digit terciles, and each image's attributes."""

    def __init__(self, train):
        """``train``: the digits Dataset the terciles are measured on (the training split, or the
        fit part of a holdout)."""
        if train.name != "digits" or train.labels is None:
            raise ValueError(f"captions: are made for the labelled grey digits, not {train.name}")
        unit, digits = train.to_unit(train.images), train.labels
        self.cuts = {}                                                           # attribute -> (10, 2)
        for name, measure in (("ink", ink), ("slant", slant)):
            values = measure(unit)
            self.cuts[name] = np.array([np.quantile(values[digits == d], [1 / 3, 2 / 3]) for d in range(len(DIGITS))])
        self.tokens = tokens(digits, *self.attributes(unit, digits))           # (N, SLOTS): every word given

    def attributes(self, images, digits):
        """(ink, slant) bins of images (N, 1, H, W) in [0, 1], each 0..2, against the terciles of
        ``digits`` (N,), the digit each image is (or was asked to be)."""
        digits = np.asarray(digits, dtype=np.int64)
        return (tercile_bins(ink(images), digits, self.cuts["ink"]),
                tercile_bins(slant(images), digits, self.cuts["slant"]))


# ----- the grammar: captions as text, and back -----
def caption(digit, ink=None, slant=None):
    """The caption of a digit 0..9 with ink and slant bins 0..2 (None: left out): "a thick seven leaning right"."""
    words = ["a", INK[ink] if ink is not None else None, DIGITS[digit], SLANT[slant] if slant is not None else None]
    text = " ".join(w for w in words if w)
    return "an" + text[1:] if DIGITS[digit] == "eight" and ink is None else text


def parse(prompt):
    """A prompt -> (digit, ink, slant), each an int or None ("any"); the empty prompt -> (None, None, None)."""
    if not isinstance(prompt, str):
        raise ValueError(f"--prompt: a caption such as 'a thick seven leaning right', got {prompt!r}")
    words, found = prompt.lower().replace(",", " ").split(), {}
    while words:
        word = words.pop(0)
        if word == "leaning":
            if not words or words[0] not in ("left", "right"):
                raise ValueError(f"--prompt {prompt!r}: 'leaning' goes with 'left' or 'right'")
            word += " " + words.pop(0)
        slot = next((name for name, table in (("digit", DIGITS), ("ink", INK), ("slant", SLANT)) if word in table), None)
        if slot is None and word not in ARTICLES:
            raise ValueError(f"--prompt {prompt!r}: unknown word {word!r}; the words are {', '.join(ARTICLES)}, "
                             f"{', '.join(DIGITS)}, {', '.join(INK)}, {', '.join(SLANT)}")
        if slot in found:
            raise ValueError(f"--prompt {prompt!r}: two {slot} words ({found[slot][1]!r} and {word!r}) contradict "
                             f"each other; give at most one")
        if slot is not None:
            table = {"digit": DIGITS, "ink": INK, "slant": SLANT}[slot]
            found[slot] = (table.index(word), word)
    if found and "digit" not in found:
        raise ValueError(f"--prompt {prompt!r}: name the digit ({', '.join(DIGITS)}), e.g. 'a thin two leaning left'")
    return tuple(found[slot][0] if slot in found else None for slot in ("digit", "ink", "slant"))


def tokens(digits, inks=None, slants=None):
    """Word ids of captions, (N, SLOTS) int64: [<caption>, ink, digit, slant words]; a digit, ink
    or slant given as None (or -1, in an array) is left out (<pad>); no digit: the empty caption."""
    n = len(digits)
    out = np.full((n, SLOTS), PAD, dtype=np.int64)
    out[:, 0] = START
    for k, (digit, ink_, slant_) in enumerate(zip(digits, [None] * n if inks is None else inks,
                                                  [None] * n if slants is None else slants)):
        words = [] if digit is None or digit < 0 else [DIGITS[digit]]
        if words and ink_ is not None and ink_ >= 0:
            words.append(INK[ink_])
        if words and slant_ is not None and slant_ >= 0:
            words += SLANT[slant_].split()
        for word in words:
            out[k, SLOT_OF.get(word, 2)] = VOCABULARY.index(word)
    return out

"""Data as the autoregressive models see it: names as tokens, images as pixel levels.

Names (models/text.py). A name is its characters between two boundary tokens 0 (". e m m a ."),
each character a token 1..V-1 (the data's vocabulary, sorted), padded with the boundary to the
longest name's length + 2, so that a batch of names is one (N, max_len + 2) array of ints.

Pixels (models/pixelcnn.py). The PixelCNN sees a pixel as its level in [0, 1]: binary pixels
as 0 or 1 (digits-binary as it is; ``idx:`` images, in [-1, 1], binarised at 0), and the grey
digits, whose scanner wrote 17 intensities 0..16, as k / 16: a discrete pixel, so that its
likelihood is exact.
"""
import numpy as np

from minigen.objectives.autoregressive import BOUNDARY


class Tokenizer:
    """Names <-> tokens for the characters ``vocab`` and names of at most ``max_len`` of them."""

    def __init__(self, vocab, max_len):
        self.vocab = (".",) + tuple(vocab)                   # token 0 is the boundary
        self.index = {ch: i for i, ch in enumerate(self.vocab)}
        self.max_len = max_len

    def encode(self, names):
        """Names -> (tokens (N, max_len + 2), lengths (N,)), int64 host arrays. A character
        outside the vocabulary, or a name longer than max_len, is a ValueError naming it."""
        tokens = np.zeros((len(names), self.max_len + 2), dtype="int64")
        for row, name in enumerate(names):
            if len(name) > self.max_len:
                raise ValueError(f"{name!r} has {len(name)} characters; this model's names have at most "
                                 f"{self.max_len}")
            for col, ch in enumerate(name):
                if ch not in self.index or ch == ".":
                    raise ValueError(f"{name!r}: the character {ch!r} is not in the vocabulary "
                                     f"({''.join(self.vocab[1:])})")
                tokens[row, col + 1] = self.index[ch]
        return tokens, np.asarray([len(name) for name in names], dtype="int64")

    def decode(self, rows):
        """Rows of tokens after the first boundary (lists of ints, each with a boundary) -> names."""
        return ["".join(self.vocab[i] for i in row[:row.index(BOUNDARY)]) for row in rows]


def pixel_levels(images, data, levels, what="log_prob"):
    """Host images in ``data``'s own values -> the PixelCNN's pixels, float32 levels in [0, 1]:
    binary data as it is; [-1, 1] images with 2 levels (idx:) binarised at 0; grey ones as
    k / (levels - 1) (off that grid: a ValueError naming ``what``)."""
    if data.binary:
        return images
    if levels == 2:
        return (images > 0).astype("float32")
    return quantised(data.to_unit(images), levels, what, data)


def unit_levels(unit, data, levels, what="--given"):
    """Host images in [0, 1] (as ``minigen sample --given`` takes them) -> the PixelCNN's pixels:
    2 levels binarised at 0.5, more the nearest level (off the grid: a ValueError)."""
    if levels == 2:
        return (unit > 0.5).astype("float32")
    return quantised(unit, levels, what, data)


def quantised(unit, levels, what, data):
    """[0, 1] host images -> the same as levels k / (levels - 1), float32; a value more than
    1e-3 of a level from the grid is a ValueError naming ``what``."""
    top = levels - 1
    k = np.rint(unit * top)
    if not np.allclose(unit * top, k, rtol=0, atol=1e-3):
        raise ValueError(f"{what}: {data.name} pixels take {levels} levels, k / {top} in [0, 1] "
                         f"(in the data's own values: {data.value_range} in {levels} equal steps); "
                         f"these lie between them")
    return (k / top).astype("float32")

"""The text encoder of captioned runs (--captions): caption words -> one vector a network is conditioned on.

A caption is a few word ids (minigen/data/captions.py: [<caption>, ink, digit, two slant words],
<pad> where a word is left out). The encoder is the smallest that reads them:

    e_w = E[w]                          a learned vector per word (E: (V, d))
    h   = mean of e_w over the words    a bag of words: "a thin two" and "a two thin" are one caption
    c   = LayerNorm(W2 SiLU(W1 h + b1) + b2)     (B, width): in a label embedding's place

The LayerNorm gives c the scale of a label embedding's rows (N(0, 1) entries): without it the
caption's vector comes out about ten times smaller than z beside it in the GAN's generator, which
then all but ignores it (RESULTS.md, "Captions").

The <caption> token is always there, so the empty caption (no words: classifier-free guidance's
"no caption") is h = E[<caption>], a learned vector of its own, as "no label" is a row of its own.
A real text-to-image model reads free text with a large transformer trained on hundreds of
millions of image-caption pairs (CLIP, T5); the mechanism it plugs into is the same.

Training drops words (``drop_words``): each attribute word with probability p_attribute, so that a
prompt without it means "any" (the model learns the marginal over it; guided, it draws that
marginal's typical members), and the whole caption with
probability p_uncond, so that one network also learns the unconditional model.
"""
import minigen as mg
from minigen import nn
from minigen.data.captions import PAD, VOCABULARY


class CaptionEncoder(nn.Module):
    """Word ids (B, L) -> (B, width): word embeddings, mean-pooled over the words given (not <pad>),
    then Linear, SiLU, Linear, LayerNorm. ``zero``: the LayerNorm's gain and bias start at 0 (the
    encoder then gives 0: a projection discriminator starts unconditional)."""

    def __init__(self, width, dim=32, vocabulary=VOCABULARY, zero=False):
        super().__init__()
        self.words = nn.Embedding(len(vocabulary), dim)
        self.body = nn.Sequential(nn.Linear(dim, width), nn.SiLU(), nn.Linear(width, width), nn.LayerNorm(width))
        if zero:
            nn.init.zeros_(self.body[-1].weight)
            nn.init.zeros_(self.body[-1].bias)

    def forward(self, tokens):
        ids = tokens.data if isinstance(tokens, mg.Tensor) else tokens
        if ids.ndim != 2:
            raise ValueError(f"CaptionEncoder: expects word ids (B, L), got shape {tuple(ids.shape)}")
        e = self.words(ids)                                                      # (B, L, d)
        given = mg.tensor(ids != PAD, dtype=e.dtype, device=e.device).reshape(*ids.shape, 1)      # (B, L, 1)
        h = (e * given).sum(axis=1) / given.sum(axis=1)                          # (B, d): the mean word
        return self.body(h)                                                      # (B, width)


def condition_table(condition, width, null=False, zero=False):
    """How a network sees its condition, as vectors (B, width): ``condition`` None (unconditional): None;
    C classes (an int): an nn.Embedding of C rows (C + 1 with ``null``: row C, "no label"); a caption
    vocabulary (a tuple of words, --captions): a CaptionEncoder (its empty caption is "no caption").
    ``zero``: the vectors start at 0."""
    if condition is None:
        return None
    if isinstance(condition, int):
        table = nn.Embedding(condition + bool(null), width)
        if zero:
            nn.init.zeros_(table.weight)
        return table
    return CaptionEncoder(width, vocabulary=condition, zero=zero)


def drop_words(tokens, u, p_attribute, p_uncond):
    """tokens (B, 5) int Tensor -> the same with words dropped (<pad>): the ink word where
    u[:, 0] < p_attribute, the slant words where u[:, 1] < p_attribute, and every word but <caption>
    where u[:, 2] < p_uncond. u (B, 3): uniform draws in [0, 1)."""
    for name, p in (("p_attribute", p_attribute), ("p_uncond", p_uncond)):
        if not 0 <= p < 1:
            raise ValueError(f"{name}: a word's dropout rate must be in [0, 1), got {p}")
    if tuple(u.shape) != (tokens.shape[0], 3):
        raise ValueError(f"drop_words: the draws have shape {u.shape}, expected ({tokens.shape[0]}, 3)")
    xp, ids, u = tokens.xp, tokens.data, u.data
    ink, slant, whole = u[:, 0] < p_attribute, u[:, 1] < p_attribute, u[:, 2] < p_uncond   # (B,) each
    drop = xp.stack([xp.zeros_like(whole), ink | whole, whole, slant | whole, slant | whole], axis=1)   # (B, 5)
    return mg.tensor(xp.where(drop, PAD, ids), device=tokens.device)

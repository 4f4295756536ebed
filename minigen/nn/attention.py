"""Causal self-attention and the pre-norm transformer block, written as nanoGPT writes them.

Shapes: B batch, T sequence length, C = d_model channels, H heads of size D = C / H.

The KV cache. Sampling writes one position at a time, and position t's output needs the keys
and values of positions 0..t, of which only t's are new: the others are what earlier steps
computed. So both layers take a ``cache``, a list (empty at the start) in which the attention
keeps the keys and values (B, H, t, D) of the positions it has seen; called with the one new
position (B, 1, C) and its cache, a layer appends that position's keys and values and returns
the same numbers its full forward gives at that position, for one position's work.
"""
from minigen import functional as F
from minigen.nn.activation import GELU, Dropout
from minigen.nn.linear import Linear
from minigen.nn.module import Module, Sequential
from minigen.nn.norm import LayerNorm
from minigen.ops import concat


class CausalSelfAttention(Module):
    """Each position t mixes the values of positions 0..t, weighted by query-key similarity.

    One fused Linear makes the queries, keys and values of every head at once (C -> 3C);
    the heads attend independently (scale 1/sqrt(D), causal mask); their outputs are
    concatenated and projected back (C -> C). ``dropout`` is applied to that output
    (nanoGPT's resid_dropout); F.scaled_dot_product_attention does not expose the attention
    weights, so there is no dropout on them.
    """

    def __init__(self, d_model, n_heads, dropout=0.0, device=None, dtype=None):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"CausalSelfAttention: d_model {d_model} is not divisible by n_heads {n_heads}")
        self.d_model, self.n_heads = d_model, n_heads
        self.qkv = Linear(d_model, 3 * d_model, device=device, dtype=dtype)   # q, k, v for all heads
        self.proj = Linear(d_model, d_model, device=device, dtype=dtype)      # heads back to C
        self.dropout = Dropout(dropout)

    def forward(self, x, cache=None):
        """x (B, T, C) -> (B, T, C). With a ``cache`` (module docstring): x is the one position
        (B, 1, C) after the t positions the cache holds; their keys and values are reused."""
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"CausalSelfAttention: expected (B, T, {self.d_model}), got shape {x.shape}")
        B, T, C = x.shape
        H, D = self.n_heads, C // self.n_heads
        qkv = self.qkv(x).reshape(B, T, 3, H, D).transpose(2, 0, 3, 1, 4)   # (3, B, H, T, D)
        q, k, v = qkv[0], qkv[1], qkv[2]                                    # each (B, H, T, D)
        if cache is None:
            y = F.scaled_dot_product_attention(q, k, v, causal=True)        # (B, H, T, D)
        else:                                                               # the one position t:
            k, v = remember(cache, k, v, T)                                 # keys, values (B, H, t+1, D)
            y = F.scaled_dot_product_attention(q, k, v)                     # (B, H, 1, D); none is after t
        y = y.transpose(0, 2, 1, 3).reshape(B, T, C)                        # heads side by side: (B, T, C)
        return self.dropout(self.proj(y))                                   # (B, T, C)

    def extra_repr(self):
        return f"d_model={self.d_model}, n_heads={self.n_heads}"


def remember(cache, k, v, positions):
    """Append one position's keys and values (B, H, 1, D) to ``cache`` ([] or [keys, values]
    (B, H, t, D)); returns the keys and values of all t + 1 positions."""
    if positions != 1:
        raise ValueError(f"CausalSelfAttention: a cache takes one new position at a time, got {positions}")
    if cache:
        k, v = concat([cache[0], k], axis=2), concat([cache[1], v], axis=2)
    cache[:] = [k, v]
    return k, v


class TransformerBlock(Module):
    """Pre-norm block:  x = x + attn(ln1(x));  x = x + mlp(ln2(x)).  (B, T, C) -> (B, T, C).

    The MLP widens to mlp_ratio * C, applies GELU, and projects back. Normalising before
    each sub-layer (GPT-2) leaves the residual path x -> x untouched, which keeps deep
    stacks trainable.
    """

    def __init__(self, d_model, n_heads, mlp_ratio=4, dropout=0.0, device=None, dtype=None):
        super().__init__()
        self.ln1 = LayerNorm(d_model, device=device, dtype=dtype)
        self.attn = CausalSelfAttention(d_model, n_heads, dropout, device=device, dtype=dtype)
        self.ln2 = LayerNorm(d_model, device=device, dtype=dtype)
        self.mlp = Sequential(
            Linear(d_model, mlp_ratio * d_model, device=device, dtype=dtype),  # (B, T, 4C)
            GELU(),
            Linear(mlp_ratio * d_model, d_model, device=device, dtype=dtype),  # (B, T, C)
            Dropout(dropout),
        )

    def forward(self, x, cache=None):
        """``cache``: the attention's, to run one new position (B, 1, C) (module docstring)."""
        x = x + self.attn(self.ln1(x), cache)                               # (B, T, C)
        x = x + self.mlp(self.ln2(x))                                       # (B, T, C)
        return x

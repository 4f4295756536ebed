"""minigen's attention (minigen/functional.py: scaled_dot_product_attention, fused in minigen/ops/linalg.py)."""
from minigen.functional import scaled_dot_product_attention


def causal_attention(q, k, v):
    return scaled_dot_product_attention(q, k, v, causal=True)

"""minigen's attention (minigen/functional.py: scaled_dot_product_attention, fused in minigen/ops/linalg.py)."""
import minigen.functional as F


def causal_attention(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, causal=True)

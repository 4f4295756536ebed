"""minigen's forward process (minigen/objectives/denoising.py: q_sample(x0, eps, abar), another order)."""
from minigen.objectives.denoising import q_sample as noised
from minigen.ops import lift


def q_sample(x0, alpha_bar, eps):
    abar = lift(alpha_bar, x0)
    abar = abar.reshape(*abar.shape, *[1] * (x0.ndim - abar.ndim))     # (B,) -> (B, 1, ..., 1)
    return noised(x0, eps, abar)

"""minigen's forward process (minigen/objectives/denoising.py: q_sample(x0, eps, abar), another order)."""
from minigen.objectives.denoising import q_sample as noised
from minigen.ops import lift


def q_sample(x0, alpha_bar, eps):
    return noised(x0, eps, lift(alpha_bar, x0))

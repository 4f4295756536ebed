"""minigen's DDIM step with eta = 0 (minigen/objectives/denoising.py: ddim_step)."""
from minigen.objectives.denoising import ddim_step as minigen_ddim_step
from minigen.ops import lift


def ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev):
    return minigen_ddim_step(x_t, eps, lift(alpha_bar_t, x_t), lift(alpha_bar_prev, x_t))

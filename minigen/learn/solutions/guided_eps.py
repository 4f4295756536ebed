"""minigen's classifier-free guidance (minigen/objectives/denoising.py)."""
from minigen.objectives.denoising import guided_eps  # noqa: F401

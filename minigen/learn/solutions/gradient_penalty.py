"""minigen's WGAN-GP penalty (minigen/objectives/minimax.py: gradient_penalty)."""
from minigen.objectives.minimax import gradient_penalty  # noqa: F401

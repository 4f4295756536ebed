"""minigen's discriminator loss and non-saturating generator loss (minigen/objectives/minimax.py)."""
from minigen.objectives.minimax import discriminator_loss  # noqa: F401
from minigen.objectives.minimax import generator_loss_nonsaturating as generator_loss  # noqa: F401

"""minigen's reparameterisation (minigen/objectives/elbo.py)."""
from minigen.objectives.elbo import reparameterize  # noqa: F401

"""minigen's importance-weighted bound (minigen/objectives/elbo.py)."""
from minigen.objectives.elbo import iwae_bound  # noqa: F401

"""minigen's KL against the prior (minigen/objectives/elbo.py)."""
from minigen.objectives.elbo import kl_standard_normal  # noqa: F401

"""minigen's exact likelihood of binary pixels (minigen/objectives/autoregressive.py: bernoulli_nll)."""
from minigen.objectives.autoregressive import bernoulli_nll  # noqa: F401

"""minigen's layer norm (minigen/functional.py: layer_norm, fused in minigen/ops/reduce.py: Normalize)."""
from minigen.functional import layer_norm  # noqa: F401

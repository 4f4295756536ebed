"""minigen's Sigmoid primitive (minigen/ops/unary.py)."""
from minigen.ops.unary import Sigmoid  # noqa: F401

"""minigen's sum_to (minigen/ops/shape.py: SumTo, the adjoint of broadcast_to)."""
from minigen.ops.shape import sum_to  # noqa: F401

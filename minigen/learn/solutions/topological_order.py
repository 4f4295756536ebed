"""minigen's graph walk (minigen/autograd.py: _topological_order, what backprop walks in reverse)."""
from minigen.autograd import _topological_order as topological_order  # noqa: F401

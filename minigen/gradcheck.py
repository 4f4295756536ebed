"""Numerical checks of analytic gradients: central differences in float64.

gradcheck compares, for every element x_i of every input that requires grad,

    analytic   d(w . f(x))/dx_i             from backward()
    numeric    (w . f(x + eps e_i) - w . f(x - eps e_i)) / (2 eps)

where w is a fixed random weight of f's output shape (a random projection, so that one
backward pass checks the whole Jacobian against one direction, and a wrong entry almost
surely shows). gradgradcheck runs gradcheck on x -> d(w . f(x))/dx, built with
create_graph=True: the second derivative, checked the same way.
"""
import itertools

from minigen import backend, ops
from minigen.autograd import grad
from minigen.tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with central differences."""


def _projection(out):
    """A fixed random weight shaped like ``out`` (the same on every call)."""
    values = backend.fixed_normal(out.shape, seed=0)
    return Tensor(values, dtype=out.dtype, device=out.device)


def _checked_inputs(inputs, name):
    inputs = list(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError(f"{name}: no input requires grad")
    for t in checked:
        if t.dtype != backend.dtype("float64"):
            raise TypeError(f"{name}: inputs must be float64 for central differences, got {t.dtype} "
                            f"(shape {t.shape})")
    return inputs, checked


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4):
    """True if fn's analytic gradients match central differences; else raise with the worst entry."""
    inputs, checked = _checked_inputs(inputs, "gradcheck")
    out = fn(*inputs)
    w = _projection(out)
    analytic = grad((out * w).sum(), checked) if out.requires_grad else [None] * len(checked)

    def objective():
        return float((fn(*inputs).data * w.data).sum())

    worst = None
    for k, (x, a) in enumerate(zip(checked, analytic)):
        a = backend.to_host(a.data) if a is not None else None
        for index in itertools.product(*map(range, x.shape)):
            original = x.data[index].item()
            x.data[index] = original + eps
            plus = objective()
            x.data[index] = original - eps
            minus = objective()
            x.data[index] = original
            numeric = (plus - minus) / (2 * eps)
            value = 0.0 if a is None else float(a[index])
            excess = abs(value - numeric) - (atol + rtol * abs(numeric))
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, k, index, value, numeric)
    if worst is not None:
        _, k, index, value, numeric = worst
        raise GradcheckError(
            f"gradcheck: input {k} (shape {checked[k].shape}) at index {index}: analytic {value:.10g} "
            f"vs numeric {numeric:.10g} (|diff| {abs(value - numeric):.3g} > atol {atol} + rtol {rtol} * |numeric|)")
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4):
    """gradcheck of the first derivative (built with create_graph=True): second order."""
    inputs, checked = _checked_inputs(inputs, "gradgradcheck")
    w = _projection(fn(*inputs))

    def first_derivative(*xs):
        out = fn(*xs)
        if not out.requires_grad:
            return ops.concat([ops.reshape(t * 0, -1) for t in checked])
        grads = grad((out * w).sum(), checked, create_graph=True)
        return ops.concat([ops.reshape(g, -1) for g in grads])

    return gradcheck(first_derivative, inputs, eps, atol, rtol)

"""Reverse-mode automatic differentiation: Function, the graph walk, no_grad, grad().

A primitive is a subclass of Function with two methods side by side:

    forward(*arrays)  -> array       on raw xp arrays (NumPy or CuPy), the fast part
    backward(gy)      -> gradients   on Tensors, one per input (None where not needed)

Because backward is written with Tensor operations, running it while the graph is being
recorded (``create_graph=True``) builds a graph of the gradient itself: that is double
backward, for free. Running it under ``no_grad`` (the default) records nothing, so the
first-order backward pass costs no more than the arithmetic.

The graph: a Tensor made by a primitive keeps that Function in ``_ctx``. The Function keeps
its ``parents``, the nodes its inputs' gradients flow into: the Function that made an input,
or the input itself when it is a leaf. It keeps the input Tensors themselves (``inputs``)
only when its backward reads them, and its output's array only when its backward reads
that: a ReLU keeps its output, not its input, so the pre-activation is freed as soon as
the forward pass is done with it, as in PyTorch. ``backward`` sorts the graph
topologically (depth-first search) and walks it once in reverse, as micrograd does.
"""
from minigen import backend
from minigen.tensor import Tensor, ones_like, zeros_like

_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


class _GradMode:
    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        global _grad_enabled
        self.previous, _grad_enabled = _grad_enabled, self.enabled

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.previous
        return False


def no_grad():
    """``with mg.no_grad():`` -- operations inside record no graph (inference, updates)."""
    return _GradMode(False)


def enable_grad():
    return _GradMode(True)


class Function:
    """A differentiable primitive. Subclasses define forward (arrays) and backward (Tensors).

    Inside forward, ``self.xp`` is the array module (numpy or cupy) of the inputs.
    Inside backward: ``self.needs`` says which inputs want a gradient and ``self.shapes``
    gives their shapes; ``self.inputs`` are the input Tensors, kept only when the class
    says ``saves_inputs = True`` (the default), and ``self.output`` is the output Tensor,
    kept only when it says ``saves_output = True``. Anything else backward needs, forward
    stores on ``self``. Once a backward pass has gone through the node it lets go of all of
    it (``released``), unless that pass was told to retain the graph.
    """

    saves_inputs = True
    saves_output = False
    parents = ()
    released = False

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError

    @property
    def output(self):
        """The output as a Tensor of this node (a new wrapper of the kept array: the graph
        is made of Functions, so it is the same node as the tensor forward returned)."""
        out = Tensor._make(self._out_data, True)
        out._ctx = self
        return out

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays; record the node when a gradient is wanted."""
        fn = object.__new__(cls)
        arrays = [t.data for t in inputs]
        fn.xp = backend.array_module(arrays[0])
        if len(arrays) > 1:
            check_same_device(cls, inputs)
        try:
            out = backend.as_array(fn.forward(*arrays, **params))
        except (ValueError, TypeError, IndexError) as exc:
            raise _op_error(cls, inputs, exc) from None
        if _grad_enabled:
            needs = tuple([t.requires_grad for t in inputs])
            if True in needs:
                return fn._record(inputs, arrays, needs, out)
        return Tensor._make(out, False)

    def _record(self, inputs, arrays, needs, out):
        """Make this Function the node of its output: its parents, and what its backward reads."""
        self.needs = needs
        self.parents = tuple([(t if t._ctx is None else t._ctx) if t.requires_grad else None for t in inputs])
        self.shapes = tuple([a.shape for a in arrays])
        if self.saves_inputs:
            self.inputs = inputs
        if self.saves_output:
            self._out_data = out
        result = Tensor._make(out, True)
        result._ctx = self
        return result

    def release(self):
        """Let go of everything backward needed (inputs, saved arrays, parents)."""
        self.__dict__.clear()
        self.released = True


class OpError(ValueError):
    """Bad input to an op: the message names the op and the shapes, dtypes and devices."""


class OpIndexError(OpError, IndexError):
    """An index out of range: still an IndexError (iteration and ``except IndexError`` rely on it)."""


class OpTypeError(OpError, TypeError):
    """An argument of the wrong type: still a TypeError."""


def describe(tensors):
    """'(2, 3) float32 on cpu and (4,) float32 on cpu' -- for error messages."""
    return " and ".join(f"{tuple(t.shape)} {t.dtype} on {t.device}" for t in tensors)


def op_name(cls):
    return getattr(cls, "name", cls.__name__.lower())


def _op_error(cls, inputs, exc):
    kind = (OpIndexError if isinstance(exc, IndexError) else
            OpTypeError if isinstance(exc, TypeError) else OpError)
    return kind(f"{op_name(cls)}: {exc} (inputs: {describe(inputs)})")


def check_same_device(op, inputs):
    """Raise DeviceError unless every input lives on one device; ``op`` is a name or a Function
    class (named only when the message is written: this runs for every op)."""
    kind = type(inputs[0].data)
    for t in inputs[1:]:
        if type(t.data) is not kind:
            raise backend.DeviceError(
                f"{op if isinstance(op, str) else op_name(op)}: inputs are on different devices: "
                f"{describe(inputs)}; move them with .to(device) first")


def node_of(t):
    """The graph node a tensor's gradient flows into: the Function that made it, or the
    tensor itself when it is a leaf."""
    return t if t._ctx is None else t._ctx


FREED_MESSAGE = ("part of this graph was already freed by an earlier backward(); "
                 "pass retain_graph=True to the first call to go through it twice")


def _own(g, handed):
    """``g`` as a leaf's gradient: copied when it is read-only (a broadcast view) or its memory
    has already gone to another leaf or came from the caller, so that every leaf owns a
    writable .grad that optimizers may update in place. Otherwise g itself (no copy)."""
    if g.requires_grad:  # create_graph: the gradient is a node of a graph; keep it
        return g
    owner = g.data if g.data.base is None else g.data.base
    if id(owner) in handed or not backend.writeable(g.data):
        g = Tensor._make(g.data.copy(), False)
        owner = g.data
    handed.add(id(owner))
    return g


def _sum(total, g):
    """total + g, two gradients of one node (same shape, dtype and device). Under create_graph
    an Add node; otherwise the arrays' sum, wrapped, without an op's checks and bookkeeping
    (a weight used at every step of a sequence collects one gradient per use)."""
    return total + g if _grad_enabled else Tensor._make(backend.as_array(total.data + g.data), False)


def _topological_order(roots):
    """Every node (Function or leaf Tensor) reachable from ``roots``, parents first.

    Depth-first search, iterative (deep graphs would overflow Python's recursion): a node
    is appended only after every node it was computed from has been appended. A leaf has
    no parents; neither has a released Function (backprop refuses to go through one).
    """
    order, visited = [], set()
    stack = [(root, False) for root in roots]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if not isinstance(node, Tensor):
            for parent in node.parents:
                if parent is not None and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def backprop(roots, root_grads, create_graph=False, retain_graph=None, wanted=None):
    """Propagate ``root_grads`` from ``roots`` to every leaf (or only to ``wanted``).

    With ``wanted=None`` leaf gradients are accumulated into ``leaf.grad`` (backward()).
    Otherwise the gradients of the ``wanted`` tensors are returned in a dict by the id of
    their node (grad()). Unless ``retain_graph`` (default: ``create_graph``), the graph is
    freed on the way: each Function is released once its gradient has been passed on.
    """
    if retain_graph is None:
        retain_graph = create_graph
    grads = {}
    for root, g in zip(roots, root_grads):
        key = id(node_of(root))
        grads[key] = _sum(grads[key], g) if key in grads else g
    # memory already given to a leaf (or owned by the caller): never handed out twice
    handed = {id(g.data if g.data.base is None else g.data.base) for g in root_grads}
    wanted_ids = None if wanted is None else {id(node_of(t)) for t in wanted}
    found = {}
    with _GradMode(create_graph):
        for node in reversed(_topological_order([node_of(r) for r in roots])):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            is_wanted = wanted_ids is not None and id(node) in wanted_ids
            if is_wanted:
                found[id(node)] = g
            if isinstance(node, Tensor):  # a leaf
                if wanted_ids is None:
                    node.grad = _own(g, handed) if node.grad is None else node.grad + g
                continue
            if node.released:
                if is_wanted:
                    continue  # grad() asked for this tensor's gradient, not for what lies behind it
                raise RuntimeError("backward: " + FREED_MESSAGE)
            input_grads = node.backward(g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for parent, gx in zip(node.parents, input_grads):
                if parent is not None and gx is not None:
                    key = id(parent)
                    grads[key] = _sum(grads[key], gx) if key in grads else gx
            if not retain_graph:
                node.release()
    return found


def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    With ``create_graph=True`` the returned gradients are themselves differentiable:
    ``mg.grad(mg.grad(y, x, create_graph=True)[0].sum(), x)`` is a second derivative.
    Inputs that ``outputs`` do not depend on get a zero gradient.
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        for out in outputs:
            _require_scalar(out, "grad")
        grad_outputs = tuple(ones_like(out) for out in outputs)
    else:
        grad_outputs = tuple(g if isinstance(g, Tensor) else Tensor(g, dtype=out.dtype, device=out.device)
                             for g, out in zip(_as_tuple(grad_outputs), outputs))
    for t in inputs:
        if not t.requires_grad:
            raise ValueError(f"grad: an input of shape {t.shape} does not require grad")
    found = backprop(outputs, grad_outputs, create_graph, retain_graph, wanted=inputs)
    return tuple(found.get(id(node_of(t)), zeros_like(t)) for t in inputs)


def _require_scalar(t, where):
    if t.data.size != 1:
        raise ValueError(f"{where}: the output has shape {t.shape}; a gradient for a non-scalar "
                         "output must be given explicitly (pass grad=... / grad_outputs=...)")


def _as_tuple(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)

"""Single operations, forward + backward, over log-spaced sizes; and the per-op overhead.

Each case builds its inputs once (float32, requires_grad), then one call is: clear the
inputs' gradients, run the op, and backpropagate a fixed upstream gradient of ones
(``out.backward(g)``; no loss op in between). minigen runs on every device measured;
PyTorch, when importable, runs the same cases as a reference line.

Per-op overhead: a chain of ``CHAIN_LENGTH`` small elementwise ops on 16x16 tensors,
cycling through  y * w,  y + b,  tanh(y),  y * 0.5  (w, b 16x16 parameters that also
want gradients), then backward. Time / CHAIN_LENGTH is the cost of one op, forward and
backward, in microseconds: at this size the arithmetic is nothing and the engine's
Python is everything. The forward pass alone (graph recorded, no backward) is timed too.
"""
import numpy as np

import minigen as mg
import minigen.functional as F
from minigen import backend

CHAIN_LENGTH = 400

# op -> (full sizes, quick sizes); the size is n in each case's shapes below
SIZES = {
    "matmul": ([64, 128, 256, 512, 1024], [64, 256, 512]),
    "conv2d": ([8, 16, 32, 64], [8, 16, 32]),
    "conv_transpose2d": ([4, 8, 16, 32], [4, 8, 16]),
    "softmax": ([64, 128, 256, 512, 1024, 2048], [64, 256, 1024]),
    "attention": ([16, 32, 64, 128, 256, 512], [16, 64, 256]),
}


# op -> its shapes, with {n} for the size
SHAPES = {
    "matmul": "({n}, {n}) @ ({n}, {n})",
    "conv2d": "x (16, 16, {n}, {n}), w 16->16 3x3, pad 1",
    "conv_transpose2d": "x (16, 16, {n}, {n}), w 16->16 4x4, stride 2, pad 1",
    "softmax": "({n}, {n}), last axis",
    "attention": "q, k, v (8, 4, {n}, 32), causal",
}


def case_arrays(op, n, seed=0):
    """(inputs as float32 NumPy arrays, a description of the shapes) for ``op`` at size n."""
    rng = np.random.default_rng(seed)

    def randn(*shape, scale=1.0):
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    arrays = {"matmul": lambda: [randn(n, n), randn(n, n)],
              "conv2d": lambda: [randn(16, 16, n, n), randn(16, 16, 3, 3, scale=0.1), randn(16)],
              "conv_transpose2d": lambda: [randn(16, 16, n, n), randn(16, 16, 4, 4, scale=0.1), randn(16)],
              "softmax": lambda: [randn(n, n)],
              "attention": lambda: [randn(8, 4, n, 32) for _ in range(3)]}[op]()
    return arrays, SHAPES[op].format(n=n)


def minigen_forward(op):
    return {"matmul": lambda a, b: a @ b,
            "conv2d": lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1),
            "conv_transpose2d": lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
            "softmax": lambda x: F.softmax(x, axis=-1),
            "attention": lambda q, k, v: F.scaled_dot_product_attention(q, k, v, causal=True)}[op]


def torch_forward(op):
    import torch
    import torch.nn.functional as TF
    return {"matmul": torch.matmul,
            "conv2d": lambda x, w, b: TF.conv2d(x, w, b, stride=1, padding=1),
            "conv_transpose2d": lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2, padding=1),
            "softmax": lambda x: torch.softmax(x, dim=-1),
            "attention": lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True)}[op]


def minigen_case(op, arrays, device):
    """(fn, sync): one forward + backward of ``op`` in minigen on ``device``."""
    inputs = [mg.tensor(a, requires_grad=True, device=device) for a in arrays]
    forward = minigen_forward(op)
    with mg.no_grad():
        upstream = mg.ones_like(forward(*inputs))

    def fn():
        for t in inputs:
            t.grad = None
        forward(*inputs).backward(upstream)
    return fn, lambda: backend.synchronize(device)


def torch_case(op, arrays, device):
    import torch
    from minigen.bench.torch_steps import sync, torch_device
    dev = torch_device(device)
    inputs = [torch.from_numpy(a).to(dev).requires_grad_() for a in arrays]
    forward = torch_forward(op)
    with torch.no_grad():
        upstream = torch.ones_like(forward(*inputs))

    def fn():
        for t in inputs:
            t.grad = None
        forward(*inputs).backward(upstream)
    return fn, lambda: sync(device)


def _chain(x, w, b, length, tanh):
    y = x
    for i in range(length):
        kind = i % 4
        if kind == 0:
            y = y * w
        elif kind == 1:
            y = y + b
        elif kind == 2:
            y = tanh(y)
        else:
            y = y * 0.5
    return y


def chain_cases(library, device, length=CHAIN_LENGTH):
    """{"fwd_bwd": (fn, sync), "fwd": (fn, sync)} for the chain in ``library`` ("minigen"/"torch")."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((16, 16)).astype(np.float32) for _ in range(3)]
    if library == "minigen":
        x, w, b = (mg.tensor(a, requires_grad=True, device=device) for a in arrays)
        upstream = mg.ones(16, 16, device=device)
        tanh = mg.Tensor.tanh
        sync = lambda: backend.synchronize(device)  # noqa: E731
    else:
        import torch
        from minigen.bench.torch_steps import sync as torch_sync, torch_device
        x, w, b = (torch.from_numpy(a).to(torch_device(device)).requires_grad_() for a in arrays)
        upstream = torch.ones(16, 16, device=torch_device(device))
        tanh = torch.tanh
        sync = lambda: torch_sync(device)  # noqa: E731

    def fwd_bwd():
        x.grad = w.grad = b.grad = None
        _chain(x, w, b, length, tanh).backward(upstream)

    def fwd():
        _chain(x, w, b, length, tanh)
    return {"fwd_bwd": (fwd_bwd, sync), "fwd": (fwd, sync)}

"""The hand-written baselines (minigen/bench/baselines/) behind the same interface as the others."""
import numpy as np

from minigen import backend
from minigen.bench.baselines import CNNStep, GANStep, GPTBlockStep, MLPStep


def build(spec, xp):
    if spec.name == "mlp":
        return MLPStep(spec.params, spec.lr, xp), ("x", "y")
    if spec.name == "cnn":
        return CNNStep(spec.params, spec.lr, xp), ("x", "y")
    if spec.name == "gpt_block":
        return GPTBlockStep(spec.params, spec.lr, spec.extra["heads"], xp), ("x", "target")
    if spec.name == "gan":
        return GANStep(spec.params, spec.lr, spec.extra["betas"], spec.extra["eps"], xp), ("real", "z1", "z2")
    raise KeyError(f"numpy: no hand-written baseline for step {spec.name!r}")


class NumpyStep:
    """A baseline step on ``device``: NumPy on the CPU, the same code on CuPy on a GPU."""

    label = "numpy"

    def __init__(self, spec, device="cpu"):
        self.device = backend.normalize_device(device)
        xp = backend.xp_for(self.device)
        with backend.device_context(self.device):
            self.impl, inputs = build(spec, xp)
            self.inputs = tuple(backend.to_device(spec.batch[k], self.device) for k in inputs)

    def step(self):
        with backend.device_context(self.device):
            self.impl.step(*self.inputs)

    def sync(self):
        backend.synchronize(self.device)

    def loss_and_grads(self):
        with backend.device_context(self.device):
            loss, grads = self.impl.loss_and_grads(*self.inputs)
        return float(loss), {k: np.ascontiguousarray(backend.to_host(g)) for k, g in grads.items()}

    def parameters(self):
        return {k: backend.to_host(v) for k, v in self.impl.params.items()}

"""What the MLP, CNN and GPT-block baselines share: their parameters and a plain SGD step."""
import numpy as np


class SGDStep:
    """Holds the spec's parameters on ``xp``; subclasses define ``loss_and_grads(*batch)``."""

    def __init__(self, params, lr, xp=np):
        self.xp = xp
        self.lr = lr
        self.params = {k: xp.array(v) for k, v in params.items()}

    def loss_and_grads(self, *batch):
        raise NotImplementedError

    def step(self, *batch):
        loss, grads = self.loss_and_grads(*batch)
        for k, g in grads.items():
            g *= self.lr                                                   # g is ours: scale in place
            self.params[k] -= g
        return loss

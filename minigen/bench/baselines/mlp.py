"""The MLP training step written by hand: forward, cross-entropy, backward, SGD. No autograd.

    h1 = relu(x @ W1^T + b1)          (N, 512)
    h2 = relu(h1 @ W2^T + b2)         (N, 512)
    z  = h2 @ W3^T + b3               (N, 10)
    loss = mean_i -log softmax(z_i)[y_i]

Backward, from the top: dz = (softmax(z) - onehot(y)) / N; for a layer out = h @ W^T + b,
dW = dout^T @ h, db = sum(dout), dh = dout @ W; through relu, dh is zeroed where h was 0.
Weights stay in PyTorch's (out, in) layout; ``x @ W.T`` is a transposed view that BLAS reads
without a copy. ``xp`` is numpy (or cupy, the same code on the GPU).
"""
import numpy as np

from minigen.bench.baselines.sgd import SGDStep


class MLPStep(SGDStep):
    def __init__(self, params, lr, xp=np):
        super().__init__(params, lr, xp)
        self.layers = sorted({k.split(".")[0] for k in params})         # fc1, fc2, fc3

    def loss_and_grads(self, x, y):
        xp, p = self.xp, self.params
        # forward: keep every layer's input for the backward pass
        inputs, h = [], x
        for i, name in enumerate(self.layers):
            inputs.append(h)
            h = h @ p[f"{name}.weight"].T + p[f"{name}.bias"]
            if i < len(self.layers) - 1:
                xp.maximum(h, 0, out=h)                                   # relu, in place
        z = h                                                              # (N, classes)
        n = z.shape[0]
        rows = xp.arange(n)
        shifted = z - z.max(axis=1, keepdims=True)
        exp = xp.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        loss = (xp.log(total[:, 0]).sum() - shifted[rows, y].sum()) / n     # 0-d array (no GPU sync)

        # backward
        grads = {}
        dh = exp / total                                                   # softmax
        dh[rows, y] -= 1
        dh /= n
        for i in range(len(self.layers) - 1, -1, -1):
            name, h_in = self.layers[i], inputs[i]
            grads[f"{name}.weight"] = dh.T @ h_in
            grads[f"{name}.bias"] = dh.sum(axis=0)
            if i > 0:
                dh = dh @ p[f"{name}.weight"]
                dh *= h_in > 0                                             # relu's gate
        return loss, grads

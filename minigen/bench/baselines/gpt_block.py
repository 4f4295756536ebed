"""One pre-norm transformer block (GPT-2 style), trained by hand: forward, MSE, backward, SGD.

    a = ln1(x)                                   (B, T, C)
    q, k, v = split(a @ Wqkv^T + bqkv)           3 x (B, H, T, D),  D = C / H     (attn.qkv)
    P = softmax(q k^T / sqrt(D) + causal mask)   (B, H, T, T)
    h = x + merge(P v) @ Wproj^T + bproj         (B, T, C)                        (attn.proj)
    f = ln2(h) @ W0^T + b0                       (B, T, 4C)                       (mlp.0)
    y = h + gelu(f) @ W2^T + b2                  (B, T, C)                        (mlp.2)
    loss = mean((y - target)^2)

Backward formulas used below (g = the incoming gradient):
    layer norm   xhat = (x - mean) * rstd:  dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
    softmax      dS = P * (dP - sum(dP * P, last axis))        (masked entries have P = 0, so dS = 0)
    gelu (tanh)  gelu'(f) = 0.5 (1 + t) + 0.5 f (1 - t^2) c (1 + 3 * 0.044715 f^2),  t = tanh(c (f + 0.044715 f^3))
The block's input x needs no gradient (it is data here), so ln1's dx is never computed.
``xp`` is numpy (or cupy, the same code on the GPU).
"""
import math

import numpy as np

from minigen.bench.baselines.sgd import SGDStep

GELU_C = math.sqrt(2 / math.pi)


def layer_norm(x, weight, bias, xp, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    rstd = 1 / xp.sqrt((xc * xc).mean(axis=-1, keepdims=True) + eps)
    xhat = xc * rstd
    return xhat * weight + bias, (xhat, rstd)


def layer_norm_backward(g, weight, saved, need_dx=True):
    xhat, rstd = saved
    dweight = (g * xhat).reshape(-1, g.shape[-1]).sum(axis=0)
    dbias = g.reshape(-1, g.shape[-1]).sum(axis=0)
    if not need_dx:
        return None, dweight, dbias
    dxhat = g * weight
    dx = rstd * (dxhat - dxhat.mean(axis=-1, keepdims=True)
                 - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    return dx, dweight, dbias


def linear(x, weight, bias):
    """x (..., in) @ W^T + b, as one 2-D product (batch axes flattened: one BLAS call)."""
    out = x.reshape(-1, x.shape[-1]) @ weight.T + bias
    return out.reshape(x.shape[:-1] + (weight.shape[0],))


def linear_backward(g, inp, weight):
    """out = inp @ W^T + b  ->  (d inp, dW, db), batch axes flattened."""
    g2 = g.reshape(-1, g.shape[-1])
    dinp = (g2 @ weight).reshape(g.shape[:-1] + (weight.shape[1],))
    return dinp, g2.T @ inp.reshape(-1, inp.shape[-1]), g2.sum(axis=0)


class GPTBlockStep(SGDStep):
    def __init__(self, params, lr, heads, xp=np):
        super().__init__(params, lr, xp)
        self.heads = heads
        self._mask = {}

    def causal_mask(self, t, dtype):
        """(T, T): 0 where query i may see key j (j <= i), -inf above the diagonal."""
        if t not in self._mask:
            mask = self.xp.zeros((t, t), dtype=dtype)
            mask[self.xp.triu(self.xp.ones((t, t), dtype=bool), k=1)] = -self.xp.inf
            self._mask[t] = mask
        return self._mask[t]

    def loss_and_grads(self, x, target):
        xp, p = self.xp, self.params
        b, t, c = x.shape
        nh, d = self.heads, c // self.heads
        scale = 1 / math.sqrt(d)

        # forward: attention
        a, ln1 = layer_norm(x, p["ln1.weight"], p["ln1.bias"], xp)
        qkv = linear(a, p["attn.qkv.weight"], p["attn.qkv.bias"])                    # (B, T, 3C)
        q, k, v = qkv.reshape(b, t, 3, nh, d).transpose(2, 0, 3, 1, 4)     # 3 x (B, H, T, D)
        s = q @ k.transpose(0, 1, 3, 2)                                    # (B, H, T, T)
        s *= scale
        s += self.causal_mask(t, x.dtype)
        s -= s.max(axis=-1, keepdims=True)
        prob = xp.exp(s)
        prob /= prob.sum(axis=-1, keepdims=True)
        o = (prob @ v).transpose(0, 2, 1, 3).reshape(b, t, c)              # (B, T, C), heads merged
        h = x + linear(o, p["attn.proj.weight"], p["attn.proj.bias"])
        # forward: MLP
        a2, ln2 = layer_norm(h, p["ln2.weight"], p["ln2.bias"], xp)
        f = linear(a2, p["mlp.0.weight"], p["mlp.0.bias"])                         # (B, T, 4C)
        th = xp.tanh(GELU_C * (f + 0.044715 * f * f * f))
        gl = 0.5 * f * (1 + th)
        y = h + linear(gl, p["mlp.2.weight"], p["mlp.2.bias"])
        diff = y - target
        loss = (diff * diff).mean()

        # backward: MLP
        g = {}
        dy = diff * (2 / diff.size)
        dgl, g["mlp.2.weight"], g["mlp.2.bias"] = linear_backward(dy, gl, p["mlp.2.weight"])
        df = dgl * (0.5 * (1 + th) + 0.5 * f * (1 - th * th) * GELU_C * (1 + 3 * 0.044715 * f * f))
        da2, g["mlp.0.weight"], g["mlp.0.bias"] = linear_backward(df, a2, p["mlp.0.weight"])
        dh, g["ln2.weight"], g["ln2.bias"] = layer_norm_backward(da2, p["ln2.weight"], ln2)
        dh += dy                                                           # the residual path
        # backward: attention
        do, g["attn.proj.weight"], g["attn.proj.bias"] = linear_backward(dh, o, p["attn.proj.weight"])
        do = do.reshape(b, t, nh, d).transpose(0, 2, 1, 3)                 # (B, H, T, D)
        dqkv = xp.empty((3, b, nh, t, d), dtype=x.dtype)
        xp.matmul(prob.transpose(0, 1, 3, 2), do, out=dqkv[2])             # dv = P^T do
        dp = do @ v.transpose(0, 1, 3, 2)                                  # (B, H, T, T)
        ds = prob * (dp - (dp * prob).sum(axis=-1, keepdims=True))
        ds *= scale
        xp.matmul(ds, k, out=dqkv[0])                                      # dq = dS k
        xp.matmul(ds.transpose(0, 1, 3, 2), q, out=dqkv[1])                # dk = dS^T q
        dqkv = dqkv.transpose(1, 3, 0, 2, 4).reshape(b, t, 3 * c)          # back to (B, T, 3C)
        da, g["attn.qkv.weight"], g["attn.qkv.bias"] = linear_backward(dqkv, a, p["attn.qkv.weight"])
        _, g["ln1.weight"], g["ln1.bias"] = layer_norm_backward(da, p["ln1.weight"], ln1, need_dx=False)
        return loss, g

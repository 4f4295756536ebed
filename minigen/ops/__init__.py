"""The primitives: each a Function with forward (arrays) and backward (Tensors) side by side.

arith   elementwise + - * / ** neg maximum minimum where, comparisons
unary   exp log sqrt tanh sin cos sigmoid relu abs softplus gelu cast to_device
reduce  sum mean var max min logsumexp softmax log_softmax cross_entropy normalize
shape   reshape transpose broadcast_to sum_to getitem concat stack pad
linalg  matmul linear attention
conv    im2col col2im
"""
from minigen.ops.arith import (add, binary, compare, div, lift, maximum, minimum, mul, neg, pow,
                               sub, where)
from minigen.ops.conv import col2im, im2col
from minigen.ops.linalg import attention, linear, matmul
from minigen.ops.reduce import (cross_entropy, log_softmax, logsumexp, max, mean, min, normalize, softmax,
                                sum, var)
from minigen.ops.shape import (broadcast_to, concat, getitem, pad, reshape, stack, sum_to,
                               transpose)
from minigen.ops.unary import (abs, cast, cos, exp, gelu, log, relu, sigmoid, sin, softplus, sqrt, tanh,
                               to_device)

__all__ = ["abs", "add", "attention", "binary", "broadcast_to", "cast", "col2im", "compare", "concat",
           "cos", "cross_entropy", "div", "exp", "gelu", "getitem", "im2col", "lift", "linear", "log",
           "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "mul",
           "neg", "normalize", "pad", "pow", "relu", "reshape", "sigmoid", "sin", "softmax", "softplus", "sqrt", "stack",
           "sub", "sum", "sum_to", "tanh", "to_device", "transpose", "var", "where"]

"""Layers: Module (parameters, buffers, train/eval, to, state_dict), Parameter, and the layers
the four generative families are built from, each initialised as PyTorch initialises it,
file by file:

    module.py      Module, Parameter, Sequential
    init.py        kaiming_uniform_, uniform_, normal_, zeros_, ones_
    linear.py      Linear, Embedding
    conv.py        Conv2d, ConvTranspose2d, MaskedConv2d
    norm.py        LayerNorm, BatchNorm1d, BatchNorm2d, GroupNorm
    activation.py  ReLU, LeakyReLU, GELU, SiLU, Tanh, Sigmoid, Dropout
    attention.py   CausalSelfAttention, TransformerBlock
"""
from minigen.nn import init
from minigen.nn.activation import GELU, Dropout, LeakyReLU, ReLU, Sigmoid, SiLU, Tanh
from minigen.nn.attention import CausalSelfAttention, TransformerBlock
from minigen.nn.conv import Conv2d, ConvTranspose2d, MaskedConv2d
from minigen.nn.linear import Embedding, Linear
from minigen.nn.module import Module, Parameter, Sequential
from minigen.nn.norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm

__all__ = ["BatchNorm1d", "BatchNorm2d", "CausalSelfAttention", "Conv2d", "ConvTranspose2d", "Dropout",
           "Embedding", "GELU", "GroupNorm", "LayerNorm", "LeakyReLU", "Linear", "MaskedConv2d", "Module",
           "Parameter", "ReLU", "Sequential", "SiLU", "Sigmoid", "Tanh", "TransformerBlock", "init"]

"""The mask minigen's masked convolution builds (minigen/nn/conv.py: MaskedConv2d), for one channel."""
from minigen import nn


def pixelcnn_mask(kernel_size, mask_type):
    return nn.MaskedConv2d(1, 1, kernel_size, mask_type).mask.numpy()[0, 0]

"""Convolutions on images (N, C, H, W): Conv2d, ConvTranspose2d, and PixelCNN's MaskedConv2d (with
VisibleTapsConv, the same layer computed on its visible taps only: what models/pixelcnn.py uses)."""
import math

from minigen import functional as F
from minigen.nn import init
from minigen.nn.linear import new_parameter
from minigen.nn.module import Module
from minigen.tensor import ones


def _pair(value, name):
    """3 -> (3, 3); (3, 5) -> (3, 5)."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return pair


def _single(value, name):
    """minigen's convolutions take one stride and one padding for both axes: 2 or (2, 2)."""
    a, b = _pair(value, name)
    if a != b:
        raise ValueError(f"{name}: minigen uses the same {name} for height and width, got {value!r}")
    return a


class _ConvNd(Module):
    """Shared by Conv2d and ConvTranspose2d: the weight, the bias and PyTorch's initialisation."""

    def __init__(self, weight_shape, in_channels, out_channels, kernel_size, stride, padding, bias,
                 device, dtype):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _single(stride, "stride")
        self.padding = _single(padding, "padding")
        self.weight = new_parameter(*weight_shape, device=device, dtype=dtype)
        self.bias = new_parameter(out_channels, device=device, dtype=dtype) if bias else None
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))              # U(-1/sqrt(fan_in), ...)
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={(self.stride, self.stride)}")
        if self.padding:
            text += f", padding={(self.padding, self.padding)}"
        return text if self.bias is not None else text + ", bias=False"


class Conv2d(_ConvNd):
    """x (N, C_in, H, W) -> (N, C_out, OH, OW), OH = (H + 2 padding - kh) // stride + 1.

    weight (C_out, C_in, kh, kw), bias (C_out,); initialised as PyTorch does,
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_in * kh * kw.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 device=None, dtype=None):
        kh, kw = _pair(kernel_size, "kernel_size")
        super().__init__((out_channels, in_channels, kh, kw), in_channels, out_channels, kernel_size,
                         stride, padding, bias, device, dtype)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)


class ConvTranspose2d(_ConvNd):
    """x (N, C_in, H, W) -> (N, C_out, (H - 1) stride - 2 padding + kh, ...): the adjoint of Conv2d,
    used to upsample (stride 2 doubles the size, e.g. kernel 4, stride 2, padding 1).

    weight (C_in, C_out, kh, kw) as in PyTorch, so fan_in = C_out * kh * kw for the
    initialisation (PyTorch's rule applied to this layout). No output_padding.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 device=None, dtype=None):
        kh, kw = _pair(kernel_size, "kernel_size")
        super().__init__((in_channels, out_channels, kh, kw), in_channels, out_channels, kernel_size,
                         stride, padding, bias, device, dtype)

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding)


class MaskedConv2d(Conv2d):
    """A Conv2d that sees only the pixels before the centre in raster order (PixelCNN).

    The kernel is multiplied by a fixed mask (1 = may look, 0 = hidden); for a 5x5 kernel:

        mask 'A'      mask 'B'
        1 1 1 1 1     1 1 1 1 1
        1 1 1 1 1     1 1 1 1 1
        1 1 0 0 0     1 1 1 0 0
        0 0 0 0 0     0 0 0 0 0
        0 0 0 0 0     0 0 0 0 0

    'A' (the first layer) excludes the centre pixel, so output pixel i depends only on input
    pixels j < i; 'B' (later layers) includes it: j <= i, which keeps j < i overall once an
    'A' layer came first. Kept simple: every input channel is masked the same way (no
    grouping of colour channels into R < G < B as in the paper), which is exact for
    one-channel images. The kernel must be square and odd-sized (the mask needs a centre);
    padding defaults to kernel_size // 2, which keeps H and W.
    """

    def __init__(self, in_channels, out_channels, kernel_size, mask_type, stride=1, padding=None,
                 bias=True, device=None, dtype=None):
        if mask_type not in ("A", "B"):
            raise ValueError(f"MaskedConv2d: mask_type must be 'A' or 'B', got {mask_type!r}")
        if not isinstance(kernel_size, int) or kernel_size % 2 == 0:
            raise ValueError(f"MaskedConv2d: kernel_size must be an odd int (the mask needs a centre), "
                             f"got {kernel_size!r}")
        padding = kernel_size // 2 if padding is None else padding
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias, device, dtype)
        self.mask_type = mask_type
        c = kernel_size // 2
        mask = ones(1, 1, kernel_size, kernel_size, device=self.weight.device, dtype=self.weight.dtype)
        first_hidden = c if mask_type == "A" else c + 1                # 'A' hides the centre too
        mask.data[:, :, c, first_hidden:] = 0                           # the centre row, from there on
        mask.data[:, :, c + 1:, :] = 0                                  # every row below the centre
        self.register_buffer("mask", mask, persistent=False)            # moved by to(), not saved

    def forward(self, x):
        # the mask multiplies the weight inside the graph: hidden weights get zero gradient
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return f"{super().extra_repr()}, mask_type={self.mask_type!r}"


class VisibleTapsConv(MaskedConv2d):
    """nn.MaskedConv2d (same weight, mask and numbers: tested) computed on its visible taps only.

    The rows above the centre are one (c, k) convolution of the image shifted down by c rows;
    the centre row's left part (and the centre itself for mask 'B') is one (1, c) or (1, c + 1)
    convolution of the image shifted right. The hidden taps are never multiplied: 5 of 9
    products for a 3x3 'B' kernel, 24 of 49 for a 7x7 'A' one. Stride 1, size kept.
    """

    def forward(self, x):
        n, _, h, w = x.shape
        c = self.kernel_size[0] // 2
        width = c + 1 if self.mask_type == "B" else c                  # centre-row taps: j-c .. j-c+width-1
        row = F.conv2d(F.pad(x, ((0, 0), (0, 0), (0, 0), (c, 0))), self.weight[:, :, c:c + 1, :width],
                       self.bias)[..., :w]                              # (N, O, H, W)
        if c == 0:
            return row
        above = F.conv2d(F.pad(x, ((0, 0), (0, 0), (c, 0), (c, c))), self.weight[:, :, :c, :])   # (N, O, H+1, W)
        return row + above[:, :, :h]                                    # (N, O, H, W)

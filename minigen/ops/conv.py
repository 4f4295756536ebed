"""im2col and col2im: the two primitives every convolution and pooling is built from.

im2col copies each kh x kw window of an image into a row, so that a convolution becomes
one matrix product:  (N*OH*OW, kh*kw*C) @ (kh*kw*C, C_out).  col2im is its adjoint: it adds
every window's values back to the pixels they came from. Each is the other's backward, so
convolutions are twice differentiable.

Layout: x is (N, C, H, W); cols is (N, OH, OW, kh, kw, C), OH = (H - kh) // stride + 1.
Channels come last in a window's row so that an image stored channels-last in memory (as
every convolution's output is: the product's rows are pixels) is read and written along
contiguous runs of C values. im2col is a single copy out of a strided view of the windows;
col2im adds back one kernel offset at a time (kh*kw slabs), never a loop over pixels.
"""
from minigen.autograd import Function


def output_size(size, kernel, stride):
    return (size - kernel) // stride + 1


class Im2col(Function):
    saves_inputs = False

    def forward(self, x, kh, kw, stride):
        self.kernel = (kh, kw, stride)
        n, c, h, w = x.shape
        oh, ow = output_size(h, kh, stride), output_size(w, kw, stride)
        sn, sc, sh, sw = x.strides
        # window (o, p) starts at pixel (stride*o, stride*p); steps inside it move one pixel
        windows = self.xp.lib.stride_tricks.as_strided(
            x, (n, oh, ow, kh, kw, c), (sn, stride * sh, stride * sw, sh, sw, sc))
        return self.xp.ascontiguousarray(windows)

    def backward(self, gy):
        """The adjoint of copying windows out is adding them back: col2im(gy)."""
        return col2im(gy, self.shapes[0], *self.kernel)


class Col2im(Function):
    saves_inputs = False

    def forward(self, cols, image_shape, kh, kw, stride):
        self.kernel = (kh, kw, stride)
        n, c, h, w = image_shape
        oh, ow = cols.shape[1:3]
        image = self.xp.zeros((n, h, w, c), dtype=cols.dtype)          # channels-last in memory
        for i in range(kh):
            for j in range(kw):
                image[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride] += \
                    cols[:, :, :, i, j]
        return image.transpose(0, 3, 1, 2)                              # (N, C, H, W), a view

    def backward(self, gy):
        """The adjoint of adding windows back is copying them out: im2col(gy)."""
        return im2col(gy, *self.kernel)


def im2col(x, kh, kw, stride=1):
    """(N, C, H, W) -> (N, OH, OW, kh, kw, C): every window of the image, one per output pixel."""
    return Im2col.apply(x, kh=kh, kw=kw, stride=stride)


def col2im(cols, image_shape, kh, kw, stride=1):
    """(N, OH, OW, kh, kw, C) -> image_shape (N, C, H, W): windows summed back into pixels."""
    return Col2im.apply(cols, image_shape=tuple(image_shape), kh=kh, kw=kw, stride=stride)

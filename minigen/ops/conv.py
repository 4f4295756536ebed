"""im2col and col2im: the two primitives every convolution and pooling is built from.

im2col copies each kh x kw window of an image into a row, so that a convolution becomes
one matrix product:  (N*OH*OW, C*kh*kw) @ (C*kh*kw, C_out).  col2im is its adjoint: it adds
every window's values back to the pixels they came from. Each is the other's backward, so
convolutions are twice differentiable. Both loop over the kh*kw kernel offsets only; each
step moves a whole strided slab of the batch (never a loop over pixels).

Layout: x is (N, C, H, W); cols is (N, OH, OW, C, kh, kw), OH = (H - kh) // stride + 1.
"""
from minigen.autograd import Function


def output_size(size, kernel, stride):
    return (size - kernel) // stride + 1


class Im2col(Function):
    def forward(self, x, kh, kw, stride):
        self.kernel = (kh, kw, stride)
        n, c, h, w = x.shape
        oh, ow = output_size(h, kh, stride), output_size(w, kw, stride)
        cols = self.xp.empty((n, oh, ow, c, kh, kw), dtype=x.dtype)
        for i in range(kh):
            for j in range(kw):
                window = x[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
                cols[:, :, :, :, i, j] = window.transpose(0, 2, 3, 1)
        return cols

    def backward(self, gy):
        """The adjoint of copying windows out is adding them back: col2im(gy)."""
        return col2im(gy, self.inputs[0].shape, *self.kernel)


class Col2im(Function):
    def forward(self, cols, image_shape, kh, kw, stride):
        self.kernel = (kh, kw, stride)
        n, oh, ow = cols.shape[:3]
        x = self.xp.zeros(image_shape, dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                x[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride] += \
                    cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        return x

    def backward(self, gy):
        """The adjoint of adding windows back is copying them out: im2col(gy)."""
        return im2col(gy, *self.kernel)


def im2col(x, kh, kw, stride=1):
    """(N, C, H, W) -> (N, OH, OW, C, kh, kw): every window of the image, one per output pixel."""
    return Im2col.apply(x, kh=kh, kw=kw, stride=stride)


def col2im(cols, image_shape, kh, kw, stride=1):
    """(N, OH, OW, C, kh, kw) -> image_shape (N, C, H, W): windows summed back into pixels."""
    return Col2im.apply(cols, image_shape=tuple(image_shape), kh=kh, kw=kw, stride=stride)

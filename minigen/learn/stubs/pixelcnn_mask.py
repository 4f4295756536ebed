import numpy as np


def pixelcnn_mask(kernel_size, mask_type):
    """The mask of a PixelCNN's masked convolution, for one channel.

    A PixelCNN makes an image one pixel at a time in raster order: row by row from the top,
    each row from left to right. Its convolution kernel is centred on the pixel being predicted
    and may see only pixels that come before it in that order. A mask of type "A" (the first
    layer, which reads the image itself) also hides the centre; type "B" (every later layer,
    whose centre is already a summary of the earlier pixels) lets the kernel see it.

    kernel_size: an odd int (1, 3, 5, ...). mask_type: "A" or "B".
    Returns a (kernel_size, kernel_size) array of 0s and 1s (a NumPy array, or a Tensor): 1 where
    the kernel may look, 0 where it must not.
    """
    raise NotImplementedError("pixelcnn_mask: write me")

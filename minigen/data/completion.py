"""Image completion (`minigen sample --given FILE.npy --mask MASK`, or `--mask-file M.npy`): the part
every image family shares. A family fills in the hidden pixels its own way (PixelCNN in raster
order, diffusion by noising the known pixels to each step's level); this file says which pixels
are hidden and checks the given images against the run's data, before any sampling.
"""
import numpy as np

SIDES = ("top", "bottom", "left", "right")


def half_mask(shape, side):
    """A boolean array of ``shape`` (..., H, W): True on the half to fill in, False where the
    given pixels are kept. For an odd size the hidden half is the smaller one (rows // 2)."""
    if side not in SIDES:
        raise ValueError(f"--mask: must be one of {', '.join(SIDES)}, got {side!r}")
    *_, h, w = shape
    mask = np.zeros(shape, dtype=bool)
    if side == "top":
        mask[..., :h // 2, :] = True
    elif side == "bottom":
        mask[..., h - h // 2:, :] = True
    elif side == "left":
        mask[..., :, :w // 2] = True
    else:
        mask[..., :, w - w // 2:] = True
    return mask


def hidden_mask(shape, mask):
    """The pixels to fill in: a boolean array of ``shape`` (N, C, H, W), True where hidden.

    ``mask`` is a side (``top``, ``bottom``, ``left``, ``right``: that half, as half_mask),
    ``box:R0,C0,R1,C1`` (rows R0 to R1 - 1 and columns C0 to C1 - 1, counted from 0 as Python's
    slices count), or a boolean array (H, W), (C, H, W) or (N, C, H, W) (``--mask-file``), True
    where to paint. A mask that hides nothing is refused: there would be nothing to fill in.
    """
    *_, h, w = shape
    if isinstance(mask, str) and mask.startswith("box:"):
        try:
            r0, c0, r1, c1 = (int(v) for v in mask[4:].split(","))
        except ValueError:
            raise ValueError(f"--mask {mask}: a box is box:R0,C0,R1,C1, four integers") from None
        if not (0 <= r0 < r1 <= h and 0 <= c0 < c1 <= w):
            raise ValueError(f"--mask {mask}: the box must lie inside the {h}x{w} image with R0 < R1 "
                             f"and C0 < C1 (rows R0..R1-1, columns C0..C1-1)")
        hidden = np.zeros(shape, dtype=bool)
        hidden[..., r0:r1, c0:c1] = True
    elif isinstance(mask, str):
        hidden = half_mask(shape, mask)
    else:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"--mask-file: the mask must be a boolean array (True where to paint), got {mask.dtype}")
        if mask.shape not in (tuple(shape[-2:]), tuple(shape[-3:]), tuple(shape)):
            raise ValueError(f"--mask-file: the mask's shape {mask.shape} fits neither an image ({h}, {w}) "
                             f"nor the given images {tuple(shape)}")
        hidden = np.broadcast_to(mask, shape).copy()
    if not hidden.any():
        raise ValueError("--mask: it hides no pixel; there is nothing to fill in")
    return hidden


def check_given(given, n, shape, binary):
    """``given`` (N, C, H, W) float32 in [0, 1] ({0, 1} when ``binary``), N = n or 1 (then repeated).

    Returns the n images as a float32 NumPy array; a ValueError names what does not fit.
    """
    given = np.asarray(given, dtype=np.float32)
    if given.ndim != 4 or tuple(given.shape[1:]) != tuple(shape):
        raise ValueError(f"--given: expected images of shape (N, {', '.join(map(str, shape))}) like the run's data, "
                         f"got {given.shape}")
    if len(given) not in (1, n):
        raise ValueError(f"--given: holds {len(given)} images; give one (repeated) or --n {len(given)}")
    if not np.isfinite(given).all() or given.min() < 0 or given.max() > 1:
        raise ValueError("--given: pixel values must lie in [0, 1]")
    if binary and not np.isin(given, (0.0, 1.0)).all():
        raise ValueError("--given: this run's data is binary; the given pixels must be 0 or 1 (draws, not probabilities)")
    return np.repeat(given, n, axis=0) if len(given) == 1 else given

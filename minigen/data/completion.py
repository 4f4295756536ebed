"""Image completion (`minigen sample --given FILE.npy --mask SIDE`): the part every image family
shares. A family fills in the hidden half its own way (PixelCNN in raster order, diffusion by
noising the known pixels to each step's level); this file says which pixels are hidden and
checks the given images against the run's data, before any sampling.
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

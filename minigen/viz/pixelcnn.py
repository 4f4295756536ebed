"""samples.png of a PixelCNN (models/pixelcnn.py): samples, and test digits' bottom halves filled in."""
import math

import numpy as np

from minigen.viz import figure as new_figure
from minigen.viz import image_grid

GIVEN_SEED = 7              # which test images the gallery completes


def figure(model):
    """Samples, and the bottom halves of test images filled in (given / completed / true).
    Fewer of each for images larger than 8x8 (each pixel is one pass of the network). A
    conditional run's samples have a class per column (0..C-1, as ``sample`` draws them);
    its completions draw their label from p(y | the given half)."""
    small = math.prod(model.shape) <= 64
    n, completions = (64, 10) if small else (16, 4)
    completions = min(completions, len(model.test_data))
    columns = 8 if small else 4
    if model.config.conditional:
        columns = model.train_data.num_classes
        n = columns * (10 if small else 2)
    samples = model.sample(n, 0)
    pick = np.random.default_rng(GIVEN_SEED).choice(len(model.test_data), completions, replace=False)
    truth = model.pixels(model.test_data.images[pick])
    filled = model.complete(truth, "bottom", completions, 0)
    shown = truth.copy()
    height = shown.shape[-2]
    shown[..., height - height // 2:, :] = 0.5                          # grey: the hidden bottom half
    fig = new_figure(figsize=(9, 4.2))
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.3])
    left.imshow(image_grid(samples, nrow=columns), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    left.set_title(f"PixelCNN samples ({model.config.data})" if not model.config.conditional else
                   f"PixelCNN samples of classes 0-{columns - 1} (a class per column)", fontsize=10)
    rows = np.concatenate([shown, filled, truth])
    right.imshow(image_grid(rows, nrow=completions), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    right.set_title("test digits: bottom half hidden (grey), filled in, true", fontsize=10)
    for ax in (left, right):
        ax.set_axis_off()
    return fig

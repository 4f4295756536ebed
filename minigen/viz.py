"""Pictures: sample grids, loss curves, 2-D scatters. Host-side (NumPy + matplotlib).

The library never touches matplotlib's global state: no ``matplotlib.use``, no pyplot. Each
picture is a ``matplotlib.figure.Figure`` made by ``figure()`` and written with its own
``savefig``, which renders PNGs headless (Agg) on any machine; a notebook or a GUI session
that imports minigen keeps the backend it had. Functions that draw return their figure, so a
notebook can show it (a Figure displays itself inline) and a script can ignore it.
"""
import numpy as np
from matplotlib.figure import Figure


def figure(figsize=(6.4, 4.8), **kwargs):
    """A new Figure that belongs to no pyplot window: ``fig.subplots(...)``, ``fig.savefig(path)``.
    Nothing to close: it is freed with its last reference."""
    return Figure(figsize=figsize, **kwargs)


def image_grid(images, nrow=10, pad=1):
    """(N, 1, H, W) or (N, H, W) values in [0, 1] -> one (rows*(H+pad)+pad, ...) array."""
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[:, 0]
    n, h, w = images.shape
    ncol = min(nrow, n)
    nrows = -(-n // ncol)
    grid = np.zeros((nrows * (h + pad) + pad, ncol * (w + pad) + pad), dtype=np.float32)  # white frames
    for k, image in enumerate(images):
        r, c = divmod(k, ncol)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = image
    return grid


def save_image_grid(images, path, nrow=10, title=None, labels=None):
    """Save a grid of images in [0, 1]; ``labels`` (one short string per image) are drawn on top."""
    grid = image_grid(images, nrow)
    fig = figure(figsize=(max(3, grid.shape[1] / 12), max(3, grid.shape[0] / 12)))
    ax = fig.subplots()
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    if labels is not None:
        h, w = np.asarray(images).shape[-2:]
        for k, label in enumerate(labels):
            r, c = divmod(k, min(nrow, len(labels)))
            ax.text(1 + c * (w + 1), 1 + r * (h + 1), label, color="tab:red", fontsize=7, va="top")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig


def save_loss_curves(history, path, title=None, smooth=20):
    """``history``: {name: [value per step]}; raw values faint, a running mean on top."""
    fig = figure(figsize=(6, 3.5))
    ax = fig.subplots()
    for name, values in history.items():
        values = np.asarray(values, dtype=np.float64)
        line, = ax.plot(values, alpha=0.25)
        if len(values) > smooth:
            kernel = np.ones(smooth) / smooth
            ax.plot(np.arange(smooth - 1, len(values)), np.convolve(values, kernel, "valid"),
                    color=line.get_color(), label=name)
        else:
            line.set_label(name)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return fig


def save_scatter_2d(points, path, reference=None, title=None, limit=3.0):
    """Samples (N, 2) in blue over ``reference`` data in grey."""
    fig = figure(figsize=(4, 4))
    ax = fig.subplots()
    if reference is not None:
        ax.scatter(reference[:, 0], reference[:, 1], s=2, c="0.75", label="data")
    ax.scatter(points[:, 0], points[:, 1], s=2, c="tab:blue", label="samples")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, markerscale=4)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return fig

"""Animations, as self-contained HTML: the frames are PNGs inside the page and the player is a few
lines of JavaScript (matplotlib's ``to_jshtml``), so they play offline, in a notebook or in the
book, with nothing to install (no ffmpeg) and nothing fetched.

    html = images_animation(frames)            # frames: a list of image batches, one per moment
    points_animation(frames, data=...)         # frames: a list of (N, 2) point clouds

Each returns the HTML as a string; a notebook shows it with ``IPython.display.HTML(html)``, a
script writes it to a file. Like the rest of minigen.viz, no pyplot and no global state.
"""
import re

import numpy as np
from matplotlib.animation import FuncAnimation

from minigen.viz import figure, image_grid


# matplotlib's player draws its buttons with an icon font it links from a CDN: the link is
# dropped and each icon becomes a character, so that nothing is fetched
BUTTONS = {"fa fa-minus": "\u2212", "fa fa-fast-backward": "\u23ee", "fa fa-step-backward": "\u25c2",
           "fa fa-play fa-flip-horizontal": "\u25c0", "fa fa-pause": "\u23f8", "fa fa-play": "\u25b6",
           "fa fa-step-forward": "\u25b8", "fa fa-fast-forward": "\u23ed", "fa fa-plus": "+"}


def offline(html):
    """matplotlib's animation HTML with no resource fetched from the network."""
    html = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*">', "", html)
    return re.sub(r'<i class="(fa [^"]*)"></i>', lambda m: BUTTONS.get(m.group(1), "?"), html)


def _html(fig, draw, n_frames, interval):
    animation = FuncAnimation(fig, draw, frames=n_frames, interval=interval, blit=False)
    return offline(animation.to_jshtml(default_mode="once"))


def images_animation(frames, titles=None, nrow=10, interval=120, size=4.0):
    """frames: a sequence of image batches (N, 1, H, W) (or (N, H, W)) in [0, 1], one batch per
    moment; each moment is drawn as one grid of N images, dark ink on white. ``titles``: one
    line per moment. Returns the HTML of the animation."""
    frames = [np.asarray(f) for f in frames]
    grid = image_grid(frames[0], nrow)
    fig = figure(figsize=(size, size * grid.shape[0] / grid.shape[1] + 0.4))
    ax = fig.subplots()
    shown = ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    label = ax.set_title(titles[0] if titles else "", fontsize=9)

    def draw(k):
        shown.set_data(image_grid(frames[k], nrow))
        if titles:
            label.set_text(titles[k])
        return (shown,)

    return _html(fig, draw, len(frames), interval)


def points_animation(frames, data=None, titles=None, surfaces=None, limit=3.0, interval=150, size=4.0):
    """frames: a sequence of (N, 2) point clouds, one per moment (orange), over ``data`` (grey)
    when given. ``surfaces``: optionally one (k, k) array per moment drawn behind the points on
    a fixed 0..1 scale (a GAN critic's D(x), rows along y). Returns the HTML of the animation."""
    fig = figure(figsize=(size, size))
    ax = fig.subplots()
    background = None
    if surfaces is not None:
        background = ax.imshow(surfaces[0], extent=(-limit, limit, -limit, limit), origin="lower",
                               cmap="RdBu_r", alpha=0.6, vmin=0.0, vmax=1.0)
    if data is not None:
        ax.scatter(data[:, 0], data[:, 1], s=2, c="0.3")
    cloud = ax.scatter(frames[0][:, 0], frames[0][:, 1], s=2, c="tab:orange")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    label = ax.set_title(titles[0] if titles else "", fontsize=9)

    def draw(k):
        cloud.set_offsets(frames[k])
        if background is not None:
            background.set_data(surfaces[k])
        if titles:
            label.set_text(titles[k])
        return (cloud,)

    return _html(fig, draw, len(frames), interval)

"""samples.png of a diffusion model (models/diffusion.py): samples, and how the reverse process
makes them, from noise at level T down to data at level 0.

    captions   a gallery of prompts (viz/captions.py)
    images     a grid of DDIM-50 samples (a conditional run: class k in column k), and one
               sample's reverse trajectory, ten snapshots from x_T to x_0
    2-D points 1,000 DDPM samples over the data, three reverse trajectories, and the cloud at
               five levels, denser near the data, where the shape appears
"""
import numpy as np

from minigen.objectives.denoising import timesteps
from minigen.viz import captions
from minigen.viz import figure as new_figure
from minigen.viz import image_grid


def figure(model):
    """The Figure of ``model``, a trained Diffusion family: images or 2-D points; a captioned run's
    gallery of prompts (DDPM, guidance W as set)."""
    if model.config.captions:
        return captions.gallery(model, title=f"diffusion ({model.config.model}) --captions, DDPM, "
                                             f"guidance W = {model.settings['guidance']:g}, seed 0")
    return images_figure(model) if model.images else points_figure(model)


def images_figure(model):
    """100 samples (16 for images larger than 8x8; a conditional run 20, a class a column) of DDIM
    with 50 steps, and the first sample's reverse trajectory."""
    T, data = model.settings["T"], model.train_data
    small = data.shape[-1] <= 8
    n = 100 if small else 20 if model.config.conditional else 16
    columns = 10 if small or model.config.conditional else 4
    K = min(50, T)
    states = model.trajectory(n, 0, "ddim", K)                                   # [x_T, ..., x_0]
    levels = timesteps(T, K) + [0]
    fig = new_figure(figsize=(7.5, 9.0))
    top, strip = fig.subplots(2, 1, gridspec_kw={"height_ratios": [10, 1.4]})
    top.imshow(image_grid(data.to_unit(states[-1].numpy()), columns), cmap="gray_r", vmin=0, vmax=1,
               interpolation="nearest")
    asked = f", class k in column k, guidance W = {model.settings['guidance']:g}" if model.config.conditional else ""
    top.set_title(f"diffusion ({model.config.model}) samples, DDIM {K} steps{asked}", fontsize=10)
    picks = [round(k * K / 9) for k in range(10)]                                # 10 snapshots, x_T..x_0
    one = np.stack([states[k][0].numpy() for k in picks])                        # (10, C, H, W)
    strip.imshow(image_grid(data.to_unit(one), 10), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    strip.set_title("the first sample's reverse trajectory, t = " + ", ".join(str(levels[k]) for k in picks),
                    fontsize=8)
    for ax in (top, strip):
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def points_figure(model):
    """1,000 DDPM samples (all T levels) over the test points, three of their reverse
    trajectories, and the whole cloud at levels T, T/2, T/5, T/10 and 0."""
    T = model.settings["T"]
    states = [x.numpy() for x in model.trajectory(1000, 0)]                      # [x_T, ..., x_0], (1000, 2)
    levels = timesteps(T, T) + [0]
    fig = new_figure(figsize=(9.0, 6.5))
    grid = fig.add_gridspec(2, 5, height_ratios=[3, 1.2])
    main = fig.add_subplot(grid[0, 1:4])
    data = model.test_data.points[:1000]
    limit = max(3.0, 1.05 * float(abs(data).max()))
    paths = np.stack([x[:3] for x in states])                                    # (T + 1, 3, 2)
    main.scatter(data[:, 0], data[:, 1], s=2, c="0.6", label="data")
    main.scatter(states[-1][:, 0], states[-1][:, 1], s=2, c="tab:orange", label=f"samples (DDPM, {T} steps)")
    for j in range(3):
        main.plot(paths[:, j, 0], paths[:, j, 1], lw=0.7, c="tab:blue", alpha=0.8,
                  label="reverse trajectories" if j == 0 else None)
    main.plot(paths[0, :, 0], paths[0, :, 1], "o", ms=3, c="tab:blue")          # where they started
    square(main, limit)
    main.legend(loc="upper right", fontsize=7, markerscale=4)
    main.set_title(f"diffusion on {model.config.data}, step {model.step_count}", fontsize=9)
    for j, level in enumerate((T, T // 2, T // 5, T // 10, 0)):
        k = T - level                                                            # states[k] is at this level
        ax = fig.add_subplot(grid[1, j])
        ax.scatter(states[k][:, 0], states[k][:, 1], s=1, c="tab:orange")
        square(ax, limit)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"t = {levels[k]}", fontsize=8)
    fig.tight_layout()
    return fig


def square(ax, limit):
    """Axes from -limit to limit both ways, equal in scale."""
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")

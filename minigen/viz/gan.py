"""A GAN's samples.png: an image grid, or on 2-D data the samples over the data with D's
opinion of every point of the plane behind them (``plot_points``; its two halves,
``critic_surface`` and ``draw_points``, also draw tutorial 04's snapshots of training)."""
from minigen import viz
from minigen.viz import captions
from minigen.autograd import no_grad
from minigen.functional import sigmoid
from minigen.ops import stack
from minigen.tensor import arange, zeros


def figure(gan):
    """The trained GAN's picture: 100 samples in a 10-column grid (a conditional run: one class
    per column; a captioned run: a gallery of prompts), or on 2-D data its samples and D's surface
    (``plot_points``)."""
    config = gan.config
    if config.captions:
        return captions.gallery(gan)
    if gan.images:
        kind = "conditional samples, a class per column" if config.conditional else "samples"
        return viz.image_grid_figure(gan.sample(100, 0), nrow=10, title=f"GAN ({config.model}, {config.loss}) {kind}")
    fig = viz.figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    limit = max(3.0, 1.05 * float(abs(gan.test_data.points).max()))          # swissroll reaches 3.2
    plot_points(ax, gan, gan.test_data.points, 1000, limit=limit)
    ax.set_title(f"GAN ({config.loss}) on {config.data}, step {gan.step_count}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_points(ax, gan, data, n=1000, limit=3.0, surface=True, colorbar=True):
    """Samples (orange) over data (grey) on ``ax``, with D's opinion of every point behind them:
    D(x) = P(real) on a fixed 0..1 scale (red = real), or the WGAN critic's score f(x)."""
    values = critic_surface(gan, limit) if surface else None
    draw_points(ax, gan.sample(n, 0), data[:n], values, limit, gan.config.loss == "wgan-gp", colorbar)


def critic_surface(gan, limit=3.0, k=121):
    """D's opinion of the square [-limit, limit]^2 on a k x k grid, (k, k) with rows along y:
    D(x) = P(real), or for a WGAN-GP its critic's score f(x)."""
    device = gan.config.device
    line = arange(k, dtype="float32", device=device) * (2 * limit / (k - 1)) - limit
    xs = (line.reshape(1, k) + zeros(k, 1, device=device)).reshape(k * k)
    ys = (line.reshape(k, 1) + zeros(1, k, device=device)).reshape(k * k)
    with no_grad():
        scores = gan.D(stack([xs, ys], axis=1))                               # (k*k,)
        return (scores if gan.config.loss == "wgan-gp" else sigmoid(scores)).reshape(k, k).numpy()


def draw_points(ax, samples, data, surface=None, limit=3.0, wgan=False, colorbar=True):
    """Samples (N, 2) in orange over data (M, 2) in grey on ``ax``, and behind them a
    ``critic_surface`` (k, k) when given: D(x) on a fixed 0..1 scale, or a WGAN critic's f(x)."""
    if surface is not None:
        scale = {} if wgan else {"vmin": 0.0, "vmax": 1.0}
        image = ax.imshow(surface, extent=(-limit, limit, -limit, limit), origin="lower", cmap="RdBu_r",
                          alpha=0.6, **scale)
        if colorbar:
            ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                               label="critic f(x)" if wgan else "D(x) = P(real)")
    ax.scatter(data[:, 0], data[:, 1], s=2, c="0.3", label="data")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:orange", label="samples")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, markerscale=4)

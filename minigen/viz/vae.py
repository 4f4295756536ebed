"""A VAE's samples.png: prior samples (draws, and for Bernoulli data the probabilities they were
drawn from) and a latent walk between two test digits; a conditional run instead shows its
samples with a class per column, and four codes (rows) each painted as every class."""
import math

from minigen import backend
from minigen.viz import figure as blank_figure
from minigen.viz import image_grid


def figure(vae):
    """The Figure of a trained VAE (models/vae.py): one grid of images a panel, 10 wide."""
    panels = conditional_panels(vae) if vae.config.conditional else unconditional_panels(vae)
    fig = blank_figure(figsize=(6, 1.9 * len(panels) + 0.3))
    rows = [math.ceil(len(images) / 10) for _, images in panels]
    axes = fig.subplots(len(panels), 1, gridspec_kw={"height_ratios": rows})
    for ax, (title, images) in zip(axes, panels):
        ax.imshow(image_grid(images, nrow=10), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    config = vae.config
    kind = ", conditional" if config.conditional else ""
    fig.suptitle(f"VAE ({config.model}, {config.loss}{kind}) on {config.data}", fontsize=10)
    fig.tight_layout()
    return fig


def unconditional_panels(vae):
    """[(title, images in [0, 1])]: draws and their means from the same codes, a latent walk."""
    generator = backend.private_generator(0)
    z = generator.standard_normal((40, vae.settings["z_dim"])).astype("float32")
    means = vae.decode(z)
    panels = [("samples: z ~ N(0, I), decoder means", means)]
    if vae.bernoulli:
        draws = (generator.random(means.shape) < means).astype("float32")
        panels = [("samples: binary draws", draws), ("the same codes: Bernoulli means", means)]
    test, labels = vae.test_data.images, vae.test_data.labels
    if labels is None:
        first, second, title = 0, 1, "latent walk: test image 0 -> test image 1"
    else:
        first, second = int((labels == 0).argmax()), int((labels == 1).argmax())
        title = "latent walk: the first test 0 -> the first test 1 (posterior means, decoded)"
    panels.append((title, vae.interpolate(test[first], test[second], steps=10)))
    return panels


def conditional_panels(vae):
    """[(title, images in [0, 1])]: samples, class k in column k; four codes painted as each class."""
    classes = vae.num_classes
    kind = "binary draws" if vae.bernoulli else "decoder means"
    panels = [(f"samples ({kind}) of the classes 0-{classes - 1}, one per column", vae.sample(4 * classes, 0))]
    z = backend.private_generator(0).standard_normal((4, vae.settings["z_dim"])).astype("float32")
    styles = vae.decode(z.repeat(classes, axis=0), vae.sample_labels(4 * classes))
    panels.append(("one code z per row, painted as each class: p(x | z, y)"
                   + (", Bernoulli means" if vae.bernoulli else ""), styles))
    return panels

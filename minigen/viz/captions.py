"""samples.png of a captioned run (--captions; diffusion and the GAN): a gallery of prompts, one
row a prompt, written beside its samples."""
from minigen.viz import figure as new_figure
from minigen.viz import image_grid

GALLERY = ("a seven", "a thin seven leaning left", "a thick seven leaning right", "a thin two leaning left",
           "a thick two", "a zero leaning right", "a thick zero upright", "a thin one leaning left",
           "a one leaning right", "a medium four upright", "an eight", "a thick nine leaning left", "")


def gallery(family, prompts=GALLERY, n=10, title=None):
    """``n`` samples (seed 0) of each prompt in a row, the prompt written on its left ("" is the
    empty prompt: no caption, the unconditional model)."""
    x = family.sample(n * len(prompts), 0, prompt=[p for p in prompts for _ in range(n)])   # (n P, 1, H, W)
    fig = new_figure(figsize=(7.5, 0.62 * len(prompts) + 0.6))
    ax = fig.subplots()
    ax.imshow(image_grid(x, n), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    h = x.shape[-2] + 1                                                          # a row's height, with its frame
    for k, prompt in enumerate(prompts):
        ax.text(-1, 1 + k * h + h / 2, f'"{prompt}"' if prompt else "(empty prompt)", ha="right", va="center",
                fontsize=8)
    ax.set_axis_off()
    ax.set_title(title or f"{family.config.family} ({family.config.model}) --captions: prompts, seed 0", fontsize=9)
    fig.tight_layout()
    return fig

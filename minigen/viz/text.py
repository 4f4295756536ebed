"""samples.png of a text model: sampled names and names that complete a prompt (models/text.py);
passages of a corpus (models/story.py)."""
from minigen.viz import figure as new_figure


def figure(model, n=60, columns=4, prompts=("mar", "jo")):
    """n names sampled from ``model`` (seed 0) written in columns; then, for each prompt, a
    column of names that complete it (`minigen sample --prompt`), under a heading that names it."""
    names = model.sample(n, 0)
    rows = -(-n // columns)
    total = columns + len(prompts)
    fig = new_figure(figsize=(1.6 * total, 0.22 * rows + 0.6))
    ax = fig.subplots()
    for k, name in enumerate(names):
        c, r = divmod(k, rows)
        ax.text(c / total, 1 - (r + 0.5) / rows, name, family="monospace", fontsize=9, va="center")
    for c, prompt in enumerate(prompts, start=columns):
        ax.text(c / total, 1 - 0.5 / rows, f"--prompt {prompt}", family="monospace", fontsize=9,
                va="center", weight="bold")
        for r, name in enumerate(model.sample(rows - 1, 0, prompt=prompt), start=1):
            ax.text(c / total, 1 - (r + 0.5) / rows, name, family="monospace", fontsize=9, va="center")
    ax.set_axis_off()
    ax.set_title(f"{model.config.model} on {model.config.data}: samples (T = 1); right: names that "
                 f"complete a prompt", fontsize=10)
    return fig


def story_figure(model, prompt, n=2, length=400):
    """n passages of ``length`` characters sampled from a corpus model (seed 0), each after
    ``prompt``, one above the other as the text they are (line breaks kept, long lines cut at
    the edge, no math markup: a "$" is a dollar)."""
    fig = new_figure(figsize=(10, 4.2 * n))
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    for ax, text in zip(axes, model.sample(n, 0, prompt=prompt, length=length)):
        ax.text(0, 1, text, family="monospace", fontsize=7, va="top", transform=ax.transAxes,
                clip_on=True, parse_math=False)
        ax.set_axis_off()
    fig.suptitle(f"{model.config.model} on {model.config.data}: samples after {prompt!r} (T = 1)", fontsize=10)
    return fig

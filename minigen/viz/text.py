"""samples.png of a text model (models/text.py): sampled names, and names that complete a prompt."""
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

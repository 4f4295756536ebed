"""The tutorials' figures, drawn here so that the tutorials' code cells show the models, not the
plotting. Each function takes what a tutorial computed and returns a matplotlib Figure, which the
tutorial hands to `_setup.save` (written to the figures folder and shown inline once).
"""
import matplotlib
import numpy as np
from _setup import plt

from minigen.data.completion import half_mask
from minigen.viz import image_grid
from minigen.viz.gan import draw_points


# ----- 02 · layers and optimisers -----
def transposed_patch(image, painted, kernel):
    """One input pixel, the output a transposed convolution paints from it, and the kernel."""
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    for ax, values, title in ((axes[0], image, "input: one pixel on"),
                              (axes[1], painted, "output (bias removed)"),
                              (axes[2], kernel, "the 4x4 kernel")):
        ax.imshow(values, cmap="RdBu_r", vmin=-abs(kernel).max(), vmax=abs(kernel).max())
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("a transposed convolution, stride 2: each input pixel paints a patch of the output", fontsize=10)
    return fig


def optimiser_race(f, paths):
    """Paths {name: (steps + 1, 2) array} over the contours of f(p) on the plane."""
    u, w = np.meshgrid(np.linspace(-4.5, 1.5, 200), np.linspace(-1.3, 1.3, 200))
    fig, (ax, ax_f) = plt.subplots(1, 2, figsize=(12, 3.8), width_ratios=[1.6, 1])
    ax.contour(u, w, f((u, w)), levels=np.geomspace(0.01, 60, 14), colors="0.8", linewidths=0.8)
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=name)
        ax_f.semilogy([f(p) for p in path], label=name)
    ax.plot(0, 0, "k*", ms=10)
    ax.set_xlabel("u (gentle slope)")
    ax.set_ylabel("w (steep slope)")
    ax.legend(fontsize=8)
    ax.set_title("60 steps from (-4, 1) on f = u²/2 + 25 w²", fontsize=10)
    ax_f.set_xlabel("step")
    ax_f.set_ylabel("f")
    ax_f.set_title("the loss", fontsize=10)
    return fig


def schedule_and_ema(rates, noisy, averaged):
    """A learning-rate schedule, and a noisy weight with its exponential moving average."""
    fig, (ax_lr, ax_ema) = plt.subplots(1, 2, figsize=(11, 3.2))
    ax_lr.plot(rates)
    ax_lr.set_xlabel("step")
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_title("WarmupCosine: 20 steps of warm-up, then a half cosine", fontsize=10)
    ax_ema.plot(noisy, lw=0.8, color="0.6", label="the weight")
    ax_ema.plot(averaged, lw=2, label="its EMA, decay 0.9")
    ax_ema.set_xlabel("step")
    ax_ema.legend(fontsize=8)
    ax_ema.set_title("an exponential moving average smooths the last ~10 steps", fontsize=10)
    return fig


# ----- shared -----
def show_images(ax, images, nrow, title=None):
    """Images in [0, 1] as one grid on ``ax``, dark ink on white."""
    ax.imshow(image_grid(images, nrow), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)


def image_panels(panels, nrow=10, height=3.8):
    """[(images in [0, 1], title)] side by side, each a grid ``nrow`` wide."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), height), squeeze=False)
    for ax, (images, title) in zip(axes[0], panels):
        show_images(ax, images, nrow, title)
    return fig


# ----- 04 · GANs -----
def generator_losses(d_of_fake, curves):
    """{name: (loss, d loss / d logit)} of the generator losses, against D(G(z))."""
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, (value, slope) in curves.items():
        ax_loss.plot(d_of_fake, value, label=name)
        ax_grad.plot(d_of_fake, np.abs(slope), label=name)
    ax_loss.set_xlabel("D(G(z)): the critic's belief that a fake is real")
    ax_loss.set_ylabel("generator loss (to minimise)")
    ax_loss.legend(fontsize=8)
    ax_grad.set_xlabel("D(G(z))")
    ax_grad.set_ylabel("|d loss / d logit|")
    ax_grad.set_yscale("log")
    ax_grad.axvspan(0, 0.05, color="0.9")
    ax_grad.text(0.06, 2e-3, "D wins:\nthe saturating\ngradient vanishes", fontsize=8)
    ax_grad.legend(fontsize=8)
    fig.suptitle("Both generator losses go down as D(G(z)) goes up; only one has a gradient when D(G(z)) ≈ 0")
    return fig


def gan_snapshots(rows, data, title, row_names=None, wgan=None):
    """rows: lists of snapshots (step, samples, critic surface, evaluation), each drawn as the
    samples over ``data`` and the surface. ``wgan``: per row, whether its surface is a WGAN
    critic's score (no fixed scale) rather than D(x) = P(real) (one colorbar, 0..1)."""
    wgan = wgan or [False] * len(rows)
    columns = max(len(shots) for shots in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(4.3 * columns, 4.2 * len(rows)), squeeze=False)
    for r, shots in enumerate(rows):
        for ax, (step, samples, surface, result) in zip(axes[r], shots):
            draw_points(ax, samples, data, surface, wgan=wgan[r], colorbar=False)
            ax.set_title(f"{'critic step' if wgan[r] else 'step'} {step}: {result['modes']} modes, "
                         f"{result['hq_share']:.0%} high quality", fontsize=9)
        if row_names:
            axes[r, 0].set_ylabel(row_names[r])
    d_scale = matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(0, 1), cmap="RdBu_r")
    fig.colorbar(d_scale, ax=[ax for r in range(len(rows)) if not wgan[r] for ax in axes[r]],
                 shrink=0.7, alpha=0.6, label="D(x) = P(real)")
    fig.suptitle(title)
    return fig


def saturation(runs):
    """{loss name: (G's gradient norms, mean D(G(z)))} per generator step against a frozen D."""
    fig, (ax_norm, ax_belief) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, (norms, beliefs) in runs.items():
        ax_norm.plot(norms, label=name)
        ax_belief.plot(beliefs, label=name)
    ax_norm.set_yscale("log")
    ax_norm.set_xlabel("generator step (D frozen after a head start)")
    ax_norm.set_ylabel("‖∇_θG loss‖")
    ax_norm.legend()
    ax_belief.set_xlabel("generator step")
    ax_belief.set_ylabel("mean D(G(z))")
    ax_belief.set_ylim(-0.02, 1.02)
    ax_belief.legend()
    fig.suptitle("Against a winning critic: the saturating loss has (almost) no gradient, the non-saturating one escapes")
    return fig


def class_bars(ax, heights, line, line_label, xlabel, ylabel):
    """Ten bars (one per digit) and a dashed reference line."""
    ax.bar(range(10), heights, color="tab:orange")
    ax.axhline(line, color="0.3", ls="--", lw=1, label=line_label)
    ax.set_xticks(range(10))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def dcgan_digits(real, samples, judged):
    """100 real digits, 100 samples, and the classes the judge sees in the samples."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 5), width_ratios=[1, 1, 1.1])
    show_images(axes[0], real, 10, "real test digits")
    show_images(axes[1], samples, 10, "DCGAN samples")
    class_bars(axes[2], judged["class_histogram"], judged["samples"] / 10, "uniform",
               "class the classifier sees", f"samples (of {judged['samples']})")
    axes[2].set_title(f"entropy {judged['class_entropy']:.2f} nats, confidence {judged['mean_confidence']:.2f}")
    axes[2].legend()
    fig.suptitle("DCGAN on 8x8 digits: what it draws, and what a classifier thinks it drew")
    return fig


def conditional_gan(rows, judged):
    """rows (10 labels, 10 z, H, W): a digit a row, a z a column; and the judge's accuracy per label."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 5), width_ratios=[1, 1.1])
    show_images(axes[0], rows.reshape(-1, *rows.shape[2:]), 10, "row k: --label k; column j: the same z for every row")
    class_bars(axes[1], judged["per_label_accuracy"], judged["label_accuracy"], "label accuracy",
               "digit asked for", "share the classifier calls that digit")
    axes[1].set_ylim(0, 1)
    axes[1].legend(loc="lower right")
    fig.suptitle("conditional DCGAN: the label says which digit, z how it is written")
    return fig


# ----- 05 · VAEs -----
def codes_and_pictures(codes, labels, pictures, nrow, codes_title, pictures_title, limit=None):
    """2-D codes coloured by their digit, with the prior's 2-std circle; beside them a grid of
    decoded pictures."""
    fig, (ax_codes, ax_pictures) = plt.subplots(1, 2, figsize=(11, 4.5), width_ratios=[1.15, 1])
    points = ax_codes.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=8)
    ax_codes.add_patch(plt.Circle((0, 0), 2, fill=False, color="k", ls="--"))
    if limit:
        ax_codes.set_xlim(-limit, limit)
        ax_codes.set_ylim(-limit, limit)
    ax_codes.set_aspect("equal")
    ax_codes.set_title(codes_title, fontsize=9)
    fig.colorbar(points, ax=ax_codes, label="digit")
    show_images(ax_pictures, pictures, nrow, pictures_title)
    return fig


def elbo_terms(history, warmup_end, smooth=50):
    """The loss, the reconstruction and the KL per training step (running means of ``smooth``),
    with the KL warm-up shaded."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.axvspan(0, warmup_end, color="0.92")
    ax.text(warmup_end, 40, " KL warm-up ends", fontsize=8)
    for name, label in [("loss", "the loss: reconstruction + beta KL (the -ELBO once beta = 1)"),
                        ("reconstruction", "reconstruction: -E_q log p(x | z)"), ("kl", "KL(q(z | x) ‖ N(0, I))")]:
        values = np.asarray(history[name])
        if len(values) > smooth:
            ax.plot(np.arange(smooth - 1, len(values)), np.convolve(values, np.ones(smooth) / smooth, "valid"),
                    label=label)
        else:
            ax.plot(values, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("nats per image (training batches)")
    ax.set_ylim(0, 45)
    ax.legend()
    ax.set_title("The ELBO's two terms during training")
    return fig


def gradient_estimates(score, reparam):
    """(draws, dims) one-draw gradient estimates of two estimators: the histograms of both in
    the dimension with the largest mean gradient, and their variance in every dimension."""
    fig, (ax_hist, ax_var) = plt.subplots(1, 2, figsize=(11, 3.6))
    dim = int(np.argmax(np.abs(reparam.mean(0))))
    bins = np.linspace(*np.percentile(score[:, dim], [1, 99]), 60)
    ax_hist.hist(score[:, dim], bins=bins, alpha=0.6, label="score function", density=True)
    ax_hist.hist(reparam[:, dim], bins=bins, alpha=0.8, label="reparameterised", density=True)
    ax_hist.axvline(reparam[:, dim].mean(), color="k", lw=1)
    ax_hist.set_title(f"{len(score):,} one-draw estimates of ∂/∂mu_{dim} E_q[log p(x | z)]", fontsize=9)
    ax_hist.legend(fontsize=8)
    dims = np.arange(score.shape[1])
    ax_var.bar(dims - 0.2, score.var(axis=0), width=0.4, label="score function")
    ax_var.bar(dims + 0.2, reparam.var(axis=0), width=0.4, label="reparameterised")
    ax_var.set_yscale("log")
    ax_var.set_xlabel("latent dimension")
    ax_var.set_ylabel("variance of one estimate")
    ax_var.legend(fontsize=8)
    ax_var.set_title("the reparameterised gradient is far less noisy in every dimension", fontsize=9)
    return fig


def iwae_bounds(ks, bounds, neg_elbo):
    """-L_k against k, and the -ELBO as a line."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(ks, bounds, "o-", label="-L_k (IWAE bound, one set of draws)")
    ax.axhline(neg_elbo, color="tab:red", ls="--", label=f"-ELBO = {neg_elbo:.2f} (analytic KL)")
    ax.set_xscale("log")
    ax.set_xlabel("k, importance samples per image")
    ax.set_ylabel("nats per test digit")
    ax.legend()
    ax.set_title("The bound tightens as k grows: -L_k falls towards -log p(x)", fontsize=10)
    return fig


def active_dimensions(activity, kl, sweeps, threshold):
    """Each latent dimension's activity and mean KL (most active first, the activity threshold
    dotted), and {dimension: decoded images} sweeps along a few dimensions, a row each."""
    order = np.argsort(-activity)
    fig, (ax_bar, ax_sweep) = plt.subplots(1, 2, figsize=(12, 4.2), width_ratios=[1.1, 1])
    dims = np.arange(len(order))
    ax_bar.bar(dims - 0.2, activity[order], width=0.4, label="Cov_x(E_q[z_u | x])")
    ax_bar.bar(dims + 0.2, kl[order], width=0.4, label="mean KL (nats)")
    ax_bar.axhline(threshold, color="k", ls=":", lw=1)
    ax_bar.set_yscale("log")
    ax_bar.set_xticks(dims, [str(u) for u in order], fontsize=7)
    ax_bar.set_xlabel("latent dimension (most active first)")
    ax_bar.legend(fontsize=8)
    ax_bar.set_title("active dimensions carry information; the rest sit at the prior", fontsize=9)
    rows = list(sweeps.values())
    show_images(ax_sweep, np.concatenate(rows), len(rows[0]), "a test 3's code with one dimension swept from -3 to 3")
    height = rows[0].shape[-2] + 1
    for r, u in enumerate(sweeps):
        state = "active" if activity[u] > threshold else "inactive"
        ax_sweep.text(-1, height * (r + 0.5), f"dim {u} ({state})", ha="right", va="center", fontsize=8)
    return fig


# ----- 06 · autoregressive -----
def bigram_tables(vocab, tables):
    """{title: (V, V) table of p(next | previous)} side by side, the letters on both axes."""
    fig, axes = plt.subplots(1, len(tables), figsize=(5.5 * len(tables), 5))
    for ax, (title, probs) in zip(axes, tables.items()):
        ax.imshow(probs, cmap="Blues", vmin=0, vmax=0.6)
        ax.set_xticks(range(len(vocab)), vocab, fontsize=7)
        ax.set_yticks(range(len(vocab)), vocab, fontsize=7)
        ax.set_xlabel("next letter")
        ax.set_ylabel("previous letter")
        ax.set_title(title, fontsize=10)
    fig.suptitle("p(next | previous): counting and gradient descent find the same table")
    return fig


def nll_by_context(by_context, bigram_nll):
    """{context k: test nats per character} of the MLPs, and the bigram table's as a line."""
    contexts = list(by_context)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.plot(contexts, [by_context[k] for k in contexts], "o-", label="MLP")
    ax.axhline(bigram_nll, color="0.5", ls="--", label="bigram (context 1, a table)")
    ax.set_xlabel("context k (letters the model sees)")
    ax.set_ylabel("test nats per character")
    ax.set_xticks(contexts)
    ax.legend()
    ax.set_title("A longer context, a better storyteller")
    return fig


def attention_maps(boundary, name, maps):
    """{title: (T, T) attention weights over boundary + name}, queries down, keys across."""
    labels = [boundary] + list(name)
    fig, axes = plt.subplots(1, len(maps), figsize=(5 * len(maps), 4.4))
    for ax, (title, weights) in zip(axes, maps.items()):
        ax.imshow(weights, cmap="magma", vmin=0, vmax=1)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("key: the position looked at")
        ax.set_ylabel("query: the position predicting the next letter")
        ax.set_title(title, fontsize=10)
    fig.suptitle(f"Causal attention over '{boundary}{name}': nothing above the diagonal (the future) gets any weight")
    return fig


def text_columns(columns, title):
    """{heading: [strings]} written as columns of text."""
    fig, ax = plt.subplots(figsize=(11, 3.6))
    for col, (heading, lines) in enumerate(columns.items()):
        ax.text(col / len(columns), 1.0, heading, fontsize=10, fontweight="bold", va="top")
        for row, line in enumerate(lines):
            ax.text(col / len(columns), 0.9 - row * 0.075, line, family="monospace", fontsize=9, va="top")
    ax.set_axis_off()
    ax.set_title(title)
    return fig


def kv_cache_timings(full, cached):
    """Seconds to draw 1,000 names, recomputing every prefix and with the KV cache."""
    fig, ax = plt.subplots(figsize=(5, 2.4))
    ax.barh(["full recomputation", "KV cache"], [full, cached], color=["0.6", "tab:blue"])
    ax.set_xlabel("seconds to draw 1,000 names")
    ax.set_title("The same names, less work")
    return fig


def kernel_masks(masks):
    """{title: (k, k) mask of 0s and 1s}, white where a weight may be non-zero, x on the centre."""
    fig, axes = plt.subplots(1, len(masks), figsize=(3 * len(masks), 3))
    for ax, (title, mask) in zip(axes, masks.items()):
        size = len(mask)
        ax.imshow(mask, cmap="gray", vmin=0, vmax=1)
        ax.plot(size // 2, size // 2, "rx", ms=10)
        ax.set_title(f"{title} (x: the centre)", fontsize=10)
        ax.set_xticks(np.arange(size + 1) - 0.5, [])
        ax.set_yticks(np.arange(size + 1) - 0.5, [])
        ax.grid(color="tab:gray", lw=0.8)
        ax.tick_params(length=0)
    return fig


def named_rows(ax, rows, names, title):
    """Batches of images one row each on ``ax``, each row named on the left."""
    show_images(ax, np.concatenate(rows), len(rows[0]))
    ax.set_axis_on()
    height = rows[0].shape[-2] + 1
    ax.set_yticks([height * (r + 0.5) for r in range(len(rows))], names)
    ax.set_xticks([])
    ax.set_title(title, fontsize=10)


def image_rows(rows, names, title):
    """Batches of images (prompts, responses...), a row each, named on the left."""
    fig, ax = plt.subplots(figsize=(7, 0.75 * len(rows) + 0.6))
    named_rows(ax, rows, names, title)
    return fig


def samples_and_completions(samples, given, completions):
    """Samples; and test images with their bottom half hidden (grey), completions of each, the truth."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.4), width_ratios=[1.2, 1], gridspec_kw={"wspace": 0.4})
    show_images(axes[0], samples, 8)
    axes[0].set_title(f"{len(samples)} samples, drawn pixel by pixel", fontsize=10)
    hidden = given.copy()
    hidden[..., given.shape[-2] // 2:, :] = 0.5
    named_rows(axes[1], [hidden, *completions, given],
               ["given (grey hidden)", *(f"completion {k + 1}" for k in range(len(completions))), "the true digit"],
               "test digits, bottom half hidden and filled in")
    return fig


def conditional_pixelcnn(by_class, posteriors, shown, finished):
    """Samples a class a column; {test index: (its class, p(y | x), p(y | top half))} as curves;
    test digits and their top halves finished as {class asked for: images}."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), width_ratios=[1.3, 1.1, 0.6], gridspec_kw={"wspace": 0.3})
    show_images(axes[0], by_class, 10)
    axes[0].set_axis_on()
    width = by_class.shape[-1] + 1
    axes[0].set_xticks([width * (c + 0.5) for c in range(10)], range(10))
    axes[0].set_yticks([])
    axes[0].set_title("samples asked for 0-9 (a class per column)", fontsize=10)
    for (k, (label, whole, top)), colour in zip(posteriors.items(), ("tab:blue", "tab:orange", "tab:green")):
        axes[1].plot(whole, "o-", color=colour, label=f"test digit {k} (a {label}): whole")
        axes[1].plot(top, "x--", color=colour, label="... top half only")
    axes[1].set_xticks(range(10))
    axes[1].set_xlabel("class y")
    axes[1].set_ylabel("p(y | x)")
    axes[1].legend(fontsize=7)
    axes[1].set_title("Bayes' rule over ten exact likelihoods", fontsize=10)
    named_rows(axes[2], [shown, *finished.values()], ["true"] + [f"y = {k}" for k in finished],
               "their top halves, finished as\nthe class asked for (--label)")
    return fig


def receptive_fields(views):
    """{(r, c): (H, W) bool seen}: for each pixel, what it sees, what it could see but does not
    (the blind spot), and what comes after it."""
    from matplotlib.colors import ListedColormap
    fig, axes = plt.subplots(1, len(views), figsize=(3.2 * len(views), 3.4))
    colours = ListedColormap(["white", "tab:blue", "tab:red", "black"])
    for ax, ((r, c), seen) in zip(np.atleast_1d(axes), views.items()):
        h, w = seen.shape
        before = np.arange(h * w).reshape(h, w) < w * r + c
        kind = np.where(seen, 1, np.where(before, 2, 0))
        kind[r, c] = 3
        ax.imshow(kind, cmap=colours, vmin=0, vmax=3)
        ax.set_xticks(np.arange(w + 1) - 0.5, [])
        ax.set_yticks(np.arange(h + 1) - 0.5, [])
        ax.grid(color="0.7", lw=0.6)
        ax.tick_params(length=0)
        ax.set_title(f"pixel ({r}, {c}): blue seen,\nred before it but unseen", fontsize=9)
    return fig


# ----- 07 · diffusion -----
def square(ax, limit):
    """Axes from -limit to limit both ways, equal in scale."""
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")


def forward_process(digits, clouds, bars, chain):
    """{level t: a noised digit (1, 1, H, W) in [-1, 1]} and {t: a noised 2-D cloud}, a column
    per level; below, sqrt(abar_t) and sqrt(1 - abar_t), and the chain's iterated mean."""
    levels = list(digits)
    fig = plt.figure(figsize=(13, 5.6))
    grid = fig.add_gridspec(3, len(levels), height_ratios=[1, 1.3, 1.2])
    for j, t in enumerate(levels):
        show_images(fig.add_subplot(grid[0, j]), ((digits[t] + 1) / 2).clip(0, 1), 1, f"t = {t}")
        ax = fig.add_subplot(grid[1, j])
        ax.scatter(clouds[t][:, 0], clouds[t][:, 1], s=1, c="tab:blue")
        square(ax, 3.5)
        ax.set_xticks([])
        ax.set_yticks([])
    ax = fig.add_subplot(grid[2, :])
    ax.plot(np.sqrt(bars), label="sqrt(abar_t): the data's share")
    ax.plot(np.sqrt(1 - np.asarray(bars)), label="sqrt(1 - abar_t): the noise's share")
    ax.plot(chain, ":", c="k", label="the chain iterated (mean / x_0)")
    ax.set_xlabel("level t")
    ax.legend(fontsize=8)
    fig.suptitle(f"Noising a digit and a swiss roll with q(x_t | x_0) (linear schedule, T = {len(bars) - 1})")
    return fig


def score_fields(where, fields, noised, bars):
    """{level t: the score (N, 2) at the points ``where``} as arrows of unit length coloured by
    their log length, over {t: the data noised to level t}."""
    fig, axes = plt.subplots(1, len(fields), figsize=(4 * len(fields), 4.4))
    for ax, t in zip(axes, fields):
        length = np.linalg.norm(fields[t], axis=1, keepdims=True)
        ax.scatter(noised[t][:, 0], noised[t][:, 1], s=1, c="0.75")
        ax.quiver(where[:, 0], where[:, 1], *(fields[t] / np.maximum(length, 1e-9)).T, np.log(length.ravel()),
                  cmap="viridis", scale=35, width=0.004)
        square(ax, 3)
        ax.set_title(f"t = {t}: abar_t = {bars[t]:.3g}", fontsize=10)
    fig.suptitle("The learned score -eps_theta(x, t) / sqrt(1 - abar_t): arrows point uphill "
                 "(direction only; colour = log length); grey: the data noised to level t")
    return fig


def reverse_paths(paths, data):
    """{title: states (K + 1, N, 2) from x_T to x_0}, a panel each, over the data in grey."""
    fig, axes = plt.subplots(1, len(paths), figsize=(5.5 * len(paths), 5.4))
    for ax, (title, states) in zip(axes, paths.items()):
        ax.scatter(data[:, 0], data[:, 1], s=1, c="0.75")
        for j in range(states.shape[1]):
            ax.plot(states[:, j, 0], states[:, j, 1], lw=0.9)
            ax.plot(*states[0, j], "o", ms=4, c="k")
            ax.plot(*states[-1, j], "*", ms=10, c="tab:red")
        square(ax, 3)
        ax.set_title(f"{title}: from noise (black) to samples (red)", fontsize=10)
    return fig


def quality_against_time(table, n):
    """{(sampler, steps): (seconds, Fréchet distance, its floor)}: a line per sampler, each point
    labelled with its steps."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for sampler, colour in (("ddpm", "tab:blue"), ("ddim", "tab:orange")):
        row = [(seconds, fd, steps) for (name, steps), (seconds, fd, _) in table.items() if name == sampler]
        ax.plot([r[0] for r in row], [r[1] for r in row], "o-", c=colour, label=sampler.upper())
        for seconds, fd, steps in row:
            ax.annotate(str(steps), (seconds, fd), textcoords="offset points", xytext=(4, 4), fontsize=8, color=colour)
    ax.axhline(next(iter(table.values()))[2], ls=":", c="k", label="floor: true digits")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"seconds to sample {n} digits")
    ax.set_ylabel("Fréchet distance to the test digits (lower is better)")
    ax.legend()
    ax.set_title("DDPM against DDIM: quality against sampling time (labels: steps)")
    return fig


def samples_and_inpainting(samples, given, filled):
    """Samples; and the given images, then for each side of {side: completions} the images with
    that half hidden (grey) and their completions."""
    rows = [given]
    for side, completions in filled.items():
        rows += [np.where(half_mask(given.shape, side), 0.5, given), completions]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), width_ratios=[1, 1.1])
    show_images(axes[0], samples, 8, "DDIM-50 samples")
    show_images(axes[1], np.concatenate(rows), len(given),
                "test digits; " + "; ".join(f"{side} half hidden (grey), filled in" for side in filled))
    return fig


def guidance_sweep(sweep, floor, grids):
    """{W: (label accuracy, Fréchet distance, within-class spread)} against W, the distance's
    floor dotted; below, {W: samples, a class a column} for a few W."""
    weights = list(sweep)
    fig = plt.figure(figsize=(12, 7.5))
    top = fig.add_gridspec(2, 3, height_ratios=[1, 1.15])
    for j, (name, ylabel) in enumerate((("label accuracy", "share the judge assigns to the class asked for"),
                                        ("Fréchet distance", "to the test digits (lower is better)"),
                                        ("within-class spread", "samples' spread / test digits' (1: as varied)"))):
        ax = fig.add_subplot(top[0, j])
        ax.plot(weights, [sweep[w][j] for w in weights], "o-")
        if j == 1:
            ax.axhline(floor, ls=":", c="k", label="floor: true digits")
            ax.legend(fontsize=8)
        ax.set_xlabel("guidance weight W")
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_title(name, fontsize=10)
    bottom = top[1, :].subgridspec(1, len(grids))
    for j, (w, images) in enumerate(grids.items()):
        show_images(fig.add_subplot(bottom[0, j]), images, 10, f"W = {w:g}: column k asked for class k")
    fig.tight_layout()
    return fig


# ----- 09 · prompts -----
def number_written(digits, number, read):
    """Digits drawn one per character of ``number``, with what a reader made of each."""
    fig, axes = plt.subplots(1, len(number), figsize=(1.2 * len(number), 1.7))
    for ax, image, asked, seen in zip(axes, digits, number, read):
        ax.imshow(image[0], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"asked {asked}, read {seen}", fontsize=8, color="black" if asked == seen else "tab:red")
        ax.set_axis_off()
    return fig


def prompt_gallery(given, completions, truth):
    """Top halves given (bottom grey), several completions of each, and the true digits."""
    shown = given[:len(truth)].copy()
    shown[:, :, shown.shape[2] // 2:] = 0.5
    rows = [shown, *completions, truth]
    fig, ax = plt.subplots(figsize=(6, 0.6 * len(rows) + 0.6))
    show_images(ax, np.concatenate(rows), len(truth),
                f"prompt (top half), {len(completions)} responses, the true digit (last row)")
    return fig

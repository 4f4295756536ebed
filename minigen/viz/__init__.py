"""Pictures: sample grids, loss curves, computation graphs. Host-side (NumPy + matplotlib).

Each family's samples.png is drawn by a module of its own here (gan.py, vae.py, text.py,
pixelcnn.py, diffusion.py): a function of the trained family that returns its Figure.

The library never touches matplotlib's global state: no ``matplotlib.use``, no pyplot. Each
picture is a ``matplotlib.figure.Figure`` made by ``figure()`` and written with its own
``savefig``, which renders PNGs headless (Agg) on any machine; a notebook or a GUI session
that imports minigen keeps the backend it had. Functions that draw return their figure, so a
notebook can show it (a Figure displays itself inline) and a script can ignore it.
"""
import numpy as np
from matplotlib.figure import Figure
from minigen.tensor import Tensor


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


def image_grid_figure(images, nrow=10, title=None, labels=None):
    """A figure of a grid of images in [0, 1]; ``labels`` (one short string per image) drawn on top."""
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
    return fig


def save_image_grid(images, path, nrow=10, title=None, labels=None):
    """Save a grid of images in [0, 1] (``image_grid_figure``) to ``path``; returns the figure."""
    fig = image_grid_figure(images, nrow, title, labels)
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


# ----- the computation graph a tensor remembers -----
GRAPH_MAX_NODES = 60   # beyond this a drawing is a hairball: draw_graph says so instead


class FreedValue:
    """A value the graph computed but no longer holds (no backward reads it: a ReLU keeps its
    output, not its input). Drawn with its shape only."""

    requires_grad = True

    def __init__(self, fn, shape):
        self._ctx, self.shape = fn, shape


def _graph_nodes(root):
    """The values and Functions reachable from ``root``, and the edges between them (producer
    -> consumer), by an iterative depth-first search. The graph itself is made of Functions
    (each knows its ``parents``) and leaves; each Function's output is drawn as a box too: the
    Tensor itself where some backward kept it, a FreedValue where none did."""
    from minigen.autograd import FREED_MESSAGE
    nodes, edges, stack = {}, [], [root]
    value_key = {id(root._ctx): id(root)} if root._ctx is not None else {}   # Function -> its output's box

    def value(made, fn):
        """The key of the box for ``fn``'s output, preferring a real Tensor to a FreedValue."""
        key = value_key.setdefault(id(fn), id(made))
        if key not in nodes or isinstance(nodes[key], FreedValue):
            if key not in nodes:
                stack.append(made)
            nodes[key] = made
        return key

    seen = set()
    while stack:
        t = stack.pop()
        key = id(t) if t._ctx is None else value_key.get(id(t._ctx), id(t))
        nodes.setdefault(key, t)
        fn = t._ctx
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        if fn.released:
            raise ValueError("draw_graph: " + FREED_MESSAGE + " (or draw it before backward)")
        nodes[id(fn)] = fn
        edges.append((id(fn), key))
        inputs = getattr(fn, "inputs", (None,) * len(fn.parents))
        for parent, shape, saved in zip(fn.parents, fn.shapes, inputs):
            if saved is not None and saved._ctx is None:        # a leaf: parameter or data
                nodes.setdefault(id(saved), saved)
                edges.append((id(saved), id(fn)))
            elif isinstance(parent, Tensor):                    # a leaf the node did not keep
                nodes.setdefault(id(parent), parent)
                edges.append((id(parent), id(fn)))
            elif parent is not None or saved is not None:       # a value some Function made
                made_by = parent if parent is not None else saved._ctx
                edges.append((value(saved if saved is not None else FreedValue(made_by, shape), made_by), id(fn)))
    return nodes, edges


def _graph_layout(root_id, nodes, edges):
    """(x, y) per node: the column is the longest path to the root (leaves left, root right);
    within a column, nodes sit near the mean height of what they feed (one barycentre sweep)."""
    consumers, producers = {}, {}
    for a, b in edges:
        consumers.setdefault(a, []).append(b)
        producers.setdefault(b, []).append(a)
    depth, frontier = {root_id: 0}, [root_id]
    while frontier:                       # longest path: relax along producer edges (a DAG)
        nxt = []
        for b in frontier:
            for a in producers.get(b, ()):
                if depth.get(a, -1) < depth[b] + 1:
                    depth[a] = depth[b] + 1
                    nxt.append(a)
        frontier = nxt
    n_cols = max(depth.values())
    columns = {}
    for key in nodes:
        columns.setdefault(depth[key], []).append(key)
    y = {root_id: 0.0}
    for d in range(1, n_cols + 1):        # right to left, as backward walks
        col = sorted(columns.get(d, []),
                     key=lambda k: sum(y[c] for c in consumers.get(k, ()) if c in y) / max(1, len(consumers.get(k, ()))))
        for i, key in enumerate(col):
            y[key] = (len(col) - 1) / 2 - i
    return {key: (n_cols - depth[key], y[key]) for key in nodes}


def _by_value(texts):
    """{tensor: text} -> a lookup by value: a computed value is found through the Function that
    made it, so that a name reaches its box even when the drawing shows a FreedValue."""
    out = {}
    for t, text in (texts or {}).items():
        out[id(t)] = text
        if t._ctx is not None:
            out["made by", id(t._ctx)] = text
    return out


def _lookup(texts, t, default=None):
    return texts.get(id(t), texts.get(("made by", id(t._ctx)), default) if t._ctx is not None else default)


def _tensor_label(t, names, notes):
    name = _lookup(names, t, "")
    shape = "x".join(map(str, t.shape)) or "scalar"
    lines = ([name] if name else []) + [shape]
    if isinstance(t, FreedValue):
        lines.append("not kept")
    else:
        lines.append(str(t.dtype))
        if t.data.size == 1:
            lines.append(f"= {t.item():+.4g}")
    if _lookup(notes, t) is not None:
        lines.append(_lookup(notes, t))
    return "\n".join(lines)


def draw_graph(tensor, path=None, names=None, notes=None, max_nodes=GRAPH_MAX_NODES):
    """Draw the graph ``tensor`` remembers: Functions as orange boxes (their names), tensors as
    rounded boxes with their shape and dtype (and value, for one element); leaves that require
    grad (the parameters) in blue with a bold edge, other leaves (data, constants) in grey.
    Arrows run from inputs to outputs: the forward pass left to right, backward right to left.

    ``names``/``notes``: {tensor: text}, a name and an extra line for some tensors. Returns the
    Figure (written to ``path`` when given). A graph of more than ``max_nodes`` nodes (tensors
    and Functions) is refused with a ValueError: past a few dozen nodes a drawing is unreadable;
    draw a smaller part (the loss of one small layer) instead.
    """
    from matplotlib.patches import FancyBboxPatch

    names, notes = _by_value(names), _by_value(notes)
    nodes, edges = _graph_nodes(tensor)
    if len(nodes) > max_nodes:
        raise ValueError(f"draw_graph: this graph has {len(nodes)} nodes (tensors and Functions), more than "
                         f"max_nodes={max_nodes} can be drawn readably; draw a smaller part of it")
    pos = _graph_layout(id(tensor), nodes, edges)
    n_cols = max(x for x, _ in pos.values()) + 1
    n_rows = max(1, max(sum(1 for x2, _ in pos.values() if x2 == x) for x, _ in pos.values()))
    fig = figure(figsize=(max(4.0, 1.55 * n_cols), max(2.5, 1.15 * n_rows + 0.8)))
    ax = fig.subplots()
    box_w, box_h = 1.2, 0.86
    for a, b in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        rad = 0.0 if abs(xb - xa) == 1 else -0.25      # an edge that skips columns bends
        ax.annotate("", xy=(1.6 * xb - box_w / 2, yb), xytext=(1.6 * xa + box_w / 2, ya),
                    arrowprops=dict(arrowstyle="-|>", color="0.4", shrinkA=0, shrinkB=0,
                                    connectionstyle=f"arc3,rad={rad}"))
    for key, node in nodes.items():
        x, y = pos[key]
        x = 1.6 * x
        if hasattr(node, "_ctx"):                     # a Tensor
            parameter = node._ctx is None and node.requires_grad
            colour = "#dbe9f6" if parameter else "#eeeeee" if node._ctx is None else "white"
            ax.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h, boxstyle="round,pad=0.03",
                                        fc=colour, ec="0.2", lw=2.0 if parameter else 0.8))
            ax.text(x, y, _tensor_label(node, names, notes), ha="center", va="center", fontsize=7,
                    family="monospace")
        else:                                         # a Function
            ax.add_patch(FancyBboxPatch((x - box_w / 2.1, y - box_h / 4), box_w / 1.05, box_h / 2,
                                        boxstyle="square,pad=0.02", fc="#fde3c8", ec="0.3"))
            ax.text(x, y, type(node).__name__, ha="center", va="center", fontsize=7.5, weight="bold")
    ax.set_xlim(-box_w, 1.6 * (n_cols - 1) + box_w)
    ys = [y for _, y in pos.values()]
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    ax.set_title("blue: parameters (leaves that require grad)   grey: data and constants   "
                 "white: computed   orange: Functions", fontsize=7)
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig

"""minigen.viz: pictures drawn on Figures of their own, the library leaving matplotlib's global
state alone, and the computation-graph drawing."""
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

import minigen as mg
import minigen.functional as F
from minigen import nn, viz

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_importing_minigen_and_every_family_leaves_the_backend_and_pyplot_alone():
    code = """
import sys, matplotlib
matplotlib.use("svg")                          # a user's choice, before minigen
import minigen, minigen.viz, minigen.tour, minigen.runs, minigen.cli
from minigen.models import FAMILIES, family_class
for family in FAMILIES:
    family_class(family, "digits")
family_class("autoregressive", "names")
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["svg", "False"]


def test_pictures_are_written_headless_and_returned(tmp_path):
    fig = viz.save_image_grid(np.random.default_rng(0).uniform(size=(6, 1, 8, 8)), tmp_path / "grid.png", nrow=3)
    assert isinstance(fig, Figure) and (tmp_path / "grid.png").read_bytes()[:8] == PNG_SIGNATURE
    fig = viz.save_loss_curves({"loss": list(np.linspace(2, 1, 50))}, tmp_path / "loss.png")
    assert isinstance(fig, Figure) and (tmp_path / "loss.png").read_bytes()[:8] == PNG_SIGNATURE


def _mlp_loss():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = mg.randn(5, 4)
    return F.cross_entropy(net(x), np.array([0, 1, 2, 0, 1])), net, x


def test_draw_graph_finds_every_tensor_and_function_of_a_two_layer_mlp(tmp_path):
    loss, net, x = _mlp_loss()
    nodes, edges = viz._graph_nodes(loss)
    tensors = [n for n in nodes.values() if isinstance(n, mg.Tensor)]
    freed = [n for n in nodes.values() if isinstance(n, viz.FreedValue)]
    functions = [n for n in nodes.values() if not isinstance(n, (mg.Tensor, viz.FreedValue))]
    # x, 4 parameters, the ReLU output and the logits (kept by the nodes that read them), the loss;
    # Linear, ReLU, Linear, CrossEntropy
    assert len(tensors) == 8 and len(functions) == 4
    # the first Linear's output, which only the ReLU read: not kept (a ReLU keeps its output)
    assert len(freed) == 1 and type(freed[0]._ctx).__name__ == "Linear"
    assert {id(p) for p in net.parameters()} | {id(x), id(loss)} <= set(nodes)
    assert len(edges) == 4 + (3 + 1 + 3 + 1)           # each Function's output, and each of its inputs
    fig = viz.draw_graph(loss, tmp_path / "graph.png", names={x: "x", loss: "loss"})
    assert isinstance(fig, Figure) and (tmp_path / "graph.png").read_bytes()[:8] == PNG_SIGNATURE
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sum(t == "Linear" for t in texts) == 2 and "CrossEntropy" in texts
    assert any(t.startswith("x\n5x4\nfloat32") for t in texts)
    assert sum(t.endswith("not kept") for t in texts) == 1


def test_draw_graph_puts_leaves_left_and_the_root_right():
    loss, _, x = _mlp_loss()
    nodes, edges = viz._graph_nodes(loss)
    pos = viz._graph_layout(id(loss), nodes, edges)
    assert pos[id(loss)][0] == max(p[0] for p in pos.values())
    for a, b in edges:                                 # every arrow points right
        assert pos[a][0] < pos[b][0]


def test_draw_graph_refuses_a_hairball_and_a_freed_graph():
    x = mg.randn(3, requires_grad=True)
    y = x
    for _ in range(40):
        y = y * 1.01 + 0.1
    with pytest.raises(ValueError, match=r"draw_graph: this graph has \d+ nodes.*max_nodes=60"):
        viz.draw_graph(y.sum())
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(ValueError, match="draw_graph: .*freed"):
        viz.draw_graph(loss)

# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Autograd: how minigen computes gradients
#
# Every model in minigen (GAN, VAE, autoregressive, diffusion) is trained the same way: write
# down a loss, ask for its gradient with respect to the parameters, take a small step downhill.
# This tutorial is about the middle part, the *gradient*, and the engine that computes it:
# reverse-mode automatic differentiation.
#
# You know the chain rule and NumPy. By the end you will have seen
#
# 1. the chain rule done by hand, and the same numbers from `.backward()`;
# 2. the computation graph that a tensor remembers, and backward as "topological sort + one reversed loop";
# 3. what one primitive looks like: its forward and backward side by side;
# 4. why broadcasting turns into a *sum* in the backward pass;
# 5. how to check any gradient numerically, and how a wrong one is caught;
# 6. gradients of gradients (double backward);
# 7. all of it at work: a small network fitted to a curve.
#
# Run it as a script (`python tutorials/01_autograd.py`, a few seconds on a CPU) or open it
# as a notebook (it is in jupytext's "percent" format). Figures are written to the folder named by
# the environment variable `MINIGEN_FIGURES` (default: `tutorials/figures/`).

# %%
import inspect
import math

import numpy as np
from _setup import plt, save  # matplotlib's backend, the figures folder

import minigen as mg
import minigen.functional as F
from minigen import nn
from minigen.autograd import Function
from minigen.viz import draw_graph
from minigen.gradcheck import GradcheckError

mg.manual_seed(0)

# %% [markdown]
# ## 1. The chain rule, by hand and by `.backward()`
#
# Take three numbers `x, w, b` and the expression
#
#     a = x * w
#     z = a + b
#     y = tanh(z)
#     L = y * x
#
# Note that `x` is used twice: inside `a` and again in `L`. We want dL/dx, dL/dw and dL/db.
#
# The reverse-mode recipe starts at the end with dL/dL = 1 and walks the lines *backwards*,
# multiplying by one local derivative per line:
#
# * `L = y * x`: dL/dy = x, and a first contribution to dL/dx, namely y;
# * `y = tanh(z)`: dL/dz = dL/dy · (1 − tanh²(z)) = dL/dy · (1 − y²);
# * `z = a + b`: dL/da = dL/dz and dL/db = dL/dz;
# * `a = x * w`: dL/dw = dL/da · x, and a second contribution to dL/dx, namely dL/da · w.
#
# A variable used in two places collects the gradient from both: dL/dx = y + dL/da · w.
# That "add up the contributions" rule is the multivariable chain rule, and it is all there is.

# %%
x_, w_, b_ = 1.5, -0.8, 0.4

# forward, line by line
a_ = x_ * w_
z_ = a_ + b_
y_ = math.tanh(z_)
L_ = y_ * x_

# backward, line by line in reverse
dL_dy = x_
dL_dz = dL_dy * (1 - y_ ** 2)
dL_da = dL_dz
dL_db = dL_dz
dL_dw = dL_da * x_
dL_dx = y_ + dL_da * w_          # two paths to x: through L directly, and through a

# %% [markdown]
# Now the same expression with minigen tensors. `requires_grad=True` marks the leaves we want
# gradients for; the arithmetic looks exactly the same; `L.backward()` fills `x.grad`, `w.grad`
# and `b.grad`. We use float64 so the two computations agree to the last printed digit (minigen's
# default is float32), and `retain_graph=True` so that the graph survives for section 2 (by
# default the engine frees it during backward, to save memory).

# %%
x = mg.tensor(x_, requires_grad=True, dtype="float64")
w = mg.tensor(w_, requires_grad=True, dtype="float64")
b = mg.tensor(b_, requires_grad=True, dtype="float64")

a = x * w
z = a + b
y = z.tanh()
L = y * x
L.backward(retain_graph=True)

print(f"by hand:    L = {L_:.10f}   dL/dx = {dL_dx:.10f}   dL/dw = {dL_dw:.10f}   dL/db = {dL_db:.10f}")
print(f"minigen:    L = {L.item():.10f}   dL/dx = {x.grad.item():.10f}   dL/dw = {w.grad.item():.10f}"
      f"   dL/db = {b.grad.item():.10f}")

# %% [markdown]
# ## 2. What the graph is
#
# Each Tensor made by an operation remembers the **Function** that made it, in `t._ctx`. That
# Function remembers its **parents**: for each input, the node that input's gradient must flow
# into, which is the Function that made the input, or the input itself when it is a leaf (a
# tensor we created ourselves, with `_ctx = None`). Following `parents` from `L._ctx` visits the
# whole expression: that *is* the computation graph, made of Functions and leaves. The tensors in
# between are not part of it: a Function keeps an input Tensor only when its backward needs its
# values (section 3), so a value that nothing will need again is freed as soon as the forward
# pass is done with it.
#
# To run the chain rule over it, we need an order in which every node comes *after* the nodes it
# was computed from: a topological order. A depth-first search gives one: visit a node's parents
# first, then append the node.

# %%
node_of = mg.autograd.node_of                  # t._ctx, or t itself for a leaf
named = {"x": x, "w": w, "b": b, "a": a, "z": z, "y": y, "L": L}
names = {id(node_of(t)): name for name, t in named.items()}
values = {id(node_of(t)): t.item() for t in named.values()}


def topological_order(root):
    """Every node that root was computed from (and root), parents before children."""
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        if not isinstance(node, mg.Tensor):    # a Function: its parents first (a leaf has none)
            for parent in node.parents:
                visit(parent)
        order.append(node)

    visit(root)
    return order


topo = topological_order(node_of(L))
for node in topo:
    if isinstance(node, mg.Tensor):
        made_by = "leaf"
    else:
        made_by = type(node).__name__ + "(" + ", ".join(names[id(p)] for p in node.parents) + ")"
    print(f"{names[id(node)]} = {made_by:<10}  value {values[id(node)]:+.4f}")

# %% [markdown]
# Backward is then **one loop over that list, in reverse**. Start with dL/dL = 1. At each node,
# its gradient is complete (everything that uses it comes later in the list, so earlier in the
# reversed loop), and a Function hands it to its `backward(g)`, which returns one gradient per
# input. Each is *added* to that parent's running total, which is the "used twice, add up" rule
# from section 1. A leaf has nothing further back: its total is its `.grad`.
#
# This is the whole of `Tensor.backward` (minigen's `autograd.backprop` does the same, with an
# iterative search so very deep graphs do not hit Python's recursion limit). We run it under
# `mg.no_grad()` because we only want numbers here, not a graph of the backward pass (that comes
# in section 6).

# %%
grads = {id(node_of(L)): mg.ones_like(L)}
with mg.no_grad():
    for node in reversed(topo):
        if isinstance(node, mg.Tensor):
            continue                                   # a leaf: nothing further back
        input_grads = node.backward(grads[id(node)])
        if not isinstance(input_grads, tuple):         # one-input Functions return one tensor
            input_grads = (input_grads,)
        for parent, g in zip(node.parents, input_grads):
            grads[id(parent)] = g if id(parent) not in grads else grads[id(parent)] + g

for node in reversed(topo):
    print(f"dL/d{names[id(node)]} = {grads[id(node)].item():+.10f}")

# %% [markdown]
# A picture of the same graph, drawn by `minigen.viz.draw_graph` from nothing but what `L`
# remembers: an orange box per Function, a rounded box per value (shape, dtype, and the value of
# a one-element tensor), with the gradient our loop just computed added as a note. A value that
# no backward needed says "not kept": `a` and `z` feed an Add and a Tanh, whose derivatives need
# neither (the Tanh keeps its output `y` instead, section 3). Leaves that
# require grad are blue with a bold edge; the arrows run from inputs to outputs. The column of a
# node is set by its longest path to `L`, so leaves sit on the left and `L` on the right: the
# forward pass runs left to right, the backward pass right to left.

# %%
fig = draw_graph(L, names={t: name for name, t in named.items()},
                 notes={t: f"grad {grads[id(node_of(t))].item():+.3f}" for t in named.values()})
save(fig, "01_graph.png")

# %% [markdown]
# It draws any graph of a few dozen nodes: here the loss of a two-layer MLP on a batch of five,
# where each `Linear` is one fused Function with three inputs (x, weight, bias). A larger graph
# (a transformer's loss has hundreds of nodes) is refused with a message rather than drawn as an
# unreadable tangle.

# %%
mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
batch = mg.randn(5, 4)
mlp_loss = F.cross_entropy(mlp(batch), np.array([0, 1, 2, 0, 1]))
labels = {p: name for name, p in mlp.named_parameters()}
save(draw_graph(mlp_loss, names={**labels, batch: "x", mlp_loss: "loss"}), "01_mlp_graph.png")

# %% [markdown]
# Our ten-line loop and the engine's `L.backward()` from section 1 agree with the chain rule by
# hand, to the last digit:

# %%
for leaf, by_hand in [(x, dL_dx), (w, dL_dw), (b, dL_db)]:
    name = names[id(leaf)]
    print(f"dL/d{name}: by hand {by_hand:+.10f}   our loop {grads[id(leaf)].item():+.10f}   "
          f".backward() {leaf.grad.item():+.10f}")

# %% [markdown]
# ## 3. One Function, forward and backward side by side
#
# A primitive is a small subclass of `minigen.autograd.Function` with two methods:
#
# * `forward(self, *arrays)` works on raw arrays (NumPy, or CuPy on a GPU; `self.xp` is whichever
#   module the inputs use). This is where the actual computation happens, fast.
# * `backward(self, gy)` receives `gy` = dL/d(output), a Tensor, and returns dL/d(input) for each
#   input, also as Tensors.
#
# Here are `Tanh` and `Mul`, exactly as they are in `minigen/ops/`:

# %%
print(inspect.getsource(mg.ops.unary.Tanh))
print(inspect.getsource(mg.ops.arith.Mul))

# %% [markdown]
# What a backward can read, set up by `Function.apply` when the output is made:
#
# * `self.inputs`: the input Tensors (Mul needs `a` and `b`: d(a·b)/da = b). They are kept only
#   when the class says `saves_inputs = True`, the default;
# * `self.output`: the output, kept only when the class says `saves_output = True`. Tanh does,
#   because its derivative is cheapest in terms of the output, 1 − y², so nothing is recomputed;
#   and it sets `saves_inputs = False`, so its input is not kept at all. What is kept is the
#   output's array; `self.output` wraps it in a Tensor of this very node, so a Function never
#   points back at the Tensor it made (no reference cycle keeps a dropped graph alive);
# * `self.needs`: one flag per input, "does this input want a gradient?". In `x * 3.0` the 3.0 is
#   wrapped into a constant tensor with `requires_grad=False`, and Mul skips its gradient (returns
#   `None` for it);
# * `self.shapes`: the inputs' shapes, always kept (Add needs nothing else: its gradient is `gy`
#   summed back to each input's shape).
#
# This is what PyTorch calls saved tensors: each node keeps exactly what its backward uses, so a
# ReLU's pre-activation, which only the ReLU read, is freed during the forward pass. Once a
# backward pass has gone through a node, the node lets go of all of it (`released`), unless
# `retain_graph=True` was passed.
#
# `sum_to` in Mul is about broadcasting; it is the subject of section 4.

# %%
u = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
v = u * 3.0
print("v was made by", type(v._ctx).__name__, "from inputs", v._ctx.inputs, "with needs =", v._ctx.needs)

t = u.tanh()
fn = t._ctx
print("Tanh keeps its inputs:", hasattr(fn, "inputs"), "  its output's values:", fn.output.numpy())
with mg.no_grad():
    print("Tanh.backward(ones) =", fn.backward(mg.ones_like(t)).numpy(),
          "  1 - tanh(u)**2 =", 1 - np.tanh(u.numpy()) ** 2)

# %% [markdown]
# Notice that `backward` is written with Tensor operations (`gy * (1 - y * y)`), not raw arrays.
# During an ordinary backward pass that costs nothing extra (it runs under `no_grad`), but it
# means the backward pass can itself be recorded as a graph and differentiated again. Section 6
# uses that.

# %% [markdown]
# ## 4. Tensors and broadcasting's gradient
#
# A linear layer adds a bias of shape (3,) to a batch of shape (4, 3). NumPy's broadcasting
# quietly copies the bias to every row:
#
#     out[i, j] = X[i, j] + bias[j]      for every row i
#
# So `bias[j]` influences four outputs, `out[0, j]` to `out[3, j]`, and by the "add up the
# contributions" rule its gradient is the sum of their gradients: dL/dbias[j] = Σ_i dL/dout[i, j].
# In general: **broadcasting copies in the forward pass, so the backward pass sums over the copied
# axes.** That is what `sum_to(g, shape)` does, and why every binary op calls it.
#
# To make the sums easy to check by eye, we choose the upstream gradient dL/dout ourselves (the
# numbers 0..11) and pass it to `backward`; that is the same as L = Σ G ⊙ out.

# %%
X = mg.randn(4, 3)                         # a batch of 4 rows, 3 features; no gradient wanted
bias = mg.tensor([0.1, 0.2, 0.3], requires_grad=True)
out = X + bias                             # (4, 3) + (3,) -> (4, 3)
G = mg.tensor(np.arange(12.0).reshape(4, 3))
print("dL/dout =\n", G.numpy())
out.backward(G)
print("bias.grad         =", bias.grad.numpy())
print("G.sum(axis=0)     =", G.numpy().sum(axis=0))
print("sum_to(G, (3,))   =", mg.ops.sum_to(G, (3,)).numpy())
print("sum_to(G, (4, 1)) =", mg.ops.sum_to(G, (4, 1)).numpy().ravel(), "  (a (4, 1) column is summed over axis 1)")

# %% [markdown]
# The same number without any autograd: nudge `bias[0]` by a small ε. Every row's `out[i, 0]` moves
# by ε, so L = Σ G ⊙ out moves by ε · (0 + 3 + 6 + 9) = 18 ε.

# %%
def loss_for(bias_values):
    return float((G.numpy() * (X.numpy() + bias_values)).sum())


eps = 1e-3
bias_values = np.array([0.1, 0.2, 0.3])
slope = (loss_for(bias_values + np.array([eps, 0.0, 0.0])) - loss_for(bias_values)) / eps
print(f"(L(bias + eps e0) - L(bias)) / eps = {slope:.4f}   bias.grad[0] = {bias.grad.numpy()[0]:.4f}")

# %% [markdown]
# ## 5. Gradient checking
#
# The nudge we just did is the universal test for a backward. The **central difference**
#
#     df/dx_i ≈ (f(x + ε e_i) − f(x − ε e_i)) / (2ε)
#
# has an error of order ε², so with ε = 1e-6 it is accurate to about 1e-10, *if* the arithmetic is
# float64. In float32 the rounding error of f, about 1e-7 · |f|, divided by 2ε swamps everything.
#
# By hand, for one element of f(x) = Σ tanh(x) · x²:

# %%
def f(x):
    return (x.tanh() * x * x).sum()


x = mg.tensor([0.3, -1.2, 0.8, 2.0], requires_grad=True, dtype="float64")
f(x).backward()

i, eps = 1, 1e-6
for dtype in ["float64", "float32"]:
    plus, minus = x.numpy().astype(dtype), x.numpy().astype(dtype)
    plus[i] += eps
    minus[i] -= eps
    numeric = (f(mg.tensor(plus, dtype=dtype)).item() - f(mg.tensor(minus, dtype=dtype)).item()) / (2 * eps)
    print(f"{dtype}: numeric df/dx[{i}] = {numeric:.10f}   analytic {x.grad.numpy()[i]:.10f}"
          f"   |diff| {abs(numeric - x.grad.numpy()[i]):.1e}")

# %% [markdown]
# `mg.gradcheck(fn, inputs)` does this for every element of every input that requires grad. For a
# function with a non-scalar output it first projects the output on a fixed random vector w (so it
# checks d(w · fn)/dx), returns True when everything matches, and raises with the worst element when
# something does not. Inputs must be float64.

# %%
A = mg.randn(5, 3, dtype="float64", requires_grad=True)
W = mg.randn(2, 3, dtype="float64", requires_grad=True)
print(f"gradcheck f:                  {mg.gradcheck(f, [x])}")
print(f"gradcheck tanh(linear(A, W)):  {mg.gradcheck(lambda A, W: F.linear(A, W).tanh(), [A, W])}")

# %% [markdown]
# Now a Function with a bug, the classic one: its backward returns the *local* derivative 3x² of
# x³ and forgets to multiply by the incoming gradient `gy`.
#
# A test that only looks at `y.sum().backward()` would not notice: there `gy` is all ones, and the
# wrong backward happens to give the right answer. That is why gradcheck uses a random projection.

# %%
class BuggyCube(Function):
    """x**3, with a bug: backward forgets the chain rule's gy."""

    def forward(self, x):
        return x * x * x

    def backward(self, gy):
        x = self.inputs[0]
        return 3 * x * x                    # BUG: should be gy * 3 * x * x


x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True, dtype="float64")
BuggyCube.apply(x).sum().backward()
print("with gy = 1 the bug is invisible:", x.grad.numpy(), "= 3x² =", 3 * x.numpy() ** 2)

try:
    mg.gradcheck(BuggyCube.apply, [x])
except GradcheckError as err:
    print("gradcheck caught it:\n ", err)

# %% [markdown]
# And the fixed version passes:

# %%
class Cube(Function):
    """x**3."""

    def forward(self, x):
        return x * x * x

    def backward(self, gy):
        """d x³/dx = 3x²."""
        x = self.inputs[0]
        return gy * 3 * x * x


print("gradcheck Cube:", mg.gradcheck(Cube.apply, [x]))

# %% [markdown]
# ## 6. Double backward: gradients of gradients
#
# `mg.grad(y, x)` returns dy/dx instead of accumulating it into `x.grad`. With
# `create_graph=True` the backward pass is *recorded*: every `gy * (1 - y * y)` inside the
# backward methods builds graph nodes, so the gradient we get back is an ordinary tensor with its
# own graph, and we can differentiate it again.
#
# On a grid of 241 points: y = tanh(x) elementwise, so d(Σ y)/dx_i = tanh'(x_i), the derivative at
# every grid point in one call. The same trick on that result gives tanh''. Analytically,
# tanh' = 1 / cosh² and tanh'' = −2 sinh / cosh³; we compare with those formulas (computed by
# NumPy) rather than with the engine's own 1 − y², so the check is independent.

# %%
xs = mg.tensor(np.linspace(-3, 3, 241), requires_grad=True, dtype="float64")
ys = xs.tanh()
(dy,) = mg.grad(ys.sum(), xs, create_graph=True)
print(f"dy has a graph of its own: requires_grad={dy.requires_grad}, made by {type(dy._ctx).__name__}")
(d2y,) = mg.grad(dy.sum(), xs)

cosh, sinh = np.cosh(xs.numpy()), np.sinh(xs.numpy())
print(f"max |f'  - 1/cosh²|         = {np.abs(dy.numpy() - 1 / cosh ** 2).max():.1e}")
print(f"max |f'' - (-2 sinh/cosh³)| = {np.abs(d2y.numpy() - (-2 * sinh / cosh ** 3)).max():.1e}")

fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(xs.numpy(), ys.numpy(), label="f = tanh(x)")
ax.plot(xs.numpy(), dy.numpy(), label="f'  (mg.grad, create_graph=True)")
ax.plot(xs.numpy(), d2y.numpy(), label="f'' (mg.grad of f')")
ax.plot(xs.numpy()[::12], (-2 * sinh / cosh ** 3)[::12], "k.", label="f'' analytic, -2 sinh/cosh³")
ax.axhline(0, color="0.8", lw=0.8)
ax.set_xlabel("x")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
ax.set_title("tanh and its first two derivatives, all computed by minigen")
save(fig, "01_double_backward.png")

# %% [markdown]
# `mg.gradgradcheck` checks second derivatives the same way gradcheck checks first ones: it runs
# gradcheck on x ↦ d(w · fn(x))/dx built with `create_graph=True`. Our own `Cube` passes too: its
# backward is written with Tensor operations, so it is twice differentiable for free.

# %%
x = mg.tensor([0.3, -1.2, 0.8], requires_grad=True, dtype="float64")
print("gradgradcheck tanh(x) * x²:", mg.gradgradcheck(lambda x: x.tanh() * x * x, [x]))
print("gradgradcheck Cube:        ", mg.gradgradcheck(Cube.apply, [x]))

# %% [markdown]
# Why this matters later: WGAN-GP (tutorial 04) penalises the critic when the norm of its gradient
# with respect to its *input*, ‖∇ₓD(x)‖, strays from 1; that penalty is a loss containing a gradient,
# so training on it needs the gradient of a gradient.

# %% [markdown]
# ## 7. All of it at work: fitting a curve
#
# A two-layer network, written with nothing but tensors and `F.linear` (x @ Wᵀ + b):
#
#     h = tanh(x W1ᵀ + b1)      x (N, 1), W1 (32, 1), b1 (32,)   -> h (N, 32)
#     ŷ = h W2ᵀ + b2            W2 (1, 32), b2 (1,)              -> ŷ (N, 1)
#
# fitted to y = sin(x) on [−3, 3] by plain SGD (full-batch here: all 128 points at every step) on
# the mean squared error: compute the loss, `backward()`, move each parameter a step `lr` against
# its gradient, clear the gradients, repeat. The step works on raw arrays (`p.data`), since the
# update itself is not something we differentiate. Note the bias gradients: b1 is broadcast over
# the batch of 128 points, so its gradient is a sum over them (section 4).

# %%
mg.manual_seed(0)
x_train = mg.tensor(np.linspace(-3, 3, 128).reshape(-1, 1))      # (128, 1)
y_train = mg.tensor(np.sin(x_train.numpy()))                     # (128, 1)

hidden = 32
W1 = mg.randn(hidden, 1, requires_grad=True)
b1 = mg.tensor(2 * mg.randn(hidden).numpy(), requires_grad=True)  # spreads the tanh bends (at -b1/W1) over [-3, 3]
W2 = mg.tensor(mg.randn(1, hidden).numpy() / math.sqrt(hidden), requires_grad=True)
b2 = mg.zeros(1, requires_grad=True)
params = [W1, b1, W2, b2]


def mlp(x):
    return F.linear(F.linear(x, W1, b1).tanh(), W2, b2)


with mg.no_grad():
    y_init = mlp(x_train).numpy()

lr, steps, losses = 0.05, 1000, []
for step in range(steps):
    loss = F.mse_loss(mlp(x_train), y_train)
    loss.backward()
    for p in params:
        p.data -= lr * p.grad.data    # the SGD step, on raw arrays
        p.grad = None                 # gradients accumulate, so clear them for the next step
    losses.append(loss.item())
    if step % 200 == 0 or step == steps - 1:
        print(f"step {step:4d}   loss {loss.item():.5f}")

# %% [markdown]
# The loss falls by more than three orders of magnitude, and the fitted curve lies on the data
# (the dashed line is the same network before training).

# %%
with mg.no_grad():
    y_fit = mlp(x_train).numpy()

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
ax1.plot(x_train.numpy(), y_train.numpy(), "k.", ms=3, label="data: sin(x)")
ax1.plot(x_train.numpy(), y_init, "--", color="0.6", label="before training")
ax1.plot(x_train.numpy(), y_fit, "C1", lw=2, label=f"after {steps} steps")
ax1.set_xlabel("x")
ax1.legend()
ax1.set_title("a 1-32-1 tanh MLP, fitted with plain SGD")
ax2.semilogy(losses)
ax2.set_xlabel("step")
ax2.set_ylabel("mean squared error")
ax2.set_title("training loss")
save(fig, "01_fit.png")

# %% [markdown]
# ## 8. Where to go next
#
# You have now seen everything the engine does: tensors remember the Function that made them,
# backward is a reversed walk that multiplies by local derivatives and adds where paths meet,
# broadcasting becomes a sum, gradients can be checked numerically and differentiated again.
# The layers (`minigen.nn`) and optimizers (`minigen.optim`) are conveniences over exactly this.
#
# The other tutorials use this engine to build models:
#
# * **02 · layers and optimisers**: `Linear` and its relatives as modules, and gradient descent
#   grown into momentum, {term}`Adam` and {term}`AdamW`;
# * **03 · discriminative vs generative**: a digits classifier answers "which class?"; a generative
#   model answers "what does the data look like?", and can produce new examples;
# * **04 · GAN**: a generator and a discriminator playing the minimax game, the saturating and
#   non-saturating losses, and WGAN-GP with its gradient penalty (double backward, section 6);
# * then **VAEs** (the {term}`ELBO`, the reparameterisation trick), **autoregressive models** (exact
#   likelihood, one token at a time, causal masking) and **diffusion** (learning to remove noise).
#
# When a model misbehaves, remember section 5: `mg.gradcheck` on a small float64 input tells you
# quickly whether the gradients are right.
#
# **Your turn.** `minigen learn start DIR` writes a workbook of exercises; the first two are this
# chapter's: a `Sigmoid` Function (forward and backward) and `sum_to`, broadcasting's gradient.
# `minigen learn check DIR sigmoid sum_to` checks them with the same property tests minigen's own
# code passes.

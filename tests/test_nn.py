"""minigen.nn: Module bookkeeping, every layer's gradients (first and second order, w.r.t. the
input and the parameters), causality of masked convolutions and attention, initialisation,
BatchNorm statistics, and agreement with PyTorch where it is installed (optional)."""
import math
import pathlib
import re
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import minigen.functional as F
from minigen import nn

F64 = "float64"


# ----- helpers -----
def randn(*shape, requires_grad=True, rng=None):
    values = (rng or np.random).standard_normal(shape)
    return mg.tensor(values, dtype=F64, requires_grad=requires_grad)


def away_from_zero(*shape, rng=None):
    """Values with |x| >= 0.1, so that kinks (relu at 0) stay out of central differences."""
    rng = rng or np.random.default_rng(0)
    values = rng.standard_normal(shape)
    return mg.tensor(np.sign(values) * (0.1 + np.abs(values)), dtype=F64, requires_grad=True)


def check_layer(layer, *inputs, second_order=False):
    """gradcheck (and gradgradcheck) of layer(*inputs) w.r.t. the inputs and every parameter."""
    n = len(inputs)

    def fn(*args):
        return layer(*args[:n])

    everything = [*inputs, *layer.parameters()]
    assert mg.gradcheck(fn, everything)
    if second_order:
        assert mg.gradgradcheck(fn, everything)


def torch_or_skip():
    return pytest.importorskip("torch")


def values(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


# ===================================================================== Parameter
def test_parameter_is_a_float_tensor_that_requires_grad_and_shares_the_wrapped_array():
    t = mg.tensor([[1.0, 2.0]], dtype=F64)
    p = nn.Parameter(t)
    assert isinstance(p, mg.Tensor) and p.requires_grad
    assert p.data is t.data and p.dtype == np.float64       # no copy, dtype kept
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32     # mg.tensor's default
    assert repr(p).startswith("Parameter containing:\ntensor(")
    with pytest.raises(TypeError):
        nn.Parameter(mg.tensor([1, 2]))                      # integers cannot require grad


def test_parameter_works_wherever_a_tensor_does():
    p = nn.Parameter(mg.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=F64))
    x = mg.tensor([[2.0, 1.0]], dtype=F64)
    y = F.linear(x, p).tanh().sum() + (p * p).mean() + mg.concat([p, p])[0, 1]
    assert type(y) is mg.Tensor                              # results are plain Tensors
    (g,) = mg.grad(y, [p], retain_graph=True)
    y.backward()
    np.testing.assert_allclose(p.grad.numpy(), g.numpy())
    assert type(p.detach()) is mg.Tensor and not p.detach().requires_grad


# ===================================================================== Module bookkeeping
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        self.scale = nn.Parameter(mg.ones(2))
        self.heads = [nn.Linear(2, 1), nn.Linear(2, 1, bias=False)]   # a plain list of modules
        self.norm = nn.BatchNorm1d(2)
        self.not_a_parameter = mg.ones(3, requires_grad=True)

    def forward(self, x):
        h = self.norm(self.encoder(x) * self.scale)
        return self.heads[0](h) + self.heads[1](h)


def test_listings_are_iterators_as_in_pytorch():
    net = Net()
    assert next(net.parameters()) is net.scale                       # the `next(model.parameters())` idiom
    for listing in (net.named_parameters(), net.buffers(), net.named_buffers(), net.children(),
                    net.named_children(), net.modules(), net.named_modules()):
        assert iter(listing) is listing
    assert [n for n, _ in net.named_children()] == ["encoder", "heads.0", "heads.1", "norm"]
    assert [n for n, _ in net.named_modules()][:3] == ["", "encoder", "encoder.0"]


def test_named_parameters_have_dotted_names_own_first_then_children_in_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["scale", "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias",
                     "heads.0.weight", "heads.0.bias", "heads.1.weight", "norm.weight", "norm.bias"]
    net = Net()
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())


def test_buffers_are_saved_but_are_not_parameters():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == ["norm.running_mean", "norm.running_var",
                                                   "norm.num_batches_tracked"]
    param_ids = {id(p) for p in net.parameters()}
    assert not any(id(b) in param_ids for b in net.buffers())
    state = net.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == [
        "scale", "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias",
        "heads.0.weight", "heads.0.bias", "heads.1.weight",
        "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]
    assert all(isinstance(v, mg.Tensor) and not v.requires_grad for v in state.values())


def test_non_persistent_buffer_moves_but_is_not_saved():
    conv = nn.MaskedConv2d(1, 2, 3, "A")
    assert [n for n, _ in conv.named_buffers()] == ["mask"]
    assert "mask" not in conv.state_dict()
    conv.double()
    assert conv.mask.dtype == np.float64 and conv.weight.dtype == np.float64


def test_a_shared_parameter_is_listed_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(5, 3)
            self.out = nn.Linear(3, 5, bias=False)
            self.out.weight = self.emb.weight

        def forward(self, idx):
            return self.out(self.emb(idx))

    tied = Tied()
    assert [n for n, _ in tied.named_parameters()] == ["emb.weight"]
    assert list(tied.state_dict()) == ["emb.weight", "out.weight"]   # PyTorch keeps both names
    tied.load_state_dict(Tied().state_dict())


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken().state_dict()
    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken().training
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nn.Linear(2, 2).nope
    with pytest.raises(NotImplementedError):
        nn.Module()(1)


def test_train_and_eval_reach_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert len(list(net.modules())) == 8 and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.heads[1].eval()
    assert net.training and not net.heads[1].training


def test_zero_grad_sets_every_grad_to_none():
    net = Net()
    net(randn(4, 3, requires_grad=False).astype("float32")).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_apply():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen[-1] == "Net" and seen.count("Linear") == 4


def test_to_cpu_is_a_no_op_and_to_dtype_casts_in_place():
    net = Net()
    params, arrays = list(net.parameters()), [p.data for p in net.parameters()]
    buffers = [b.data for b in net.buffers()]
    assert net.to("cpu") is net
    assert all(p.data is a for p, a in zip(net.parameters(), arrays))
    assert all(b.data is a for b, a in zip(net.buffers(), buffers))
    net(randn(4, 3, requires_grad=False).astype("float32")).sum().backward()
    net.to(mg.float64)
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]  # same objects (optimizers)
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in net.parameters())
    assert net.norm.running_mean.dtype == np.float64
    assert net.norm.num_batches_tracked.dtype == np.int64           # integers are not cast
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.to(dtype="float64").double().cpu().norm.weight.dtype == np.float64


def test_an_optimizer_built_before_to_keeps_training_the_module():
    from minigen import optim
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = optim.SGD(net.parameters(), lr=0.1)
    net.double()
    x, y = randn(16, 3, requires_grad=False), randn(16, 1, requires_grad=False)
    losses = []
    for _ in range(5):
        loss = F.mse_loss(net(x), y)
        net.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] and net[0].weight.dtype == np.float64


def test_deepcopy_gives_an_independent_module():
    import copy
    net = Net()
    twin = copy.deepcopy(net)
    assert type(twin.scale) is nn.Parameter and list(twin.state_dict()) == list(net.state_dict())
    twin.scale.data[...] = 5.0
    assert (net.scale.numpy() == 1.0).all()
    with pytest.raises(TypeError, match="must be a Tensor"):
        net.register_buffer("stats", [1.0])


def test_to_device_moves_parameters_and_buffers_in_place(device):
    net = Net()
    before = [*net.parameters(), *net.buffers()]
    x = mg.randn(4, 3, device=device)
    net.to(device)
    after = [*net.parameters(), *net.buffers()]
    assert all(t.device == x.device for t in after)
    assert len(after) == 13 and all(a is b for a, b in zip(before, after))
    net(x).sum().backward()
    assert all(p.grad.device == x.device for p in net.parameters())
    net.to("cpu")
    assert net.norm.running_var.device == "cpu"


# ----- state_dict and load_state_dict -----
def test_state_dict_round_trip_copies_values_in_place():
    mg.manual_seed(1)
    a = Net()
    a(mg.randn(8, 3)).sum()                                          # move running stats off their start
    mg.manual_seed(2)
    b = Net()
    arrays = {n: t.data for n, t in b.state_dict().items()}
    x = mg.randn(5, 3)
    assert not np.allclose(a.eval()(x).numpy(), b.eval()(x).numpy())
    assert b.load_state_dict(a.state_dict()) == ([], [])
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert all(t.data is arrays[n] for n, t in b.state_dict().items())   # copied into, not rebound


def test_load_state_dict_accepts_numpy_arrays_and_casts_to_the_model_dtype():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2, dtype=F64)
    b.load_state_dict({k: v.numpy().astype(np.float64) for k, v in a.state_dict().items()})
    np.testing.assert_array_equal(b.weight.numpy(), a.weight.numpy().astype(np.float64))
    a.load_state_dict(b.state_dict())                                 # float64 values into float32
    assert a.weight.dtype == np.float32


def test_state_dict_shares_memory_with_the_module():
    lin = nn.Linear(2, 2)
    state = lin.state_dict()
    lin.weight.data[...] = 7.0
    assert (state["weight"].numpy() == 7.0).all()


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    net = Net()
    before = values(net)
    state = {k: v.numpy() + 1 for k, v in Net().state_dict().items()}
    del state["scale"], state["norm.running_var"]
    state["extra.weight"] = np.zeros(3)
    state["encoder.0.weight"] = np.zeros((3, 4))                     # transposed: wrong shape
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert re.search(r"missing keys: scale, norm\.running_var", message)
    assert "unexpected keys: extra.weight" in message
    assert "encoder.0.weight: shape (3, 4) in the state dict, (4, 3) in the model" in message
    assert "nothing was changed" in message
    after = values(net)
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_load_state_dict_non_strict_skips_key_problems_but_not_shapes():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    source = nn.Sequential(nn.Linear(2, 3))
    result = net.load_state_dict({**source.state_dict(), "bogus": np.ones(2)}, strict=False)
    assert result.missing_keys == ["1.weight", "1.bias"] and result.unexpected_keys == ["bogus"]
    np.testing.assert_array_equal(net[0].weight.numpy(), source[0].weight.numpy())
    before = values(net)
    with pytest.raises(RuntimeError, match="0.bias: shape \\(2,\\)"):
        net.load_state_dict({"0.weight": np.zeros((3, 2)), "0.bias": np.zeros(2)}, strict=False)
    assert np.array_equal(values(net)["0.weight"], before["0.weight"])
    with pytest.raises(RuntimeError, match="0.weight: a value of dtype <U1 is not numeric"):
        net.load_state_dict({"0.weight": "x"}, strict=False)


# ----- Sequential and repr -----
def test_sequential_is_indexable_iterable_and_sized():
    layers = [nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    x = randn(5, 2, requires_grad=False).astype("float32")
    np.testing.assert_allclose(seq(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())
    with pytest.raises(IndexError):
        seq[3]
    with pytest.raises(TypeError, match="expected a Module"):
        nn.Sequential(nn.ReLU(), F.relu)


def test_repr_reads_like_pytorch():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(0.2),
                          nn.Sequential(nn.Linear(8, 2, bias=False), nn.Dropout(0.1)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (2): LeakyReLU(negative_slope=0.2)\n"
        "  (3): Sequential(\n"
        "    (0): Linear(in_features=8, out_features=2, bias=False)\n"
        "    (1): Dropout(p=0.1)\n"
        "  )\n"
        ")")
    assert repr(nn.CausalSelfAttention(8, 2)).startswith("CausalSelfAttention(\n  d_model=8, n_heads=2\n  (qkv)")


def test_nn_never_imports_an_array_library():
    """Backend neutrality: array creation goes through a tensor's xp or minigen.backend."""
    for path in pathlib.Path(nn.__file__).parent.glob("*.py"):
        source = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+(numpy|cupy)\b", source, re.M), path.name


# ===================================================================== gradients
@given(batch=st.integers(1, 3), n_in=st.integers(1, 4), n_out=st.integers(1, 4), bias=st.booleans(),
       lead=st.booleans(), seed=st.integers(0, 2**16))
def test_linear_gradients(batch, n_in, n_out, bias, lead, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Linear(n_in, n_out, bias=bias, dtype=F64)
    x = randn(*((2,) if lead else ()), batch, n_in, rng=rng)
    assert layer(x).shape == x.shape[:-1] + (n_out,)
    check_layer(layer, x)


def test_linear_second_order():
    check_layer(nn.Linear(3, 2, dtype=F64), randn(2, 3), second_order=True)


@given(c_in=st.integers(1, 2), c_out=st.integers(1, 3), k=st.integers(1, 3), stride=st.integers(1, 2),
       padding=st.integers(0, 1), size=st.integers(3, 5), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d_gradients(c_in, c_out, k, stride, padding, size, bias, seed):
    layer = nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=bias, dtype=F64)
    x = randn(2, c_in, size, size + 1, rng=np.random.default_rng(seed))
    out = layer(x)
    assert out.shape == (2, c_out, (size + 2 * padding - k) // stride + 1, (size + 1 + 2 * padding - k) // stride + 1)
    check_layer(layer, x)


@given(c_in=st.integers(1, 2), c_out=st.integers(1, 3), k=st.integers(1, 4), stride=st.integers(1, 2),
       padding=st.integers(0, 1), size=st.integers(2, 3), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv_transpose2d_gradients(c_in, c_out, k, stride, padding, size, bias, seed):
    if (size - 1) * stride + k <= 2 * padding:
        return  # padding would crop away the whole output
    layer = nn.ConvTranspose2d(c_in, c_out, k, stride=stride, padding=padding, bias=bias, dtype=F64)
    assert layer.weight.shape == (c_in, c_out, k, k)
    x = randn(2, c_in, size, size, rng=np.random.default_rng(seed))
    side = (size - 1) * stride - 2 * padding + k
    assert layer(x).shape == (2, c_out, side, side)
    check_layer(layer, x)


def test_convolutions_second_order():
    check_layer(nn.Conv2d(2, 2, 3, padding=1, dtype=F64), randn(1, 2, 3, 3), second_order=True)
    check_layer(nn.ConvTranspose2d(2, 1, 2, stride=2, dtype=F64), randn(1, 2, 2, 2), second_order=True)


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv2d_gradients(mask_type):
    layer = nn.MaskedConv2d(2, 3, 3, mask_type, dtype=F64)
    x = randn(2, 2, 4, 4)
    assert layer(x).shape == (2, 3, 4, 4)                            # padding k // 2 keeps the size
    check_layer(layer, x, second_order=(mask_type == "B"))


def test_masked_conv2d_hidden_weights_get_zero_gradient():
    layer = nn.MaskedConv2d(1, 2, 5, "A", dtype=F64)
    layer(randn(2, 1, 6, 6)).sum().backward()
    g = np.abs(layer.weight.grad.numpy()).sum(axis=(0, 1))           # (5, 5)
    assert (g[3:] == 0).all() and (g[2, 2:] == 0).all()
    assert (g[:2] > 0).all() and (g[2, :2] > 0).all()


def test_masked_conv2d_rejects_bad_arguments():
    with pytest.raises(ValueError, match="odd"):
        nn.MaskedConv2d(1, 1, 4, "A")
    with pytest.raises(ValueError, match="'A' or 'B'"):
        nn.MaskedConv2d(1, 1, 3, "C")


def test_embedding_gradients_and_lookup():
    emb = nn.Embedding(5, 3, dtype=F64)
    idx = np.array([[0, 4, 4], [2, 0, 1]])
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.numpy()[0, 1], emb.weight.numpy()[4])
    assert mg.gradcheck(lambda w: emb(idx), [emb.weight])
    assert emb(mg.tensor(idx)).shape == (2, 3, 3)                    # a Tensor of indices too
    with pytest.raises(ValueError, match="indices must lie in"):
        emb(np.array([5]))


@given(shape=st.sampled_from([(4,), (2, 3), (2, 2, 3)]), affine=st.booleans(), seed=st.integers(0, 2**16))
def test_layer_norm_gradients(shape, affine, seed):
    rng = np.random.default_rng(seed)
    layer = nn.LayerNorm(shape[-1], elementwise_affine=affine, dtype=F64)
    if affine:  # move weight and bias off 1 and 0 so that they matter
        layer.weight.data[...] = rng.uniform(0.5, 1.5, shape[-1])
        layer.bias.data[...] = rng.standard_normal(shape[-1])
    x = randn(*shape, rng=rng)
    v = x.numpy()
    expected = (v - v.mean(-1, keepdims=True)) / np.sqrt(v.var(-1, keepdims=True) + 1e-5)
    if affine:
        expected = expected * layer.weight.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)
    check_layer(layer, x)


def test_layer_norm_second_order_and_shape_error():
    layer = nn.LayerNorm(3, dtype=F64)
    layer.weight.data[...] = [0.5, 1.0, 2.0]
    check_layer(layer, randn(2, 3), second_order=True)
    with pytest.raises(ValueError, match="does not end in 3"):
        layer(randn(2, 4))
    with pytest.raises(ValueError, match="last axis only"):
        nn.LayerNorm((2, 3))


@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (4, 3)), (nn.BatchNorm1d, (3, 2, 4)),
                                        (nn.BatchNorm2d, (3, 2, 2, 3))])
def test_batch_norm_gradients_in_train_and_eval(cls, shape):
    layer = cls(shape[1], dtype=F64)
    layer.weight.data[...] = np.linspace(0.5, 1.5, shape[1])
    layer.bias.data[...] = np.linspace(-1, 1, shape[1])
    x = randn(*shape)
    check_layer(layer, x, second_order=True)                         # train: batch statistics
    layer.eval()
    check_layer(layer, x)                                            # eval: running statistics


def test_batch_norm_without_affine_or_running_stats():
    layer = nn.BatchNorm2d(2, affine=False, track_running_stats=False, dtype=F64)
    assert list(layer.parameters()) == list(layer.buffers()) == list(layer.state_dict()) == []
    x = randn(4, 2, 3, 3)
    y = layer.eval()(x).numpy()                                      # no running stats: batch stats
    v = x.numpy()
    var = v.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (v - v.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(var + 1e-5), rtol=1e-10)
    assert mg.gradcheck(layer, [x])


def test_batch_norm_refuses_bad_input():
    with pytest.raises(ValueError, match="more than one value per channel"):
        nn.BatchNorm1d(3)(mg.randn(1, 3))
    nn.BatchNorm1d(3).eval()(mg.randn(1, 3))                          # fine in eval
    with pytest.raises(ValueError, match="channels on axis 1"):
        nn.BatchNorm2d(3)(mg.randn(2, 4, 2, 2))
    with pytest.raises(ValueError, match="4 dims"):
        nn.BatchNorm2d(3)(mg.randn(2, 3))


@pytest.mark.parametrize("groups, shape", [(1, (2, 4, 2, 2)), (2, (2, 4, 3)), (4, (1, 4, 2, 2))])
def test_group_norm_gradients(groups, shape):
    layer = nn.GroupNorm(groups, shape[1], dtype=F64)
    layer.weight.data[...] = np.linspace(0.5, 1.5, shape[1])
    layer.bias.data[...] = np.linspace(-1, 1, shape[1])
    x = randn(*shape)
    check_layer(layer, x, second_order=(groups == 2))
    plain = nn.GroupNorm(groups, shape[1], affine=False, dtype=F64)(x).numpy()
    v = x.numpy().reshape(shape[0], groups, -1)                      # each sample's groups, standardised
    expected = (v - v.mean(-1, keepdims=True)) / np.sqrt(v.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(plain, expected.reshape(shape), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="not divisible"):
        nn.GroupNorm(3, 4)


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.LeakyReLU(0.2), nn.GELU(), nn.SiLU(), nn.Tanh(), nn.Sigmoid()],
                         ids=lambda m: type(m).__name__)
def test_activation_gradients(layer):
    x = away_from_zero(3, 4)
    assert mg.gradcheck(layer, [x]) and mg.gradgradcheck(layer, [x])
    assert list(layer.parameters()) == []


def test_activation_values():
    x = mg.tensor([-2.0, -0.5, 0.0, 1.5], dtype=F64)
    v = x.numpy()
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(v, 0))
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).numpy(), np.where(v > 0, v, 0.1 * v))
    np.testing.assert_allclose(nn.SiLU()(x).numpy(), v / (1 + np.exp(-v)))
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-v)))
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(v))
    gelu = 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3)))
    np.testing.assert_allclose(nn.GELU()(x).numpy(), gelu)
    with pytest.raises(ValueError, match="tanh"):
        nn.GELU(approximate="none")


def test_dropout_respects_train_and_eval():
    drop = nn.Dropout(0.25)
    x = mg.ones(200, 100)
    y = drop(x).numpy()
    assert abs((y == 0).mean() - 0.25) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / 0.75, rtol=1e-6)
    mg.manual_seed(3)
    a = drop(x).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(a, drop(x).numpy())                # masks come from the seeded generator
    assert drop.eval()(x) is x
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_dropout_gradients_with_a_fixed_mask():
    drop = nn.Dropout(0.4)
    x = randn(4, 5)

    def fn(x):
        mg.manual_seed(7)                                            # the same mask on every call
        return drop(x)

    assert mg.gradcheck(fn, [x]) and mg.gradgradcheck(fn, [x])
    assert (fn(x).numpy() == 0).any()


def test_causal_self_attention_gradients():
    attn = nn.CausalSelfAttention(4, 2, dtype=F64)
    x = randn(2, 3, 4)
    assert attn(x).shape == (2, 3, 4)
    check_layer(attn, x, second_order=True)
    with pytest.raises(ValueError, match="not divisible"):
        nn.CausalSelfAttention(6, 4)
    with pytest.raises(ValueError, match=r"expected \(B, T, 4\)"):
        attn(randn(2, 3, 5))


def test_transformer_block_gradients():
    block = nn.TransformerBlock(4, 2, mlp_ratio=2, dtype=F64)
    for name, p in block.named_parameters():                         # LayerNorms off their 1 / 0 start
        if name.startswith("ln"):
            p.data[...] = np.random.uniform(0.5, 1.5, p.shape)
    x = randn(2, 3, 4)
    assert block(x).shape == (2, 3, 4)
    check_layer(block, x)
    assert mg.gradgradcheck(block, [randn(1, 3, 4)])
    assert len(list(block.parameters())) == 12


def test_transformer_dropout_is_active_in_train_only():
    block = nn.TransformerBlock(8, 2, dropout=0.5)
    x = mg.randn(2, 5, 8)
    assert not np.allclose(block(x).numpy(), block(x).numpy())
    block.eval()
    np.testing.assert_array_equal(block(x).numpy(), block(x).numpy())


# ===================================================================== causality (gradient tests)
def dependence(layer, x, r, c):
    """(H, W) booleans: which input pixels output pixel (r, c) depends on (nonzero gradient)."""
    x = mg.tensor(x, dtype=F64, requires_grad=True)
    (g,) = mg.grad(layer(x)[:, :, r, c].sum(), [x])
    return np.abs(g.numpy()).sum(axis=(0, 1)) > 0


@pytest.mark.parametrize("mask_type", ["A", "B"])
@pytest.mark.parametrize("k, c_in, c_out", [(3, 1, 2), (5, 3, 2), (1, 2, 2)])
def test_masked_conv_sees_exactly_the_past_in_raster_order(mask_type, k, c_in, c_out):
    """Output pixel i depends on input pixel j iff j is in the kernel's window and j < i
    (mask A) or j <= i (mask B), i and j in raster order (row by row)."""
    h, w = 5, 6
    layer = nn.MaskedConv2d(c_in, c_out, k, mask_type, dtype=F64)
    x = np.random.standard_normal((2, c_in, h, w))
    rows, cols = np.indices((h, w))
    for r in range(h):
        for c in range(w):
            i, j = r * w + c, rows * w + cols
            past = (j < i) if mask_type == "A" else (j <= i)
            window = (np.abs(rows - r) <= k // 2) & (np.abs(cols - c) <= k // 2)
            np.testing.assert_array_equal(dependence(layer, x, r, c), past & window, err_msg=f"pixel {(r, c)}")


@pytest.mark.parametrize("first", ["A", "B"])
def test_stacked_masked_convs_stay_causal(first):
    """A then B then B: pixel i never sees j >= i, yet sees its left and upper neighbours.
    B then B: pixel i sees itself but never j > i."""
    h, w = 5, 5
    net = nn.Sequential(nn.MaskedConv2d(1, 4, 3, first, dtype=F64), nn.Tanh(),
                        nn.MaskedConv2d(4, 4, 3, "B", dtype=F64), nn.Tanh(),
                        nn.MaskedConv2d(4, 2, 3, "B", dtype=F64))
    x = np.random.standard_normal((1, 1, h, w))
    order = np.arange(h * w).reshape(h, w)
    for r in range(h):
        for c in range(w):
            seen, i = dependence(net, x, r, c), order[r, c]
            assert not seen[order > i].any()
            assert seen[r, c] == (first == "B")
            if c > 0:
                assert seen[r, c - 1]
            if r > 0:
                assert seen[r - 1, c]


@pytest.mark.parametrize("layer", [nn.CausalSelfAttention(8, 2, dtype=F64), nn.TransformerBlock(8, 4, dtype=F64)],
                         ids=["attention", "block"])
def test_attention_output_depends_only_on_earlier_positions(layer):
    t_len = 6
    x = randn(2, t_len, 8)
    for t in range(t_len):
        (g,) = mg.grad(layer(x)[:, t].sum(), [x])
        seen = np.abs(g.numpy()).sum(axis=(0, 2)) > 0
        np.testing.assert_array_equal(seen, np.arange(t_len) <= t)


# ===================================================================== the KV cache
@pytest.mark.parametrize("dtype, tol", [(F64, 1e-12), ("float32", 1e-5)])
@pytest.mark.parametrize("make", [lambda dtype: nn.CausalSelfAttention(8, 2, dtype=dtype),
                                  lambda dtype: nn.TransformerBlock(8, 2, dtype=dtype)], ids=["attention", "block"])
def test_one_position_at_a_time_with_the_cache_gives_the_full_forward_pass_at_each_position(make, dtype, tol):
    layer = make(dtype)
    x = mg.tensor(np.random.default_rng(0).standard_normal((3, 6, 8)), dtype=dtype)
    with mg.no_grad():
        full = layer(x).numpy()                                      # (B, T, C)
        cache = []
        steps = [layer(x[:, t:t + 1], cache).numpy()[:, 0] for t in range(6)]   # each (B, C)
    for t, step in enumerate(steps):
        np.testing.assert_allclose(step, full[:, t], rtol=tol, atol=tol, err_msg=f"position {t}")
    attn = layer if isinstance(layer, nn.CausalSelfAttention) else layer.attn
    assert [a.shape for a in cache] == [(3, 2, 6, 4)] * 2            # keys, values (B, H, T, D)
    if dtype == F64:     # the cached keys and values are the full pass's, to rounding (BLAS may sum a
        h = layer.ln1(x) if attn is not layer else x                 # one-row product in another order)
        k, v = attn.qkv(h).reshape(3, 6, 3, 2, 4).transpose(2, 0, 3, 1, 4).numpy()[1:]
        np.testing.assert_allclose(cache[0].numpy(), k, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(cache[1].numpy(), v, rtol=1e-14, atol=1e-15)


def test_the_cache_takes_one_new_position_at_a_time():
    with pytest.raises(ValueError, match="one new position at a time"):
        nn.CausalSelfAttention(8, 2)(mg.randn(2, 3, 8), [])


# ===================================================================== initialisation
@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(300, 200), 300),
    (lambda: nn.Conv2d(16, 256, 3), 16 * 9),
    (lambda: nn.ConvTranspose2d(8, 256, 4), 256 * 16),               # PyTorch's rule on (C_in, C_out, k, k)
    (lambda: nn.MaskedConv2d(16, 256, 5, "B"), 16 * 25),
])
def test_default_init_is_uniform_within_one_over_sqrt_fan_in(make, fan_in):
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for t in (layer.weight, layer.bias):
        v = t.numpy().astype(np.float64)
        assert np.abs(v).max() <= bound * (1 + 1e-6)
        assert np.abs(v).max() > 0.9 * bound
    w = layer.weight.numpy().astype(np.float64)
    assert abs(w.mean()) < 0.05 * bound
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.05                  # the variance of U(-b, b)


def test_default_init_of_embedding_and_norms():
    w = nn.Embedding(1000, 100).weight.numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    for layer in (nn.LayerNorm(5), nn.BatchNorm1d(5), nn.GroupNorm(1, 5)):
        np.testing.assert_array_equal(layer.weight.numpy(), 1)
        np.testing.assert_array_equal(layer.bias.numpy(), 0)
    bn = nn.BatchNorm2d(5)
    np.testing.assert_array_equal(bn.running_mean.numpy(), 0)
    np.testing.assert_array_equal(bn.running_var.numpy(), 1)
    assert bn.num_batches_tracked.item() == 0


def test_init_follows_the_seed_and_not_the_dtype():
    mg.manual_seed(5)
    a = nn.Linear(4, 3)
    mg.manual_seed(5)
    b = nn.Linear(4, 3, dtype=F64)
    c = nn.Linear(4, 3)
    np.testing.assert_allclose(a.weight.numpy(), b.weight.numpy(), rtol=1e-6)
    assert not np.allclose(a.weight.numpy(), c.weight.numpy())


@pytest.mark.parametrize("shape", [(700, 300), (3, 5, 4, 4), (1,), (), (0, 4)])
@pytest.mark.parametrize("method", ["uniform_", "normal_"])
def test_init_draws_in_blocks_the_values_of_one_whole_draw(shape, method, monkeypatch):
    """A big layer is filled a block of rows at a time (no float64 copy of the whole layer):
    the values are those of one draw of the whole shape, shifted and scaled in float64."""
    monkeypatch.setattr(nn.init, "DRAW_BLOCK", 1000)             # many blocks, some ragged
    mg.manual_seed(3)
    t = mg.zeros(*shape, dtype=F64)
    getattr(nn.init, method)(t, 0.25, 1.5)
    draw = np.random.default_rng(3).random if method == "uniform_" else np.random.default_rng(3).standard_normal
    whole = draw(shape)
    expected = 0.25 + 1.25 * whole if method == "uniform_" else 0.25 + 1.5 * whole
    np.testing.assert_array_equal(t.numpy(), expected)


def test_init_helpers():
    t = mg.zeros(200, 300, dtype=F64)
    assert nn.init.uniform_(t, -2, 3) is t
    assert t.numpy().min() >= -2 and t.numpy().max() < 3 and abs(t.numpy().mean() - 0.5) < 0.05
    nn.init.normal_(t, 1.0, 0.02)
    assert abs(t.numpy().mean() - 1) < 0.001 and abs(t.numpy().std() - 0.02) < 0.001
    nn.init.ones_(t)
    assert (t.numpy() == 1).all()
    nn.init.zeros_(t)
    assert (t.numpy() == 0).all()
    nn.init.kaiming_uniform_(t, a=0, nonlinearity="relu")            # bound sqrt(2) * sqrt(3 / 300)
    assert 0.95 * math.sqrt(6 / 300) < np.abs(t.numpy()).max() <= math.sqrt(6 / 300)
    nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="linear")
    assert 0.95 * math.sqrt(3 / 200) < np.abs(t.numpy()).max() <= math.sqrt(3 / 200)
    with pytest.raises(ValueError):
        nn.init.kaiming_uniform_(mg.zeros(3))


def test_init_matches_pytorch_fans_and_gains():
    torch = torch_or_skip()
    for shape in [(3, 4), (5, 2, 3, 3), (2, 7, 4, 4), (6, 1)]:
        assert nn.init.calculate_fan_in_and_fan_out(mg.zeros(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
    for name, param in [("linear", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                        ("leaky_relu", math.sqrt(5)), ("sigmoid", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))
    torch.manual_seed(0)
    for ours, theirs in [(nn.Linear(64, 256), torch.nn.Linear(64, 256)),
                         (nn.ConvTranspose2d(4, 256, 4), torch.nn.ConvTranspose2d(4, 256, 4)),
                         (nn.Conv2d(8, 256, 3), torch.nn.Conv2d(8, 256, 3))]:
        for name, t in theirs.named_parameters():
            ours_max = np.abs(ours.state_dict()[name].numpy()).max()
            assert ours_max == pytest.approx(t.abs().max().item(), rel=0.1), name


# ===================================================================== BatchNorm statistics
@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                        (nn.BatchNorm2d, (4, 3, 2, 3))])
def test_batch_norm_running_stats_are_unbiased_moving_averages(cls, shape):
    layer = cls(3, momentum=0.3, dtype=F64)
    axes = (0,) + tuple(range(2, len(shape)))
    mean, var = np.zeros(3), np.ones(3)
    for step in range(3):
        x = np.random.standard_normal(shape) * 2 + step
        layer(mg.tensor(x, dtype=F64))
        n = x.size // 3
        mean = 0.7 * mean + 0.3 * x.mean(axis=axes)
        var = 0.7 * var + 0.3 * x.var(axis=axes) * n / (n - 1)
    np.testing.assert_allclose(layer.running_mean.numpy(), mean)
    np.testing.assert_allclose(layer.running_var.numpy(), var)
    assert layer.num_batches_tracked.item() == 3
    layer.eval()
    x = np.random.standard_normal(shape)
    expected = (x - mean.reshape((1, 3) + (1,) * (len(shape) - 2))) / np.sqrt(
        var.reshape((1, 3) + (1,) * (len(shape) - 2)) + 1e-5)
    np.testing.assert_allclose(layer(mg.tensor(x, dtype=F64)).numpy(), expected)
    layer(mg.tensor(x, dtype=F64))
    assert layer.num_batches_tracked.item() == 3                     # eval leaves the stats alone


@pytest.mark.parametrize("cls, shape, momentum", [("BatchNorm1d", (5, 4), 0.1), ("BatchNorm1d", (3, 4, 6), None),
                                                  ("BatchNorm2d", (3, 4, 3, 2), 0.2)])
def test_batch_norm_matches_pytorch(cls, shape, momentum):
    torch = torch_or_skip()
    theirs = getattr(torch.nn, cls)(4, momentum=momentum).double()
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-1, 1)
    ours = getattr(nn, cls)(4, momentum=momentum, dtype=F64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for _ in range(3):
        x = np.random.standard_normal(shape) * 3 + 1
        xt = torch.tensor(x, requires_grad=True)
        xm = mg.tensor(x, dtype=F64, requires_grad=True)
        yt, ym = theirs(xt), ours(xm)
        np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        w = np.random.standard_normal(shape)
        yt.backward(torch.tensor(w))
        ym.backward(w)
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-8)
        ours.zero_grad()
        theirs.zero_grad()
    for name, t in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name].numpy(), t.numpy(), rtol=1e-12, err_msg=name)
    ours.eval(), theirs.eval()
    x = np.random.standard_normal(shape)
    np.testing.assert_allclose(ours(mg.tensor(x, dtype=F64)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


# ===================================================================== agreement with PyTorch
@pytest.mark.parametrize("name, args, kwargs, shape", [
    ("Linear", (5, 3), {}, (2, 4, 5)),
    ("Conv2d", (2, 3, 3), {"stride": 2, "padding": 1}, (2, 2, 5, 6)),
    ("Conv2d", (2, 3, (2, 3)), {"bias": False}, (1, 2, 4, 4)),
    ("ConvTranspose2d", (3, 2, 4), {"stride": 2, "padding": 1}, (2, 3, 3, 3)),
    ("LayerNorm", (6,), {}, (2, 3, 6)),
    ("GroupNorm", (2, 4), {}, (2, 4, 3, 3)),
])
def test_layers_match_pytorch_with_the_same_weights(name, args, kwargs, shape):
    torch = torch_or_skip()
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()
    ours = getattr(nn, name)(*args, **kwargs, dtype=F64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.standard_normal(shape)
    np.testing.assert_allclose(ours(mg.tensor(x, dtype=F64)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_embedding_and_activations_match_pytorch():
    torch = torch_or_skip()
    theirs = torch.nn.Embedding(6, 3).double()
    ours = nn.Embedding(6, 3, dtype=F64)
    ours.load_state_dict({"weight": theirs.weight.detach().numpy()})
    idx = np.array([[1, 5], [0, 1]])
    np.testing.assert_array_equal(ours(idx).numpy(), theirs(torch.tensor(idx)).detach().numpy())
    x = np.random.standard_normal((4, 5)) * 3
    for o, t in [(nn.GELU(), torch.nn.GELU(approximate="tanh")), (nn.SiLU(), torch.nn.SiLU()),
                 (nn.LeakyReLU(0.3), torch.nn.LeakyReLU(0.3))]:
        np.testing.assert_allclose(o(mg.tensor(x, dtype=F64)).numpy(), t(torch.tensor(x)).numpy(), rtol=1e-12)


def test_masked_conv_matches_pytorch_conv_with_masked_weight():
    torch = torch_or_skip()
    ours = nn.MaskedConv2d(2, 3, 5, "B", dtype=F64)
    x = np.random.standard_normal((2, 2, 6, 6))
    weight = torch.tensor(ours.weight.numpy() * ours.mask.numpy())
    expected = torch.nn.functional.conv2d(torch.tensor(x), weight, torch.tensor(ours.bias.numpy()), padding=2)
    np.testing.assert_allclose(ours(mg.tensor(x, dtype=F64)).numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_causal_self_attention_matches_pytorch():
    torch = torch_or_skip()
    ours = nn.CausalSelfAttention(8, 2, dtype=F64)
    x = np.random.standard_normal((2, 5, 8))
    w = {k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}
    xt = torch.tensor(x)
    qkv = torch.nn.functional.linear(xt, w["qkv.weight"], w["qkv.bias"])
    q, k, v = (t.view(2, 5, 2, 4).transpose(1, 2) for t in qkv.split(8, dim=2))   # nanoGPT's layout
    y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    y = torch.nn.functional.linear(y.transpose(1, 2).reshape(2, 5, 8), w["proj.weight"], w["proj.bias"])
    np.testing.assert_allclose(ours(mg.tensor(x, dtype=F64)).numpy(), y.numpy(), rtol=1e-10, atol=1e-12)

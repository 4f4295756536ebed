"""On a GPU, the training loop copies nothing from the host per step and reads from the device
once per READ_EVERY steps; checks wait on the device until that read.

Counted on the CuPy stand-in (tests/cupy_stand_in counts every host <-> device copy and every
synchronising read), so these run under `pytest --cupy-stand-in -m gpu` and skip elsewhere (a real
CuPy counts nothing). benchmarks/README.md has the same counts for each family's default model
(`python -m tests.cupy_stand_in.transfers`).
"""
import math

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import backend
from minigen.autograd import OpError
from minigen.models import make
from minigen.models.loop import READ_EVERY, train

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def stand_in():
    if not mg.cuda_available():
        pytest.skip("no CUDA device (run with --cupy-stand-in)")
    import cupy
    if not hasattr(cupy, "counts"):
        pytest.skip("a real CuPy counts no transfers: these need the stand-in")
    cupy.reset_counts()
    return cupy


STEPS = 2 * READ_EVERY
SMALL = {"width": 8, "blocks": 2, "eval_samples": 0}
RUNS = [   # each family, and each kind of data it takes; widths small: the counts do not depend on them
    ("classifier", "digits", {"model": "cnn"}),
    ("gan", "8gaussians", {}),
    ("gan", "digits", {"model": "dcgan", "conditional": True}),
    ("vae", "digits-binary", {"loss": "iwae"}),
    ("autoregressive", "names", {}),
    ("autoregressive", "digits-binary", {"conditional": True, **SMALL}),
    ("diffusion", "digits", {"conditional": True, "T": 10}),
    ("diffusion", "digits", {"captions": True, "T": 10}),
]


@pytest.mark.parametrize("family_name, data, settings", RUNS, ids=[f"{r[0]}-{r[1]}" for r in RUNS])
def test_training_copies_only_the_data_and_each_epochs_order_and_reads_once_per_logged_step(
        stand_in, family_name, data, settings):
    family = make(family_name, data, device="cuda", seed=0, steps=1 + STEPS, batch_size=32, **settings)
    warm = family.batches()
    family.train_mode()
    family.train_step(next(warm))           # first-step work: the optimizers' state, lazy tables
    stand_in.reset_counts()
    train(family, quiet=True)
    arrays, batches_per_epoch = len(family.arrays()), len(family.arrays()[0]) // 32
    epochs = math.ceil(STEPS / batches_per_epoch) + 1
    assert stand_in.counts["h2d"] <= arrays + epochs, stand_in.counts      # none per step
    reads = STEPS // READ_EVERY
    if family_name == "autoregressive" and data == "names":
        reads += STEPS          # the batch's longest name shapes the step: one read per step, documented
    assert stand_in.counts["sync"] <= reads, stand_in.counts


def test_an_index_check_on_the_gpu_waits_for_the_next_read(stand_in):
    logits = mg.randn(4, 3, device="cuda")
    targets = mg.tensor([0, 2, 5, 1], device="cuda")
    stand_in.reset_counts()
    loss = F.cross_entropy(logits, targets)                    # index 5 is out of [0, 3): not read yet
    assert stand_in.counts["sync"] == 0
    with pytest.raises(OpError, match=r"cross_entropy: indices must lie in \[0, 3\), got min 0, max 5"):
        loss.item()
    assert stand_in.counts["sync"] == 1                        # the check and the loss: one read
    with pytest.raises(OpError, match=r"indices must lie in \[0, 3\)"):
        F.cross_entropy(logits.cpu(), targets.cpu())           # on the CPU: at once


def test_an_index_out_of_bounds_is_an_error_on_the_gpu_too_not_a_wrap_around(stand_in):
    x = mg.tensor([[1.0, 2.0, 3.0]], device="cuda")
    for index in [(0, np.array([5])), (Ellipsis, mg.tensor([-4], device="cuda")), (None, 0, [3])]:
        with pytest.raises(IndexError, match=r"getitem: axis 1 of a tensor with shape \(1, 3\): indices must lie in"):
            x[index].numpy()
    assert x[0, [-3, 2]].numpy().tolist() == [1.0, 3.0]


def test_waiting_checks_are_read_at_most_max_waiting_at_a_time(stand_in):
    logits, good = mg.randn(2, 3, device="cuda"), mg.tensor([0, 1], device="cuda")
    stand_in.reset_counts()
    for _ in range(backend.MAX_WAITING - 1):
        F.cross_entropy(logits, good)
    assert stand_in.counts["sync"] == 0
    F.cross_entropy(logits, good)
    assert stand_in.counts["sync"] == 1 and not backend._waiting


def test_read_copies_several_arrays_in_one_wait_keeping_their_dtypes(stand_in):
    x = mg.tensor([[1.5, -2.25]], device="cuda").data
    n = mg.tensor([7, 2 ** 40], device="cuda").data
    b = (x > 0)
    stand_in.reset_counts()
    hx, hn, hb = backend.read(x, n.max(), b)
    assert stand_in.counts["sync"] == 1 and stand_in.counts["d2h"] == 1
    assert hx.dtype == np.float32 and hx.tolist() == [[1.5, -2.25]]
    assert hn.dtype == np.int64 and hn.shape == () and int(hn) == 2 ** 40
    assert hb.dtype == np.bool_ and hb.tolist() == [[True, False]]


def test_a_batch_is_cut_on_the_device(stand_in):
    loader = mg.data.DataLoader(np.arange(20.0).reshape(10, 2), np.arange(10), batch_size=4, device="cuda")
    assert stand_in.counts["h2d"] == 2                         # the two arrays, once
    batches = list(loader)
    assert stand_in.counts["h2d"] == 3                         # and the epoch's order
    x, y = batches[0]
    assert x.device == "cuda:0" and y.device == "cuda:0"
    np.testing.assert_array_equal(x.numpy(), np.arange(20.0).reshape(10, 2)[y.numpy()])


@pytest.mark.parametrize("data", ["shakespeare", "code"])
def test_a_storyteller_copies_its_text_once_and_its_window_starts_in_a_few_copies(stand_in, data):
    family = make("autoregressive", data, model="bigram", device="cuda", seed=0, steps=STEPS, batch_size=8)
    stand_in.reset_counts()
    train(family, quiet=True)
    assert stand_in.counts["h2d"] <= 3, stand_in.counts       # the text, the offsets, one block of starts
    assert stand_in.counts["sync"] <= STEPS // READ_EVERY, stand_in.counts

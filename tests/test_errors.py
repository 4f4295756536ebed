"""Bad input fails early, with a message that names the op and the shapes (or devices)."""
import re

import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import backend
from minigen.autograd import OpError, check_same_device
from minigen.backend import DeviceError


def test_matmul_of_mismatched_shapes_names_both_shapes():
    a, b = mg.zeros(2, 3), mg.zeros(4, 5)
    with pytest.raises(OpError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        a @ b
    with pytest.raises(OpError, match=r"matmul.*\(3,\).*\(4,\)"):
        mg.zeros(3) @ mg.zeros(4)
    with pytest.raises(OpError, match=r"matmul.*\(2, 2, 3\).*\(3, 2, 4\)"):
        mg.zeros(2, 2, 3) @ mg.zeros(3, 2, 4)  # inner dims fit, batch dims 2 and 3 do not
    with pytest.raises(OpError, match="matmul"):
        mg.zeros(()) @ mg.zeros(3)


def test_conv2d_with_mismatched_channels_or_ranks_names_the_shapes():
    x = mg.zeros(1, 3, 5, 5)
    with pytest.raises(OpError, match=r"conv2d.*3 channels.*\(4, 2, 3, 3\)"):
        F.conv2d(x, mg.zeros(4, 2, 3, 3))
    with pytest.raises(OpError, match=r"conv2d.*\(3, 5, 5\)"):
        F.conv2d(mg.zeros(3, 5, 5), mg.zeros(4, 3, 3, 3))
    with pytest.raises(OpError, match=r"conv2d.*kernel \(7, 7\).*\(1, 3, 5, 5\)"):
        F.conv2d(x, mg.zeros(4, 3, 7, 7))
    with pytest.raises(OpError, match=r"conv_transpose2d.*3 channels.*\(2, 4, 3, 3\)"):
        F.conv_transpose2d(x, mg.zeros(2, 4, 3, 3))
    with pytest.raises(OpError, match=r"max_pool2d.*kernel 7.*\(1, 3, 5, 5\)"):
        F.max_pool2d(x, 7)


def test_linear_with_a_bias_of_the_wrong_shape_or_dtype_names_the_shapes():
    x, w = mg.zeros(2, 3), mg.zeros(4, 3)
    with pytest.raises(OpError, match=r"linear: the bias must be \(4,\) float32.*\(2, 3\).*\(4, 3\).*\(2, 4\)"):
        F.linear(x, w, mg.zeros(2, 4))
    with pytest.raises(OpError, match=r"linear: the bias must be \(4,\) float32.*\(4,\) float64"):
        F.linear(x, w, mg.zeros(4, dtype="float64"))
    with pytest.raises(OpError, match=r"linear: dtypes differ"):
        F.linear(mg.zeros(2, 3, dtype="float64"), w, mg.zeros(4))


def test_broadcasting_failure_in_add_names_the_op_and_both_shapes():
    with pytest.raises(OpError, match=r"add.*\(2, 3\).*\(4,\)"):
        mg.zeros(2, 3) + mg.zeros(4)
    with pytest.raises(OpError, match=r"mul.*\(2, 3\).*\(2,\)"):
        mg.zeros(2, 3) * np.zeros(2)
    with pytest.raises(OpError, match=r"where.*\(2,\).*\(3,\)"):
        mg.where(np.array([True, False]), mg.zeros(3), mg.zeros(3))


def test_other_shape_errors_name_the_op():
    with pytest.raises(OpError, match=r"reshape.*\(2, 3\)"):
        mg.zeros(2, 3).reshape(4)
    with pytest.raises(OpError, match=r"sum: axis 2.*2 dims"):
        mg.zeros(2, 3).sum(axis=2)
    with pytest.raises(OpError, match=r"transpose.*\(2, 3\)"):
        mg.zeros(2, 3).transpose(0, 0)
    with pytest.raises(OpError, match=r"concat.*\(2, 3\).*\(2, 4\)"):
        mg.concat([mg.zeros(2, 3), mg.zeros(2, 4)], axis=0)
    with pytest.raises(OpError, match=r"stack.*\(2, 3\).*\(3, 2\)"):
        mg.stack([mg.zeros(2, 3), mg.zeros(3, 2)])
    with pytest.raises(OpError, match=r"linear.*\(2, 3\).*\(4, 5\)"):
        F.linear(mg.zeros(2, 3), mg.zeros(4, 5))
    with pytest.raises(OpError, match=r"mse_loss.*\(2,\).*\(3,\)"):
        F.mse_loss(mg.zeros(2), mg.zeros(3))
    with pytest.raises(OpError, match=r"binary_cross_entropy_with_logits.*\(2,\).*\(3,\)"):
        F.binary_cross_entropy_with_logits(mg.zeros(2), mg.zeros(3))
    with pytest.raises(OpError, match=r"binary_cross_entropy_with_logits: reduction must be one of.*'avg'"):
        F.binary_cross_entropy_with_logits(mg.zeros(2), mg.zeros(2), reduction="avg")
    with pytest.raises(OpError, match=r"cross_entropy: reduction must be one of.*'batch'"):
        F.cross_entropy(mg.zeros(2, 3), np.array([0, 1]), reduction="batch")
    with pytest.raises(OpError, match=r"scaled_dot_product_attention.*\(2, 3\).*\(2, 4\)"):
        F.scaled_dot_product_attention(mg.zeros(2, 3), mg.zeros(2, 4), mg.zeros(2, 4))
    with pytest.raises(OpError, match=r"pad.*3 pairs.*2 dims"):
        F.pad(mg.zeros(2, 3), ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(OpError, match=r"getitem.*index 5.*\(2, 3\)"):
        mg.zeros(2, 3)[5]
    with pytest.raises(IndexError):  # still an IndexError, as Python's protocols expect
        mg.zeros(2, 3)[5]
    with pytest.raises(IndexError, match="getitem"):
        mg.zeros(2, 3)[1.5]


def test_bad_class_indices_name_the_range():
    logits = mg.zeros(2, 3)
    with pytest.raises(OpError, match=r"cross_entropy.*\[0, 3\).*max 3"):
        F.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(OpError, match=r"cross_entropy.*min -1"):
        F.cross_entropy(logits, np.array([-1, 0]))
    with pytest.raises(OpError, match=r"cross_entropy.*integers.*float"):
        F.cross_entropy(logits, np.array([0.0, 1.0]))
    with pytest.raises(OpError, match=r"cross_entropy.*\(2,\).*\(3,\)"):
        F.cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(OpError, match=r"cross_entropy.*\(2, 3, 1\)"):
        F.cross_entropy(mg.zeros(2, 3, 1), np.array([0, 1]))
    with pytest.raises(OpError, match=r"embedding.*\[0, 4\)"):
        F.embedding(np.array([4]), mg.zeros(4, 2))
    with pytest.raises(OpError, match=r"dropout.*1.5"):
        F.dropout(mg.zeros(2), p=1.5)


def test_requires_grad_on_an_integer_tensor_names_the_dtype():
    with pytest.raises(TypeError, match=r"requires_grad.*int64"):
        mg.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match=r"requires_grad.*bool"):
        mg.tensor([True], requires_grad=True)


@pytest.mark.parametrize("data, dtype, named", [(["a", "b"], None, "<U1"), ([1 + 2j], None, "complex128"),
                                                 (np.array(["x"], dtype=object), None, "object"),
                                                 ([1.0, 2.0], "U3", "<U3")])
def test_a_tensor_of_non_numeric_data_is_refused_naming_the_dtype(data, dtype, named):
    with pytest.raises(TypeError, match=rf"tensor: .*{re.escape(named)}.*not numeric"):
        mg.tensor(data, dtype=dtype)


def test_gradcheck_refuses_float32_and_inputs_without_grad():
    with pytest.raises(TypeError, match="float64"):
        mg.gradcheck(lambda x: x * 2, [mg.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="requires grad"):
        mg.gradcheck(lambda x: x * 2, [mg.zeros(2, dtype="float64")])


# ----- devices -----
class _StandInCudaArray:
    """Just enough of a cupy.ndarray (shape, dtype, device.id) for the device check to see a
    tensor living on cuda:0, so that mixing devices can be tested on a machine without a GPU.
    Its values are never touched: the check must fire before any arithmetic."""

    class _Device:
        id = 0

    def __init__(self, shape, dtype="float32"):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.ndim, self.size = len(self.shape), int(np.prod(self.shape))
        self.device = self._Device()


def _on_stand_in_cuda(*shape):
    return mg.Tensor._make(_StandInCudaArray(shape), False)


def test_mixing_a_cpu_and_a_cuda_tensor_raises_a_device_error_naming_both():
    cpu, cuda = mg.zeros(2, 3), _on_stand_in_cuda(2, 3)
    assert cuda.device == "cuda:0"
    pattern = r"{}: inputs are on different devices: \(2, 3\) float32 on cpu and \(2, 3\) float32 on cuda:0"
    with pytest.raises(DeviceError, match=pattern.format("add")):
        cpu + cuda
    with pytest.raises(DeviceError, match=pattern.format("mul")):
        cpu * cuda
    with pytest.raises(DeviceError, match=r"matmul.*cpu.*cuda:0"):
        cpu @ _on_stand_in_cuda(3, 2)
    with pytest.raises(DeviceError, match=r"concat.*cpu.*cuda:0"):
        mg.concat([cpu, cuda])
    with pytest.raises(DeviceError, match=r"where.*cpu.*cuda:0"):
        mg.where(np.ones((2, 3), dtype=bool), cpu, cuda)
    with pytest.raises(DeviceError, match=r"less.*cpu.*cuda:0"):
        cpu < cuda
    with pytest.raises(DeviceError, match="move them with .to"):
        check_same_device("anything", [cpu, cuda])


@pytest.mark.gpu
def test_class_indices_in_a_tensor_on_another_device_raise_a_device_error():
    if not mg.cuda_available():
        pytest.skip("no CUDA device (run with --cupy-stand-in)")
    logits, targets = mg.randn(4, 3, device="cuda"), mg.tensor([0, 1, 2, 0])
    with pytest.raises(DeviceError, match=r"cross_entropy: inputs are on different devices: .* on cuda:0 and .* on cpu"):
        F.cross_entropy(logits, targets)
    with pytest.raises(DeviceError, match=r"embedding: .* on cuda:0 and .* on cpu"):
        F.embedding(targets, logits)
    assert F.cross_entropy(logits, targets.numpy()).device == "cuda:0"    # a host array: copied over


def test_asking_for_cuda_without_a_gpu_raises_a_device_error():
    if mg.cuda_available():
        pytest.skip("this machine has a GPU")
    assert mg.cuda_available() is False  # and it did not raise
    with pytest.raises(DeviceError, match="cuda"):
        mg.tensor([1.0], device="cuda")
    with pytest.raises(DeviceError, match="cuda"):
        mg.zeros(2, device="cuda:0")
    with pytest.raises(DeviceError, match="cuda"):
        mg.set_default_device("cuda")
    with pytest.raises(DeviceError, match="cuda"):
        mg.tensor([1.0]).to("cuda")
    assert backend.get_default_device() == "cpu"


def test_an_unknown_device_name_is_refused():
    with pytest.raises(DeviceError, match="'tpu'"):
        mg.tensor([1.0], device="tpu")
    with pytest.raises(DeviceError, match="'cuda:x'"):
        mg.zeros(1, device="cuda:x")


@pytest.mark.gpu
def test_mixing_a_cpu_and_a_real_cuda_tensor_raises_a_device_error():
    if not mg.cuda_available():
        pytest.skip("no CUDA device (CuPy missing or no GPU)")
    cpu, cuda = mg.zeros(2, 3), mg.zeros(2, 3, device="cuda")
    with pytest.raises(DeviceError, match=r"add.*cpu.*cuda:0"):
        cpu + cuda
    with pytest.raises(DeviceError, match=r"matmul.*cuda:0.*cpu"):   # names both, in operand order
        cuda @ mg.zeros(3, 2)
    moved = cuda.cpu() + cpu
    assert moved.device == "cpu"

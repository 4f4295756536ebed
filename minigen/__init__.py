"""minigen: generative AI from scratch, on a small autograd engine over NumPy or CuPy."""
import os

# The models minigen trains are small: their matrix products run fastest on one BLAS thread.
# With OpenBLAS's default (all cores) a 64x256 product was 8-500x slower on a 2-core machine
# (its threads spin and contend), and `minigen tour` took 7 minutes instead of 2. An explicit
# OPENBLAS_NUM_THREADS wins; this only takes effect when minigen is imported before NumPy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from minigen import functional, nn, optim
from minigen.autograd import enable_grad, grad, is_grad_enabled, no_grad
from minigen.backend import cuda_available, manual_seed, set_default_device
from minigen.checkpoint import load, save
from minigen.backend import dtype as _dtype
from minigen.gradcheck import gradcheck, gradgradcheck
from minigen.ops import concat, maximum, minimum, stack, where
from minigen.tensor import Tensor, arange, ones, ones_like, rand, randn, tensor, zeros, zeros_like

float32 = _dtype("float32")
float64 = _dtype("float64")
int64 = _dtype("int64")

__version__ = "0.1.0"

__all__ = ["Tensor", "arange", "concat", "cuda_available", "enable_grad", "float32", "float64",
           "functional", "grad", "gradcheck", "gradgradcheck", "int64", "is_grad_enabled",
           "load", "manual_seed", "nn", "optim", "maximum", "minimum", "no_grad", "ones", "ones_like", "rand", "randn",
           "save", "set_default_device", "stack", "tensor", "where", "zeros", "zeros_like"]

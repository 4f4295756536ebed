"""minigen: generative AI from scratch, on a small autograd engine over NumPy or CuPy."""
from minigen import backend as _backend

# One BLAS thread unless the user chose (see backend.default_num_threads), whether NumPy was
# imported before minigen or not: the same seed then gives the same bits in every process.
if _backend.default_num_threads() is not None:
    _backend.set_num_threads(_backend.default_num_threads())

# Freed arrays stay in the heap for the next training step (glibc; MINIGEN_ALLOCATOR=system: off).
_backend.keep_freed_memory()

from minigen import functional, nn, optim  # noqa: E402
from minigen.autograd import enable_grad, grad, is_grad_enabled, no_grad
from minigen.backend import cuda_available, manual_seed, set_default_device, set_num_threads
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
           "save", "set_default_device", "set_num_threads", "stack", "tensor", "where", "zeros", "zeros_like"]

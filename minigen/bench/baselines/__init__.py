"""Each benchmarked training step written by hand in plain NumPy: forward and backward, no autograd.

These are the floor a NumPy engine can reach. One file a step; each class takes the spec's
parameters (PyTorch layouts) and an array module ``xp`` (numpy, or cupy for the GPU), and has
``loss_and_grads(*batch)`` and ``step(*batch)`` (plain SGD for all but the GAN, from sgd.py).
"""
from minigen.bench.baselines.cnn import CNNStep
from minigen.bench.baselines.gan import GANStep
from minigen.bench.baselines.gpt_block import GPTBlockStep
from minigen.bench.baselines.mlp import MLPStep

__all__ = ["CNNStep", "GANStep", "GPTBlockStep", "MLPStep"]

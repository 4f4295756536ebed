"""DataLoader: host arrays in, batches of minigen Tensors on a device out."""
import math

import numpy as np

from minigen import backend
from minigen.tensor import Tensor, tensor


class DataLoader:
    """Iterate over ``arrays`` (aligned on their first axis) in batches of Tensors.

    ``DataLoader(images, labels, batch_size=64)`` yields ``(images_batch, labels_batch)`` tuples of
    Tensors on ``device`` (None means minigen's default device). Floating arrays become float32 once,
    up front (minigen's default dtype); integer and boolean arrays keep their dtype.

    Shuffling: epoch k (0, 1, 2... counted by this loader, or set with ``set_epoch``) is ordered by
    ``numpy.random.default_rng([seed, k]).permutation(N)``, a generator of its own: the order does
    not depend on any global seed, and a resumed run that calls ``set_epoch(k)`` sees the same
    batches as the original run's epoch k. ``shuffle=False`` keeps file order.

    ``len(loader)`` is the number of batches in an epoch: ``ceil(N / batch_size)``, or
    ``N // batch_size`` with ``drop_last=True`` (the short final batch is then skipped).

    The arrays go to ``device`` once, here; each epoch's permutation (drawn on the host, so that
    every device sees the same order) is copied there once per epoch; each batch is then cut on
    the device by one ``take`` per array: no host-to-device copy per batch.
    """

    def __init__(self, *arrays, batch_size, shuffle=True, seed=0, drop_last=False, device="cpu"):
        if not arrays:
            raise ValueError("DataLoader: give at least one array")
        arrays = tuple(self._host(a) for a in arrays)
        n = len(arrays[0])
        if n == 0:
            raise ValueError("DataLoader: the arrays hold no samples")
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"DataLoader: array {i} is a scalar; arrays need a first (batch) axis")
            if len(a) != n:
                raise ValueError(f"DataLoader: the arrays differ in length "
                                 f"({', '.join(str(len(x)) for x in arrays)}); they must align on axis 0")
        batch_size = int(batch_size)
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        if drop_last and batch_size > n:
            raise ValueError(f"DataLoader: batch_size {batch_size} > {n} samples with drop_last=True "
                             "gives no batch at all")
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.device = backend.normalize_device(device)
        if self.device != "cpu":
            backend.check_cuda(self.device)
        self.arrays = tuple(backend.to_device(a, self.device) for a in arrays)
        self.epoch = 0  # the epoch the next iteration will run

    @staticmethod
    def _host(a):
        if isinstance(a, Tensor):
            a = a.numpy()
        a = backend.to_host(a)
        if a.dtype.kind in "fc" and a.dtype != np.float32:
            a = a.astype(np.float32)
        return a

    @property
    def num_samples(self):
        return len(self.arrays[0])

    def __len__(self):
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def set_epoch(self, epoch):
        """Make the next iteration epoch ``epoch`` (its shuffle order included)."""
        self.epoch = int(epoch)

    def order(self, epoch):
        """The sample order of epoch ``epoch``: a permutation of range(N) (or None without shuffle)."""
        if not self.shuffle:
            return None
        return np.random.default_rng([self.seed, int(epoch)]).permutation(self.num_samples)

    def __iter__(self):
        order = self.order(self.epoch)
        self.epoch += 1
        return self._batches(None if order is None else backend.to_device(order, self.device))

    def _batches(self, order):
        n, b = self.num_samples, self.batch_size
        stop_at = (n // b) * b if self.drop_last else n
        for start in range(0, stop_at, b):
            if order is None:  # a slice is a view: copied, so that no batch aliases the data
                parts = [a[start:start + b].copy() for a in self.arrays]
            else:
                index = order[start:start + b]
                parts = [a.take(index, axis=0) for a in self.arrays]
            yield tuple(tensor(p, device=self.device) for p in parts)

    def steps(self, n_steps):
        """Yield exactly ``n_steps`` batches, running as many epochs as that takes."""
        n_steps = int(n_steps)
        done = 0
        while done < n_steps:
            for batch in self:
                yield batch
                done += 1
                if done == n_steps:
                    return

    def __repr__(self):
        shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return (f"DataLoader({shapes}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"seed={self.seed}, drop_last={self.drop_last}, device={self.device!r})")

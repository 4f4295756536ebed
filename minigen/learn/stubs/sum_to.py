import minigen as mg


def sum_to(grad, shape):
    """The gradient of an input that was broadcast: ``grad`` summed back down to ``shape``.

    In the forward pass an input of ``shape`` (a bias (3,), say) was broadcast up to grad.shape
    (a batch (4, 3)). NumPy lines the two shapes up from the right and copies the input along
    the leading axes it lacks, and along its axes of size 1 where grad's axis is longer. Every
    copy sends its gradient back, so the input's gradient is grad summed over exactly those axes:

        grad (4, 3)      shape (3,)      sum over axis 0                       -> (3,)
        grad (2, 4, 3)   shape (4, 1)    sum over axis 0, and over axis 2       -> (4, 1)
                                         (size 1 in shape, 3 in grad)
        grad (4, 3)      shape (4, 3)    nothing to sum                         -> (4, 3)

    grad: a Tensor. shape: a tuple that broadcasts up to grad.shape (it may be (), a scalar).
    Returns a Tensor of exactly ``shape``. Build it from Tensor operations (t.sum(axis=...,
    keepdims=...), t.reshape(...)): the engine calls sum_to inside backward passes, and a second
    derivative goes through it.
    """
    raise NotImplementedError("sum_to: write me")

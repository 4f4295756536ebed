from minigen.autograd import Function


class Sigmoid(Function):
    """y = sigmoid(x) = 1 / (1 + exp(-x)), elementwise: a primitive of the engine, written the
    way minigen writes its own (a Function: forward on raw arrays, backward on Tensors).

    Use it as Sigmoid.apply(x) on a Tensor x of any shape; the result has x's shape.
    """

    def forward(self, x):
        """x: a raw array (NumPy; CuPy on a GPU) -> the array y = sigmoid(x), shaped like x.

        Reach the array functions through self.xp (self.xp.exp, self.xp.where, ...): it is the
        module of x, so the same code runs on a GPU. y must be exact and finite for every x:
        in float64 exp(710) is already inf, and inf / inf is nan.
        """
        raise NotImplementedError("Sigmoid.forward: write me")

    def backward(self, gy):
        """gy = dL/dy, a Tensor shaped like y -> dL/dx = gy * dy/dx, a Tensor shaped like x.

        Derive dy/dx and write it in terms of y itself: then backward needs only the output.
        To read it here as self.output (a Tensor), the class must say saves_output = True
        (and saves_inputs = False, if backward never reads self.inputs: the input is then freed).
        Write it with Tensor operations (+, -, *), not raw arrays: the engine can then
        differentiate your backward too (a second derivative).
        """
        raise NotImplementedError("Sigmoid.backward: write me")

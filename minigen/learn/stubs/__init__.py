"""What `minigen learn start DIR` writes: one file per exercise, the function's signature and the
math it must compute, its body still to write (each raises NotImplementedError until it is)."""

from minigen.tensor import Tensor


def topological_order(roots):
    """Every node of the graph behind ``roots``, each one after the nodes it was computed from:
    the order that backward() walks in reverse, so that a node's gradient is complete (every
    path from the output has added its part) before it is passed on to the node's parents.

    A node is either a Function, the primitive that made a tensor (node.parents: a tuple with,
    for each of its inputs, the node that input came from, or None for an input that wants no
    gradient), or a leaf Tensor, made by the user, which has no parents (isinstance(node, Tensor)).
    roots: a list of nodes (backward() passes the node of the tensor it is called on).

    Returns a list holding every node reachable from roots exactly once, each node after all of
    its parents. A node can be reached along many paths (x * x has x twice), and graphs can be
    thousands of nodes deep (a long sequence): Python's recursion stops at about 1000 nested
    calls, so walk the graph with a loop and a stack of your own.
    """
    raise NotImplementedError("topological_order: write me")

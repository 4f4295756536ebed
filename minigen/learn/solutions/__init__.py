"""minigen's own code in the form each exercise asks for: what the checkers compare a learner's
answer with. Most exercises are minigen's functions as they are; a few need a thin wrapper (the
exercise's argument order, a Python float lifted to a Tensor). They import minigen's functions by
name, so that `minigen learn run`, which rebinds minigen's module attributes to the learner's
functions, does not send a copied reference back into itself."""

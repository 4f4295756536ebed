"""minigen's own code in the form each exercise asks for: what the checkers compare a learner's
answer with. Most exercises are minigen's functions as they are; a few need a thin wrapper (the
exercise's argument order, a Python float lifted to a Tensor)."""

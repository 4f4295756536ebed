"""The GAN's exercises: the two losses of the game, exact for any logit; WGAN-GP's penalty."""
import numpy as np
from hypothesis import strategies as st

from minigen.learn import strategies as S
from minigen.learn.checking import Exercise, call_text, compare, prove, show, tensors
from minigen.learn.solutions import gan_losses as solution
from minigen.learn.solutions import gradient_penalty as penalty_solution


def check_gan_losses(learner):
    """Both losses against minigen's on batches of logits, +-100 and +-1000 among them; gradients
    to second order (the WGAN-GP critic differentiates through a gradient)."""
    d_loss = learner.function("discriminator_loss", ("real_logits", "fake_logits"))
    g_loss = learner.function("generator_loss", ("fake_logits",))

    @st.composite
    def cases(draw):
        n = draw(st.integers(1, 6))
        shape = (n,) if draw(st.booleans()) else (n, 1)
        return {"real_logits": draw(S.arrays(shape, S.logits())), "fake_logits": draw(S.arrays(shape, S.logits()))}

    def prop(case):
        compare(learner, "discriminator_loss", d_loss, solution.discriminator_loss, case,
                wrt=("real_logits", "fake_logits"), order=2)
        fake = {"fake_logits": case["fake_logits"]}
        compare(learner, "generator_loss", g_loss, solution.generator_loss, fake, wrt=("fake_logits",), order=2)
    prove(prop, cases(), {"real_logits": np.array([2.0, -1.0]), "fake_logits": np.array([-3.0, 0.5])})


def critic(W1, w2):
    """A small critic with weights: f(x) = tanh(x.reshape(N, -1) @ W1) @ w2, (N, ...) -> (N,)."""
    return lambda x: (x.reshape(x.shape[0], -1) @ W1).tanh() @ w2


def check_gradient_penalty(learner):
    """Against minigen's, for a one-unit critic (its gradient norm kept away from 0, where the
    norm has no derivative) on samples (N, ...): the value, and its gradient with respect to the
    critic's weights, which runs through the gradient inside the penalty (double backward)."""
    fn = learner.function("gradient_penalty", ("critic", "real", "fake", "alpha"))

    @st.composite
    def cases(draw):
        n, rest = draw(st.integers(1, 4)), draw(S.shapes(max_dims=2, max_size=4))
        weight = st.tuples(S.floats(0.2, 0.6), st.booleans()).map(lambda p: p[0] if p[1] else -p[0])
        return {"W1": draw(S.arrays((int(np.prod(rest)), 1), weight)), "w2": draw(S.arrays((1,), weight)),
                "real": draw(S.arrays((n,) + rest, S.floats(-1.0, 1.0))),
                "fake": draw(S.arrays((n,) + rest, S.floats(-1.0, 1.0))), "alpha": draw(S.arrays((n,), S.floats(0.0, 1.0)))}

    def prop(case):
        samples = {k: case[k] for k in ("real", "fake", "alpha")}
        text = (f"gradient_penalty(critic=f, {call_text('', tensors(samples))[1:-1]}) with "
                f"f(x) = tanh(x.reshape(N, -1) @ W1) @ w2, W1={show(case['W1'])}, w2={show(case['w2'])}")
        compare(learner, "gradient_penalty", lambda W1, w2, *xs: fn(critic(W1, w2), *xs),
                lambda W1, w2, *xs: penalty_solution.gradient_penalty(critic(W1, w2), *xs), case,
                wrt=("W1", "w2"), text=text,
                cut_off="the gradient inside the penalty must remember how it was computed: "
                        "mg.grad(..., create_graph=True)")
    prove(prop, cases(), {"W1": np.array([[0.5], [-0.3]]), "w2": np.array([0.4]), "real": np.array([[1.0, 0.0]]),
                          "fake": np.array([[0.0, -1.0]]), "alpha": np.array([0.25])})


GAN_LOSSES = Exercise(
    "gan_losses", "discriminator_loss(real_logits, fake_logits), generator_loss(fake_logits): "
                  "GAN losses from logits",
    'tutorials/04_gan.py, sections 1 "One game, one score" and 3 "When D wins: the saturating loss '
    'stalls"; the derivation at the top of minigen/objectives/minimax.py',
    "minigen/objectives/minimax.py: discriminator_loss, generator_loss_nonsaturating", check_gan_losses)

GRADIENT_PENALTY = Exercise(
    "gradient_penalty", "gradient_penalty(critic, real, fake, alpha): WGAN-GP's penalty, differentiable twice",
    'tutorials/04_gan.py, section 4 "Mode collapse, and the Wasserstein critic"; '
    'minigen/objectives/minimax.py ("The Lipschitz constraint, softly")',
    "minigen/objectives/minimax.py: gradient_penalty and interpolates", check_gradient_penalty)

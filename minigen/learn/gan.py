"""The GAN's exercise: the two losses of the game, exact for any logit."""
import numpy as np
from hypothesis import strategies as st

from minigen.learn import strategies as S
from minigen.learn.checking import Exercise, compare, prove
from minigen.learn.solutions import gan_losses as solution


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


GAN_LOSSES = Exercise(
    "gan_losses", "discriminator_loss(real_logits, fake_logits), generator_loss(fake_logits): "
                  "GAN losses from logits",
    'tutorials/04_gan.py, sections 1 "One game, one score" and 3 "When D wins: the saturating loss '
    'stalls"; the derivation at the top of minigen/objectives/minimax.py',
    "minigen/objectives/minimax.py: discriminator_loss, generator_loss_nonsaturating", check_gan_losses)

"""The VAE's exercises: the KL against the prior, the reparameterisation, the importance-weighted bound."""
import numpy as np
from hypothesis import strategies as st

from minigen.learn import strategies as S
from minigen.learn.checking import Exercise, compare, prove
from minigen.learn.solutions import iwae_bound as iwae_solution
from minigen.learn.solutions import kl_standard_normal as kl_solution
from minigen.learn.solutions import reparameterize as reparameterize_solution


@st.composite
def gaussians(draw):
    """{"mu", "log_var"}: a batch's q(z | x), (B, d) each; log-variances from e^-8 to e^8."""
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 5)))
    return {"mu": draw(S.arrays(shape, S.floats(-3.0, 3.0))), "log_var": draw(S.arrays(shape, S.floats(-8.0, 8.0)))}


def check_kl(learner):
    """Against minigen's on batches of Gaussians; gradients in mu and log_var to second order."""
    fn = learner.function("kl_standard_normal", ("mu", "log_var"))

    def prop(case):
        compare(learner, "kl_standard_normal", fn, kl_solution.kl_standard_normal, case,
                wrt=("mu", "log_var"), order=2)
    prove(prop, gaussians(), {"mu": np.array([[0.0, 1.0]]), "log_var": np.array([[0.0, 1.0]])})


def check_reparameterize(learner):
    """Against minigen's with eps (B, d) or (k, B, d); gradients in mu and log_var to second order."""
    fn = learner.function("reparameterize", ("mu", "log_var", "eps"))

    @st.composite
    def cases(draw):
        q = draw(gaussians())
        draws = () if draw(st.booleans()) else (draw(st.integers(1, 3)),)
        return {**q, "eps": draw(S.arrays(draws + q["mu"].shape))}

    def prop(case):
        compare(learner, "reparameterize", fn, reparameterize_solution.reparameterize, case,
                wrt=("mu", "log_var"), order=2)
    prove(prop, cases(), {"mu": np.array([[0.0, 1.0]]), "log_var": np.array([[0.0, 1.0]]),
                          "eps": np.array([[1.0, -0.5]])})


def check_iwae(learner):
    """Against minigen's on log-weights (k, B), each example's near 0, -50, -1000 or +1000;
    gradients to second order."""
    fn = learner.function("iwae_bound", ("log_w",))

    @st.composite
    def cases(draw):
        k, b = draw(st.integers(1, 5)), draw(st.integers(1, 4))
        offsets = np.array(draw(st.lists(st.sampled_from([0.0, -1000.0, 1000.0, -50.0]), min_size=b, max_size=b)))
        return {"log_w": draw(S.arrays((k, b), S.floats(-5.0, 5.0))) + offsets}

    def prop(case):
        compare(learner, "iwae_bound", fn, iwae_solution.iwae_bound, case, wrt=("log_w",), order=2)
    prove(prop, cases(), {"log_w": np.array([[-1.0, -1000.0], [-2.0, -1001.0]])})


KL = Exercise(
    "kl_standard_normal", "kl_standard_normal(mu, log_var): KL(N(mu, e^log_var) || N(0, I)), (B, d) -> (B,)",
    'tutorials/05_vae.py, section 2 "The ELBO: reconstruction and a price for the code"; '
    'the derivation at the top of minigen/objectives/elbo.py ("The KL in closed form")',
    "minigen/objectives/elbo.py: kl_standard_normal", check_kl)

REPARAMETERIZE = Exercise(
    "reparameterize", "reparameterize(mu, log_var, eps): z = mu + exp(log_var / 2) eps, differentiable",
    'tutorials/05_vae.py, section 3 "Differentiating through a sample: the reparameterisation trick"; '
    'minigen/objectives/elbo.py ("The reparameterisation trick")',
    "minigen/objectives/elbo.py: reparameterize", check_reparameterize)

IWAE_BOUND = Exercise(
    "iwae_bound", "iwae_bound(log_w): log (1/k) sum_i exp(log_w_i) over axis 0, (k, B) -> (B,), stable",
    'tutorials/05_vae.py, section 6 "Tighter bounds: importance weighting"; '
    'minigen/objectives/elbo.py ("The importance-weighted bound")',
    "minigen/objectives/elbo.py: iwae_bound", check_iwae)

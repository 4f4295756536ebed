"""The diffusion exercises: the forward process, DDIM's deterministic step, classifier-free guidance."""
import numpy as np
from hypothesis import strategies as st

from minigen.learn import strategies as S
from minigen.learn.checking import Exercise, compare, prove
from minigen.learn.solutions import ddim_step as ddim_solution
from minigen.learn.solutions import guided_eps as guidance_solution
from minigen.learn.solutions import q_sample as q_sample_solution


@st.composite
def level(draw, value):
    """A noise level as the families pass it: a Python float, or a 0-d array (a Tensor in the call)."""
    return value if draw(st.booleans()) else np.array(value)


def check_q_sample(learner):
    """Against minigen's on x0 (B, ...), with abar a Python float, a 0-d Tensor, or one level per
    example, (B,) or (B, 1, ..., 1), from 1e-4 to 1 (x0 (B, B) among them, where a (B,) level
    that is not broadcast over the trailing axes still runs); its gradient in x0 and eps
    (linear: first order)."""
    fn = learner.function("q_sample", ("x0", "alpha_bar", "eps"))

    @st.composite
    def cases(draw):
        shape = draw(S.shapes(max_dims=4))
        kind = draw(st.sampled_from(["one", "per example", "per example, shaped"]))
        if kind == "one":
            alpha_bar = draw(level(draw(S.levels())))
        else:
            alpha_bar = np.array(draw(st.lists(S.levels(), min_size=shape[0], max_size=shape[0])))
            if kind == "per example, shaped":
                alpha_bar = alpha_bar.reshape(shape[:1] + (1,) * (len(shape) - 1))
        return {"x0": draw(S.arrays(shape)), "alpha_bar": alpha_bar, "eps": draw(S.arrays(shape))}

    def prop(case):
        compare(learner, "q_sample", fn, q_sample_solution.q_sample, case, wrt=("x0", "eps"))
    square = {"x0": np.array([[1.0, -1.0], [2.0, 0.0]]), "alpha_bar": np.array([0.64, 0.36]),
              "eps": np.array([[0.5, 2.0], [-1.0, 1.0]])}
    prove(prop, cases(), {"x0": np.array([[1.0, -1.0]]), "alpha_bar": 0.64, "eps": np.array([[0.5, 2.0]])}, square)


def check_ddim_step(learner):
    """Against minigen's DDIM step (eta = 0) for 0.01 <= abar_t < abar_prev <= 1 (1 included: the
    last step), each a Python float or a 0-d Tensor; its gradient in x_t and eps (linear)."""
    fn = learner.function("ddim_step", ("x_t", "eps", "alpha_bar_t", "alpha_bar_prev"))

    @st.composite
    def cases(draw):
        shape = draw(S.shapes())
        abar_t = draw(S.floats(0.01, 0.99))
        share = draw(st.one_of(S.floats(0.01, 1.0), st.just(1.0)))
        abar_prev = 1.0 if share == 1.0 else min(1.0, abar_t + (1.0 - abar_t) * share)
        return {"x_t": draw(S.arrays(shape)), "eps": draw(S.arrays(shape)),
                "alpha_bar_t": draw(level(abar_t)), "alpha_bar_prev": draw(level(abar_prev))}

    def prop(case):
        compare(learner, "ddim_step", fn, ddim_solution.ddim_step, case, wrt=("x_t", "eps"))
    prove(prop, cases(), {"x_t": np.array([[1.0, -1.0]]), "eps": np.array([[0.5, 2.0]]),
                          "alpha_bar_t": 0.25, "alpha_bar_prev": 0.64})


def check_guided_eps(learner):
    """Against minigen's guidance for weights from 0 to 8 (0, 1 and 7.5 among them)."""
    fn = learner.function("guided_eps", ("eps_cond", "eps_uncond", "w"))

    @st.composite
    def cases(draw):
        shape = draw(S.shapes())
        return {"eps_cond": draw(S.arrays(shape)), "eps_uncond": draw(S.arrays(shape)),
                "w": draw(st.one_of(S.floats(0.0, 8.0), st.sampled_from([0.0, 1.0, 7.5])))}

    def prop(case):
        compare(learner, "guided_eps", fn, guidance_solution.guided_eps, case, wrt=("eps_cond", "eps_uncond"))
    prove(prop, cases(), {"eps_cond": np.array([1.0, -1.0]), "eps_uncond": np.array([0.5, 2.0]), "w": 2.0})


Q_SAMPLE = Exercise(
    "q_sample", "q_sample(x0, alpha_bar, eps): sqrt(abar) x0 + sqrt(1 - abar) eps, abar per example",
    'tutorials/07_diffusion.py, section 1 "Noise: the forward process"; '
    'the derivation at the top of minigen/objectives/denoising.py',
    "minigen/objectives/denoising.py: q_sample (its arguments in another order: x0, eps, abar)", check_q_sample)

DDIM_STEP = Exercise(
    "ddim_step", "ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev): the deterministic DDIM update",
    'tutorials/07_diffusion.py, section 5 "Digits: fewer steps, faster, and what it costs"; '
    'minigen/objectives/denoising.py (DDIM, at the top)',
    "minigen/objectives/denoising.py: ddim_step (and predict_x0)", check_ddim_step)

GUIDED_EPS = Exercise(
    "guided_eps", "guided_eps(eps_cond, eps_uncond, w): classifier-free guidance, minigen's convention",
    'tutorials/07_diffusion.py, section 7 "Asking for a class: classifier-free guidance"; '
    'minigen/objectives/denoising.py ("Conditioning and classifier-free guidance")',
    "minigen/objectives/denoising.py: guided_eps", check_guided_eps)

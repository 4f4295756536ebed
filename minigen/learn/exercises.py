"""The workbook's exercises, in teaching order: the engine, then the four families as the
tutorials meet them (GAN, VAE, autoregressive, diffusion)."""
from minigen.learn import autoregressive, diffusion, engine, gan, vae

EXERCISES = [
    engine.SIGMOID, engine.SUM_TO, engine.TOPOLOGICAL_ORDER, engine.LAYER_NORM,
    gan.GAN_LOSSES, gan.GRADIENT_PENALTY,
    vae.KL, vae.REPARAMETERIZE, vae.IWAE_BOUND,
    autoregressive.CAUSAL_ATTENTION, autoregressive.TOP_K, autoregressive.PIXELCNN_MASK, autoregressive.BERNOULLI_NLL,
    diffusion.Q_SAMPLE, diffusion.DDIM_STEP, diffusion.GUIDED_EPS,
]
BY_NAME = {exercise.name: exercise for exercise in EXERCISES}

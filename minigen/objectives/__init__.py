"""The generative objectives, written by hand: the math of each family and nothing else.

minimax          the GAN game: value function, discriminator and generator losses, WGAN-GP
elbo             the VAE's evidence lower bound: reparameterisation, Gaussian KL, IWAE bound
autoregressive   the exact likelihood by the chain rule; temperature and top-k sampling
denoising        diffusion: noise schedules, the forward process, the simple loss, DDPM and DDIM
"""

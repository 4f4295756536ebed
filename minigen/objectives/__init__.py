"""The generative objectives, written by hand: the math of each family and nothing else.

minimax   the GAN game: value function, discriminator and generator losses, WGAN-GP
"""

"""Learn by doing: `minigen learn`, a workbook of exercises checked by property tests.

Each exercise is a piece of minigen to write yourself (a primitive and its backward, a GAN loss,
the VAE's KL, causal attention, a DDIM step...). `minigen learn start DIR` writes the stubs,
`minigen learn check DIR` checks them against minigen's own code on inputs hypothesis draws
(extreme values, broadcast shapes, gradients to second order) and shows the first input that
goes wrong, and `minigen learn run DIR FAMILY` trains a family with the learner's functions in
place of minigen's, beside the same run with minigen's own.

    exercises.py        the exercises in teaching order
    engine.py, gan.py, vae.py, autoregressive.py, diffusion.py
                        each exercise: what it asks, where to read, its check
    stubs/, solutions/  what `start` writes; minigen's own code in the exercises' form
    checking.py         loading the learner's file, comparing with the reference, reporting
    strategies.py       the inputs the checks draw
    workbook.py         start, list, check (a process per exercise, with a time limit)
    run.py              `minigen learn run`: the learner's functions swapped into a family
"""

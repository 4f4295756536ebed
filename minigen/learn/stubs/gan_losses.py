import minigen as mg
import minigen.functional as F


def discriminator_loss(real_logits, fake_logits):
    """What the discriminator minimises: -V(D, G), from its logits.

    D(x) = sigmoid(l), l the discriminator's logit for x. D maximises the game's value

        V(D, G) = mean_i log D(x_i) + mean_i log(1 - D(G(z_i)))

    (call the real samples real and the fakes fake), so it minimises -V.

    real_logits: a Tensor (B,) (or (B, 1)), the logits of B real samples; fake_logits: the same for
    B fakes. Returns a scalar Tensor (shape ()): the means are over the batch.

    It must be exact for any logit. In float64 sigmoid(-1000) is 0, and log(0) is -inf, while
    log D(x) there is exactly -1000. F.softplus(l) = log(1 + e^l) is exact for any l: what are
    log sigmoid(l) and log(1 - sigmoid(l)) in terms of it?
    """
    raise NotImplementedError("discriminator_loss: write me")


def generator_loss(fake_logits):
    """What the generator minimises: the non-saturating loss, -mean_i log D(G(z_i)).

    The game as written has G minimise mean log(1 - D(G(z))): early on D rejects the fakes,
    D(G(z)) -> 0, and that loss's gradient vanishes. Maximising log D(G(z)) instead has the same
    fixed point and a strong gradient exactly then.

    fake_logits: a Tensor (B,) (or (B, 1)), the discriminator's logits for B fakes. Returns a scalar
    Tensor, exact for any logit (as above).
    """
    raise NotImplementedError("generator_loss: write me")

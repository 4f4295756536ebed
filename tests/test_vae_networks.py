"""The VAE's networks (minigen/models/vae_networks.py): encoders map images to codes and decoders
codes to images, for the MLP and the conv pair; the conv pair refuses sides that are not a multiple
of 4; JoinLabel, the conditional networks' label input, matches central differences to second order."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
import strategies as S
from minigen.models import vae_networks


@pytest.mark.parametrize("size", [8, 28])
def test_conv_networks_map_images_to_codes_and_codes_to_images(size):
    encoder, decoder = vae_networks.ConvEncoder((1, size, size), 3, width=4), vae_networks.ConvDecoder((1, size, size), 3, width=4)
    mu, log_var = encoder(mg.randn(5, 1, size, size))
    assert mu.shape == log_var.shape == (5, 3)
    assert decoder(mu).shape == (5, 1, size, size)


def test_mlp_networks_map_images_to_codes_and_codes_to_images():
    encoder, decoder = vae_networks.MLPEncoder((1, 8, 8), 6, hidden=16), vae_networks.MLPDecoder((1, 8, 8), 6, hidden=16)
    mu, log_var = encoder(mg.randn(4, 1, 8, 8))
    assert mu.shape == log_var.shape == (4, 6)
    assert decoder(mu).shape == (4, 1, 8, 8)
    assert not hasattr(decoder, "log_var")
    assert vae_networks.MLPDecoder((1, 8, 8), 6, learn_variance=True).log_var.shape == (1, 8, 8)


def test_conv_refuses_images_whose_side_is_not_a_multiple_of_4():
    with pytest.raises(ValueError, match="multiple of 4"):
        vae_networks.ConvEncoder((1, 10, 10), 3)


@st.composite
def join_label_case(draw):
    """(classes, dim, h, labels): features (N, F) or maps (N, C, H, W), size-1 sides included."""
    classes, dim = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    shape = draw(S.shapes(min_dims=2, max_dims=2, max_size=8)) if draw(st.booleans()) else \
        draw(S.shapes(min_dims=4, max_dims=4, max_side=3, max_size=12))
    labels = draw(st.lists(st.integers(0, classes - 1), min_size=shape[0], max_size=shape[0]))
    return classes, dim, draw(S.arrays(shape)), labels


@given(case=join_label_case())
def test_join_label_appends_the_embedding_and_matches_central_differences_first_and_second_order(case):
    classes, dim, h, labels = case
    layer = vae_networks.JoinLabel(classes, dim).double()
    leaf = mg.tensor(h, dtype="float64", requires_grad=True)
    out = layer(leaf, labels)
    table = layer.embedding.weight.numpy()
    assert out.shape == (h.shape[0], h.shape[1] + dim, *h.shape[2:])
    np.testing.assert_array_equal(out.numpy()[:, :h.shape[1]], h)                  # h as it was
    joined = out.numpy()[:, h.shape[1]:]                                            # then y's embedding
    expected = table[labels].reshape(len(labels), dim, *[1] * (h.ndim - 2))       # at every pixel
    np.testing.assert_array_equal(joined, np.broadcast_to(expected, joined.shape))
    fn = lambda v, w: layer(v, labels)                                              # noqa: E731  (w: the table)
    assert mg.gradcheck(fn, [leaf, layer.embedding.weight])
    assert mg.gradgradcheck(fn, [leaf, layer.embedding.weight])

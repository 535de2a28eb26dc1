"""Saliency maps against central differences of the class score, in float64, through small
CNNs in evaluation mode (BatchNorm on running statistics moved by a training pass)."""
from __future__ import annotations

import numpy
import pytest

from smartmod.explain.saliency import saliency_map, smoothgrad
from smartmod.nn import Dense, Flatten, Sequential, backend
from smartmod.nn.gradcheck import numerical_gradient
from smartmod.vision.resnet import cifar_resnet
from smartmod.vision.small_cnn import small_cnn

NETWORKS = {
    "small CNN": lambda: small_cnn(in_channels=2, classes=3, widths=(3, 4), convs_per_stage=1),
    "ResNet-8": lambda: cifar_resnet(8, classes=3, in_channels=2, width=2),
}


def trained_statistics(model, seed: int = 0):
    """``model`` after one training forward, so its BatchNorm running statistics are not 0 and 1; in eval mode."""
    model(numpy.random.default_rng(seed).normal(1.0, 2.0, size=(4, 2, 8, 8)))
    return model.eval()


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("target_class", [0, 2])
def test_saliency_is_the_largest_absolute_central_difference_over_channels(name, target_class):
    backend.set_default_dtype("float64")
    model = trained_statistics(NETWORKS[name]())
    image = numpy.random.default_rng(1).normal(size=(2, 8, 8))
    numeric = numerical_gradient(lambda: model.forward(image[None])[0, target_class], image)  # (2, 8, 8)
    numpy.testing.assert_allclose(saliency_map(model, image, target_class), numpy.abs(numeric).max(axis=0), rtol=1e-6, atol=1e-9)


def test_smoothgrad_without_noise_is_the_plain_saliency():
    model, image = trained_statistics(NETWORKS["small CNN"]()), numpy.random.default_rng(1).normal(size=(2, 8, 8))
    numpy.testing.assert_allclose(smoothgrad(model, image, 1, samples=3, noise_level=0.0), saliency_map(model, image, 1), rtol=1e-6)


def test_smoothgrad_of_a_linear_model_is_its_weights_whatever_the_noise():
    model = Sequential(Flatten(), Dense(2 * 4 * 4, 3))
    image = numpy.random.default_rng(1).normal(size=(2, 4, 4)).astype(numpy.float32)
    weights = numpy.abs(model[1].weight.data[:, 1].reshape(2, 4, 4)).max(axis=0)  # ∂y_1/∂x = W[:, 1] everywhere
    numpy.testing.assert_allclose(smoothgrad(model, image, 1, samples=8, noise_level=0.5), weights, rtol=1e-6)


def test_smoothgrad_repeats_under_a_seed_and_changes_with_it():
    model, image = trained_statistics(NETWORKS["small CNN"]()), numpy.random.default_rng(1).normal(size=(2, 8, 8))
    first, again = smoothgrad(model, image, 0, seed=3), smoothgrad(model, image, 0, seed=3)
    assert numpy.array_equal(first, again)
    assert not numpy.allclose(first, smoothgrad(model, image, 0, seed=4))


@pytest.mark.parametrize("target_class", [3, -1, 1.0, True])
def test_a_class_the_model_does_not_have_is_refused(target_class):
    model = NETWORKS["small CNN"]().eval()
    with pytest.raises(ValueError, match="target_class"):
        saliency_map(model, numpy.zeros((2, 8, 8)), target_class)

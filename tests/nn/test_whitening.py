"""PatchWhitening: fitted filters whiten the patches, the layer is PyTorch's conv2d with those
filters (forward and input gradient), its input gradient passes central differences, and it
never trains."""
from __future__ import annotations

import numpy
import pytest
import torch

from smartmod.nn import PatchWhitening, backend
from smartmod.nn.gradcheck import gradcheck
from smartmod.nn.layers.im2col import ConvGeometry, im2col
from tests.nn.test_conv_torch import normal
from tests.nn.torch_reference import assert_close


def correlated_images(n: int = 64, channels: int = 3, size: int = 9, seed: int = 0) -> numpy.ndarray:
    """Images whose neighbouring pixels and channels are strongly correlated, as in photographs."""
    rng = numpy.random.default_rng(seed)
    smooth = rng.normal(size=(n, 1, size, size)).cumsum(axis=2).cumsum(axis=3) / size
    return (smooth + 0.3 * rng.normal(size=(n, channels, size, size))).astype(numpy.float32)


@pytest.mark.parametrize("patch_size", [2, (2, 3)])
def test_fitted_filters_give_patches_unit_variance_and_no_correlation(patch_size):
    images = correlated_images()
    layer = PatchWhitening(3, patch_size, eps=1e-8).fit(images)
    length = layer.patch_length
    y = layer(images)  # (N, 2L, H', W')
    assert y.shape == (64, 2 * length, 9 - layer.patch_size[0] + 1, 9 - layer.patch_size[1] + 1)
    first = y[:, :length].transpose(0, 2, 3, 1).reshape(-1, length).astype(numpy.float64)
    numpy.testing.assert_allclose(first.T @ first / len(first), numpy.eye(length), atol=2e-3)
    numpy.testing.assert_array_equal(y[:, length:], -y[:, :length])


def test_eps_damps_the_directions_of_least_variance():
    images = correlated_images()
    loose, tight = PatchWhitening(3, 2, eps=1.0).fit(images), PatchWhitening(3, 2, eps=1e-8).fit(images)
    columns = im2col(images.transpose(0, 2, 3, 1).astype(numpy.float64), ConvGeometry((2, 2)))[:, 0, :]
    variance = numpy.linalg.eigvalsh(columns.T @ columns / len(columns))[::-1]  # largest first, like the channels
    y = loose(images)[:, :12].transpose(0, 2, 3, 1).reshape(-1, 12).astype(numpy.float64)
    numpy.testing.assert_allclose(numpy.diag(y.T @ y) / len(y), variance / (variance + 1.0), rtol=2e-3)
    assert numpy.abs(tight(images)).max() > numpy.abs(loose(images)).max()


@pytest.mark.parametrize("patch_size, shape", [(2, (2, 3, 5, 5)), ((3, 2), (1, 2, 4, 6)), (1, (3, 2, 1, 1))])
def test_input_gradient_matches_central_differences(patch_size, shape):
    backend.set_default_dtype("float64")
    layer = PatchWhitening(shape[1], patch_size).fit(numpy.random.default_rng(1).normal(size=(8, *shape[1:])))
    assert gradcheck(layer, numpy.random.default_rng(2).normal(size=shape))


@pytest.mark.parametrize("patch_size", [2, 3, (1, 2)])
def test_matches_torch_conv2d_with_the_same_filters(patch_size):
    images = correlated_images(8, 3, 10)
    layer = PatchWhitening(3, patch_size).fit(images)
    layer.needs_input_grad = True
    grad_output_shape = layer(images).shape
    grad_output = normal(grad_output_shape, seed=3)
    theirs_input = torch.from_numpy(images).requires_grad_()
    theirs = torch.nn.functional.conv2d(theirs_input, torch.from_numpy(layer.weight))
    theirs.backward(torch.from_numpy(grad_output))
    assert_close("forward", layer(images), theirs.detach(), rtol=1e-4, atol=1e-4, normwise=True)
    assert_close("input gradient", layer.backward(grad_output), theirs_input.grad, rtol=1e-4, atol=1e-4, normwise=True)


def test_it_has_no_parameters_and_skips_the_input_gradient_of_data():
    layer = PatchWhitening(3).fit(correlated_images())
    assert layer.parameters() == [] and list(dict(layer.named_buffers())) == ["weight"]
    layer.needs_input_grad = False
    y = layer(correlated_images(2))
    assert layer.backward(numpy.ones_like(y)) is None


def test_filters_travel_in_the_state_dict():
    fitted = PatchWhitening(3, 2).fit(correlated_images())
    loaded = PatchWhitening(3, 2)
    loaded.load_state_dict(fitted.state_dict())
    numpy.testing.assert_array_equal(loaded(correlated_images(2)), fitted(correlated_images(2)))


def test_an_unfitted_layer_says_to_fit_it():
    with pytest.raises(RuntimeError, match=r"call fit\(images\)"):
        PatchWhitening(3)(correlated_images(2))


@pytest.mark.parametrize("arguments, message", [
    (dict(in_channels=0), "positive in_channels and patch_size"),
    (dict(in_channels=3, patch_size=0), "positive in_channels and patch_size"),
    (dict(in_channels=3, eps=0.0), "eps must be a positive number"),
    (dict(in_channels=3, eps=True), "eps must be a positive number"),
])
def test_bad_configurations_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        PatchWhitening(**arguments)


def test_images_with_other_channels_are_refused_by_name():
    layer = PatchWhitening(3).fit(correlated_images())
    with pytest.raises(ValueError, match=r"expects images \(N, 3, H, W\), got shape \(2, 1, 9, 9\)"):
        layer(correlated_images(2, channels=1))
    with pytest.raises(ValueError, match="expects images"):
        PatchWhitening(3).fit(correlated_images(2)[0])

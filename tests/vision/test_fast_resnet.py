"""The fast ResNet: its shape, its errors, and the whole network against PyTorch in float64."""
from __future__ import annotations

import json
from pathlib import Path

import numpy
import pytest
import torch

from smartmod.nn import Conv2d, Dense, MaxPool2d, PatchWhitening, Residual, Scale, backend
from smartmod.vision.fast_resnet import dirac_, fast_resnet
from tests.nn.test_conv_torch import check_network, normal


def test_fast_resnet_halves_the_image_once_per_stage_and_ends_in_scaled_logits():
    model = fast_resnet(classes=7, widths=(4, 8, 16, 16), logit_scale=0.5)
    assert sum(isinstance(layer, MaxPool2d) for layer in model) == 3
    assert sum(isinstance(layer, Residual) for layer in model) == 3
    assert isinstance(model[-1], Scale) and model[-1].factor == 0.5
    assert model(normal((2, 3, 32, 32))).shape == (2, 7)


def test_fast_resnet_matches_the_same_network_in_torch_exactly_in_float64():
    backend.set_default_dtype("float64")
    model = fast_resnet(widths=(4, 6, 8), attention="se", reduction=2)
    check_network(model, normal((4, 3, 16, 16)).astype(numpy.float64), rtol=1e-9, atol=1e-10, reference_dtype=torch.float64)


def test_the_whitening_stem_fitted_to_images_matches_torch_exactly_in_float64():
    backend.set_default_dtype("float64")
    model = fast_resnet(widths=(24, 6, 8), stem="whitening")
    assert isinstance(model[0], PatchWhitening) and model[0].parameters() == []
    model[0].fit(normal((8, 3, 15, 15), seed=4).astype(numpy.float64))
    check_network(model, normal((4, 3, 15, 15)).astype(numpy.float64), rtol=1e-9, atol=1e-10, reference_dtype=torch.float64)


def test_plain_blocks_start_each_convolution_as_the_identity_on_its_first_channels():
    backend.set_default_dtype("float64")
    model = fast_resnet(widths=(24, 6, 8), stem="whitening", block="plain", attention="se", reduction=2)
    assert not any(isinstance(layer, Residual) for layer in model)
    convolutions = [layer for layer in model if isinstance(layer, Conv2d)]
    assert len(convolutions) == 4
    x = normal((2, 6, 5, 5)).astype(numpy.float64)
    second = convolutions[1]  # 6 → 6: every filter copies its channel
    numpy.testing.assert_allclose(second(x), x, atol=1e-12)
    widening = convolutions[2]  # 6 → 8: the first 6 filters copy, the last 2 keep their random start
    y = widening(x)
    numpy.testing.assert_allclose(y[:, :6], x, atol=1e-12)
    assert numpy.abs(widening.weight.data[6:]).min() > 0
    model[0].fit(normal((8, 3, 15, 15), seed=4).astype(numpy.float64))
    check_network(model, normal((4, 3, 15, 15)).astype(numpy.float64), rtol=1e-9, atol=1e-10, reference_dtype=torch.float64)


def test_an_initializer_applies_to_every_convolution_and_the_classifier():
    model = fast_resnet(widths=(24, 32, 48), stem="whitening", block="plain", init="uniform_fan_in")
    kernels = [layer for layer in model if isinstance(layer, (Conv2d, Dense))]
    assert len(kernels) == 5
    random = [(layer.weight.data[0].size, layer.weight.data[layer.in_channels:]) for layer in kernels  # past dirac_'s filters
              if isinstance(layer, Conv2d) and layer.out_channels > layer.in_channels]
    random.append((kernels[-1].weight.data.shape[0], kernels[-1].weight.data))
    assert len(random) == 3  # 24 → 32, 32 → 48 and the classifier
    for fan_in, weight in random:
        bound = 1 / numpy.sqrt(fan_in)
        assert bound >= numpy.abs(weight).max() > 0.95 * bound, "PyTorch's default interval, filled"
    he = fast_resnet(widths=(24, 32, 48), stem="whitening")
    assert he[2].weight.data.std() > 2 * model[2].weight.data[24:].std(), "None keeps the layers' own He normal"


def test_dirac_init_matches_torch():
    backend.set_default_dtype("float64")
    conv = dirac_(Conv2d(3, 5, (3, 5), padding=(1, 2)))
    expected = torch.from_numpy(conv.weight.data.copy())
    torch.nn.init.dirac_(expected[:3])
    numpy.testing.assert_array_equal(conv.weight.data, expected.numpy())
    with pytest.raises(ValueError, match="odd kernel"):
        dirac_(Conv2d(3, 3, 2))
    with pytest.raises(ValueError, match="ungrouped"):
        dirac_(Conv2d(4, 4, 3, groups=2))


@pytest.mark.parametrize("arguments, message", [
    (dict(block="bottleneck"), "block must be one of residual, plain, got 'bottleneck'"),
    (dict(stem="pixels"), "stem must be one of conv, whitening"),
    (dict(stem="whitening", widths=(32, 64)), "widths\\[0\\] must be 24"),
    (dict(widths=(8,)), "the stem's then at least one stage's"),
    (dict(widths=(8, 0)), "positive integers"),
    (dict(widths=(8, 4.0)), "positive integers"),
    (dict(attention="eca"), "attention must be None, 'se' or 'cbam'"),
    (dict(init="pytorch"), "unknown initializer 'pytorch'"),
])
def test_fast_resnet_errors_say_what_was_expected(arguments, message):
    with pytest.raises(ValueError, match=message):
        fast_resnet(**arguments)


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "configs").glob("cifar10-*.json")), ids=lambda path: path.name)
def test_every_shipped_cifar_config_holds_known_settings_and_builds_its_network(path):
    from dataclasses import fields

    from smartmod.vision.training import ImageTrainingConfig, _network

    values = json.loads(path.read_text(encoding="utf-8"))
    assert set(values) <= {field.name for field in fields(ImageTrainingConfig)}, sorted(set(values) - {field.name for field in fields(ImageTrainingConfig)})
    model = _network(ImageTrainingConfig(**values), (32, 32, 3), 10)
    for layer in model:
        if isinstance(layer, PatchWhitening):
            layer.fit(normal((16, 3, 32, 32)))  # training fits the stem to the training images
    assert model(normal((2, 3, 32, 32))).shape == (2, 10)

"""Grad-CAM: equal to a hand computation (convolution by loops, the CAM weights of a global
average pool and Dense layer, PyTorch's bilinear interpolation); a map of the image's size in
[0, 1] on the ResNet builder; and on a network trained briefly to find a bright square, a
maximum inside the square."""
from __future__ import annotations

import numpy
import pytest
import torch

from smartmod.explain.gradcam import default_target_layer, grad_cam, upsample_bilinear
from smartmod.nn import Conv2d, Dense, GlobalAvgPool2d, MaxPool2d, ReLU, Sequential, backend
from smartmod.nn.losses import CrossEntropyLoss
from smartmod.nn.optim import Adam
from smartmod.nn.train import Trainer, predict
from smartmod.vision.mnist_mlp import accuracy
from smartmod.vision.resnet import cifar_resnet
from smartmod.vision.small_cnn import small_cnn


def torch_bilinear(values: numpy.ndarray, size: tuple[int, int]) -> numpy.ndarray:
    resized = torch.nn.functional.interpolate(torch.from_numpy(values)[None, None], size=size, mode="bilinear", align_corners=False)
    return resized[0, 0].numpy()


@pytest.mark.parametrize("source, size", [((3, 3), (16, 16)), ((4, 7), (9, 5)), ((1, 1), (4, 4)), ((2, 5), (2, 5)), ((8, 8), (3, 3))])
def test_upsampling_matches_torch_bilinear_interpolation(source, size):
    values = numpy.random.default_rng(0).normal(size=source)
    numpy.testing.assert_allclose(upsample_bilinear(values, size), torch_bilinear(values, size), rtol=1e-12, atol=1e-12)


def convolution_by_loops(image: numpy.ndarray, weight: numpy.ndarray, bias: numpy.ndarray) -> numpy.ndarray:
    """(C, H, W) image, (K, C, 3, 3) kernels, padding 1 → (K, H, W): Σ_c,a,b w[k, c, a, b] x[c, i + a - 1, j + b - 1] + b_k."""
    channels, height, width = image.shape
    padded = numpy.pad(image, ((0, 0), (1, 1), (1, 1)))
    output = numpy.empty((len(weight), height, width))
    for k in range(len(weight)):
        for i in range(height):
            for j in range(width):
                output[k, i, j] = numpy.sum(weight[k] * padded[:, i:i + 3, j:j + 3]) + bias[k]
    return output


def tiny_network() -> Sequential:
    """Conv 3×3 → ReLU → max-pool 2 → global average pool → Dense: the CAM shape."""
    model = Sequential(Conv2d(2, 3, 3, padding=1), ReLU(), MaxPool2d(2), GlobalAvgPool2d(), Dense(3, 2))
    rng = numpy.random.default_rng(4)
    for parameter in model.parameters():
        parameter.data[...] = rng.normal(size=parameter.shape)
    return model


@pytest.mark.parametrize("layer", ["1", "2"])
@pytest.mark.parametrize("target_class", [0, 1])
def test_grad_cam_equals_the_class_activation_map_computed_by_hand(layer, target_class):
    backend.set_default_dtype("float64")
    model, image = tiny_network(), numpy.random.default_rng(5).normal(size=(2, 6, 6))
    maps = numpy.maximum(convolution_by_loops(image, model[0].weight.data, model[0].bias.data), 0)  # A after ReLU, (3, 6, 6)
    if layer == "2":
        maps = maps.reshape(3, 3, 2, 3, 2).max(axis=(2, 4))  # after the 2×2 max-pool, (3, 3, 3)
    weights = model[4].weight.data[:, target_class] / maps[0].size  # α_k = W_kc / hw
    evidence = numpy.maximum(numpy.einsum("k,kij->ij", weights, maps), 0)
    expected = torch_bilinear(evidence, (6, 6))
    assert expected.max() > 0, "pick a seed where the class has some positive evidence"
    numpy.testing.assert_allclose(grad_cam(model, image, target_class, layer), expected / expected.max(), rtol=1e-9, atol=1e-12)


def test_default_target_layers_are_the_last_stages_of_the_builders():
    assert default_target_layer(cifar_resnet(20)) == "11"  # conv, BN, ReLU, 9 blocks: the last block
    model = small_cnn(widths=(4, 8), convs_per_stage=1)  # conv, BN, ReLU, pool, conv, BN, ReLU, pool, GAP, Dense
    assert default_target_layer(model) == "6"
    with pytest.raises(ValueError, match="pass the layer's name"):
        default_target_layer(Sequential(Dense(3, 2)))


def test_grad_cam_on_a_resnet_is_a_map_of_the_image_size_in_zero_one():
    model = cifar_resnet(8, classes=4, in_channels=3, width=4)
    model(numpy.random.default_rng(0).normal(size=(4, 3, 16, 16)).astype(numpy.float32))  # move the running statistics
    heatmap = grad_cam(model, numpy.random.default_rng(1).normal(size=(3, 16, 16)).astype(numpy.float32), 2)
    assert heatmap.shape == (16, 16) and heatmap.dtype == numpy.float64
    assert heatmap.min() >= 0 and heatmap.max() == 1.0


def test_grad_cam_names_a_layer_without_feature_maps():
    with pytest.raises(ValueError, match=r"'8' outputs shape \(1, 16\)"):
        grad_cam(small_cnn(in_channels=1, widths=(8, 16), convs_per_stage=1), numpy.zeros((1, 8, 8)), 0, layer="8")


def bright_squares(count: int, seed: int, side: int = 16, square: int = 4) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """(count, 1, side, side) noise images, about half with a 4×4 square brighter by 1.5; labels (1: square) and the squares' top-left corners."""
    rng = numpy.random.default_rng(seed)
    labels = rng.integers(0, 2, size=count)
    images = rng.normal(0.0, 0.3, size=(count, 1, side, side)).astype(numpy.float32)
    corners = rng.integers(0, side - square + 1, size=(count, 2))
    for image, label, (row, col) in zip(images, labels, corners):
        image[0, row:row + square, col:col + square] += 1.5 * label
    return images, labels, corners


def test_grad_cam_of_a_square_detector_peaks_inside_the_square():
    x, y, corners = bright_squares(400, seed=0)
    model = small_cnn(in_channels=1, classes=2, widths=(8, 16), convs_per_stage=1)
    Trainer(model, CrossEntropyLoss(), Adam(model.parameters(), lr=1e-2), batch_size=32, progress=False, seed=0).fit(x[:300], y[:300], epochs=3)
    assert accuracy(predict(model, x[300:]), y[300:]) >= 0.95
    peaks = [numpy.unravel_index(grad_cam(model, image, 1).argmax(), (16, 16)) for image in x[300:][y[300:] == 1]]
    inside = [row <= i < row + 4 and col <= j < col + 4 for (i, j), (row, col) in zip(peaks, corners[300:][y[300:] == 1])]
    assert len(inside) >= 40 and all(inside), f"{sum(inside)} of {len(inside)} maps peak inside the square"

"""resize_image (stretch, centre crop) and normalize_images, in the layout Conv2d reads."""
from __future__ import annotations

import numpy
import pytest

from smartmod.nn.layers.conv import Conv2d, channels_first
from smartmod.vision.preprocess import normalize_images, resize_image

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def stripes(height: int, width: int, axis: int) -> numpy.ndarray:
    """An image cut in thirds along ``axis`` (0: rows, 1: columns): red, green, blue."""
    image = numpy.zeros((height, width, 3), numpy.uint8)
    length = image.shape[axis]
    for index, colour in enumerate((RED, GREEN, BLUE)):
        part = slice(index * length // 3, (index + 1) * length // 3)
        image[(part, slice(None)) if axis == 0 else (slice(None), part)] = colour
    return image


def test_center_crop_of_a_wide_image_keeps_its_middle_third():
    resized = resize_image(stripes(30, 90, axis=1), 10, mode="center_crop", resample="nearest")
    assert resized.shape == (10, 10, 3) and resized.dtype == numpy.uint8
    numpy.testing.assert_array_equal(resized, numpy.broadcast_to(numpy.array(GREEN, numpy.uint8), (10, 10, 3)))


def test_center_crop_to_a_wide_size_keeps_the_middle_rows_of_a_square():
    resized = resize_image(stripes(90, 90, axis=0), (20, 60), mode="center_crop", resample="nearest")
    assert resized.shape == (20, 60, 3)
    numpy.testing.assert_array_equal(resized, numpy.broadcast_to(numpy.array(GREEN, numpy.uint8), (20, 60, 3)))


def test_bilinear_center_crop_blends_only_at_the_crop_edges():
    resized = resize_image(stripes(30, 90, axis=1), 10, mode="center_crop")  # antialiasing reads a pixel beyond the box
    numpy.testing.assert_array_equal(resized[:, 1:-1], numpy.broadcast_to(numpy.array(GREEN, numpy.uint8), (10, 8, 3)))
    assert resized[0, 0, 0] > 0 and resized[0, -1, 2] > 0


def test_stretch_keeps_everything_and_changes_the_aspect_ratio():
    resized = resize_image(stripes(30, 90, axis=1), 30, mode="stretch")
    assert resized.shape == (30, 30, 3)
    numpy.testing.assert_array_equal(resized[:, 2], numpy.broadcast_to(numpy.array(RED, numpy.uint8), (30, 3)))
    numpy.testing.assert_array_equal(resized[:, 15], numpy.broadcast_to(numpy.array(GREEN, numpy.uint8), (30, 3)))
    numpy.testing.assert_array_equal(resized[:, 27], numpy.broadcast_to(numpy.array(BLUE, numpy.uint8), (30, 3)))


@pytest.mark.parametrize("mode", ["stretch", "center_crop"])
def test_resizing_to_the_same_size_changes_nothing(mode):
    image = numpy.random.default_rng(0).integers(0, 256, size=(12, 17, 3), dtype=numpy.uint8)
    numpy.testing.assert_array_equal(resize_image(image, (12, 17), mode=mode), image)


@pytest.mark.parametrize("shape,expected", [((20, 40), (10, 10)), ((20, 40, 1), (10, 10, 1)), ((20, 40, 4), (10, 10, 4))])
def test_grey_and_rgba_images_keep_their_channels(shape, expected):
    assert resize_image(numpy.zeros(shape, numpy.uint8), 10).shape == expected


@pytest.mark.parametrize("arguments,message", [
    ({"size": 0}, "size must be"),
    ({"size": (10, "a")}, "size must be"),
    ({"size": 10, "mode": "pad"}, "mode must be one of"),
    ({"size": 10, "resample": "cubic"}, "resample must be one of"),
])
def test_resize_arguments_are_checked(arguments, message):
    with pytest.raises(ValueError, match=message):
        resize_image(numpy.zeros((4, 4, 3), numpy.uint8), **arguments)


@pytest.mark.parametrize("image", [numpy.zeros((4, 4, 3), numpy.float32), numpy.zeros((4, 4, 2), numpy.uint8), numpy.zeros((0, 4, 3), numpy.uint8)])
def test_resize_refuses_what_is_not_a_uint8_image(image):
    with pytest.raises(ValueError, match="uint8 image"):
        resize_image(image, 2)


def test_normalize_images_standardizes_each_channel_in_float32():
    batch = numpy.random.default_rng(1).integers(0, 256, size=(2, 3, 4, 3), dtype=numpy.uint8)
    mean, std = (0.5, 0.4, 0.3), (0.25, 0.2, 0.1)
    normalized = normalize_images(batch, mean, std)
    assert normalized.dtype == numpy.float32 and normalized.shape == (2, 3, 4, 3)
    expected = (batch / 255.0 - numpy.array(mean)) / numpy.array(std)
    numpy.testing.assert_allclose(normalized, expected, rtol=1e-6, atol=1e-6)


def test_normalize_images_takes_floats_as_already_in_zero_one():
    batch = numpy.random.default_rng(2).random((2, 3, 3, 1))
    numpy.testing.assert_allclose(normalize_images(batch, 0.5, 0.25), (batch - 0.5) / 0.25, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("batch,mean,std,message", [
    (numpy.zeros((3, 3, 3), numpy.uint8), 0.5, 0.5, "batch"),
    (numpy.zeros((1, 3, 3, 3), numpy.int32), 0.5, 0.5, "uint8 pixels or floats"),
    (numpy.zeros((1, 3, 3, 3), numpy.uint8), (0.5, 0.5), 0.5, "one per channel"),
    (numpy.zeros((1, 3, 3, 3), numpy.uint8), 0.5, (0.5, 0.0, 0.5), "positive"),
])
def test_normalize_images_arguments_are_checked(batch, mean, std, message):
    with pytest.raises(ValueError, match=message):
        normalize_images(batch, mean, std)


def test_a_normalized_batch_feeds_conv2d_through_a_channels_first_view():
    batch = normalize_images(numpy.zeros((2, 8, 6, 3), numpy.uint8), 0.5, 0.5)  # (N, H, W, C)
    view = channels_first(batch)  # (N, C, H, W), no copy
    assert numpy.shares_memory(view, batch)
    assert Conv2d(3, 4, 3).forward(view).shape == (2, 4, 6, 4)

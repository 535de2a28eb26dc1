"""Augmentations: shapes and dtypes kept, seeded, per-image parameters applied to the whole batch at
once exactly as to each image alone, identities, numpy/PyTorch/Pillow oracles, JSON-configured pipelines."""
from __future__ import annotations

import json

import numpy
import pytest
import torch
from PIL import Image, ImageEnhance

from smartmod.nn import backend
from smartmod.vision.augment import (
    ColorJitter, Cutout, HorizontalFlip, RandomCrop, RandomRotation, adjust_colors, crop, erase_squares,
    flip_horizontal, pad_images, rotate,
)
from smartmod.vision.augment_pipeline import Compose

AUGMENTATIONS = [RandomCrop(padding=3), RandomCrop(padding=2, size=5, padding_mode="zero"), HorizontalFlip(),
                 RandomRotation(30.0), ColorJitter(0.4, 0.4, 0.4), Cutout(4)]


def batch(n: int = 5, height: int = 8, width: int = 8, channels: int = 3, dtype=numpy.float32, seed: int = 0) -> numpy.ndarray:
    return numpy.random.default_rng(seed).random((n, height, width, channels)).astype(dtype)  # values in [0, 1)


@pytest.mark.parametrize("augmentation", AUGMENTATIONS, ids=repr)
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_augmentations_keep_the_dtype_and_the_batch_shape(augmentation, dtype):
    images = batch(dtype=dtype)
    result = augmentation(images, numpy.random.default_rng(0))
    size = augmentation.get_config().get("size") if isinstance(augmentation, RandomCrop) else None
    assert result.dtype == dtype
    assert result.shape == ((5, size, size, 3) if size else images.shape)


@pytest.mark.parametrize("augmentation", AUGMENTATIONS, ids=repr)
def test_augmentations_repeat_under_the_same_seed_and_differ_under_another(augmentation):
    images = batch()
    first, again, other = (augmentation(images, numpy.random.default_rng(seed)) for seed in (1, 1, 2))
    numpy.testing.assert_array_equal(first, again)
    assert not numpy.array_equal(first, other)


def test_without_a_generator_augmentations_draw_from_the_seeded_backend_generator():
    images, pipeline = batch(), Compose(AUGMENTATIONS[:1] + AUGMENTATIONS[2:])
    backend.seed(11)
    first = pipeline(images)
    backend.seed(11)
    numpy.testing.assert_array_equal(pipeline(images), first)


def test_a_generator_that_is_not_numpys_is_refused():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        HorizontalFlip()(batch(), rng=numpy.random.RandomState(0))


@pytest.mark.parametrize("images", [numpy.zeros((2, 4, 4, 3), numpy.uint8), numpy.zeros((4, 4, 3), numpy.float32)])
def test_augmentations_take_only_float_batches(images):
    with pytest.raises(ValueError, match=r"float batch \(N, H, W, C\)"):
        HorizontalFlip()(images)


# Each function with per-image parameters drawn for a batch of 4: applied to the batch at once it
# must equal stacking its results on each image alone with that image's parameters.
PER_IMAGE = {
    "crop": (lambda x, p: crop(x, p["top"], p["left"], (5, 6)), lambda rng: {"top": rng.integers(0, 4, 4), "left": rng.integers(0, 3, 4)}),
    "flip": (lambda x, p: flip_horizontal(x, p["flip"]), lambda rng: {"flip": numpy.array([True, False, True, False])}),
    "rotate": (lambda x, p: rotate(x, p["degrees"], fill=0.3), lambda rng: {"degrees": rng.uniform(-180, 180, 4)}),
    "colors": (lambda x, p: adjust_colors(x, p["b"], p["c"], p["s"]), lambda rng: {key: rng.uniform(0, 2, 4) for key in "bcs"}),
    "erase": (lambda x, p: erase_squares(x, p["top"], p["left"], 3), lambda rng: {"top": rng.integers(-2, 8, 4), "left": rng.integers(-2, 9, 4)}),
}


@pytest.mark.parametrize("name", PER_IMAGE)
def test_the_batch_result_equals_each_image_augmented_alone(name):
    function, draw = PER_IMAGE[name]
    images, parameters = batch(4, 8, 9), draw(numpy.random.default_rng(3))
    together = function(images, parameters)
    alone = [function(images[i:i + 1], {key: values[i:i + 1] for key, values in parameters.items()}) for i in range(4)]
    numpy.testing.assert_allclose(together, numpy.concatenate(alone), rtol=0, atol=1e-6)


def test_flipping_twice_is_the_identity_and_once_mirrors_the_columns():
    images, flip = batch(), numpy.array([True, False, True, True, False])
    numpy.testing.assert_array_equal(flip_horizontal(flip_horizontal(images, flip), flip), images)
    once = HorizontalFlip(p=1.0)(images, numpy.random.default_rng(0))
    numpy.testing.assert_array_equal(once, images[:, :, ::-1])
    numpy.testing.assert_array_equal(HorizontalFlip(p=0.0)(images, numpy.random.default_rng(0)), images)


def test_crop_without_padding_at_the_same_size_is_the_identity():
    images = batch()
    numpy.testing.assert_array_equal(RandomCrop(padding=0)(images, numpy.random.default_rng(0)), images)


@pytest.mark.parametrize("padding_mode", ["reflect", "zero"])
def test_every_random_crop_is_a_window_of_the_padded_image(padding_mode):
    images = batch(6, 5, 5)
    padded = numpy.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect" if padding_mode == "reflect" else "constant")
    cropped = RandomCrop(padding=2, padding_mode=padding_mode)(images, numpy.random.default_rng(4))
    for image, window in zip(padded, cropped):
        offsets = [(top, left) for top in range(5) for left in range(5) if numpy.array_equal(image[top:top + 5, left:left + 5], window)]
        assert offsets, "a crop matches no window of the padded image"


def test_reflect_padding_mirrors_without_repeating_the_edge():
    row = numpy.arange(4, dtype=numpy.float64).reshape(1, 1, 4, 1)
    numpy.testing.assert_array_equal(pad_images(row, 2, "reflect")[0, 2, :, 0], [2, 1, 0, 1, 2, 3, 2, 1])
    numpy.testing.assert_array_equal(pad_images(row, 2, "zero")[0, 2, :, 0], [0, 0, 0, 1, 2, 3, 0, 0])


def test_crop_windows_must_lie_inside():
    with pytest.raises(ValueError, match="inside"):
        crop(batch(2, 4, 4), numpy.array([0, 1]), numpy.array([0, 0]), (4, 4))


def test_rotation_by_zero_is_the_identity():
    images = batch(3, 7, 10)
    numpy.testing.assert_array_equal(rotate(images, numpy.zeros(3)), images)
    numpy.testing.assert_array_equal(RandomRotation(0.0)(images, numpy.random.default_rng(0)), images)


@pytest.mark.parametrize("degrees,quarter_turns", [(90, 1), (-90, -1), (180, 2), (270, 3)])
def test_rotation_by_quarter_turns_on_a_square_image_is_numpys_rot90(degrees, quarter_turns):
    images = batch(2, 6, 6, dtype=numpy.float64)
    numpy.testing.assert_allclose(rotate(images, numpy.full(2, degrees)), numpy.rot90(images, quarter_turns, axes=(1, 2)), atol=1e-12)


def test_rotation_matches_pytorch_grid_sample_on_non_square_images():
    images = batch(4, 7, 11, channels=2)
    degrees = numpy.array([17.0, -33.0, 125.0, 4.5])
    height, width = images.shape[1:3]
    theta = numpy.radians(degrees)
    aspect = (height - 1) / (width - 1)  # affine_grid works in [-1, 1] coordinates on each axis
    affine = numpy.stack([numpy.stack([numpy.cos(theta), -numpy.sin(theta) * aspect, numpy.zeros(4)], axis=1),
                          numpy.stack([numpy.sin(theta) / aspect, numpy.cos(theta), numpy.zeros(4)], axis=1)], axis=1)  # (N, 2, 3)
    source = torch.from_numpy(images).permute(0, 3, 1, 2)  # (N, C, H, W)
    grid = torch.nn.functional.affine_grid(torch.from_numpy(affine).float(), list(source.shape), align_corners=True)
    theirs = torch.nn.functional.grid_sample(source, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    mine = rotate(images, degrees)
    numpy.testing.assert_allclose(mine, theirs.permute(0, 2, 3, 1).numpy(), atol=1e-5, err_msg="mine / theirs (grid_sample)")


def test_rotation_fills_the_corners_with_fill():
    rotated = rotate(numpy.ones((1, 9, 9, 1)), numpy.array([45.0]), fill=0.25)
    assert rotated[0, 0, 0, 0] == pytest.approx(0.25) and rotated[0, 4, 4, 0] == pytest.approx(1.0)


def test_color_jitter_of_strength_zero_is_the_identity():
    images = batch()
    numpy.testing.assert_array_equal(ColorJitter(0, 0, 0)(images, numpy.random.default_rng(0)), images)


def test_color_factors_of_zero_give_the_degenerate_images():
    images, ones, zeros = batch(2), numpy.ones(2), numpy.zeros(2)
    numpy.testing.assert_array_equal(adjust_colors(images, zeros, ones, ones), 0)  # brightness 0: black
    grey = adjust_colors(images, ones, ones, zeros)  # saturation 0: each pixel its own luma
    numpy.testing.assert_allclose(grey, numpy.repeat(images @ numpy.float32([0.299, 0.587, 0.114])[:, None], 3, axis=3), atol=1e-6)
    flat = adjust_colors(images, ones, zeros, ones)  # contrast 0: the image's mean luma everywhere
    numpy.testing.assert_allclose(flat, numpy.broadcast_to(grey.mean(axis=(1, 2, 3), keepdims=True), images.shape), atol=1e-6)


@pytest.mark.parametrize("enhancer,position", [(ImageEnhance.Brightness, 0), (ImageEnhance.Contrast, 1), (ImageEnhance.Color, 2)])
@pytest.mark.parametrize("factor", [0.3, 1.6])
def test_each_color_adjustment_matches_pillows_image_enhance(enhancer, position, factor):
    pixels = numpy.random.default_rng(5).integers(0, 256, size=(6, 7, 3), dtype=numpy.uint8)
    factors = [numpy.ones(1)] * 3
    factors[position] = numpy.full(1, factor)
    mine = adjust_colors(pixels[None] / 255.0, *factors)[0] * 255
    theirs = numpy.asarray(enhancer(Image.fromarray(pixels)).enhance(factor), dtype=numpy.float64)
    numpy.testing.assert_allclose(mine, theirs, atol=2, err_msg="mine / theirs (Pillow, rounded to uint8)")


def test_cutout_zeroes_exactly_a_size_square_inside_the_image():
    images = batch(3, 10, 10) + 1  # no pixel is zero before
    erased = erase_squares(images, numpy.array([0, 3, 6]), numpy.array([2, 3, 6]), 4)
    for image, top, left in zip(erased, (0, 3, 6), (2, 3, 6)):
        zero = numpy.all(image == 0, axis=2)
        assert zero.sum() == 16 and zero[top:top + 4, left:left + 4].all()
        assert not numpy.any(image[~zero] == 0)


def test_random_cutout_zeroes_one_square_clipped_only_at_the_borders():
    images = batch(200, 12, 12) + 1
    erased = Cutout(size=5)(images, numpy.random.default_rng(6))
    for image in erased:
        zero = numpy.all(image == 0, axis=2)
        rows, columns = numpy.flatnonzero(zero.any(axis=1)), numpy.flatnonzero(zero.any(axis=0))
        assert zero.sum() == len(rows) * len(columns)  # one rectangle
        assert numpy.all(numpy.diff(rows) == 1) and numpy.all(numpy.diff(columns) == 1)
        for kept in (rows, columns):
            assert len(kept) == 5 or kept[0] == 0 or kept[-1] == 11, "a square shorter than its size must touch a border"


def test_a_pipeline_round_trips_through_json_and_draws_the_same_numbers():
    pipeline = Compose([RandomCrop(padding=2), HorizontalFlip(p=0.3), RandomRotation(10.0, fill=0.5), ColorJitter(0.2, 0.1, 0.0), Cutout(3)])
    config = json.loads(json.dumps(pipeline.get_config()))
    rebuilt = Compose.from_config(config)
    assert rebuilt.get_config() == pipeline.get_config()
    assert config[0] == {"name": "random_crop", "padding": 2, "size": None, "padding_mode": "reflect"}
    images = batch()
    numpy.testing.assert_array_equal(rebuilt(images, numpy.random.default_rng(8)), pipeline(images, numpy.random.default_rng(8)))


def test_a_hand_written_config_takes_defaults_for_what_it_leaves_out():
    pipeline = Compose.from_config([{"name": "random_crop", "padding": 4}, {"name": "horizontal_flip"}])
    assert pipeline.get_config() == [{"name": "random_crop", "padding": 4, "size": None, "padding_mode": "reflect"},
                                     {"name": "horizontal_flip", "p": 0.5}]


@pytest.mark.parametrize("config,message", [
    ([{"name": "random_flip"}], "unknown name 'random_flip'; did you mean 'random_crop'"),
    ([{"name": "cutout", "length": 8}], r"unknown hyperparameters \['length'\]; cutout accepts \['size'\]"),
    ([{"padding": 4}], "step 0 must be a dict with a 'name' key"),
    ({"name": "cutout"}, "list of"),
    ([{"name": "random_rotation", "degrees": 200}], r"degrees must be a number in \[0, 180\]"),
    ([{"name": "random_crop", "padding_mode": "edge"}], "padding_mode must be one of"),
])
def test_bad_configs_say_what_is_wrong(config, message):
    with pytest.raises(ValueError, match=message):
        Compose.from_config(config)

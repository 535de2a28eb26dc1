"""Seeing inside a CNN: a layer's feature maps, filter and feature-map grids, heat-map overlays
written as PNG files, and ``explain_image``."""
from __future__ import annotations

import matplotlib
import matplotlib.image
import numpy
import pytest

from smartmod.explain.feature_maps import feature_maps, first_convolution
from smartmod.explain.image_explainer import explain_image
from smartmod.explain.image_grids import feature_map_grid, filter_grid, rescale_to_unit, tile_grid
from smartmod.explain.overlay import display_rgb, heatmap_overlay, save_image, save_overlay
from smartmod.nn import Conv2d, Sequential
from smartmod.vision.small_cnn import small_cnn


def images(shape: tuple[int, ...], seed: int = 0) -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(size=shape).astype(numpy.float32)


def test_feature_maps_are_the_output_of_the_network_up_to_the_layer_in_eval_mode():
    model, image = small_cnn(in_channels=3, widths=(4, 6), convs_per_stage=1), images((3, 8, 8))
    model(images((4, 3, 8, 8), seed=1))  # training pass: running statistics move
    maps = feature_maps(model, image, "2")
    expected = Sequential(*model[:3]).eval()(image[None])[0]
    assert maps.shape == (4, 8, 8) and numpy.array_equal(maps, expected)
    assert model.training  # the mode the network was in


def test_colour_filters_are_tiles_of_their_rescaled_kernels():
    conv = Conv2d(3, 5, 3)
    grid = filter_grid(conv)  # 5 filters, 3 per row: 2 rows
    assert grid.shape == (2 * 4 - 1, 3 * 4 - 1, 3)
    second = grid[0:3, 4:7]  # row 0, column 1: filter 1 as (kh, kw, RGB)
    numpy.testing.assert_allclose(second, rescale_to_unit(conv.weight.data[1]).transpose(1, 2, 0))
    assert numpy.all(grid[3] == 1)  # the white gap between rows


def test_filters_of_other_channel_counts_are_one_grey_row_per_filter():
    conv = Conv2d(2, 3, (2, 3))
    grid = filter_grid(conv)  # 3 filters × 2 channels
    assert grid.shape == (3 * 3 - 1, 2 * 4 - 1)
    numpy.testing.assert_allclose(grid[3:5, 4:7], rescale_to_unit(conv.weight.data[1, 1]))


def test_first_convolution_is_the_layer_reading_the_pixels():
    model = small_cnn(in_channels=3, widths=(4,))
    assert first_convolution(model) is model[0]


def test_feature_map_grid_and_tile_grid_shapes():
    maps = images((6, 5, 4))
    assert feature_map_grid(maps).shape == (2 * 6 - 1, 3 * 5 - 1)  # ⌈√6⌉ = 3 per row
    assert tile_grid(numpy.zeros((6, 5, 4)), columns=6, gap=0).shape == (5, 24)
    with pytest.raises(ValueError, match=r"\(N, h, w\) or \(N, h, w, 3\)"):
        tile_grid(numpy.zeros((2, 5, 4, 2)))


def test_overlay_blends_the_rescaled_image_with_the_coloured_heat_map():
    image, heatmap = images((1, 4, 4)), numpy.linspace(0, 1, 16).reshape(4, 4)
    grey = rescale_to_unit(image[0])
    numpy.testing.assert_allclose(heatmap_overlay(image, heatmap, alpha=0.0), numpy.stack([grey] * 3, axis=-1))
    colours = matplotlib.colormaps["jet"](heatmap)[..., :3]
    numpy.testing.assert_allclose(heatmap_overlay(image, heatmap, alpha=0.25), 0.75 * display_rgb(image) + 0.25 * colours)
    with pytest.raises(ValueError, match=r"the image's size \(4, 4\)"):
        heatmap_overlay(image, numpy.zeros((4, 5)))


def test_save_overlay_writes_a_png_enlarged_to_at_least_256_pixels(tmp_path):
    image = images((3, 32, 32))
    path = save_overlay(image, numpy.zeros((32, 32)), tmp_path / "overlay.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = matplotlib.image.imread(path)
    assert written.shape[:2] == (256, 256)
    numpy.testing.assert_allclose(written[::8, ::8, :3], heatmap_overlay(image, numpy.zeros((32, 32))), atol=1 / 255 + 1e-6)


def test_save_image_writes_grey_pictures_at_the_scale_asked(tmp_path):
    picture = numpy.array([[0.0, 1.0], [0.5, 0.25]])
    written = matplotlib.image.imread(save_image(picture, tmp_path / "grey.png", scale=3))
    assert written.shape[:2] == (6, 6)
    numpy.testing.assert_allclose(written[::3, ::3, 0], picture, atol=1 / 255 + 1e-6)


@pytest.mark.parametrize("method", ["gradcam", "saliency", "smoothgrad"])
def test_explain_image_gives_an_image_sized_map_in_zero_one(method):
    model = small_cnn(in_channels=3, classes=4, widths=(4, 6), convs_per_stage=1)
    heatmap = explain_image(model, images((3, 12, 12)), 2, method)
    assert heatmap.shape == (12, 12) and heatmap.min() >= 0 and heatmap.max() == 1.0


def test_explain_image_names_the_methods_it_knows():
    model = small_cnn(in_channels=1, widths=(4,))
    with pytest.raises(ValueError, match="gradcam, saliency, smoothgrad"):
        explain_image(model, images((1, 8, 8)), 0, method="occlusion")
    with pytest.raises(ValueError, match="layer= chooses Grad-CAM's target layer"):
        explain_image(model, images((1, 8, 8)), 0, method="saliency", layer="2")

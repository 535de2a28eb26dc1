"""decode_image: every format and mode to upright RGB, and every bad input refused with an ImageError."""
from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy
import pytest
from PIL import Image, ImageFile

from smartmod.vision.images import ImageError, decode_image

RNG = numpy.random.default_rng(7)
PIXELS = RNG.integers(0, 256, size=(6, 10, 3), dtype=numpy.uint8)  # (H, W, 3)


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def blocks() -> numpy.ndarray:
    """A 16×32 image of four flat 8-aligned colour blocks, which JPEG keeps almost exactly."""
    image = numpy.zeros((16, 32, 3), numpy.uint8)
    image[:8, :16], image[:8, 16:], image[8:, :16], image[8:, 16:] = (250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0)
    return image


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares width × height RGB pixels, with (almost) no pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("image_format,options", [("PNG", {}), ("WEBP", {"lossless": True})])
def test_lossless_formats_decode_to_the_exact_rgb_pixels(image_format, options):
    decoded = decode_image(encode(Image.fromarray(PIXELS), image_format, **options))
    assert decoded.dtype == numpy.uint8 and decoded.shape == (6, 10, 3)
    numpy.testing.assert_array_equal(decoded, PIXELS)


def test_jpeg_decodes_to_rgb_close_to_the_original():
    decoded = decode_image(encode(Image.fromarray(blocks()), "JPEG", quality=95, subsampling=0))
    assert decoded.shape == (16, 32, 3)
    assert numpy.abs(decoded.astype(int) - blocks()).mean() < 3


def test_gif_decodes_its_first_frame():
    red, blue = (Image.new("RGB", (5, 4), colour).convert("P") for colour in ((255, 0, 0), (0, 0, 255)))
    decoded = decode_image(encode(red, "GIF", save_all=True, append_images=[blue], duration=100))
    numpy.testing.assert_array_equal(decoded, numpy.broadcast_to(numpy.array([255, 0, 0], numpy.uint8), (4, 5, 3)))


def test_result_is_a_writable_array():
    decoded = decode_image(encode(Image.fromarray(PIXELS), "PNG"))
    decoded[0, 0] = 0  # raises if the array were a read-only view of Pillow's buffer


def test_palette_with_a_transparent_index_turns_that_index_white():
    palette_image = Image.new("P", (3, 1))
    palette_image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    palette_image.putdata([0, 1, 0])
    decoded = decode_image(encode(palette_image, "PNG", transparency=0))
    numpy.testing.assert_array_equal(decoded[0], [[255, 255, 255], [0, 255, 0], [255, 255, 255]])


def test_rgba_is_composited_onto_white():
    rgba = numpy.array([[[10, 20, 30, 255], [10, 20, 30, 0], [0, 0, 0, 128]]], numpy.uint8)  # opaque, clear, half black
    decoded = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    numpy.testing.assert_array_equal(decoded[0, :2], [[10, 20, 30], [255, 255, 255]])
    numpy.testing.assert_allclose(decoded[0, 2], 255 * (1 - 128 / 255), atol=1)


def test_grey_with_alpha_is_composited_onto_white():
    grey_alpha = Image.fromarray(numpy.array([[[40, 255], [40, 0]]], numpy.uint8), "LA")
    numpy.testing.assert_array_equal(decode_image(encode(grey_alpha, "PNG"))[0], [[40, 40, 40], [255, 255, 255]])


def test_grey_and_one_bit_images_repeat_their_channel():
    grey = numpy.array([[0, 100, 255]], numpy.uint8)
    numpy.testing.assert_array_equal(decode_image(encode(Image.fromarray(grey, "L"), "PNG")), numpy.repeat(grey[:, :, None], 3, axis=2))
    one_bit = Image.fromarray(numpy.array([[True, False, True]]))
    numpy.testing.assert_array_equal(decode_image(encode(one_bit, "PNG"))[0], [[255] * 3, [0] * 3, [255] * 3])


def test_sixteen_bit_grey_keeps_its_scale_instead_of_clipping():
    grey = numpy.array([[0, 257 * 100, 65535, 1000]], numpy.uint16)
    image = Image.fromarray(grey)
    assert image.mode.startswith("I;16")
    decoded = decode_image(encode(image, "PNG"))
    numpy.testing.assert_array_equal(decoded[0, :, 0], [0, 100, 255, 4])  # round(1000 / 257) = 4
    numpy.testing.assert_array_equal(decoded[..., 0], decoded[..., 2])


def test_cmyk_jpeg_becomes_rgb():
    cyan = Image.new("CMYK", (8, 8), (255, 0, 0, 0))
    decoded = decode_image(encode(cyan, "JPEG", quality=95, subsampling=0))
    assert decoded.shape == (8, 8, 3)
    numpy.testing.assert_allclose(decoded.reshape(-1, 3).mean(axis=0), [0, 255, 255], atol=4)


@pytest.mark.parametrize("orientation,upright", [
    (3, lambda image: numpy.rot90(image, 2)),  # stored upside down
    (6, lambda image: numpy.rot90(image, -1)),  # shown after turning 90° clockwise
    (8, lambda image: numpy.rot90(image, 1)),  # shown after turning 90° counter-clockwise
])
def test_exif_orientation_turns_the_pixels_upright(orientation, upright):
    exif = Image.Exif()
    exif[0x0112] = orientation
    decoded = decode_image(encode(Image.fromarray(blocks()), "JPEG", quality=95, subsampling=0, exif=exif.tobytes()))
    expected = upright(blocks())
    assert decoded.shape == expected.shape
    assert numpy.abs(decoded.astype(int) - expected).mean() < 3


def test_a_path_is_read_like_its_bytes(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(encode(Image.fromarray(PIXELS), "PNG"))
    numpy.testing.assert_array_equal(decode_image(path), PIXELS)
    numpy.testing.assert_array_equal(decode_image(str(path)), PIXELS)


def test_a_missing_path_says_it_could_not_be_read(tmp_path):
    with pytest.raises(ImageError, match="could not be read"):
        decode_image(tmp_path / "absent.jpg")


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_a_truncated_file_is_refused(image_format):
    noise = Image.fromarray(RNG.integers(0, 256, size=(64, 64, 3), dtype=numpy.uint8))
    data = encode(noise, image_format)
    with pytest.raises(ImageError, match="truncated or corrupt"):
        decode_image(data[: len(data) // 2])


def test_random_bytes_are_not_an_image():
    with pytest.raises(ImageError, match="not an image"):
        decode_image(RNG.integers(0, 256, size=4096, dtype=numpy.uint8).tobytes())


def test_empty_input_is_refused():
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")


def test_other_formats_are_refused_by_name():
    with pytest.raises(ImageError, match="BMP image; supported formats are JPEG, PNG, GIF, WEBP"):
        decode_image(encode(Image.fromarray(PIXELS), "BMP"))


def test_inputs_over_max_bytes_are_refused(tmp_path):
    data = encode(Image.fromarray(PIXELS), "PNG")
    assert decode_image(data, max_bytes=len(data)).shape == (6, 10, 3)
    with pytest.raises(ImageError, match="max_bytes"):
        decode_image(data, max_bytes=len(data) - 1)
    path = tmp_path / "picture.png"
    path.write_bytes(data)
    with pytest.raises(ImageError, match="max_bytes"):
        decode_image(path, max_bytes=len(data) - 1)


def test_a_header_declaring_too_many_pixels_is_refused_before_decoding(monkeypatch):
    def fail_decoding(self):
        raise AssertionError("pixels were decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", fail_decoding)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not escape either
        with pytest.raises(ImageError, match="10000×10000 = 100,000,000 pixels, more than max_pixels"):
            decode_image(png_header(10_000, 10_000))  # 100 MP: above our 40 MP and Pillow's warning level


def test_a_header_past_pillows_own_hard_limit_is_an_image_error():
    with pytest.raises(ImageError, match="pixel"):
        decode_image(png_header(65_535, 65_535))


def test_a_small_file_of_a_large_image_respects_a_lower_max_pixels():
    white = encode(Image.new("RGB", (2000, 1000), "white"), "PNG")
    assert len(white) < 20_000  # compresses to almost nothing
    with pytest.raises(ImageError, match="max_pixels=1,000,000"):
        decode_image(white, max_pixels=1_000_000)
    assert decode_image(white, max_pixels=2_000_000).shape == (1000, 2000, 3)


def test_pillows_global_pixel_limit_is_left_alone():
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageError):
        decode_image(png_header(10_000, 10_000))
    decode_image(encode(Image.fromarray(PIXELS), "PNG"), max_pixels=10**9)
    assert Image.MAX_IMAGE_PIXELS == before


@pytest.mark.parametrize("source", [12, None, [1, 2]])
def test_sources_other_than_bytes_or_paths_are_a_type_error(source):
    with pytest.raises(TypeError, match="bytes or a path"):
        decode_image(source)


@pytest.mark.parametrize("limits", [{"max_bytes": 0}, {"max_pixels": -1}, {"max_pixels": 1.5}])
def test_limits_must_be_positive_ints(limits):
    with pytest.raises(ValueError, match="positive int"):
        decode_image(b"x", **limits)

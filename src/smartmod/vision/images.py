"""Decoding untrusted image files into RGB pixel arrays, with limits a server can rely on.

:func:`decode_image` turns the bytes of a JPEG, PNG, GIF (its first frame) or WebP file into a
``(H, W, 3)`` uint8 array:

1. the input is refused when it is empty or longer than ``max_bytes`` (a path is measured before
   it is read);
2. Pillow reads only the header, which names the format and the size; any format but the four
   above is refused, and so is a size over ``max_pixels``, before a single pixel is decoded: a
   small file can declare a huge canvas (a "decompression bomb") whose decoding would take
   gigabytes of memory;
3. the whole image is decoded at once (``Image.load``), so a truncated or corrupt file fails here
   rather than later in a model;
4. the EXIF orientation tag is applied (cameras store pixels as the sensor read them and the
   tag says how to turn them upright), and every mode becomes RGB: grey and 1-bit replicate
   their channel, 16-bit grey keeps its 8 most significant bits, CMYK goes through Pillow's
   conversion, and anything with transparency (RGBA, LA, a palette with a transparent index) is
   composited onto white, the background most viewers show.

Every refusal is an :class:`ImageError` that says what was wrong. The pixel limit is our own
check on the header; Pillow's process-wide ``Image.MAX_IMAGE_PIXELS`` is neither relied on nor
changed (its warning is silenced, and its hard error, at twice that limit, still ends as an
:class:`ImageError`). Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` must stay False, its default,
for truncated files to be detected.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageError", "decode_image", "SUPPORTED_FORMATS", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS"]

SUPPORTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # 10 MiB: a large phone photo is 3 to 6 MB
DEFAULT_MAX_PIXELS = 40_000_000  # 40 megapixels: 160 MB as decoded RGBA, above any phone camera

_SIXTEEN_BIT_GREY = {"I", "I;16", "I;16B", "I;16L", "I;16N"}
_WHITE = (255, 255, 255, 255)


class ImageError(ValueError):
    """An image input that cannot be decoded: empty, too large, not an image, unsupported or damaged."""


def decode_image(source: bytes | bytearray | memoryview | str | os.PathLike, *,
                 max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS) -> numpy.ndarray:
    """The pixels of one image file as an upright ``(H, W, 3)`` uint8 RGB array.

    Parameters
    ----------
    source : bytes-like, or a path (str or os.PathLike)
        The file's content, or where to read it.
    max_bytes : int
        The longest input accepted (default 10 MiB).
    max_pixels : int
        The most pixels (width × height, from the header, before decoding) accepted
        (default 40 million).

    Raises
    ------
    ImageError
        Naming the problem: empty input, too many bytes or pixels, not an image, a format other
        than JPEG/PNG/GIF/WebP, or a truncated or corrupt file.
    """
    for name, limit in (("max_bytes", max_bytes), ("max_pixels", max_pixels)):
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"{name} must be a positive int, got {limit!r}")
    data, origin = _read_source(source, max_bytes)
    image = _open_header(data, origin)
    if image.format not in SUPPORTED_FORMATS:
        raise ImageError(f"{origin} is a {image.format} image; supported formats are {', '.join(SUPPORTED_FORMATS)}")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(f"{origin} declares {width}×{height} = {width * height:,} pixels, more than max_pixels={max_pixels:,}; "
                         "it was not decoded (a small file declaring a huge image is a decompression bomb). "
                         "Raise max_pixels if such images are legitimate")
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as error:
        raise ImageError(f"{origin} is larger than Pillow's hard pixel limit: {error}") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:  # Pillow's ways of saying "truncated" or "corrupt"
        raise ImageError(f"{origin} is truncated or corrupt and could not be decoded: {error}") from error
    return _to_rgb(upright)


def _read_source(source: bytes | bytearray | memoryview | str | os.PathLike, max_bytes: int) -> tuple[bytes, str]:
    """The input's bytes and how messages refer to it; too long or empty inputs are refused."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, origin = bytes(source), "the image"
        if len(data) > max_bytes:
            raise ImageError(f"the image is {len(data):,} bytes, more than max_bytes={max_bytes:,}")
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        origin = f"image file {path}"
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise ImageError(f"{origin} is {size:,} bytes, more than max_bytes={max_bytes:,}")
            with path.open("rb") as file:
                data = file.read(max_bytes + 1)  # the file may have grown since stat
        except OSError as error:
            raise ImageError(f"{origin} could not be read: {error}") from error
        if len(data) > max_bytes:
            raise ImageError(f"{origin} is more than max_bytes={max_bytes:,} bytes")
    else:
        raise TypeError(f"decode_image expects bytes or a path, got {type(source).__name__}")
    if not data:
        raise ImageError(f"{origin} is empty (0 bytes)")
    return data, origin


def _open_header(data: bytes, origin: str) -> Image.Image:
    """Pillow's lazily decoded image: format, mode and size are known, no pixel is decoded yet."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our max_pixels decides
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise ImageError(f"{origin} is larger than Pillow's hard pixel limit: {error}") from error
    except UnidentifiedImageError as error:
        raise ImageError(f"{origin} is not an image file that Pillow recognizes (expected JPEG, PNG, GIF or WebP)") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(f"{origin} has a damaged header: {error}") from error


def _to_rgb(image: Image.Image) -> numpy.ndarray:
    """``(H, W, 3)`` uint8 RGB from any mode a supported format decodes to."""
    if image.mode in _SIXTEEN_BIT_GREY:
        grey = numpy.clip(numpy.asarray(image, dtype=numpy.int64), 0, 65535)  # (H, W)
        grey = ((grey + 128) // 257).astype(numpy.uint8)  # round(v · 255 / 65535)
        return numpy.repeat(grey[:, :, None], 3, axis=2)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = Image.alpha_composite(Image.new("RGBA", image.size, _WHITE), image.convert("RGBA"))
    return numpy.array(image.convert("RGB"))  # (H, W, 3), a writable copy

"""Labelled images stored one folder per class, on disk or inside a tar archive.

``root/<class>/<file>`` (the layout of torchvision's ``ImageFolder``): the class names are the
sorted folder names and a label is the index of its class. An archive holds one such tree per
split, ``<split>/<class>/<file>`` (CIFAR-10's JPEG copy is one); its class names are the sorted
union over splits, so a label means the same class in every split.

Only files named ``*.jpg``, ``*.jpeg``, ``*.png``, ``*.gif`` or ``*.webp`` (any case) are read;
other files and hidden ones are ignored. Files are taken in sorted order, so the result does
not depend on the file system or the archive's member order. A file that fails to decode
(:func:`~smartmod.vision.images.decode_image`) raises an :class:`~smartmod.vision.images.ImageError`
naming it, or with ``errors="skip"`` is left out and reported in one warning.
"""
from __future__ import annotations

import os
import tarfile
import warnings
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, NamedTuple

import numpy

from smartmod.vision.images import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, ImageError, decode_image
from smartmod.vision.preprocess import resize_image

__all__ = ["ImageFolder", "IMAGE_EXTENSIONS", "load_image_folder", "load_image_archive"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp")
ERROR_POLICIES = ("raise", "skip")


class ImageFolder(NamedTuple):
    """Images ``(N, H, W, 3)`` uint8, labels ``(N,)`` int64 indexing ``class_names``."""

    images: numpy.ndarray
    labels: numpy.ndarray
    class_names: tuple[str, ...]


def load_image_folder(root: str | os.PathLike, size: int | tuple[int, int] | None = None, *, mode: str = "center_crop",
                      errors: str = "raise", limit_per_class: int | None = None,
                      max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageFolder:
    """Every image under ``root/<class>/``, decoded to RGB.

    Parameters
    ----------
    root : path
        The folder holding one sub-folder per class.
    size : None, int or (height, width)
        Resize every image (:func:`~smartmod.vision.preprocess.resize_image` with ``mode``);
        None keeps the decoded sizes, which must then all agree.
    mode : "center_crop" or "stretch"
    errors : "raise" or "skip"
        What an undecodable file does: raise an ImageError naming it, or be left out (one
        warning lists how many and the first of them).
    limit_per_class : None or int
        Read only the first so many files (in sorted order) of each class.
    max_bytes, max_pixels : int
        Limits per file, as in :func:`~smartmod.vision.images.decode_image`.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist; it should hold one sub-folder per class")
    class_names = tuple(sorted(entry.name for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith(".")))
    if not class_names:
        raise ValueError(f"{root} holds no class folders; expected {root}/<class>/<image files>")
    entries = [(label, str(path), path) for label, name in enumerate(class_names)
               for path in _first(sorted(path for path in (root / name).iterdir() if _is_image_name(path.name)), limit_per_class)]
    decode = partial(_decode_resized, size=size, mode=mode, max_bytes=max_bytes, max_pixels=max_pixels)
    return _decode_entries(entries, class_names, decode, errors, str(root))


def load_image_archive(path: str | os.PathLike, size: int | tuple[int, int] | None = None, *, mode: str = "center_crop",
                       errors: str = "raise", limit_per_class: int | None = None,
                       max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS) -> dict[str, ImageFolder]:
    """Every image of a tar archive (plain, gzip, bzip2 or xz) laid out ``<split>/<class>/<file>``,
    as one :class:`ImageFolder` per split, all sharing the same class names. The parameters are
    those of :func:`load_image_folder`. Members are read into memory, never extracted to disk."""
    path = Path(path)
    files: dict[str, dict[str, list[tuple[str, bytes]]]] = {}  # split -> class -> [(member name, bytes)]
    try:
        with tarfile.open(path) as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if member.isfile() and len(parts) == 3 and _is_image_name(parts[2]) and not any(part.startswith(".") for part in parts):
                    content = archive.extractfile(member).read(max_bytes + 1)  # decode_image refuses the over-long
                    files.setdefault(parts[0], {}).setdefault(parts[1], []).append((member.name, content))
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable tar archive ({error})") from error
    if not files:
        raise ValueError(f"{path} holds no image files laid out <split>/<class>/<file>")
    class_names = tuple(sorted({name for classes in files.values() for name in classes}))
    decode = partial(_decode_resized, size=size, mode=mode, max_bytes=max_bytes, max_pixels=max_pixels)
    splits = {}
    for split, classes in sorted(files.items()):
        entries = [(class_names.index(name), f"{path}:{member}", content)
                   for name in sorted(classes) for member, content in _first(sorted(classes[name]), limit_per_class)]
        splits[split] = _decode_entries(entries, class_names, decode, errors, f"{path}:{split}")
    return splits


def _is_image_name(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)


def _first(items: list, limit: int | None) -> list:
    if limit is None:
        return items
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit_per_class must be None or a positive int, got {limit!r}")
    return items[:limit]


def _decode_resized(source: bytes | Path, size: int | tuple[int, int] | None, mode: str, max_bytes: int, max_pixels: int) -> numpy.ndarray:
    image = decode_image(source, max_bytes=max_bytes, max_pixels=max_pixels)  # (H, W, 3)
    return image if size is None else resize_image(image, size, mode=mode)


def _decode_entries(entries: Iterable[tuple[int, str, bytes | Path]], class_names: tuple[str, ...],
                    decode: Callable[[bytes | Path], numpy.ndarray], errors: str, where: str) -> ImageFolder:
    """Decode ``(label, file name, content or path)`` entries into one :class:`ImageFolder`."""
    if errors not in ERROR_POLICIES:
        raise ValueError(f"errors must be one of {ERROR_POLICIES}, got {errors!r}")
    images, labels, failures = [], [], []
    for label, name, source in entries:
        try:
            image = decode(source)
        except ImageError as error:
            if errors == "raise":
                raise ImageError(f"{name}: {error} (pass errors='skip' to leave such files out)") from error
            failures.append(f"{name} ({error})")
            continue
        if images and image.shape != images[0].shape:
            raise ValueError(f"{name} is {image.shape[1]}×{image.shape[0]} pixels but the images before it are "
                             f"{images[0].shape[1]}×{images[0].shape[0]}; pass size= to resize them all to one size")
        images.append(image)
        labels.append(label)
    if failures:
        warnings.warn(f"{where}: skipped {len(failures)} image files that could not be decoded; the first: {failures[0]}", stacklevel=3)
    if not images:
        raise ValueError(f"{where} holds no decodable image files ({', '.join(IMAGE_EXTENSIONS)})")
    return ImageFolder(numpy.stack(images), numpy.asarray(labels, dtype=numpy.int64), class_names)  # (N, H, W, 3), (N,)

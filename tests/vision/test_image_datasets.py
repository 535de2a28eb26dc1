"""Class-per-folder images on disk and in archives, and CIFAR-10 decoded once and cached.

The cache tests run on a fake CIFAR-10 archive of the same layout built in tmp_path; one test
reads the real archive, a few images per class, and checks shapes and class names.
"""
from __future__ import annotations

import io
import os
import tarfile
import warnings

import numpy
import pytest
from PIL import Image

from smartmod.vision import datasets
from smartmod.vision.datasets import CIFAR10_ARCHIVE, load_cifar10
from smartmod.vision.image_folders import load_image_archive, load_image_folder
from smartmod.vision.images import ImageError
from tests.conftest import require_data

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
COLOURS = {"cat": (200, 30, 30), "dog": (30, 200, 30), "emu": (30, 30, 200)}


def image_bytes(colour: tuple[int, int, int], image_format: str = "PNG", size: tuple[int, int] = (4, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, image_format)
    return buffer.getvalue()


def write_tree(root, files: dict[str, bytes]) -> None:
    for relative, content in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(content)


def write_archive(path, files: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))


def test_a_folder_tree_gives_sorted_classes_and_their_images(tmp_path):
    write_tree(tmp_path, {"dog/b.png": image_bytes(COLOURS["dog"]), "dog/a.PNG": image_bytes(COLOURS["dog"]),
                          "cat/1.png": image_bytes(COLOURS["cat"]), "cat/notes.txt": b"not an image",
                          "cat/.hidden.png": b"ignored", "emu/x.webp": image_bytes(COLOURS["emu"], "WEBP")})
    folder = load_image_folder(tmp_path)
    assert folder.class_names == ("cat", "dog", "emu")
    numpy.testing.assert_array_equal(folder.labels, [0, 1, 1, 2])
    assert folder.images.shape == (4, 6, 4, 3) and folder.images.dtype == numpy.uint8
    for image, label in zip(folder.images, folder.labels):
        assert numpy.abs(image.astype(int) - COLOURS[folder.class_names[label]]).max() <= 3  # WebP is lossy


def test_limit_per_class_reads_the_first_files_of_each_class(tmp_path):
    write_tree(tmp_path, {f"{name}/{index}.png": image_bytes(COLOURS[name]) for name in ("cat", "dog") for index in range(3)})
    numpy.testing.assert_array_equal(load_image_folder(tmp_path, limit_per_class=2).labels, [0, 0, 1, 1])


def test_size_resizes_every_image_and_without_it_sizes_must_agree(tmp_path):
    write_tree(tmp_path, {"cat/a.png": image_bytes(COLOURS["cat"], size=(4, 6)), "dog/b.png": image_bytes(COLOURS["dog"], size=(9, 5))})
    assert load_image_folder(tmp_path, size=8).images.shape == (2, 8, 8, 3)
    assert load_image_folder(tmp_path, size=(3, 5), mode="stretch").images.shape == (2, 3, 5, 3)
    with pytest.raises(ValueError, match="b.png is 9×5 pixels but the images before it are 4×6; pass size="):
        load_image_folder(tmp_path)


def test_a_bad_file_is_named_in_the_error(tmp_path):
    write_tree(tmp_path, {"cat/good.png": image_bytes(COLOURS["cat"]), "cat/broken.jpg": b"\xff\xd8\xff\xe0 truncated"})
    with pytest.raises(ImageError, match=r"broken\.jpg: .*errors='skip'"):
        load_image_folder(tmp_path)


def test_errors_skip_leaves_bad_files_out_with_one_warning(tmp_path):
    write_tree(tmp_path, {"cat/good.png": image_bytes(COLOURS["cat"]), "cat/bad1.png": b"junk", "dog/bad2.gif": b"",
                          "dog/good.png": image_bytes(COLOURS["dog"])})
    with pytest.warns(UserWarning, match="skipped 2 image files") as caught:
        folder = load_image_folder(tmp_path, errors="skip")
    assert len(caught) == 1
    numpy.testing.assert_array_equal(folder.labels, [0, 1])


@pytest.mark.parametrize("arguments,error,message", [
    ({"errors": "ignore"}, ValueError, "errors must be one of"),
    ({"limit_per_class": 0}, ValueError, "limit_per_class"),
])
def test_folder_options_are_checked(tmp_path, arguments, error, message):
    write_tree(tmp_path, {"cat/a.png": image_bytes(COLOURS["cat"])})
    with pytest.raises(error, match=message):
        load_image_folder(tmp_path, **arguments)


def test_a_missing_or_classless_folder_says_what_layout_is_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="one sub-folder per class"):
        load_image_folder(tmp_path / "absent")
    with pytest.raises(ValueError, match="no class folders"):
        load_image_folder(tmp_path)


def test_an_archive_gives_one_folder_per_split_with_shared_class_names(tmp_path):
    path = tmp_path / "images.tar.gz"
    write_archive(path, {"README.md": b"# not an image", "train/dog/0.jpg": image_bytes(COLOURS["dog"], "JPEG"),
                         "train/cat/0.png": image_bytes(COLOURS["cat"]), "test/emu/0.png": image_bytes(COLOURS["emu"]),
                         "test/cat/1.png": image_bytes(COLOURS["cat"])})
    splits = load_image_archive(path)
    assert sorted(splits) == ["test", "train"]
    assert splits["train"].class_names == splits["test"].class_names == ("cat", "dog", "emu")
    numpy.testing.assert_array_equal(splits["train"].labels, [0, 1])
    numpy.testing.assert_array_equal(splits["test"].labels, [0, 2])


def test_a_file_that_is_not_an_archive_is_a_clear_error(tmp_path):
    (tmp_path / "fake.tar.gz").write_bytes(b"not a tar archive at all")
    with pytest.raises(ValueError, match="not a readable tar archive"):
        load_image_archive(tmp_path / "fake.tar.gz")


@pytest.fixture
def fake_cifar(tmp_path, monkeypatch):
    """A two-class CIFAR-10 archive laid out like the real one under a temporary SMARTMOD_DATA,
    with SMARTMOD_CACHE pointing at an empty folder; returns (archive path, cache folder)."""
    archive, cache = tmp_path / "data" / CIFAR10_ARCHIVE, tmp_path / "cache"
    write_cifar(archive, {"cat": COLOURS["cat"], "dog": COLOURS["dog"]})
    monkeypatch.setenv("SMARTMOD_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SMARTMOD_CACHE", str(cache))
    return archive, cache


def write_cifar(archive, colours: dict[str, tuple[int, int, int]]) -> None:
    files = {f"{split}/{name}/{index:04d}.jpg": image_bytes(colour, "JPEG", size=(32, 32))
             for split, count in (("train", 3), ("test", 2)) for name, colour in colours.items() for index in range(count)}
    write_archive(archive, {"README.md": b"# CIFAR-10-images", **files})


def test_cifar10_is_decoded_into_image_splits_with_class_names(fake_cifar):
    splits = load_cifar10()
    assert splits.x_train.shape == (6, 32, 32, 3) and splits.x_test.shape == (4, 32, 32, 3)
    assert splits.x_train.dtype == numpy.uint8 and splits.y_train.dtype == numpy.int64
    assert splits.class_names == ("cat", "dog")
    numpy.testing.assert_array_equal(splits.y_train, [0, 0, 0, 1, 1, 1])
    numpy.testing.assert_array_equal(splits.y_test, [0, 0, 1, 1])
    assert numpy.abs(splits.x_train[0].astype(int) - COLOURS["cat"]).max() <= 3


def test_cifar10_is_read_from_the_cache_after_the_first_time(fake_cifar, monkeypatch):
    _, cache = fake_cifar
    first = load_cifar10()
    assert [path.name for path in cache.iterdir()] == ["cifar10-jpg.npz"]  # no temporary file left behind
    with numpy.load(cache / "cifar10-jpg.npz", allow_pickle=False) as stored:
        assert "x_train" in stored.files

    def no_decoding(*arguments, **options):
        raise AssertionError("the archive was decoded again")
    monkeypatch.setattr(datasets, "load_image_archive", no_decoding)
    again = load_cifar10()
    numpy.testing.assert_array_equal(again.x_train, first.x_train)
    assert again.class_names == first.class_names


def test_a_changed_archive_is_decoded_again(fake_cifar):
    archive, _ = fake_cifar
    load_cifar10()
    status = archive.stat()
    write_cifar(archive, {"ant": (0, 0, 0), "bee": (255, 255, 0), "cow": (255, 255, 255)})
    os.utime(archive, ns=(status.st_atime_ns, status.st_mtime_ns + 10**9))
    splits = load_cifar10()
    assert splits.class_names == ("ant", "bee", "cow") and splits.x_train.shape == (9, 32, 32, 3)


def test_a_damaged_cache_file_is_rebuilt(fake_cifar):
    _, cache = fake_cifar
    first = load_cifar10()
    (cache / "cifar10-jpg.npz").write_bytes(b"PK\x03\x04 damaged")
    numpy.testing.assert_array_equal(load_cifar10().x_train, first.x_train)


def test_a_limited_read_is_cached_apart_from_the_full_one(fake_cifar):
    _, cache = fake_cifar
    limited = load_cifar10(limit_per_class=1)
    assert limited.x_train.shape == (2, 32, 32, 3) and limited.x_test.shape == (2, 32, 32, 3)
    assert load_cifar10().x_train.shape == (6, 32, 32, 3)
    assert sorted(path.name for path in cache.iterdir()) == ["cifar10-jpg-first-1-per-class.npz", "cifar10-jpg.npz"]


def test_the_real_cifar10_archive_has_ten_classes_of_rgb_32x32_images(tmp_path):
    require_data(CIFAR10_ARCHIVE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        splits = load_cifar10(limit_per_class=10, cache_dir=tmp_path)
    assert splits.class_names == CIFAR10_CLASSES
    assert splits.x_train.shape == (100, 32, 32, 3) and splits.x_test.shape == (100, 32, 32, 3)
    numpy.testing.assert_array_equal(numpy.bincount(splits.y_train), [10] * 10)
    numpy.testing.assert_array_equal(numpy.bincount(splits.y_test), [10] * 10)
    assert 0.3 < splits.x_train.mean() / 255 < 0.7, "natural photographs average a mid grey"

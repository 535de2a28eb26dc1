"""The on-disk cache of derived arrays: where it lives, and that only a matching key reads it back."""
from __future__ import annotations

from pathlib import Path

import numpy
import pytest

from smartmod.data.cache import cache_root, file_fingerprint, read_cached_arrays, write_cached_arrays


def test_cache_root_is_the_setting_or_a_folder_in_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SMARTMOD_CACHE", str(tmp_path / "elsewhere"))
    assert cache_root() == tmp_path / "elsewhere"
    monkeypatch.delenv("SMARTMOD_CACHE")
    assert cache_root() == Path.home() / ".cache" / "smartmod"


def test_arrays_come_back_only_under_the_key_they_were_written_with(tmp_path):
    path, arrays = tmp_path / "sub" / "derived.npz", {"x": numpy.arange(6).reshape(2, 3), "names": numpy.array(["a", "b"])}
    write_cached_arrays(path, arrays, {"source": "data.bin", "bytes": 10, "options": [1, 2]})
    back = read_cached_arrays(path, {"options": [1, 2], "bytes": 10, "source": "data.bin"})  # key order does not matter
    assert sorted(back) == ["names", "x"]
    numpy.testing.assert_array_equal(back["x"], arrays["x"])
    assert read_cached_arrays(path, {"source": "data.bin", "bytes": 11, "options": [1, 2]}) is None


def test_a_missing_or_unreadable_cache_file_counts_as_absent(tmp_path):
    assert read_cached_arrays(tmp_path / "absent.npz", {}) is None
    (tmp_path / "broken.npz").write_bytes(b"not a zip archive")
    assert read_cached_arrays(tmp_path / "broken.npz", {}) is None


def test_the_key_name_is_reserved(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        write_cached_arrays(tmp_path / "x.npz", {"__cache_key__": numpy.zeros(1)}, {})


def test_a_fingerprint_changes_with_the_files_size_and_time(tmp_path):
    path = tmp_path / "source.bin"
    path.write_bytes(b"abc")
    before = file_fingerprint(path)
    path.write_bytes(b"abcd")
    assert before["source"] == "source.bin" and before["bytes"] == 3
    assert file_fingerprint(path)["bytes"] == 4

"""Caches between processes: arrays come back as written, under their key only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search import cache


def test_arrays_round_trip_under_their_key(tmp_path: Path) -> None:
    folder = tmp_path / "arrays"
    arrays = {"a": np.arange(10, dtype=np.uint32), "b": np.array(["en", "sl"])}
    assert cache.write_arrays(folder, ("k", 1), arrays)
    back = cache.read_arrays(folder, ("k", 1), ("a", "b"))
    assert back is not None
    assert back["a"].tolist() == list(range(10)) and back["b"].tolist() == ["en", "sl"]
    assert cache.read_arrays(folder, ("k", 2), ("a", "b")) is None  # another key
    assert cache.read_arrays(tmp_path / "absent", ("k", 1), ("a",)) is None


def test_a_second_writer_keeps_a_good_copy_and_replaces_a_broken_one(tmp_path: Path) -> None:
    folder = tmp_path / "arrays"
    assert cache.write_arrays(folder, ("k",), {"a": np.arange(3)})
    assert cache.write_arrays(folder, ("k",), {"a": np.arange(5)})  # raced: the first stays
    assert cache.read_arrays(folder, ("k",), ("a",))["a"].tolist() == [0, 1, 2]
    (folder / "key.marshal").write_bytes(b"broken")
    assert cache.read_arrays(folder, ("k",), ("a",)) is None
    assert cache.write_arrays(folder, ("k",), {"a": np.arange(5)})
    assert cache.read_arrays(folder, ("k",), ("a",))["a"].tolist() == [0, 1, 2, 3, 4]
    assert [p.name for p in tmp_path.iterdir()] == ["arrays"]  # no temporary folders left


def test_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert not cache.write_arrays(blocker / "arrays", ("k",), {"a": np.arange(3)})

"""retrieval.files: the one helper for atomic writes and build-then-rename folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.files import atomic_write, building_dir


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.json"
    atomic_write(target, "un")
    atomic_write(target, b"deux", fsync=False)
    assert target.read_bytes() == b"deux"
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    atomic_write(target, "ancien")
    with pytest.raises(TypeError):
        atomic_write(target, 12)  # type: ignore[arg-type]
    assert target.read_text() == "ancien" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_building_dir_replaces_on_success_and_keeps_the_old_on_error(tmp_path: Path) -> None:
    target = tmp_path / "model"
    with building_dir(target) as tmp:
        (tmp / "v").write_text("1")
    with building_dir(target) as tmp:
        (tmp / "v").write_text("2")
    assert (target / "v").read_text() == "2"
    with pytest.raises(RuntimeError), building_dir(target) as tmp:
        (tmp / "v").write_text("3")
        raise RuntimeError("interrupted")
    assert (target / "v").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no half build, no old copy left

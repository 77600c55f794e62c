"""Crash-safe file writing: the one place newsbot writes a file or a folder into place.

* :func:`atomic_write` — a file is written to a hidden temporary file in the same folder,
  flushed, then renamed over the target: a reader (the indexer, the corpus watcher, another
  process) sees the old file or the new one, never half of one.
* :func:`building_dir` — a folder is built under a hidden temporary name next to its target
  and renamed into place only when the ``with`` block ends without an error; on an error the
  partial build is removed and the target is left as it was.
* :func:`replace_dir` — the final rename of such a build: the old folder (if any) is moved
  aside first (renames are atomic, a tree removal is not), then removed.

Temporary names start with ``.`` so the corpus scan and the watcher ignore them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def atomic_write(path: Path, data: str | bytes, *, fsync: bool = True) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` through a hidden temporary file and a
    rename. ``fsync=False`` skips the flush to disk, for caches whose loss only costs time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def replace_dir(tmp: Path, target: Path) -> None:
    """Rename the finished folder ``tmp`` to ``target``, replacing what was there.

    The old ``target`` is renamed aside before ``tmp`` takes its place, so at no time is
    ``target`` a half-removed tree. If another process put a folder at ``target`` in between
    (the second rename fails), the error is raised and ``tmp`` is left for the caller."""
    old: Path | None = None
    if target.exists() or target.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        with contextlib.suppress(FileNotFoundError):  # someone else moved it meanwhile
            os.rename(target, old / target.name)
    try:
        os.rename(tmp, target)
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def building_dir(target: Path) -> Iterator[Path]:
    """A fresh hidden folder next to ``target`` to build into; renamed to ``target`` (replacing
    it) when the block ends normally, removed when it raises."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        replace_dir(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["atomic_write", "building_dir", "replace_dir"]


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's content, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

"""Advisory file locks between newsbot processes (one writer at a time), through ``filelock``
(cross-platform: fcntl on POSIX, msvcrt on Windows)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


@contextlib.contextmanager
def file_lock(path: Path, *, waiting: str | None = None, timeout: float = -1) -> Iterator[None]:
    """Hold an exclusive lock on ``path``; if another process holds it, log ``waiting`` and wait
    (at most ``timeout`` seconds; -1: as long as it takes, then ``filelock.Timeout``)."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if waiting:
            log.warning("%s", waiting)
        lock.acquire(timeout=timeout)
    try:
        yield
    finally:
        lock.release()

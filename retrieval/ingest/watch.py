"""Watching the corpus folder and reindexing when articles are added, changed or removed.

:func:`watch_corpus` blocks (``newsbot reindex --watch``); :func:`awatch_corpus` is its
asyncio twin for the Discord bot, which runs the (blocking) reindex through the
``run_blocking`` function it passes in, e.g. ``lambda fn: loop.run_in_executor(pool, fn)``.
Changes are debounced: a burst of writes (``newsbot feeds`` adding twenty articles, a
``git pull``) gives one reindex once the folder has been quiet for ``watch_debounce``
seconds. Hidden and ``_``-prefixed names (such as the temporary files of atomic writes)
and files the corpus does not read are ignored. Neither function reindexes on start.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from retrieval.errors import ArticleError, NewsbotError
from retrieval.ingest.corpus import SUFFIXES
from retrieval.settings import Settings
from retrieval.types import ReindexReport

log = logging.getLogger(__name__)

OnReport = Callable[[ReindexReport], Any]
RunBlocking = Callable[[Callable[[], ReindexReport]], Awaitable[ReindexReport]]


class CorpusFilter:
    """watchfiles filter: article files of the corpus, new folders, and any removal (a folder may go)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, change: Any, path: str) -> bool:
        from watchfiles import Change

        target = Path(path)
        try:
            parts = target.relative_to(self.root).parts
        except ValueError:
            parts = (target.name,)
        if not parts or any(part.startswith((".", "_")) for part in parts):
            return False
        if change == Change.deleted or target.suffix.lower() in SUFFIXES:
            return True
        # a new folder: files written into it before it is watched raise no event of their own
        return change == Change.added and target.is_dir()


def corpus_root(settings: Settings) -> Path:
    root = settings.corpus_dir
    if not root.is_dir():
        raise ArticleError(f"corpus folder {root} does not exist: nothing to watch")
    return root.resolve()


def timings(settings: Settings) -> dict[str, int]:
    """watchfiles' ``step`` (quiet time) and ``debounce`` (longest grouping), in ms."""
    quiet = max(1, int(settings.watch.debounce * 1000))
    return {"step": quiet, "debounce": max(quiet * 10, 1600)}


def changed_files(changes: set[tuple[Any, str]]) -> list[Path] | None:
    """The article files a burst of events names, for a reindex of those alone; None when a
    folder came or went (the files of a new folder raise no event of their own; a removed
    folder takes its articles along): then the whole corpus is looked at."""
    files: list[Path] = []
    for _, path in changes:
        target = Path(path)
        if target.suffix.lower() not in SUFFIXES or target.is_dir():
            return None
        files.append(target)
    return sorted(set(files))


def describe(changes: set[tuple[Any, str]], root: Path) -> str:
    names = sorted({Path(path).name for _, path in changes})
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def watch_corpus(
    service: Any,
    settings: Settings,
    on_report: OnReport,
    stop_event: Any = None,
) -> None:
    """Reindex ``service`` after each burst of changes in the corpus, until ``stop_event`` is set
    (a ``threading.Event``) or Ctrl-C. A failed reindex is logged and watching goes on."""
    from watchfiles import watch

    root = corpus_root(settings)
    log.info("watching %s", root)
    for changes in watch(
        root,
        watch_filter=CorpusFilter(root),
        stop_event=stop_event,
        raise_interrupt=False,
        **timings(settings),  # type: ignore[arg-type]
    ):
        log.info("corpus changed (%s): reindexing", describe(changes, root))
        try:
            report = service.reindex(paths=changed_files(changes))
        except NewsbotError as exc:
            log.warning("reindexing after a change failed: %s", exc)
            continue
        on_report(report)


async def awatch_corpus(
    service: Any,
    settings: Settings,
    on_report: OnReport,
    run_blocking: RunBlocking,
    *,
    stop_event: Any = None,
) -> None:
    """Like :func:`watch_corpus`, in an asyncio task: ``run_blocking(fn)`` must run ``fn()`` off
    the event loop and return an awaitable of its result; ``on_report`` may be a coroutine
    function. Stops when ``stop_event`` (an ``asyncio.Event``) is set or the task is cancelled.
    No error ends the task: failures are logged."""
    from watchfiles import awatch

    root = corpus_root(settings)
    log.info("watching %s", root)
    async for changes in awatch(
        root,
        watch_filter=CorpusFilter(root),
        stop_event=stop_event,
        **timings(settings),  # type: ignore[arg-type]
    ):
        log.info("corpus changed (%s): reindexing", describe(changes, root))
        try:
            report = await run_blocking(functools.partial(service.reindex, paths=changed_files(changes)))
            outcome = on_report(report)
            if inspect.isawaitable(outcome):
                await outcome
        except NewsbotError as exc:
            log.warning("reindexing after a change failed: %s", exc)
        except Exception:  # a background task must not die silently
            log.exception("reindexing after a change failed")


__all__ = ["CorpusFilter", "awatch_corpus", "changed_files", "watch_corpus"]

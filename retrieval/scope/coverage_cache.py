"""The index's :class:`~retrieval.scope.coverage.Coverage`, kept on disk beside the lexicon.

Building it reads every manifest record (16.6 s at 216,461 articles: Chroma decodes each
record's metadata; a one-shot ``newsbot ask`` and a bot's start would each pay it). The cache
holds it with the index's identity and generation: the same generation is read back as is; a
later one is brought up to date with the articles committed since (``manifest(since=…)``), and
when articles were removed since, those the manifest no longer lists are dropped (its ids alone
are read: 0.7 s at 216k), then written back. A running process (a bot) brings the coverage it
holds up to date the same way but does not write it (the next process to start does). Another
or a rebuilt index builds it again from the whole manifest. A cache that cannot be read or
written only costs that time. An outlet whose last article was
removed stays in the directory (a question scoped to it finds nothing).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retrieval.files import atomic_write
from retrieval.scope.coverage import Coverage

log = logging.getLogger(__name__)

FORMAT = 2  # two JSON lines: the index's identity, generation and outlets; then the articles


def cache_path(lexicon_path: Path) -> Path:
    return lexicon_path.with_name(f"{lexicon_path.stem}.coverage-{FORMAT}.json")


def _older(lexicon_path: Path) -> list[Path]:
    """Caches in earlier formats (removed when this one is written)."""
    return [lexicon_path.with_name(f"{lexicon_path.stem}.coverage.json")]


def _read(path: Path) -> tuple[dict[str, Any], bytes] | None:
    """The cache's first line, parsed, and the rest (the articles) as read, parsed when needed: a
    question with no date or event reads the outlets alone (the file is read whole at once, so
    both parts come from the same version of it)."""
    try:
        head, _, rest = path.read_bytes().partition(b"\n")
        data = json.loads(head)
    except (OSError, ValueError):
        return None
    return (data, rest) if isinstance(data, dict) and data.get("format") == FORMAT else None


def _articles(rest: bytes, store: Any) -> Callable[[], list[list[Any]]]:
    def read() -> list[list[Any]]:
        try:
            rows = json.loads(rest)
        except ValueError:
            rows = None
        if isinstance(rows, list):
            return rows
        log.warning("the coverage cache's articles are unreadable: read from the manifest")
        return Coverage.from_entries(store.manifest().values()).articles_list()

    return read


def _compact(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def load_coverage(store: Any, current: tuple[int, Coverage] | None = None) -> tuple[int, Coverage]:
    """(the generation it reflects, the coverage) of ``store``, from the cache when it can be.
    ``current``: what this process holds already (a running bot): brought up to date without
    reading the cache (its title index extended, not rebuilt, when articles were only added)."""
    identity, generation, removed = store.state()
    path = cache_path(store.lexicon.path)
    base: Coverage | None = None
    since = -1
    if current is not None and current[1].index == identity and current[0] <= generation:
        base, since = current[1], current[0]
        if since == generation:
            return current
    else:
        cached = _read(path)
        if cached is not None and cached[0].get("index") == identity:
            head, rest = cached
            try:
                base, since = Coverage.from_dict(head["outlets"], articles=_articles(rest, store)), int(head["generation"])
            except (KeyError, TypeError, ValueError, AttributeError):
                base = None
            if base is not None and since == generation:
                base.index = identity
                return generation, base
            if since > generation:
                base = None
    held = current is not None and base is current[1]
    if base is not None and not held:  # read from the cache: its articles too are brought up to date when needed
        keep = store.article_ids if removed > since else None  # articles removed since: the others kept
        coverage = base.updated_when_read(list(store.manifest(since=since).values()), keep,
                                          then=lambda whole: _write(store, identity, generation, whole))
    elif base is not None:
        if removed > since:  # articles removed since: those the manifest no longer lists are dropped
            base = base.keeping(store.article_ids())
        # a running process brings what it holds up to date; the cache is left for the next process
        # to start (writing 16 MB of JSON at 327k articles held the GIL ~0.7 s while the bot answered)
        coverage = base.with_entries(store.manifest(since=since).values())
    else:
        coverage = Coverage.from_entries(store.manifest().values())
        _write(store, identity, generation, coverage)
    coverage.index = identity
    return generation, coverage


def _write(store: Any, identity: str, generation: int, coverage: Coverage) -> None:
    head = {"format": FORMAT, "index": identity, "generation": generation, "outlets": coverage.outlets_dict()}
    try:
        atomic_write(cache_path(store.lexicon.path), _compact(head) + "\n" + _compact(coverage.articles_list()),
                     fsync=False)
        for older in _older(store.lexicon.path):
            older.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("coverage cache not written: %s", exc)


__all__ = ["cache_path", "load_coverage"]

"""The index's :class:`~retrieval.scope.coverage.Coverage`, kept on disk beside the lexicon.

Building it reads every manifest record (seconds at 100,000 articles: a one-shot ``newsbot ask``
and a bot's start would each pay it). The cache holds it with the index's identity and
generation: the same generation is read back as is; a later one is brought up to date with
the articles committed since (``manifest(since=…)``), unless articles were removed since (then,
and for another or a rebuilt index, it is built again from the whole manifest). A cache that
cannot be read or written only costs that time.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from retrieval.files import atomic_write
from retrieval.scope.coverage import Coverage

log = logging.getLogger(__name__)

FORMAT = 1


def cache_path(lexicon_path: Path) -> Path:
    return lexicon_path.with_name(f"{lexicon_path.stem}.coverage.json")


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def load_coverage(store: Any) -> tuple[int, Coverage]:
    """(the generation it reflects, the coverage) of ``store``, from the cache when it can be."""
    identity, generation, removed = store.state()
    path = cache_path(store.lexicon.path)
    cached = _read(path)
    coverage: Coverage | None = None
    if cached is not None and cached.get("index") == identity:
        try:
            base = Coverage.from_dict(cached["coverage"])
            since = int(cached["generation"])
        except (KeyError, TypeError, ValueError):
            base, since = None, -1
        if base is not None and since == generation:
            return generation, base
        if base is not None and removed <= since < generation:
            coverage = base.with_entries(store.manifest(since=since).values())
    if coverage is None:
        coverage = Coverage.from_entries(store.manifest().values())
    data = {"format": FORMAT, "index": identity, "generation": generation, "coverage": coverage.to_dict()}
    try:
        atomic_write(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")), fsync=False)
    except OSError as exc:
        log.debug("coverage cache not written: %s", exc)
    return generation, coverage


__all__ = ["cache_path", "load_coverage"]

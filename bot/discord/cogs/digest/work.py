"""The digest cog's blocking work (run in a worker thread, never on the event loop)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from retrieval.digest.articles import window_entries
from retrieval.digest.build import build_digest, now_utc
from retrieval.digest.types import Digest
from retrieval.digest.window import Window, parse_since
from retrieval.errors import ConfigError
from retrieval.types import ArticleInfo

log = logging.getLogger(__name__)


def make_digest(service: Any, since: dt.datetime | None, source: str | None = None, language: str = "fr") -> Digest:
    """The digest of what arrived since ``since`` (from ``source`` only, when given)."""
    window = Window(since=since, sources=(source,) if source else ())
    return build_digest(service.store, service.settings, window, generator=getattr(service, "generator", None),
                        language=language)


def since_words(service: Any, text: str | None) -> dt.datetime | None:
    return parse_since(text or service.settings.digest.since, now_utc())


def arrivals_since(service: Any, since: dt.datetime) -> int:
    """Articles that arrived (were indexed) since ``since``."""
    return len(window_entries(service.store, Window(since=since)))


def run_feeds(service: Any) -> tuple[int, str]:
    """Read the feeds, then reindex when something was added: (articles added, one-line summary)."""
    from retrieval.ingest.feeds import poll_feeds

    try:
        report = poll_feeds(service.settings)
    except ConfigError as exc:
        log.warning("feeds: %s", exc)
        return 0, str(exc)
    summary = report.summary()
    if report.added:
        summary += "; " + service.reindex().summary()
    log.info("feeds: %s", summary)
    return report.added, summary


def latest_on(service: Any, topic: str | None, n: int) -> list[ArticleInfo]:
    """The newest articles; with a topic, the newest of those retrieval finds for it."""
    if not topic:
        return list(service.latest(n))
    from retrieval.digest.catalog import search_passages
    from retrieval.digest.summary import relevant_articles

    order = relevant_articles(search_passages(service.retriever, topic))
    found = service.store.entries(order)  # the records of these articles alone
    seen: dict[str, ArticleInfo] = {}
    for article_id in order:
        entry = found.get(article_id)
        if entry is not None:
            seen[entry.article_id] = ArticleInfo(entry.article_id, entry.title, entry.date, entry.url,
                                                 entry.indexed_at, entry.chunks)
    ranked = sorted(seen.values(), key=lambda a: (a.date or a.indexed_at[:10], a.indexed_at), reverse=True)
    return ranked[:n]

"""Reading RSS/Atom feeds and adding their new entries to the corpus (``newsbot feeds``).

The feeds are listed one URL per line in ``settings.feeds.file`` (blank lines and ``#``
comments are ignored). For each feed, the state file (``DATA_DIR/sources.json``, shared
with :mod:`retrieval.ingest.state`) remembers its ETag and Last-Modified (sent back as
If-None-Match / If-Modified-Since, so an unchanged feed costs a 304), the entries already
seen, and the entries still pending. New entries become pending; each run then fetches at
most ``feeds_max_per_run`` pending entries (newest first) through the same path as
``newsbot add`` — so an entry whose URL or text is already in the corpus is "known", not
added twice. An entry whose page fails is retried on later runs, up to
``feeds_max_attempts`` times.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import ConfigError, FetchError
from retrieval.ingest.collector import AddResult, Collector
from retrieval.ingest.extract import Hint
from retrieval.ingest.http import FetchedPage, HttpFetcher
from retrieval.ingest.urls import canonical_url, check_url
from retrieval.settings import Settings

log = logging.getLogger(__name__)


def read_feed_list(path: Path) -> list[str]:
    """The feed URLs of ``path``: one per line; ``#`` lines and `` # …`` tails are comments."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"no feeds file {path}: list one RSS/Atom URL per line (NEWSBOT_FEEDS_FILE)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the feeds file {path} ({exc})") from None
    urls: list[str] = []
    for line in lines:
        url = "" if line.lstrip().startswith("#") else line.split(" #", 1)[0].strip()
        if url and url not in urls:
            urls.append(url)
    return urls


@dataclass
class FeedResult:
    """What became of one feed: ``read``, ``not modified`` or ``failed``."""

    url: str
    status: str
    new_entries: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def line(self) -> str:
        if self.status == "failed":
            return f"failed feed {self.url}: {self.reason}"
        if self.status == "not modified":
            return f"feed {self.url}: not modified"
        return f"feed {self.url}: {self.new_entries} new entries"


@dataclass
class FeedsReport:
    feeds: list[FeedResult] = field(default_factory=list)
    entries: list[AddResult] = field(default_factory=list)
    deferred: int = 0

    def count(self, status: str) -> int:
        return sum(1 for result in self.entries if result.status == status)

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def failed_feeds(self) -> int:
        return sum(1 for feed in self.feeds if feed.status == "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "feeds": [feed.to_dict() for feed in self.feeds],
            "entries": [entry.to_dict() for entry in self.entries],
            "added": self.added,
            "known": self.count("known"),
            "failed": self.count("failed"),
            "failed_feeds": self.failed_feeds,
            "deferred": self.deferred,
        }

    def summary(self) -> str:
        not_modified = sum(1 for feed in self.feeds if feed.status == "not modified")
        return (
            f"{len(self.feeds)} feeds ({not_modified} not modified, {self.failed_feeds} failed); "
            f"entries: {self.added} added, {self.count('known')} already known, {self.count('failed')} failed, "
            f"{self.deferred} left for the next run"
        )


def entry_date(entry: Any) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            try:
                return dt.date(value.tm_year, value.tm_mon, value.tm_mday).isoformat()
            except (ValueError, TypeError, AttributeError):
                log.warning("feed entry %s: impossible date ignored", str(entry.get("link"))[:200])
    return None


def parse_feed(page: FetchedPage) -> list[dict[str, Any]]:
    """The entries of a feed, as pending records; a :class:`FetchError` if it is not a feed."""
    import feedparser

    parsed = feedparser.parse(
        page.content,
        response_headers={"content-location": page.final_url, "content-type": page.headers.get("content-type", "")},
    )
    records = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        records.append(
            {
                "key": str(entry.get("id") or link),
                "link": str(link),
                "title": entry.get("title"),
                "date": entry_date(entry),
                "author": entry.get("author"),
                "attempts": 0,
            }
        )
    if not records and (parsed.get("bozo") or not parsed.get("version")):
        problem = parsed.get("bozo_exception")
        detail = f": {str(problem).splitlines()[0][:120]}" if problem else ""
        raise FetchError(f"not an RSS/Atom feed{detail}")
    return records


def poll_feeds(
    settings: Settings, *, fetcher: HttpFetcher | None = None, feeds: list[str] | None = None
) -> FeedsReport:
    """Read the feeds (``settings.feeds.file`` unless given) and add their new entries."""
    urls = feeds if feeds is not None else read_feed_list(settings.feeds.file)
    report = FeedsReport()
    with Collector(settings, fetcher=fetcher) as collector:
        assert collector.fetcher is not None
        states: list[dict[str, Any]] = []
        for url in urls:
            state = collector.state.feeds.setdefault(canonical_url(url), {})
            state.setdefault("seen", {})
            state.setdefault("pending", {})
            report.feeds.append(read_one(collector.fetcher, url, state))
            states.append(state)
        collector.state.save()
        budget = settings.feeds.max_per_run
        for state in states:
            pending: dict[str, dict[str, Any]] = state["pending"]
            order = sorted(pending, key=lambda key: pending[key].get("date") or "", reverse=True)
            for key in order:
                if budget <= 0:
                    report.deferred += 1
                    continue
                budget -= 1
                record = pending[key]
                hint = Hint(title=record.get("title"), date=record.get("date"), author=record.get("author"))
                result = collector.add(record["link"], hint=hint)
                report.entries.append(result)
                record["attempts"] = int(record.get("attempts", 0)) + 1
                if result.status != "failed" or record["attempts"] >= settings.feeds.max_attempts:
                    del pending[key]
                    state["seen"][key] = result.status
                forget_oldest(state["seen"], settings.feeds.keep_seen)
            collector.state.save()
    return report


def read_one(fetcher: HttpFetcher, url: str, state: dict[str, Any]) -> FeedResult:
    """Fetch one feed (conditionally) and record its new entries as pending."""
    try:
        url = check_url(url)
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("modified"):
            headers["If-Modified-Since"] = state["modified"]
        page = fetcher.get(url, headers=headers)
        if page.status == 304:
            return FeedResult(url, "not modified")
        records = parse_feed(page)
    except FetchError as exc:
        log.info("failed feed %s: %s", url, exc)
        return FeedResult(url, "failed", reason=str(exc))
    state["etag"] = page.headers.get("etag")
    state["modified"] = page.headers.get("last-modified")
    new = 0
    for record in records:
        key = record.pop("key")
        if key in state["seen"] or key in state["pending"]:
            continue
        state["pending"][key] = record
        new += 1
    return FeedResult(url, "read", new_entries=new)


def forget_oldest(seen: dict[str, Any], keep: int) -> None:
    while len(seen) > keep:
        del seen[next(iter(seen))]


__all__ = ["FeedResult", "FeedsReport", "parse_feed", "poll_feeds", "read_feed_list"]

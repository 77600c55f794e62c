"""What a question's scope filters on: a chunk's day number and its outlet keys.

Each chunk carries, in its Chroma metadata and in the lexicon, ``day`` (its article's date as
an int ``YYYYMMDD``, so that ranges are numeric comparisons), ``outlet`` (the article's
``source`` folded) and ``host`` (its URL's host, folded). A :class:`ScopeFilter` turns a
:class:`~retrieval.types.QueryScope` into a Chroma ``where`` and an SQL condition on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from retrieval.text import fold_accents
from retrieval.types import QueryScope

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_SPACES = re.compile(r"\s+")


def day_number(date: str | None) -> int | None:
    """``"2025-08-15…"`` → ``20250815`` (None for no or an unreadable date)."""
    match = _DATE.match(date or "")
    if not match:
        return None
    return int("".join(match.groups()))


def outlet_key(name: str | None) -> str | None:
    """An outlet's name or host folded: case, accents, a leading ``www.`` and spacing."""
    if not name:
        return None
    text = fold_accents(name.strip().lower())
    if "://" in text:
        text = urlsplit(text).hostname or text
    text = text.removeprefix("www.").rstrip("/")
    text = _SPACES.sub(" ", text).strip()
    return text or None


def url_host(url: str | None) -> str | None:
    """The folded host of ``url`` (``https://www.LeMonde.fr/x`` → ``lemonde.fr``)."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return outlet_key(host)


@dataclass(frozen=True)
class ScopeFilter:
    since: int | None = None
    until: int | None = None
    outlets: tuple[str, ...] = ()

    @classmethod
    def of(cls, scope: QueryScope | None) -> ScopeFilter:
        if scope is None:
            return cls()
        outlets = tuple(sorted({key for key in (outlet_key(s) for s in scope.sources) if key}))
        return cls(day_number(scope.since), day_number(scope.until), outlets)

    @property
    def empty(self) -> bool:
        return self.since is None and self.until is None and not self.outlets

    def admits(self, day: int | None, outlet: str | None, host: str | None, *, seen: bool = False) -> bool:
        """Whether an article with this day number and outlet keys passes (what ``chroma_where`` and
        ``sql`` ask the stores, for records read otherwise, e.g. the manifest). A ``seen`` day (an
        undated article: the day newsbot first saw it) only bounds its publication from above: it
        may be before ``until`` whatever that day is, so only ``since`` can exclude it."""
        if (self.since is not None or self.until is not None) and day is None:
            return False
        if self.since is not None and day is not None and day < self.since:
            return False
        if self.until is not None and day is not None and day > self.until and not seen:
            return False
        return not self.outlets or outlet in self.outlets or host in self.outlets

    def chroma_where(self) -> dict[str, Any] | None:
        """The Chroma ``where`` of this filter (None: no filter)."""
        clauses: list[dict[str, Any]] = []
        if self.since is not None:
            clauses.append({"day": {"$gte": self.since}})
        if self.until is not None:
            # an undated article's day is when newsbot saw it: published then or before
            clauses.append({"$or": [{"day": {"$lte": self.until}}, {"date_kind": "seen"}]})
        if self.outlets:
            keys = list(self.outlets)
            clauses.append({"$or": [{"outlet": {"$in": keys}}, {"host": {"$in": keys}}]})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def sql(self) -> tuple[str, list[Any]]:
        """An SQL condition on the lexicon's ``chunks`` table (alias ``c``) and its parameters."""
        parts: list[str] = []
        params: list[Any] = []
        # written for the index on (seen, day): a range of each kind of day
        if self.since is not None and self.until is not None:
            parts.append("((c.seen = 0 AND c.day BETWEEN ? AND ?) OR (c.seen = 1 AND c.day >= ?))")
            params.extend([self.since, self.until, self.since])
        elif self.since is not None:
            parts.append("c.seen IN (0, 1) AND c.day >= ?")
            params.append(self.since)
        elif self.until is not None:
            parts.append("((c.seen = 0 AND c.day <= ?) OR c.seen = 1)")
            params.append(self.until)
        if self.outlets:
            marks = ",".join("?" * len(self.outlets))
            parts.append(f"(c.outlet IN ({marks}) OR c.host IN ({marks}))")
            params.extend(self.outlets * 2)
        return (" AND ".join(parts) or "1"), params

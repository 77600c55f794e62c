"""The window of a digest (``--since 24h``, ``--since 2025-08-15``) and outlet matching."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from retrieval.errors import InvalidQuestion
from retrieval.text import fold_accents

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|j|w|s)\s*$", re.I)
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "j": 86400, "w": 7 * 86400, "s": 7 * 86400}


@dataclass(frozen=True)
class Window:
    """Articles that arrived (were first indexed) or were published since ``since`` (None: ever),
    from the given outlets (empty: all)."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    by: Literal["arrived", "published"] = "arrived"
    sources: tuple[str, ...] = field(default_factory=tuple)


def parse_since(text: str, now: dt.datetime) -> dt.datetime | None:
    """``24h``, ``90min``, ``7d``/``7j``, ``2w``/``2s`` (weeks), ``all``, an ISO date or time, or words
    dateparser understands (``hier``, ``yesterday``, ``15 août``). Raises :class:`InvalidQuestion`."""
    value = text.strip()
    if value.lower() in {"all", "tout", "everything", ""}:
        return None
    match = _DURATION.match(value)
    if match:
        return now - dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        import dateparser

        found = dateparser.parse(
            value,
            languages=["fr", "en"],
            settings={"RELATIVE_BASE": now.replace(tzinfo=None), "PREFER_DATES_FROM": "past"},
        )
        if found is None:
            raise InvalidQuestion(
                f"cannot read {text!r} as a time: use 24h, 7d, a date (2025-08-15) or 'all'"
            ) from None
        parsed = found
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=now.tzinfo or dt.UTC)
    return parsed


def _fold(text: str) -> str:
    text = fold_accents(text.lower())
    return re.sub(r"[^a-z0-9]+", "", text)


def host_of(url: str | None) -> str:
    if not url:
        return ""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def outlet_name(source: str | None, url: str | None) -> str:
    """The outlet shown for an article: its ``source``, else its URL's host, else ``?``."""
    return (source or "").strip() or host_of(url) or "?"


def outlet_matches(wanted: str, source: str | None, url: str | None) -> bool:
    """``wanted`` names this outlet: compared with ``source`` and the URL host, tolerant to case,
    accents, punctuation and ``www.`` (``le monde`` matches ``Le Monde`` and ``lemonde.fr``)."""
    key = _fold(wanted.removeprefix("www."))
    if not key:
        return True
    host = host_of(url)
    candidates = [_fold(source or ""), _fold(host), _fold(host.rsplit(".", 1)[0]) if "." in host else ""]
    return any(c and (c == key or c.startswith(key) or key in c) for c in candidates)


def parse_stamp(value: str | None) -> dt.datetime | None:
    """An ISO date or time as an aware datetime (a date is its midnight, UTC); None if unreadable."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = dt.datetime.combine(dt.date.fromisoformat(value.strip()[:10]), dt.time())
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)

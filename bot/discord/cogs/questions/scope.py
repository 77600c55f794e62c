"""The ``/ask`` options ``source``, ``since`` and ``until`` as a :class:`QueryScope`.

Dates are read leniently: ``2025-08-14``, ``2025/08/14``, ``14/08/2025``, a month
(``2025-08``: from its first day, until its last) or a year; anything else is handed to
dateparser (French and English: « 14 août 2025 », "Aug 14, 2025", « hier »). A value that
means no date raises :class:`ScopeError` with the one line to show.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from retrieval.types import QueryScope

_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_YM = re.compile(r"(\d{4})[-/.](\d{1,2})")
_Y = re.compile(r"(\d{4})")


class ScopeError(ValueError):
    """An option cannot be understood: ``key`` names the text (texts.yaml), ``values`` fill it."""

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def parse_day(value: str, *, end: bool = False) -> str:
    """The ISO day ``value`` means; a month or a year gives its first day (its last with ``end``)."""
    text = value.strip()
    try:
        if m := _YMD.fullmatch(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        if m := _DMY.fullmatch(text):
            return dt.date(int(m[3]), int(m[2]), int(m[1])).isoformat()
        if m := _YM.fullmatch(text):
            year, month = int(m[1]), int(m[2])
            day = calendar.monthrange(year, month)[1] if end else 1
            return dt.date(year, month, day).isoformat()
        if m := _Y.fullmatch(text):
            return dt.date(int(m[1]), 12 if end else 1, 31 if end else 1).isoformat()
    except ValueError:  # 2025-02-30, month 13…
        raise ScopeError("scope_bad_date", value=value) from None
    parsed = _natural(text) if text and not text.isdigit() else None
    if parsed is None:
        raise ScopeError("scope_bad_date", value=value)
    return parsed.isoformat()


def _natural(text: str) -> dt.date | None:
    import dateparser  # a well-kept parser for « 14 août 2025 », "yesterday"… (imported only when needed)

    found = dateparser.parse(
        text, languages=["fr", "en"], settings={"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False}
    )
    return found.date() if found is not None else None


def make_scope(source: str | None = None, since: str | None = None, until: str | None = None) -> QueryScope | None:
    """The scope of the options given (None when none is)."""
    sources = tuple(part.strip() for part in (source or "").split(",") if part.strip())
    first = parse_day(since) if since and since.strip() else None
    last = parse_day(until, end=True) if until and until.strip() else None
    if first and last and first > last:
        raise ScopeError("scope_bad_range", since=first, until=last)
    if not (sources or first or last):
        return None
    return QueryScope(since=first, until=last, sources=sources)

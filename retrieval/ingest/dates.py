"""Publication dates in one form: ISO 8601 (``2025-08-15`` or ``2025-08-15T10:00:00+02:00``).

A date comes from an article's front matter, a page's metadata (trafilatura/htmldate) or a
feed entry. ISO forms are read with the standard library; anything else ("15 août 2025",
"Fri, 15 Aug 2025 10:00:00 GMT") with dateparser (French and English). A date that cannot
be read or does not exist (``2025-02-30``) is a :class:`ValueError` with the reason: the
caller drops the date with a warning and keeps the article.
"""

from __future__ import annotations

import datetime as dt
import re

_ISO_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}(?![\d])")


def iso_date(value: object) -> str:
    """``value`` as an ISO date or date-time; a :class:`ValueError` when it is none."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}"[:120])
    text = value.strip()
    if not text:
        raise ValueError("empty date")
    if _ISO_LIKE.match(text):
        try:
            if len(text) <= 10:
                return dt.date.fromisoformat(text).isoformat()
            return dt.datetime.fromisoformat(text).isoformat()
        except ValueError as exc:
            try:  # "2025-08-15 (mis à jour)": the date part alone
                day = dt.date.fromisoformat(text[:10])
            except ValueError:
                raise ValueError(f"impossible date {text[:40]!r} ({exc})") from None
            if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d", text):  # a time that does not exist
                raise ValueError(f"impossible date {text[:40]!r} ({exc})") from None
            return day.isoformat()
    return _parse_words(text)


def _parse_words(text: str) -> str:
    import dateparser

    try:
        parsed = dateparser.parse(
            text[:200],
            languages=["fr", "en"],
            settings={
                "REQUIRE_PARTS": ["month", "year"],
                "PREFER_DAY_OF_MONTH": "first",
                "PARSERS": ["timestamp", "custom-formats", "absolute-time"],  # no "demain", no "il y a 2 jours"
            },
        )
    except (ValueError, OverflowError, TypeError) as exc:
        raise ValueError(f"unreadable date {text[:40]!r} ({exc})") from None
    if parsed is None:
        raise ValueError(f"unreadable date {text[:40]!r}")
    return parsed.date().isoformat()


__all__ = ["iso_date"]

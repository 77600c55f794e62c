"""Finding the article in a web page: the one trafilatura call newsbot makes (for ``.html``
files of the corpus and for fetched pages), and the article of a fetched page."""

from __future__ import annotations

import contextlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from retrieval.errors import FetchError
from retrieval.ingest.dates import iso_date
from retrieval.ingest.http import FetchedPage
from retrieval.ingest.markdown import cap_title, clean_body
from retrieval.ingest.urls import canonical_url, site_name

log = logging.getLogger(__name__)

_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)


def extract_html(document: bytes | str, *, url: str | None = None) -> dict[str, Any] | None:
    """trafilatura's main text and metadata of ``document`` (``text``, ``title``, ``date``,
    ``author``, ``sitename``, ``url``, ``language``…), or None when it finds no article.
    trafilatura's own errors on odd markup propagate."""
    import trafilatura

    result = trafilatura.bare_extraction(
        document, url=url, with_metadata=True, include_comments=False, favor_precision=True
    )
    if result is None:
        return None
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    return dict(data)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold())


def drop_title_line(text: str, title: str) -> str:
    """``text`` without a first line that only repeats the title (an ``<h1>`` kept by extraction)."""
    first, _, rest = text.partition("\n")
    return rest.lstrip("\n") if rest.strip() and words(first) == words(title) else text


@dataclass(frozen=True)
class Extracted:
    """An article extracted from a page: front-matter fields and the main text."""

    title: str
    text: str
    url: str
    date: str | None = None
    author: str | None = None
    source: str | None = None
    language: str | None = None

    def meta(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "url": self.url,
            "author": self.author,
            "language": self.language,
        }


@dataclass(frozen=True)
class Hint:
    """What a feed entry says of its article, used when the page itself does not say it."""

    title: str | None = None
    date: str | None = None
    author: str | None = None


def published_date(url: str, *candidates: object) -> str | None:
    """The first of ``candidates`` (the page's metadata, then the feed entry's) that is a real
    date, in ISO form; the others are logged and skipped."""
    for value in candidates:
        if not value:
            continue
        try:
            return iso_date(value)
        except ValueError as exc:
            log.warning("%s: date ignored: %s", url, exc)
    return None


def extract_article(page: FetchedPage, *, min_chars: int, hint: Hint | None = None) -> Extracted:
    """The article in ``page``; a :class:`FetchError` when there is none worth keeping."""
    document: bytes | str = page.content
    if page.charset:
        with contextlib.suppress(LookupError):  # an unknown charset: let trafilatura guess
            document = page.content.decode(page.charset, errors="replace")
    try:
        data = extract_html(document, url=page.final_url) or {}
    except Exception as exc:  # trafilatura raises assorted errors on odd markup
        log.debug("trafilatura failed on %s", page.final_url, exc_info=True)
        raise FetchError(f"not an article (the page cannot be parsed: {type(exc).__name__})") from None
    text = clean_body(str(data.get("text") or ""))
    if not text:
        raise FetchError("not an article (no main text found)")
    if len(text) < min_chars:
        raise FetchError(f"not an article (main text of {len(text)} characters; at least {min_chars} needed)")
    hint = hint or Hint()
    title = cap_title(str(data.get("title") or hint.title or text.split("\n", 1)[0][:120]))
    match = _LANG.search(page.content[:20000])
    return Extracted(
        title=title,
        text=drop_title_line(text, title),
        url=canonical_url(page.final_url),
        date=published_date(page.final_url, data.get("date"), hint.date),
        author=str(data.get("author") or hint.author or "") or None,
        source=str(data.get("sitename") or site_name(page.final_url)),
        language=match.group(1).decode().lower() if match else None,
    )


__all__ = ["Extracted", "Hint", "drop_title_line", "extract_article", "extract_html"]

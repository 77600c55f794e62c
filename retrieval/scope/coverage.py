"""What the index holds that a question can refer to: its outlets and its dated articles.

Built from the index's manifest (one record per committed article: title, date, source, URL), once
per index generation. Used to resolve outlet names (« selon Le Monde »), to pick the year of « le 18 août »
(the most recent year the coverage has articles for), and to date an event named in a question
(« depuis le sommet d'Alaska ») from the titles of the articles about it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrieval.scope.outlets import OutletDirectory, fold

if TYPE_CHECKING:
    from retrieval.index.store import ManifestEntry


def parse_day(value: object) -> dt.date | None:
    """An article's date (``YYYY-MM-DD``, possibly with a time) as a day; None when absent or bad."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()[:10]
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def published_day(date: object, date_kind: object = None) -> dt.date | None:
    """The publication day, or None when the date is only the day newsbot first saw the article."""
    if date_kind == "seen":
        return None
    return parse_day(date)


@dataclass(frozen=True)
class ArticleRef:
    article_id: str
    title: str
    day: dt.date | None  # published day (None: undated, or only a "seen" date)


@dataclass(frozen=True)
class EventDate:
    """An event named in a question, dated from the coverage."""

    phrase: str
    day: dt.date
    articles: int  # dated articles whose titles name it, on that day


_WORD = re.compile(r"[^\W\d_]{3,}|\d+", re.UNICODE)
_STOP = {
    "les", "des", "une", "aux", "sur", "entre", "avec", "pour", "par", "dans", "the", "and", "with",
    "between", "for", "from", "that", "this", "son", "ses", "leur", "leurs", "their", "its", "his", "her",
}


def _terms(text: str) -> set[str]:
    """Folded words of 3+ letters (and numbers), cut to 5 characters: a crude stem good for titles
    in both languages (« sommet »/« sommets », "summit"/"summits")."""
    terms = set()
    for word in _WORD.findall(text):
        folded = fold(word)
        if folded and folded not in _STOP:
            terms.add(folded[:5])
    return terms


def _refs(rows: Iterable[list[Any]]) -> list[ArticleRef]:
    days: dict[object, dt.date | None] = {}  # articles share their days: each one parsed once
    return [
        ArticleRef(str(aid), str(title), days[day] if day in days else days.setdefault(day, parse_day(day)))
        for aid, title, day in rows
    ]


def _index_title(index: dict[str, list[int]], i: int, article: ArticleRef, copied: set[str] | None = None) -> None:
    """Add a dated article's title terms to a title index. ``copied``: the index's lists belong to
    another coverage too (a question may be reading them): a term's list is copied once before it
    is appended to, and the term noted there."""
    if article.day is not None:
        for term in _terms(article.title):
            if copied is not None and term not in copied:
                index[term] = list(index.get(term, ()))
                copied.add(term)
            index.setdefault(term, []).append(i)


class Coverage:
    """The outlets and the articles (id, title, published day) of an index. ``articles`` may be
    given as a function that reads them when first needed (a question with no date or event
    needs the outlets alone: a one-shot ask at 216k articles then skips ~0.8 s)."""

    def __init__(
        self,
        outlets: OutletDirectory | None = None,
        articles: list[ArticleRef] | Callable[[], list[ArticleRef]] | None = None,
        *,
        index: str | None = None,  # the identity of the index it describes
    ) -> None:
        self.outlets = outlets if outlets is not None else OutletDirectory()
        self._articles: list[ArticleRef] | None = None
        self._read: Callable[[], list[ArticleRef]] | None = None
        if callable(articles):
            self._read = articles
        else:
            self._articles = list(articles or [])
        self._lock = threading.Lock()
        self._title_lock = threading.Lock()  # one build: a question needing it while it is built waits
        self._title_index: dict[str, list[int]] | None = None
        self._days: list[dt.date] | None = None  # sorted
        self.index = index

    @property
    def articles(self) -> list[ArticleRef]:
        if self._articles is None:
            with self._lock:  # questions in several threads read them once
                if self._articles is None and self._read is not None:
                    self._articles = self._read()
                    self._read = None
        return self._articles if self._articles is not None else []

    @classmethod
    def from_entries(cls, entries: Iterable[ManifestEntry]) -> Coverage:
        """From the manifest's records (their ``date`` is a published one; ``seen`` is kept apart)."""
        return cls.from_metadatas(
            {"article_id": e.article_id, "title": e.title, "date": e.date, "source": e.source, "url": e.url}
            for e in entries
        )

    @classmethod
    def from_metadatas(cls, metadatas: Iterable[dict[str, object]]) -> Coverage:
        outlets = OutletDirectory()
        seen: dict[str, ArticleRef] = {}
        for meta in metadatas:
            source, url = meta.get("source"), meta.get("url")
            outlets.add(str(source) if source else None, str(url) if url else None)
            article_id = str(meta.get("article_id", ""))
            if article_id and article_id not in seen:
                seen[article_id] = ArticleRef(
                    article_id, str(meta.get("title", "")), published_day(meta.get("date"), meta.get("date_kind"))
                )
        return cls(outlets=outlets, articles=list(seen.values()))

    def _outlets_with(self, entries: Iterable[ManifestEntry]) -> OutletDirectory:
        outlets = OutletDirectory(
            keys={name: set(keys) for name, keys in self.outlets.keys.items()},
            aliases={name: set(names) for name, names in self.outlets.aliases.items()},
        )
        for e in entries:
            outlets.add(e.source, e.url)
        return outlets

    def updated_when_read(
        self, entries: list[ManifestEntry], keep: Callable[[], set[str]] | None, then: Callable[[Coverage], None]
    ) -> Coverage:
        """This coverage with ``entries`` added (and, ``keep`` given, only the articles it lists): its
        outlets now, its articles when first needed — a question with no date or event, in a fresh
        process, then reads neither the articles nor the manifest's ids. ``then`` is given the whole
        coverage once its articles are read (the cache is written then)."""

        def read() -> list[ArticleRef]:
            base = self.keeping(keep()) if keep is not None else self
            updated = base.with_entries(entries)
            then(updated)
            return updated.articles

        return Coverage(outlets=self._outlets_with(entries), articles=read, index=self.index)

    def with_entries(self, entries: Iterable[ManifestEntry]) -> Coverage:
        """This coverage with articles committed since added (or replaced, by id)."""
        entries = list(entries)
        outlets = self._outlets_with(entries)
        articles = {a.article_id: a for a in self.articles}
        replaced = False
        for e in entries:
            ref = ArticleRef(e.article_id, e.title, published_day(e.date))
            replaced = replaced or articles.get(e.article_id, ref) != ref
            articles[e.article_id] = ref
        updated = Coverage(outlets=outlets, articles=list(articles.values()))
        if self._title_index is not None and not replaced:  # only new articles: the index extended, not rebuilt
            index = dict(self._title_index)
            copied: set[str] = set()
            for i in range(len(self.articles), len(updated.articles)):
                _index_title(index, i, updated.articles[i], copied)
            updated._title_index = index
        return updated

    def keeping(self, article_ids: set[str]) -> Coverage:
        """This coverage with only these articles (the others were removed from the index)."""
        if all(a.article_id in article_ids for a in self.articles):
            return self
        return Coverage(outlets=self.outlets, articles=[a for a in self.articles if a.article_id in article_ids],
                        index=self.index)

    def outlets_dict(self) -> dict[str, object]:
        return {
            "keys": {name: sorted(keys) for name, keys in self.outlets.keys.items()},
            "aliases": {name: sorted(names) for name, names in self.outlets.aliases.items()},
        }

    def articles_list(self) -> list[list[object]]:
        return [[a.article_id, a.title, a.day.isoformat() if a.day else None] for a in self.articles]

    def to_dict(self) -> dict[str, object]:
        return {**self.outlets_dict(), "articles": self.articles_list()}

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], articles: Callable[[], list[list[Any]]] | None = None
    ) -> Coverage:
        """From :meth:`to_dict`'s data; ``articles``: a function giving :meth:`articles_list`'s, called
        when the articles are first needed (then ``data`` need not hold them)."""
        outlets = OutletDirectory(
            keys={str(name): set(keys) for name, keys in data["keys"].items()},
            aliases={str(name): set(names) for name, names in data["aliases"].items()},
        )
        if articles is None:
            return cls(outlets=outlets, articles=_refs(data["articles"]))
        read = articles
        return cls(outlets=outlets, articles=lambda: _refs(read()))

    def dated(self) -> list[dt.date]:
        """The published days of the dated articles, in order (computed once per coverage)."""
        if self._days is None:
            self._days = sorted(a.day for a in self.articles if a.day is not None)
        return self._days

    def has_articles_between(self, since: dt.date, until: dt.date) -> bool:
        days = self.dated()
        first = bisect.bisect_left(days, since)
        return first < len(days) and days[first] <= until

    def newest_day(self) -> dt.date | None:
        days = self.dated()
        return days[-1] if days else None

    def title_index(self) -> dict[str, list[int]]:
        """Each title term (see :func:`_terms`) → the dated articles whose title holds it, built once
        per coverage (a bot or the REPL builds it before questions: ``AnsweringService.warm_up``)."""
        if self._title_index is None:
            with self._title_lock:
                if self._title_index is None:
                    index: dict[str, list[int]] = {}
                    for i, article in enumerate(self.articles):
                        _index_title(index, i, article)
                    self._title_index = index
        return self._title_index

    def date_event(self, phrase: str) -> EventDate | None:
        """The day of an event named by ``phrase`` (« le sommet d'Alaska »): among dated articles whose
        title holds every word of the phrase, the day most of them were published (coverage peaks on
        the event), or, when no day has two, the median day (previews come before, analyses after).
        None when fewer than two dated articles name it: then it cannot be dated."""
        wanted = _terms(phrase)
        if not wanted:
            return None
        index = self.title_index()
        postings = sorted((index.get(term, ()) for term in wanted), key=len)
        if not postings[0]:
            return None
        common = set(postings[0]).intersection(*postings[1:])
        days = sorted(day for i in common if (day := self.articles[i].day) is not None)
        if len(days) < 2:
            return None
        counts = Counter(days)
        best = max(counts.values())
        day = min(d for d, c in counts.items() if c == best) if best >= 2 else days[(len(days) - 1) // 2]
        return EventDate(phrase=phrase, day=day, articles=counts[day])

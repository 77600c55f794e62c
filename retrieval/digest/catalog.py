"""Managing the coverage: list, show, search and remove articles (``newsbot list|show|search|rm``)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.digest.articles import load_articles, window_entries
from retrieval.digest.window import Window, outlet_matches, outlet_name
from retrieval.errors import ArticleError, NewsbotError
from retrieval.ingest.corpus import SUFFIXES, read_article

if TYPE_CHECKING:
    from retrieval.index.store import IndexStore
    from retrieval.settings import Settings
    from retrieval.types import Passage

log = logging.getLogger(__name__)


class UnknownArticle(NewsbotError):
    """No article has this id."""


@dataclass(frozen=True)
class ArticleRow:
    article_id: str
    title: str
    outlet: str
    date: str | None
    url: str | None
    indexed_at: str
    chunks: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_articles(store: IndexStore, window: Window, *, limit: int | None = None) -> list[ArticleRow]:
    """The window's articles, newest first (published date, else arrival), from their records
    alone (no chunk is read: at 1M chunks reading those of 110k articles took 90 s)."""
    rows = [
        ArticleRow(e.article_id, e.title, outlet_name(e.source, e.url), e.date, e.url, e.indexed_at, e.chunks)
        for e in window_entries(store, window)
        if not window.sources or any(outlet_matches(s, e.source, e.url) for s in window.sources)
    ]
    rows.sort(key=lambda r: (r.date or r.indexed_at[:10], r.indexed_at, r.article_id), reverse=True)
    return rows[:limit] if limit else rows


def article_files(settings: Settings, article_id: str) -> list[Path]:
    """The corpus files of ``article_id`` (its path without extension), refusing ids outside the corpus."""
    root = settings.corpus_dir.resolve()
    base = (root / article_id).resolve()
    if not base.is_relative_to(root) or base == root:
        raise UnknownArticle(f"no article {article_id!r} in the corpus")
    return [p for suffix in SUFFIXES if (p := base.with_name(base.name + suffix)).is_file()]


@dataclass
class ArticleView:
    row: ArticleRow | None
    title: str
    outlet: str
    date: str | None
    url: str | None
    text: str
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["row"] = self.row.to_dict() if self.row else None
        return data


def show_article(store: IndexStore, settings: Settings, article_id: str) -> ArticleView:
    """An article: its index record and its text (from the corpus file, else from the index)."""
    entry = store.entries([article_id]).get(article_id)  # its record alone, not the whole manifest
    files = article_files(settings, article_id)
    if entry is None and not files:
        raise UnknownArticle(f"no article {article_id!r}: see `newsbot list`")
    row = None
    text = ""
    source: str | None = None
    if entry is not None:
        loaded = load_articles(store, [entry], vectors=False)
        if loaded:
            article = loaded[0]
            row = ArticleRow(article.article_id, article.title, article.outlet, article.date, article.url,
                             article.indexed_at, len(article.chunks))
            source = article.source
            text = article.text
    title, date, url = (entry.title, entry.date, entry.url) if entry else (article_id, None, None)
    if files:
        try:
            parsed = read_article(files[0], article_id)
            title, date, url, source, text = parsed.title, parsed.date, parsed.url, parsed.source, parsed.text
        except ArticleError as exc:
            log.info("cannot read %s: %s", files[0], exc)
    return ArticleView(row=row, title=title, outlet=outlet_name(source, url), date=date, url=url, text=text,
                       files=[str(p) for p in files])


def remove_article(store: IndexStore, settings: Settings, article_id: str) -> list[str]:
    """Delete the article's files and its index entries; the paths removed."""
    files = article_files(settings, article_id)
    indexed = article_id in store.entries([article_id])
    if not files and not indexed:
        raise UnknownArticle(f"no article {article_id!r}: see `newsbot list`")
    for path in files:
        path.unlink()
    if indexed:
        store.remove_articles([article_id])
    return [str(p) for p in files]


def search_passages(retriever: Any, terms: str) -> list[Passage]:
    """The passages retrieval finds for ``terms`` (no answer is composed)."""
    passages, _ = retriever.passages(terms)
    return list(passages)

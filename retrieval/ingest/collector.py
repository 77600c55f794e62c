"""Adding pages to the corpus (``newsbot add``, and the feeds' entries).

A page is downloaded (:mod:`~retrieval.ingest.http`), its article extracted
(:mod:`~retrieval.ingest.extract`) and written atomically as ``corpus/<site>/<slug>.md``
in the corpus's Markdown format, unless the corpus already holds it — the same URL or the
same text (:mod:`~retrieval.ingest.state`). The indexer and the watcher never see half an
article (:func:`retrieval.files.atomic_write`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from retrieval.errors import FetchError
from retrieval.files import atomic_write
from retrieval.ingest.corpus import article_id_for
from retrieval.ingest.extract import Extracted, Hint, extract_article
from retrieval.ingest.http import HTML_TYPES, HttpFetcher
from retrieval.ingest.markdown import render_markdown
from retrieval.ingest.state import STATE_FILE, SourceState, file_entry, state_lock, text_fingerprint
from retrieval.ingest.urls import check_url, site_name, slugify
from retrieval.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AddResult:
    """What became of one URL: ``added``, ``known`` (already in the corpus) or ``failed``."""

    url: str
    status: str
    article_id: str | None = None
    title: str | None = None
    reason: str | None = None
    path: Path | None = None  # the file written (for a reindex of the new files alone)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "path"}

    def line(self) -> str:
        if self.status == "added":
            return f"added {self.article_id}: {self.title} ({self.url})"
        if self.status == "known":
            return f"known {self.url}: {self.reason}"
        return f"failed {self.url}: {self.reason}"


class Collector:
    """Adds pages to the corpus, with the state locked and loaded; use as a context manager."""

    def __init__(self, settings: Settings, *, fetcher: HttpFetcher | None = None) -> None:
        self.settings = settings
        self._own_fetcher = fetcher is None
        self.fetcher = fetcher
        self._lock: contextlib.ExitStack | None = None
        self.state = SourceState(settings.data_dir / STATE_FILE)

    def __enter__(self) -> Collector:
        stack = contextlib.ExitStack()
        stack.enter_context(state_lock(self.settings))
        self._lock = stack
        self.state = SourceState.load(self.settings)
        self.state.sync(self.settings.corpus_dir)
        if self.fetcher is None:
            self.fetcher = HttpFetcher(self.settings)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.state.save()
        finally:
            if self._own_fetcher and self.fetcher is not None:
                self.fetcher.close()
                self.fetcher = None
            if self._lock is not None:
                self._lock.close()
                self._lock = None

    def add(self, url: str, *, hint: Hint | None = None) -> AddResult:
        """Fetch ``url`` and write its article, unless it is already in the corpus."""
        try:
            return self._add(check_url(url), hint)
        except FetchError as exc:
            log.info("failed %s: %s", url, exc)
            return AddResult(url=url, status="failed", reason=str(exc))

    def _add(self, url: str, hint: Hint | None) -> AddResult:
        known = self.state.find_url(url)
        if known:
            return AddResult(url, "known", known, reason=f"same URL as {known}")
        assert self.fetcher is not None, "use Collector as a context manager"
        page = self.fetcher.get(url, accept=HTML_TYPES)
        urls = [url, page.final_url]
        known = self.state.find_url(page.final_url)
        if known:
            self.state.remember(known, urls)
            return AddResult(url, "known", known, reason=f"redirects to the URL of {known}")
        article = extract_article(page, min_chars=self.settings.article_min_chars, hint=hint)
        fingerprint = text_fingerprint(article.text, article.title)
        known = self.state.find_text(fingerprint)
        if known:
            self.state.remember(known, urls)
            return AddResult(url, "known", known, reason=f"same text as {known}")
        path = self._target(article)
        atomic_write(path, render_markdown(article.meta(), article.text))
        corpus = self.settings.corpus_dir
        article_id = article_id_for(path, corpus)
        self.state.remember(article_id, [*urls, article.url], file_entry(path, corpus, fingerprint, article.url))
        self.state.save()  # after each article: a crash later loses nothing
        log.info("added %s from %s", article_id, url)
        return AddResult(url, "added", article_id, title=article.title, path=path)

    def _target(self, article: Extracted) -> Path:
        folder = self.settings.corpus_dir / site_name(article.url)
        slug = slugify(article.title) or slugify(urlsplit(article.url).path) or "article"
        path = folder / f"{slug}.md"
        if not path.exists():
            return path
        tag = hashlib.sha256(article.url.encode()).hexdigest()[:8]
        path = folder / f"{slug}-{tag}.md"
        n = 2
        while path.exists():
            path = folder / f"{slug}-{tag}-{n}.md"
            n += 1
        return path


def add_urls(settings: Settings, urls: list[str], *, fetcher: HttpFetcher | None = None) -> list[AddResult]:
    """Add each URL's article to the corpus; one result per URL, in order."""
    with Collector(settings, fetcher=fetcher) as collector:
        return [collector.add(url) for url in urls]


__all__ = ["AddResult", "Collector", "add_urls"]

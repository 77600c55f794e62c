"""What the corpus holds, by URL and by text: ``DATA_DIR/sources.json``.

URLs are canonicalised and mapped to the article they produced; each article's text has a
fingerprint, so the same article at another URL is recognised. The feeds' state lives in
the same file (see :mod:`retrieval.ingest.feeds`). The maps are reconciled with the corpus
on every run, so an article removed by hand can be added again, and a lost state file is
rebuilt from the articles' front matter.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import ArticleError
from retrieval.files import atomic_write
from retrieval.ingest.corpus import article_id_for, iter_article_files, read_article
from retrieval.ingest.extract import drop_title_line, words
from retrieval.ingest.markdown import clean_body
from retrieval.ingest.urls import canonical_url
from retrieval.locks import file_lock
from retrieval.settings import Settings

log = logging.getLogger(__name__)

STATE_FILE = "sources.json"
LOCK_FILE = "sources.lock"
STATE_VERSION = 1


def text_fingerprint(text: str, title: str = "") -> str:
    """A hash of an article's words, blind to case, punctuation, spacing, Markdown marks and a
    leading line repeating the title."""
    found = words(drop_title_line(clean_body(text), title))
    return hashlib.sha256(" ".join(found).encode()).hexdigest()[:24]


@contextlib.contextmanager
def state_lock(settings: Settings) -> Iterator[None]:
    """One writer of the sources state at a time (``add`` and ``feeds`` may run together)."""
    with file_lock(settings.data_dir / LOCK_FILE):
        yield


def file_entry(path: Path, corpus_dir: Path, fingerprint: str, url: str | None) -> dict[str, Any]:
    """The state's record of an article file (its stat says when it must be read again)."""
    stat = path.stat()
    return {
        "fingerprint": fingerprint,
        "url": url,
        "file": path.relative_to(corpus_dir).as_posix(),
        "mtime_ns": stat.st_mtime_ns,
        "size": stat.st_size,
    }


@dataclass
class SourceState:
    """The JSON state file: URL → article id, article → fingerprint, and the feeds' state."""

    path: Path
    urls: dict[str, str] = field(default_factory=dict)
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    feeds: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings) -> SourceState:
        path = settings.data_dir / STATE_FILE
        state = cls(path)
        if not path.exists():
            return state
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            # the corpus is the truth for articles; only the feeds' memory is lost
            log.warning("%s is unreadable (%s); rebuilding it from the corpus", path, exc)
            return state
        state.urls = {str(k): str(v) for k, v in (data.get("urls") or {}).items()}
        state.articles = dict(data.get("articles") or {})
        state.feeds = dict(data.get("feeds") or {})
        return state

    def save(self) -> None:
        data = {"version": STATE_VERSION, "urls": self.urls, "articles": self.articles, "feeds": self.feeds}
        atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n")

    def sync(self, corpus_dir: Path) -> None:
        """Bring the article maps in line with the files actually in the corpus."""
        present: dict[str, dict[str, Any]] = {}
        if corpus_dir.is_dir():
            for path in iter_article_files(corpus_dir):
                article_id = article_id_for(path, corpus_dir)
                try:
                    stat = path.stat()
                except OSError:
                    continue
                cached = self.articles.get(article_id)
                if cached and cached.get("mtime_ns") == stat.st_mtime_ns and cached.get("size") == stat.st_size:
                    present[article_id] = cached
                    continue
                try:
                    article = read_article(path, article_id)
                    entry = file_entry(
                        path,
                        corpus_dir,
                        text_fingerprint(article.text, article.title),
                        canonical_url(article.url) if article.url else None,
                    )
                except (ArticleError, OSError):
                    continue
                present[article_id] = entry
        self.articles = present
        self.urls = {url: aid for url, aid in self.urls.items() if aid in present}
        for aid, entry in present.items():
            if entry.get("url"):
                self.urls.setdefault(entry["url"], aid)

    def find_url(self, url: str) -> str | None:
        return self.urls.get(canonical_url(url))

    def find_text(self, fingerprint: str) -> str | None:
        for aid, entry in self.articles.items():
            if entry.get("fingerprint") == fingerprint:
                return aid
        return None

    def remember(self, article_id: str, urls: list[str], entry: dict[str, Any] | None = None) -> None:
        for url in urls:
            self.urls[canonical_url(url)] = article_id
        if entry is not None:
            self.articles[article_id] = entry


__all__ = ["STATE_FILE", "SourceState", "file_entry", "state_lock", "text_fingerprint"]

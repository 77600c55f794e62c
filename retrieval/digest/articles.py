"""The articles of a window, read from the index: metadata, chunk texts and chunk vectors.

Only committed articles are read (manifest record and chunks of the same content hash). The
vectors are those the index already holds (read through the vector store's ``get``): building
a digest embeds nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retrieval.digest.window import Window, outlet_matches, outlet_name, parse_stamp
from retrieval.index.indexer import passage_text
from retrieval.index.store import ManifestEntry, translate_store_errors

if TYPE_CHECKING:
    import numpy as np

    from retrieval.index.store import IndexStore

_GROUP = 500  # article ids per read


@dataclass
class ChunkText:
    chunk_id: str
    position: int
    text: str


@dataclass
class DigestArticle:
    """One article of the window."""

    article_id: str
    title: str
    date: str | None
    url: str | None
    source: str | None
    indexed_at: str
    chunks: list[ChunkText] = field(default_factory=list)
    vectors: list[Any] = field(default_factory=list)  # the chunks' vectors (numpy rows), in order

    @property
    def outlet(self) -> str:
        return outlet_name(self.source, self.url)

    @property
    def text(self) -> str:
        return "\n\n".join(c.text for c in self.chunks)

    @functools.cached_property
    def mentions(self) -> frozenset[str]:
        """The names, figures and dates of the title and the opening of the text."""
        return _mentions(self.title, tuple(c.chunk_id for c in self.chunks), self.text)

    def arrived(self) -> dt.datetime | None:
        return parse_stamp(self.indexed_at)

    def published(self) -> dt.datetime | None:
        return parse_stamp(self.date)

    def when(self) -> dt.datetime:
        """For ordering by recency: the published date, else the arrival."""
        return self.published() or self.arrived() or dt.datetime.min.replace(tzinfo=dt.UTC)

    def vector(self) -> np.ndarray:
        """The mean of the article's chunk vectors, normalised."""
        import numpy as np

        if not self.vectors:
            return np.zeros(1, dtype=np.float32)
        matrix = np.asarray(self.vectors, dtype=np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
        mean = matrix.mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-9)


_MENTIONS: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}
_MENTIONS_MAX = 20_000


def _mentions(title: str, chunk_ids: tuple[str, ...], text: str) -> frozenset[str]:
    """An article version's mentions (its chunk ids carry its content hash), computed once per process."""
    from retrieval.digest.names import mentions

    key = (title, chunk_ids)
    found = _MENTIONS.get(key)
    if found is None:
        if len(_MENTIONS) >= _MENTIONS_MAX:
            _MENTIONS.clear()
        found = _MENTIONS[key] = frozenset(mentions(f"{title}.\n{text}"))
    return found


def in_window(entry: ManifestEntry, window: Window) -> bool:
    stamp = parse_stamp(entry.date) if window.by == "published" else parse_stamp(entry.indexed_at)
    if window.since is None and window.until is None:
        return True
    if stamp is None:
        return False
    if window.since is not None and stamp < window.since:
        return False
    return window.until is None or stamp <= window.until


def window_entries(store: IndexStore, window: Window) -> list[ManifestEntry]:
    """The manifest records of the window (metadata only; no chunk is read): those
    :meth:`IndexStore.window` reads for its bounds, else (no bound, or an index whose records have
    no arrival key yet) every record."""
    found = None
    if window.since is not None or window.until is not None:
        found = store.window(window.since, window.until, published=window.by == "published")
    entries = found if found is not None else store.manifest()
    return [entry for entry in entries.values() if in_window(entry, window)]


def _get(vectors: Any, *, where: dict[str, Any], include: list[str]) -> Any:
    return vectors.get(where=where, include=include)


def _embedded_anew(store: IndexStore, where: dict[str, Any]) -> Any:
    """The chunks with vectors computed again from their stored texts: another process wrote them
    since this one opened the index, and this one cannot read their vectors (see
    :meth:`~retrieval.index.store.IndexStore.read_vectors`)."""
    page = _get(store.vectors, where=where, include=["metadatas", "documents"])
    texts = [doc or "" for doc in page.get("documents") or []]
    return {**page, "embeddings": store.embeddings.embed_documents(texts) if texts else []}


def load_articles(
    store: IndexStore, entries: list[ManifestEntry], *, sources: tuple[str, ...] = (), vectors: bool = True
) -> list[DigestArticle]:
    """The articles of ``entries`` with their chunks (and vectors), restricted to ``sources``."""
    by_id = {entry.article_id: entry for entry in entries}
    articles: dict[str, DigestArticle] = {}
    ids = sorted(by_id)
    include = ["metadatas", "documents", "embeddings"] if vectors else ["metadatas", "documents"]
    with translate_store_errors(store.settings):
        for start in range(0, len(ids), _GROUP):
            part = ids[start:start + _GROUP]
            where: dict[str, Any] = {"article_id": part[0]} if len(part) == 1 else {"article_id": {"$in": part}}
            page = store.read_vectors(
                functools.partial(_get, where=where, include=include),
                fallback=functools.partial(_embedded_anew, store, where) if vectors else None,
            )
            embeddings = page.get("embeddings")
            for i, chunk_id in enumerate(page["ids"]):
                meta = page["metadatas"][i] or {}
                entry = by_id.get(str(meta.get("article_id")))
                if entry is None or entry.article_hash != meta.get("article_hash"):
                    continue  # a chunk of another version, not committed
                article = articles.get(entry.article_id)
                if article is None:
                    article = DigestArticle(
                        article_id=entry.article_id, title=entry.title, date=entry.date or meta.get("date"),
                        url=entry.url or meta.get("url"), source=meta.get("source"), indexed_at=entry.indexed_at,
                    )
                    articles[entry.article_id] = article
                text = passage_text(page["documents"][i] or "", str(meta.get("title", "")))
                article.chunks.append(ChunkText(chunk_id, int(meta.get("position", 0)), text))
                if vectors and embeddings is not None:
                    article.vectors.append(embeddings[i])
    found = []
    for article in articles.values():
        order = sorted(range(len(article.chunks)), key=lambda k: article.chunks[k].position)
        article.chunks = [article.chunks[k] for k in order]
        if article.vectors:
            article.vectors = [article.vectors[k] for k in order]
        if sources and not any(outlet_matches(s, article.source, article.url) for s in sources):
            continue
        found.append(article)
    return sorted(found, key=lambda a: a.article_id)


def window_articles(store: IndexStore, window: Window, *, vectors: bool = True) -> list[DigestArticle]:
    return load_articles(store, window_entries(store, window), sources=window.sources, vectors=vectors)

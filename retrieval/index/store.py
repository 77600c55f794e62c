"""The Chroma index: chunks (through langchain-chroma) and a manifest of committed articles.

An article is visible to answering only once its manifest record exists with the same
content hash as its chunks. Writing an article therefore goes: upsert its chunks (ids are
deterministic, so a repeated write replaces, never duplicates), then write its manifest
record (one upsert: the switch), then delete chunks of older versions. A run killed at any
point leaves either the old version or the new one visible, and the next run cleans up.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from retrieval.errors import (
    DiskFull,
    IndexMismatch,
    IndexMissing,
    NewsbotError,
    StoreUnavailable,
    is_disk_full,
)
from retrieval.settings import Settings
from retrieval.types import ArticleInfo, Chunk

log = logging.getLogger(__name__)

SCHEMA = 1
_PAGE = 2000


@dataclass(frozen=True)
class ManifestEntry:
    article_id: str
    article_hash: str
    title: str
    date: str | None
    url: str | None
    chunks: int
    indexed_at: str


@contextlib.contextmanager
def translate_store_errors(settings: Settings) -> Iterator[None]:
    """Turn Chroma and connection errors into newsbot errors with one clear line."""
    try:
        yield
    except NewsbotError:
        raise
    except Exception as exc:
        name = type(exc).__name__
        text = str(exc).lower()
        log.debug("chroma error", exc_info=True)
        if is_disk_full(exc):  # not damage: what is committed stays readable
            raise DiskFull.at(settings.index_path) from None
        if settings.server_mode and (
            "connect" in text or "connection" in name.lower() or "timeout" in text or "refused" in text
        ):
            raise StoreUnavailable(
                f"index unavailable: the Chroma server at {settings.chroma.host}:{settings.chroma.port} "
                "cannot be reached"
            ) from None
        if "does not exist" in text or "notfound" in name.lower():
            raise IndexMissing("no index yet: run `newsbot reindex` first") from None
        raise StoreUnavailable(
            f"index unavailable ({name}); if the folder {settings.index_path} is damaged, "
            "run `newsbot reindex --rebuild`"
        ) from None


def make_client(settings: Settings, *, create: bool) -> Any:
    """A Chroma client: HTTP when a server is configured, else embedded and persistent."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    with translate_store_errors(settings):
        if settings.server_mode:
            client = chromadb.HttpClient(
                host=settings.chroma.host or "127.0.0.1", port=settings.chroma.port, settings=chroma_settings
            )
            client.heartbeat()
            return client
        path = settings.index_path
        if not create and not (path / "chroma.sqlite3").exists():
            raise IndexMissing("no index yet: run `newsbot reindex` (or `newsbot chat`, which builds it)")
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class IndexStore:
    """The chunks collection and the manifest collection of one index."""

    def __init__(self, client: Any, embeddings: Any, settings: Settings) -> None:
        self.client = client
        self.embeddings = embeddings
        self.settings = settings
        self.chunks_name = settings.collection
        self.manifest_name = f"{settings.collection}-articles"
        self._vectorstore: Any = None

    # -- opening -----------------------------------------------------------------------
    def fingerprint(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "embedding_model": self.settings.embedding.model}

    def open(self, *, create: bool) -> IndexStore:
        """Open (or create) the collections; refuse an index built by another model."""
        with translate_store_errors(self.settings):
            try:
                manifest = self.client.get_collection(self.manifest_name)
            except Exception as exc:
                if not create:
                    if "does not exist" in str(exc).lower() or "notfound" in type(exc).__name__.lower():
                        raise IndexMissing("no index yet: run `newsbot reindex` first") from None
                    raise
                manifest = self.client.create_collection(
                    self.manifest_name,
                    metadata={**self.fingerprint(), "generation": 0, "dirty": False},
                    embedding_function=None,
                )
            meta = manifest.metadata or {}
            built_with = meta.get("embedding_model")
            if built_with != self.settings.embedding.model or meta.get("schema") != SCHEMA:
                raise IndexMismatch(
                    f"the index was built with embedding model {built_with!r}, not "
                    f"{self.settings.embedding.model!r}: run `newsbot reindex --rebuild`"
                )
            self._manifest = manifest
            from langchain_chroma import Chroma

            self._vectorstore = Chroma(
                collection_name=self.chunks_name,
                embedding_function=self.embeddings,
                client=self.client,
                collection_configuration={"hnsw": {"space": "cosine"}},
                create_collection_if_not_exists=True,
            )
        return self

    @property
    def vectorstore(self) -> Any:
        if self._vectorstore is None:
            raise IndexMissing("the index is not open")
        return self._vectorstore

    def drop(self) -> None:
        """Delete both collections (``--rebuild``)."""
        with translate_store_errors(self.settings):
            for name in (self.chunks_name, self.manifest_name):
                with contextlib.suppress(Exception):
                    self.client.delete_collection(name)
        self._vectorstore = None

    # -- manifest ----------------------------------------------------------------------
    def generation(self) -> int:
        with translate_store_errors(self.settings):
            meta = self.client.get_collection(self.manifest_name).metadata or {}
        return int(meta.get("generation", 0))

    def _bump_generation(self) -> None:
        meta = dict(self.client.get_collection(self.manifest_name).metadata or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        self._manifest.modify(metadata=meta)

    def manifest(self) -> dict[str, ManifestEntry]:
        with translate_store_errors(self.settings):
            entries: dict[str, ManifestEntry] = {}
            offset = 0
            while True:
                page = self._manifest.get(include=["metadatas"], limit=_PAGE, offset=offset)
                for article_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                    entries[article_id] = ManifestEntry(
                        article_id=article_id,
                        article_hash=str(meta["article_hash"]),
                        title=str(meta.get("title", article_id)),
                        date=meta.get("date"),
                        url=meta.get("url"),
                        chunks=int(meta.get("chunks", 0)),
                        indexed_at=str(meta.get("indexed_at", "")),
                    )
                if len(page["ids"]) < _PAGE:
                    return entries
                offset += _PAGE

    def latest(self, n: int) -> list[ArticleInfo]:
        entries = sorted(
            self.manifest().values(), key=lambda e: (e.date or "", e.indexed_at), reverse=True
        )
        return [
            ArticleInfo(e.article_id, e.title, e.date, e.url, e.indexed_at, e.chunks) for e in entries[:n]
        ]

    # -- writing -----------------------------------------------------------------------
    def write_article(self, chunks: list[Chunk], texts: list[str], embeddings: list[list[float]]) -> None:
        """Upsert one article's chunks, then commit it in the manifest, then drop old versions."""
        self.write_articles([(chunks, texts, embeddings)], replaced={chunks[0].article_id})

    def write_articles(
        self,
        items: list[tuple[list[Chunk], list[str], list[list[float]]]],
        *,
        replaced: set[str] | None = None,
    ) -> None:
        """Write several articles at once, in the same order as :meth:`write_article`.

        Every chunk is upserted first, then all the articles' manifest records (the switch),
        then the generation is bumped once, then the chunks of older versions of the
        articles in ``replaced`` are deleted (``None``: of every article written). A run
        killed before the switch leaves chunks no record commits: never visible, and
        removed by :meth:`remove_orphans`.
        """
        items = [item for item in items if item[0]]
        if not items:
            return
        with translate_store_errors(self.settings):
            collection = self.vectorstore._collection
            ids: list[str] = []
            documents: list[str] = []
            vectors: list[list[float]] = []
            metadatas: list[dict[str, Any]] = []
            for chunks, texts, embeddings in items:
                ids.extend(c.id for c in chunks)
                documents.extend(texts)
                vectors.extend(embeddings)
                metadatas.extend(c.metadata() for c in chunks)
            step = self._max_batch()
            for start in range(0, len(ids), step):
                end = start + step
                collection.upsert(
                    ids=ids[start:end], documents=documents[start:end],
                    embeddings=vectors[start:end], metadatas=metadatas[start:end],
                )
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            records: list[dict[str, Any]] = []
            for chunks, _, _ in items:
                first = chunks[0]
                meta: dict[str, Any] = {
                    "article_hash": first.article_hash,
                    "title": first.title,
                    "chunks": len(chunks),
                    "indexed_at": now,
                }
                if first.date:
                    meta["date"] = first.date
                if first.url:
                    meta["url"] = first.url
                records.append(meta)
            article_ids = [chunks[0].article_id for chunks, _, _ in items]
            self._manifest.upsert(
                ids=article_ids,
                documents=[str(meta["title"]) for meta in records],
                metadatas=records,
                embeddings=[[1.0]] * len(records),
            )
            self._bump_generation()
            stale = [(chunks[0].article_id, chunks[0].article_hash) for chunks, _, _ in items
                     if replaced is None or chunks[0].article_id in replaced]
            for article_id, article_hash in stale:
                collection.delete(
                    where={"$and": [{"article_id": article_id}, {"article_hash": {"$ne": article_hash}}]}
                )
        log.debug("committed %d articles (%d chunks)", len(items), len(ids))

    def _max_batch(self) -> int:
        try:
            return max(1, int(self.client.get_max_batch_size()))
        except Exception:
            return 1000

    # -- the "dirty" mark: set while a run writes, cleared when it has finished cleanly ----
    def is_dirty(self) -> bool:
        with translate_store_errors(self.settings):
            meta = self.client.get_collection(self.manifest_name).metadata or {}
        return bool(meta.get("dirty", True))  # an index from before the mark: assume the worst

    def set_dirty(self, dirty: bool) -> None:
        with translate_store_errors(self.settings):
            meta = dict(self.client.get_collection(self.manifest_name).metadata or {})
            if bool(meta.get("dirty", not dirty)) == dirty:
                return
            meta["dirty"] = dirty
            self._manifest.modify(metadata=meta)

    def remove_article(self, article_id: str) -> None:
        self.remove_articles([article_id])

    def remove_articles(self, article_ids: list[str]) -> None:
        """Uncommit the articles (one manifest delete), then delete their chunks."""
        if not article_ids:
            return
        with translate_store_errors(self.settings):
            for start in range(0, len(article_ids), _PAGE):
                self._manifest.delete(ids=article_ids[start:start + _PAGE])
            self._bump_generation()
            for start in range(0, len(article_ids), _PAGE):
                part = article_ids[start:start + _PAGE]
                self.vectorstore._collection.delete(
                    where={"article_id": part[0]} if len(part) == 1 else {"article_id": {"$in": part}}
                )

    def remove_orphans(self, manifest: dict[str, ManifestEntry]) -> int:
        """Delete chunks no manifest record commits (left by an interrupted run)."""
        with translate_store_errors(self.settings):
            collection = self.vectorstore._collection
            orphans: list[str] = []
            offset = 0
            while True:
                page = collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
                for chunk_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                    entry = manifest.get(str(meta.get("article_id")))
                    if entry is None or entry.article_hash != meta.get("article_hash"):
                        orphans.append(chunk_id)
                if len(page["ids"]) < _PAGE:
                    break
                offset += _PAGE
            for start in range(0, len(orphans), _PAGE):
                collection.delete(ids=orphans[start:start + _PAGE])
            return len(orphans)

    def count(self) -> int:
        with translate_store_errors(self.settings):
            return int(self.vectorstore._collection.count())

    # -- reading -----------------------------------------------------------------------
    def committed_chunks(self) -> tuple[int, list[str], list[str], list[dict[str, Any]]]:
        """(generation, ids, documents, metadatas) of every committed chunk."""
        generation = self.generation()
        ids, docs, metas = self.chunks_of(self.manifest(), None)
        return generation, ids, docs, metas

    def chunks_of(
        self, manifest: dict[str, ManifestEntry], article_ids: list[str] | None
    ) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """(ids, documents, metadatas) of the committed chunks of these articles (None: all)."""
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        with translate_store_errors(self.settings):
            collection = self.vectorstore._collection
            if article_ids is None:
                groups: list[dict[str, Any] | None] = [None]
            else:
                groups = [
                    {"article_id": {"$in": article_ids[i:i + _PAGE]}} for i in range(0, len(article_ids), _PAGE)
                ]
            for where in groups:
                offset = 0
                while True:
                    page = collection.get(
                        where=where, include=["metadatas", "documents"], limit=_PAGE, offset=offset
                    )
                    for chunk_id, doc, meta in zip(page["ids"], page["documents"] or [], page["metadatas"] or [], strict=False):
                        entry = manifest.get(str(meta.get("article_id")))
                        if entry is not None and entry.article_hash == meta.get("article_hash"):
                            ids.append(chunk_id)
                            docs.append(doc)
                            metas.append(dict(meta))
                    if len(page["ids"]) < _PAGE:
                        break
                    offset += _PAGE
        return ids, docs, metas

    def dense_search(self, query_vector: list[float], k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``k`` nearest chunks."""
        with translate_store_errors(self.settings):
            collection = self.vectorstore._collection
            n = min(k, max(1, collection.count()))
            result = collection.query(query_embeddings=[query_vector], n_results=n, include=["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=False)]


def wipe_local_index(settings: Settings) -> None:
    """Remove the embedded index folder (for ``--rebuild`` of a damaged index)."""
    if not settings.server_mode and settings.index_path.exists():
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # chroma keeps one system per path in a process
        shutil.rmtree(settings.index_path)

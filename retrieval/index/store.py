"""The index: chunk vectors and a manifest of committed articles in Chroma, and the lexical index.

This is the only module that talks to Chroma (through chromadb's own API). An article is
visible to answering only once its manifest record exists with the same content hash as
its chunks. Writing articles goes through named phases (:meth:`IndexStore.write_articles`):

1. ``stage_vectors``: upsert the chunks with their vectors (ids are deterministic, so a
   repeated write replaces, never duplicates);
2. ``stage_lexical``: add the chunks to the lexical index (:mod:`retrieval.index.lexicon`);
3. ``switch``: upsert the articles' manifest records, then bump the index generation;
4. ``clean_up``: delete the chunks (vectors and lexical entries) of older versions.

A run killed at any point leaves either the old version or the new one visible: answering
checks every candidate against the manifest, and the next run cleans up what no record commits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from retrieval.errors import (
    DiskFull,
    IndexMismatch,
    IndexMissing,
    NewsbotError,
    StoreUnavailable,
    is_disk_full,
)
from retrieval.index.lexicon import LexicalRow, Lexicon
from retrieval.index.scope import ScopeFilter, day_number
from retrieval.settings import Settings
from retrieval.types import ArticleInfo, Chunk

log = logging.getLogger(__name__)

# a search hit — (chunk id, cosine, (article id, article hash), language) — with the chunk's metadata
Near = tuple[tuple[str, float, tuple[str, str], str | None], dict[str, Any]]

SCHEMA = 1
_PAGE = 2000
_ID_PAGE = 20_000  # ids alone: a page costs ~40 µs a record less (Chroma's limit on SQL variables allows it)
# a scoped dense search asks for this many times k unfiltered before Chroma's own (slow) filter;
# the widest only in an index of WIDEST_FROM chunks or more: Chroma's filter costs ~4 ms per 1,000
# chunks (10k: 30-50 ms; 100k: 0.4-0.9 s), the 20x width ~70-120 ms whatever the size
WIDER = (4, 20)
WIDEST_FROM = 25_000
# a scope admitting at most this many chunks (told by the lexicon's indexes) is searched by reading
# their vectors: ~0.13 ms a chunk at 662k chunks, where Chroma's filter took 0.25-0.9 s
FEW_IN_SCOPE = 500

Batch = list[tuple[list[Chunk], list[str], list[list[float]]]]  # (chunks, stored texts, vectors) per article


def _hit(chunk_id: str, cosine: float, meta: dict[str, Any]) -> tuple[str, float, tuple[str, str], str | None]:
    """(chunk id, cosine, (article id, article hash), language) of a dense search's hit."""
    language = str(meta["language"]) if meta.get("language") else None
    return chunk_id, cosine, (str(meta.get("article_id")), str(meta.get("article_hash"))), language


@dataclass(frozen=True)
class ManifestEntry:
    article_id: str
    article_hash: str
    title: str
    date: str | None
    url: str | None
    chunks: int
    indexed_at: str
    seen: str | None = None  # the day newsbot first indexed the article (its date when it has none)
    generation: int = 0  # the generation that committed this version
    source: str | None = None  # the outlet's name (front matter or feed); None when not given


def _entry(article_id: str, meta: dict[str, Any]) -> ManifestEntry:
    return ManifestEntry(
        article_id=article_id,
        article_hash=str(meta["article_hash"]),
        title=str(meta.get("title", article_id)),
        date=meta.get("date"),
        url=meta.get("url"),
        chunks=int(meta.get("chunks", 0)),
        indexed_at=str(meta.get("indexed_at", "")),
        seen=meta.get("seen"),
        generation=int(meta.get("generation", 0)),
        source=meta.get("source"),
    )


@contextlib.contextmanager
def translate_store_errors(settings: Settings) -> Iterator[None]:
    """Turn Chroma and connection errors (by type) into newsbot errors with one clear line."""
    import httpx
    from chromadb.errors import NotFoundError

    try:
        yield
    except NewsbotError:
        raise
    except NotFoundError:
        log.debug("chroma error", exc_info=True)
        raise IndexMissing("no index yet: run `newsbot reindex` first") from None
    except httpx.TransportError:  # the server is down, refused, or timed out
        log.debug("chroma error", exc_info=True)
        raise StoreUnavailable(
            f"index unavailable: the Chroma server at {settings.chroma.host}:{settings.chroma.port} "
            "cannot be reached"
        ) from None
    except Exception as exc:  # anything else Chroma or its SQLite raise: a damaged or foreign index
        log.debug("chroma error", exc_info=True)
        if is_disk_full(exc):  # not damage: what is committed stays readable
            raise DiskFull.at(settings.index_path) from None
        raise StoreUnavailable(
            f"index unavailable ({type(exc).__name__}); if the folder {settings.index_path} is damaged, "
            "run `newsbot reindex --rebuild`"
        ) from None


# Chroma's embedded client keeps the vector segments it loaded: another process's writes (a
# `newsbot reindex` while the bot runs) reach its reads of metadata and texts, not its vectors, and a
# filtered query or a read of vectors touching a chunk written since fails with this (chroma-core/chroma
# issues 3769, 3792: the embedded client is not process-safe; a new client reuses the cached segments)
_STALE_VECTORS = "Error finding id"


def is_stale(exc: BaseException) -> bool:
    """Did Chroma fail because this process's vector segment is behind another process's writes?"""
    return _STALE_VECTORS in str(exc)


def make_client(settings: Settings, *, create: bool) -> Any:
    """A Chroma client: HTTP when a server is configured, else embedded and persistent."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    with translate_store_errors(settings):
        if settings.server_mode:
            try:
                client = chromadb.HttpClient(
                    host=settings.chroma.host or "127.0.0.1", port=settings.chroma.port, settings=chroma_settings
                )
            except ValueError:  # chromadb's own "Could not connect to a Chroma server"
                raise StoreUnavailable(
                    f"index unavailable: the Chroma server at {settings.chroma.host}:{settings.chroma.port} "
                    "cannot be reached"
                ) from None
            client.heartbeat()
            return client
        path = settings.index_path
        if not create and not (path / "chroma.sqlite3").exists():
            raise IndexMissing("no index yet: run `newsbot reindex` (or `newsbot chat`, which builds it)")
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def window_keys(indexed_at: str) -> dict[str, int]:
    """A record's integer key for windows of arrival (see :meth:`IndexStore.window`): ``arrived``,
    its commit time in whole seconds."""
    keys: dict[str, int] = {}
    with contextlib.suppress(ValueError):
        keys["arrived"] = math.floor(_utc(dt.datetime.fromisoformat(indexed_at.replace("Z", "+00:00"))).timestamp())
    return keys


def pages(
    collection: Any, *, where: dict[str, Any] | None = None, include: Sequence[str] = (), size: int = _PAGE
) -> Iterator[dict[str, Any]]:
    """Every record of ``collection`` (matching ``where``), one page of ``size`` at a time."""
    offset = 0
    while True:
        page = collection.get(where=where, include=list(include), limit=size, offset=offset)
        yield page
        if len(page["ids"]) < size:
            return
        offset += size


def _parts(items: Sequence[str], size: int = _PAGE) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


class IndexStore:
    """The chunks collection (``vectors``), the manifest collection (``records``) and the lexicon."""

    def __init__(self, client: Any, embeddings: Any, settings: Settings) -> None:
        self.client = client
        self.embeddings = embeddings
        self.settings = settings
        self.chunks_name = settings.collection
        self.manifest_name = f"{settings.collection}-articles"
        self._vectors: Any = None
        self._records: Any = None
        self._stale_noted = False  # said once that another process wrote vectors this one cannot read
        self.lexicon = Lexicon(settings)

    # -- opening -----------------------------------------------------------------------
    def fingerprint(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "embedding_model": self.settings.embedding.model}

    def open(self, *, create: bool) -> IndexStore:
        """Open (or create) the collections; refuse an index built by another model."""
        from chromadb.errors import NotFoundError

        with translate_store_errors(self.settings):
            try:
                records = self.client.get_collection(self.manifest_name)
            except NotFoundError:
                if not create:
                    raise
                records = self.client.create_collection(
                    self.manifest_name,
                    metadata={**self.fingerprint(), "generation": 0, "dirty": False, "chunk_languages": True,
                              "window_keys": True},
                    embedding_function=None,
                )
            meta = records.metadata or {}
            built_with = meta.get("embedding_model")
            if built_with != self.settings.embedding.model or meta.get("schema") != SCHEMA:
                raise IndexMismatch(
                    f"the index was built with embedding model {built_with!r}, not "
                    f"{self.settings.embedding.model!r}: run `newsbot reindex --rebuild`"
                )
            self._records = records
            self._vectors = self.client.get_or_create_collection(
                self.chunks_name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
        return self

    @property
    def vectors(self) -> Any:
        """The chromadb collection of chunks (vectors, stored texts, metadata)."""
        if self._vectors is None:
            raise IndexMissing("the index is not open")
        return self._vectors

    @property
    def records(self) -> Any:
        """The chromadb collection of manifest records (one per committed article)."""
        if self._records is None:
            raise IndexMissing("the index is not open")
        return self._records

    @records.setter
    def records(self, value: Any) -> None:  # tests wrap it to watch the switch
        self._records = value

    def read_vectors(self, read: Callable[[Any], Any], fallback: Callable[[], Any] | None = None) -> Any:
        """``read(chunks collection)``; ``fallback()`` instead when this process's vectors are behind
        another process's writes (:func:`is_stale`): a read that does not touch the new vectors.

        Reading the index anew (a new client, after clearing Chroma's cache) was tried: at 1M chunks it
        loaded a second HNSW index beside the first, which was not given back (bot RSS 2.9 → 5.2 GB),
        and the question that met the new chunk waited 5 s. The new articles are found by their
        words meanwhile (the lexicon is shared), and by their vectors after a restart."""
        with translate_store_errors(self.settings):
            try:
                return read(self.vectors)
            except Exception as exc:
                if fallback is None or self.settings.server_mode or not is_stale(exc):
                    raise
                if not self._stale_noted:
                    self._stale_noted = True
                    log.info("another process indexed articles since this one opened the index: they are "
                             "searched by their words now, by their vectors after a restart")
        return fallback()

    def drop(self) -> None:
        """Delete both collections and the lexicon (``--rebuild``)."""
        from chromadb.errors import NotFoundError

        with translate_store_errors(self.settings):
            for name in (self.chunks_name, self.manifest_name):
                with contextlib.suppress(NotFoundError):
                    self.client.delete_collection(name)
        self.lexicon.drop()
        self._vectors = self._records = None

    # -- manifest ----------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        with translate_store_errors(self.settings):
            return dict(self.client.get_collection(self.manifest_name).metadata or {})

    def generation(self) -> int:
        return int(self._meta().get("generation", 0))

    def state(self) -> tuple[str, int, int]:
        """(this index's identity, its generation, the last generation that removed articles):
        what a cache of something built from the manifest is checked against. The identity
        changes when the index is rebuilt (its generations start again)."""
        meta = self._meta()
        return str(self.records.id), int(meta.get("generation", 0)), int(meta.get("removed_generation", 0))

    def manifest(self, *, since: int | None = None) -> dict[str, ManifestEntry]:
        """Every committed article (or those committed after generation ``since``)."""
        where = {"generation": {"$gt": since}} if since is not None else None
        with translate_store_errors(self.settings):
            return {
                article_id: _entry(article_id, meta)
                for page in pages(self.records, where=where, include=["metadatas"])
                for article_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False)
            }

    def window(
        self, since: dt.datetime | None, until: dt.datetime | None, *, published: bool = False
    ) -> dict[str, ManifestEntry] | None:
        """The committed records of the articles that arrived (were committed) between ``since`` and
        ``until`` — or, ``published``, whose published day falls between their days — every bound
        inclusive and open when None; the caller checks the exact window (the keys are rounded to
        the second or the day). Published days are read along the lexicon's index on days (the
        articles' first chunks; their records then read by id); arrivals along the records'
        ``arrived`` key (Chroma filters on numbers only), with one bound: Chroma's ``$and`` of two
        ranges took 50 s over 327k records where one took 0.03–0.4 s. None for an index whose
        records have no ``arrived`` key yet (:meth:`record_window_keys`): read the whole manifest."""
        if published:
            versions = self.lexicon.published_between(
                day_number(since.date().isoformat()) if since else None,
                day_number(until.date().isoformat()) if until else None,
            )
            return self._committed(versions)
        if not self._meta().get("window_keys"):
            return None
        where = ({"arrived": {"$gte": math.floor(_utc(since).timestamp())}} if since is not None else
                 {"arrived": {"$lte": math.ceil(_utc(until).timestamp())}} if until is not None else None)
        with translate_store_errors(self.settings):
            return {
                article_id: _entry(article_id, meta)
                for page in pages(self.records, where=where, include=["metadatas"])
                for article_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False)
            }

    def record_window_keys(self) -> int:
        """Give the records of an index from before them their ``arrived`` key (once per index, by
        the reindex); returns the records given it. Until then windows of arrival read the whole
        manifest."""

        def keys(meta: dict[str, Any], _: str | None) -> dict[str, Any] | None:
            return window_keys(str(meta["indexed_at"])) if "arrived" not in meta and meta.get("indexed_at") else None

        done = self._backfill(self.records, "window_keys", keys, include=["metadatas"])
        if done:
            log.info("gave their window keys to %d records written before records had them", done)
        return done

    def _backfill(
        self, collection: Any, flag: str, keys: Callable[[dict[str, Any], str | None], dict[str, Any] | None],
        *, include: list[str],
    ) -> int:
        """Once per index (``flag`` in the manifest's metadata): merge ``keys(metadata, document)``
        into the metadata of every item of ``collection`` it gives keys for; the items given them."""
        if self._meta().get(flag):
            return 0
        done = 0
        with translate_store_errors(self.settings):
            for page in pages(collection, include=include):
                documents = page.get("documents") or [None] * len(page["ids"])
                ids, metas = [], []
                for item_id, document, meta in zip(page["ids"], documents, page["metadatas"] or [], strict=False):
                    found = keys(meta or {}, document)
                    if found:
                        ids.append(item_id)
                        metas.append(found)  # merged into the item's metadata
                if ids:
                    collection.update(ids=ids, metadatas=metas)
                    done += len(ids)
            meta = dict(self._meta())
            meta[flag] = True
            self.records.modify(metadata=meta)
        return done

    def entries(self, article_ids: Sequence[str]) -> dict[str, ManifestEntry]:
        """The manifest records of these articles only (those committed)."""
        if not article_ids:
            return {}
        with translate_store_errors(self.settings):
            found: dict[str, ManifestEntry] = {}
            for part in _parts(sorted(set(article_ids))):
                page = self.records.get(ids=part, include=["metadatas"])
                for article_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                    found[article_id] = _entry(article_id, meta)
            return found

    def _committed(self, versions: Sequence[tuple[str, str]]) -> dict[str, ManifestEntry]:
        """The records of these (article id, hash) versions that the manifest commits, in their order."""
        committed = self.entries(list(dict.fromkeys(aid for aid, _ in versions)))
        return {aid: committed[aid] for aid, h in versions if aid in committed and committed[aid].article_hash == h}

    def newest(self, scope: ScopeFilter, k: int) -> list[ManifestEntry]:
        """The ``k`` newest committed articles within ``scope`` (dated ones first, newest first; then
        undated ones, the latest seen first): the lexicon's first chunks along its index on days
        (twice as many as asked, more when too few are committed), checked against the manifest's
        records of those articles only — at 216k articles reading every record took 16.6 s."""
        asked = 2 * k
        while True:
            candidates = self.lexicon.newest(scope, asked)
            newest = list(self._committed(candidates).values())
            if len(newest) >= k or len(candidates) < asked:
                return newest[:k]
            asked *= 4

    def latest(self, n: int) -> list[ArticleInfo]:
        return [
            ArticleInfo(e.article_id, e.title, e.date, e.url, e.indexed_at, e.chunks)
            for e in self.newest(ScopeFilter(), n)
        ]

    # -- writing: the commit protocol ------------------------------------------------------
    def write_articles(self, items: Batch, *, replaced: set[str] | None = None) -> None:
        """Write and commit several articles: stage vectors, stage lexical entries, switch, clean up.

        ``replaced``: the articles whose older versions to delete afterwards (``None``: every
        article written). A run killed before the switch leaves chunks no record commits:
        never visible, and removed by :meth:`remove_orphans`.
        """
        items = [item for item in items if item[0]]
        if not items:
            return
        with translate_store_errors(self.settings):
            self.stage_vectors(items)
            self.stage_lexical(items)
            generation = self.switch(items)
            self.lexicon.advance(generation)
            self.clean_up(items, replaced)
        log.info("committed %d articles (%d chunks), generation %d",
                  len(items), sum(len(c) for c, _, _ in items), generation)

    def stage_vectors(self, items: Batch) -> None:
        ids = [c.id for chunks, _, _ in items for c in chunks]
        documents = [t for _, texts, _ in items for t in texts]
        vectors = [v for _, _, embeddings in items for v in embeddings]
        metadatas = [c.metadata() for chunks, _, _ in items for c in chunks]
        step = self._max_batch()
        for start in range(0, len(ids), step):
            end = start + step
            self.vectors.upsert(
                ids=ids[start:end], documents=documents[start:end],
                embeddings=vectors[start:end], metadatas=metadatas[start:end],
            )

    def stage_lexical(self, items: Batch) -> None:
        self.lexicon.add([LexicalRow.of(c, t) for chunks, texts, _ in items for c, t in zip(chunks, texts, strict=True)])

    def switch(self, items: Batch) -> int:
        """The commit: one upsert of the articles' records, then the generation bump."""
        meta = self._meta()
        generation = int(meta.get("generation", 0)) + 1
        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")  # digests compare arrivals to the instant
        records: list[dict[str, Any]] = []
        for chunks, _, _ in items:
            first = chunks[0]
            record: dict[str, Any] = {
                "article_hash": first.article_hash,
                "title": first.title,
                "chunks": len(chunks),
                "indexed_at": now,
                "generation": generation,
                **window_keys(now),
            }
            if first.date and first.date_kind != "seen":
                record["date"] = first.date
            if first.seen:
                record["seen"] = first.seen
            if first.url:
                record["url"] = first.url
            if first.source:
                record["source"] = first.source
            records.append(record)
        self.records.upsert(
            ids=[chunks[0].article_id for chunks, _, _ in items],
            documents=[str(record["title"]) for record in records],
            metadatas=records,
            embeddings=[[1.0]] * len(records),
        )
        meta["generation"] = generation
        meta["committed_at"] = now  # what `newsbot status` shows, without reading every record
        self.records.modify(metadata=meta)
        return generation

    def clean_up(self, items: Batch, replaced: set[str] | None) -> None:
        with self.lexicon.deferred():  # one full-text commit for the batch's removals
            for chunks, _, _ in items:
                first = chunks[0]
                if replaced is not None and first.article_id not in replaced:
                    continue
                self.vectors.delete(
                    where={"$and": [{"article_id": first.article_id}, {"article_hash": {"$ne": first.article_hash}}]}
                )
                self.lexicon.remove_other_versions(first.article_id, first.article_hash)

    def _max_batch(self) -> int:
        try:
            return max(1, int(self.client.get_max_batch_size()))
        except Exception:  # an older server without the call
            return 1000

    # -- the "dirty" mark: set while a run writes, cleared when it has finished cleanly ----
    def status(self) -> tuple[int, bool]:
        """(generation, dirty) in one read."""
        meta = self._meta()
        return int(meta.get("generation", 0)), bool(meta.get("dirty", True))

    def totals(self) -> tuple[int, int, str | None]:
        """(articles, chunks, when articles were last committed) of the committed index. A clean
        index answers from counts and its collection's metadata (at 216k articles reading every
        record took 16.6 s); one in the middle of a reindex (uncommitted chunks stored), or from
        before the commit time was kept, from its manifest."""
        meta = self._meta()
        if not meta.get("dirty", True) and "committed_at" in meta:
            with translate_store_errors(self.settings):
                return int(self.records.count()), self.count(), str(meta["committed_at"])
        manifest = self.manifest()
        return (len(manifest), sum(e.chunks for e in manifest.values()),
                max((e.indexed_at for e in manifest.values()), default=None))

    def is_dirty(self) -> bool:
        return bool(self._meta().get("dirty", True))  # an index from before the mark: assume the worst

    def set_dirty(self, dirty: bool) -> None:
        meta = self._meta()
        if bool(meta.get("dirty", not dirty)) == dirty:
            return
        meta["dirty"] = dirty
        with translate_store_errors(self.settings):
            self.records.modify(metadata=meta)

    def remove_articles(self, article_ids: list[str]) -> None:
        """Uncommit the articles (manifest delete, generation bump), then delete their chunks."""
        if not article_ids:
            return
        with translate_store_errors(self.settings):
            for part in _parts(article_ids):
                self.records.delete(ids=part)
            meta = self._meta()
            meta["generation"] = int(meta.get("generation", 0)) + 1
            meta["removed_generation"] = meta["generation"]  # what was built before no longer holds
            self.records.modify(metadata=meta)
            self.lexicon.advance(meta["generation"])
            for part in _parts(article_ids):
                self.vectors.delete(where={"article_id": part[0]} if len(part) == 1 else {"article_id": {"$in": part}})
            self.lexicon.remove_articles(article_ids)

    def remove_orphans(self, manifest: dict[str, ManifestEntry]) -> int:
        """Delete chunks and lexical entries no manifest record commits (left by an interrupted run)."""
        with translate_store_errors(self.settings):
            orphans: list[str] = []
            for page in pages(self.vectors, include=["metadatas"]):
                for chunk_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                    entry = manifest.get(str(meta.get("article_id")))
                    if entry is None or entry.article_hash != meta.get("article_hash"):
                        orphans.append(chunk_id)
            for part in _parts(orphans):
                self.vectors.delete(ids=part)
        committed = {aid: entry.article_hash for aid, entry in manifest.items()}
        return len(orphans) + self.lexicon.remove_uncommitted(committed)

    def count(self) -> int:
        with translate_store_errors(self.settings):
            return int(self.vectors.count())

    def record_chunk_languages(self) -> int:
        """Give their language to the chunks of an index written before chunks recorded it
        (metadata only, read from each chunk's text; once per index); returns the chunks given one.
        Until then retrieval tells the language of each dense candidate from its text, per question."""
        from retrieval.text import language_of

        def keys(meta: dict[str, Any], document: str | None) -> dict[str, Any] | None:
            return None if meta.get("language") else {"language": language_of(document or "")}

        done = self._backfill(self.vectors, "chunk_languages", keys, include=["documents", "metadatas"])
        if done:
            log.info("recorded the language of %d chunks written before chunks recorded it", done)
        return done

    def chunk_ids(self) -> list[str]:
        """Every chunk id in the collection, committed or not."""
        with translate_store_errors(self.settings):
            return [cid for page in pages(self.vectors) for cid in page["ids"]]

    # -- reading -----------------------------------------------------------------------
    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """(stored text, metadata) of these chunks, by id."""
        if not chunk_ids:
            return {}
        with translate_store_errors(self.settings):
            page = self.vectors.get(ids=list(chunk_ids), include=["documents", "metadatas"])
        return {
            cid: (doc, dict(meta))
            for cid, doc, meta in zip(page["ids"], page["documents"] or [], page["metadatas"] or [], strict=False)
        }

    def chunks_of_article(self, article_id: str, article_hash: str) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """(ids, stored texts, metadatas) of one version of an article."""
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        where = {"$and": [{"article_id": article_id}, {"article_hash": article_hash}]}
        with translate_store_errors(self.settings):
            for page in pages(self.vectors, where=where, include=["documents", "metadatas"]):
                ids.extend(page["ids"])
                docs.extend(page["documents"] or [])
                metas.extend(dict(m) for m in page["metadatas"] or [])
        return ids, docs, metas

    def load_vectors(self) -> None:
        """Have Chroma load its vector index now (a query for a stored vector's nearest chunk)."""
        with translate_store_errors(self.settings):
            page = self.vectors.get(limit=1, include=["embeddings"])
            embeddings = page.get("embeddings")
            if page["ids"] and embeddings is not None and len(embeddings):
                self.vectors.query(query_embeddings=[embeddings[0]], n_results=1, include=[])

    def load_manifest(self) -> None:
        """Have Chroma load the manifest's collection now (its first access loads it)."""
        with translate_store_errors(self.settings):
            self.records.get(limit=1, include=[])

    def article_ids(self) -> set[str]:
        """The ids of the articles the manifest commits (their records' ids alone: at 216k articles
        0.7 s, where reading the records took 16.6 s)."""
        with translate_store_errors(self.settings):
            return {aid for page in pages(self.records, size=_ID_PAGE) for aid in page["ids"]}

    def _stored_rows(self, entries: Sequence[ManifestEntry]) -> Iterator[tuple[ManifestEntry, list[LexicalRow]]]:
        """The lexicon's rows of these article versions, from what Chroma stores: read by their chunk
        ids (``article:hash:position``, one ``get`` for all) — at 662k chunks a ``where`` on the
        article took ~0.25 s, so a lexicon made anew took hours; an article whose chunks are not all
        found so (ids of another form) is read by its ``where``."""
        ids = [f"{e.article_id}:{e.article_hash}:{i}" for e in entries for i in range(e.chunks)]
        with translate_store_errors(self.settings):
            page = self.vectors.get(ids=ids, include=["documents", "metadatas"]) if ids else {"ids": []}
        found: dict[str, list[LexicalRow]] = {}
        for cid, doc, meta in zip(page["ids"], page.get("documents") or [], page.get("metadatas") or [], strict=False):
            row = LexicalRow.stored(cid, doc or "", dict(meta or {}))
            found.setdefault(row.article_id, []).append(row)
        for entry in entries:
            rows = found.get(entry.article_id, [])
            if len(rows) != entry.chunks or any(r.article_hash != entry.article_hash for r in rows):
                chunk_ids, docs, metas = self.chunks_of_article(entry.article_id, entry.article_hash)
                rows = [LexicalRow.stored(c, d, m) for c, d, m in zip(chunk_ids, docs, metas, strict=True)]
            yield entry, rows

    def dense_search(
        self, query_vector: list[float], k: int, *, scope: ScopeFilter | None = None, size: int | None = None,
        among: Sequence[str] | None = None,
    ) -> list[tuple[str, float, tuple[str, str], str | None]]:
        """(chunk id, cosine similarity, (article id, article hash), language) of the ``k`` nearest
        chunks within ``scope``; the language is None in an index written before chunks recorded
        theirs.

        Chroma filters a query on metadata by first listing every chunk the ``where`` admits: at
        100k chunks a date range took 0.4–0.9 s against ~10 ms unfiltered. So a scoped search
        first asks for the nearest :data:`WIDER` × ``k`` chunks unfiltered and keeps those the
        scope admits, in order: when ``k`` of them pass (or the whole index was looked at), they
        are the ``k`` nearest in scope. Only a narrow scope falls back to Chroma's filter. ``size``:
        the chunks in the index, when known (the widest width only from :data:`WIDEST_FROM`).
        ``among``: the few chunks the scope admits (:meth:`Lexicon.admitted`), compared one by one."""
        if among is not None:
            near = self._nearest_among(query_vector, among, k)
            if near is not None:
                return [hit for hit, _ in near]
            among = None  # some of them are another process's, unreadable here: searched as a wider scope
        if scope is None or scope.empty:
            return [hit for hit, _ in self._nearest(query_vector, k, None)]
        widths = WIDER if size is None or size >= WIDEST_FROM else WIDER[:-1]
        for i, factor in enumerate(widths):
            wide = self._nearest(query_vector, k * factor, None)
            kept = [
                hit for hit, meta in wide
                if scope.admits(meta.get("day"), meta.get("outlet"), meta.get("host"), seen=meta.get("date_kind") == "seen")
            ]
            if len(kept) >= k or len(wide) < k * factor:
                return kept[:k]
            following = widths[i + 1] if i + 1 < len(widths) else 0
            if len(kept) * following < k * factor:  # at this rate the next width would not find k either
                break

        def unfiltered() -> list[Near]:
            wide = self._nearest(query_vector, k * widths[-1], None)
            return [(hit, meta) for hit, meta in wide if scope.admits(
                meta.get("day"), meta.get("outlet"), meta.get("host"), seen=meta.get("date_kind") == "seen")][:k]

        return [hit for hit, _ in self._nearest(query_vector, k, scope.chroma_where(), fallback=unfiltered)]

    def _nearest(
        self, query_vector: list[float], k: int, where: dict[str, Any] | None,
        fallback: Callable[[], list[Near]] | None = None,
    ) -> list[Near]:
        """The ``k`` chunks nearest to the query that ``where`` admits, by Chroma's index; ``fallback()``
        when Chroma cannot filter on chunks another process wrote since (:meth:`read_vectors`)."""

        def query(vectors: Any) -> list[Near]:
            result = vectors.query(
                query_embeddings=[query_vector], n_results=k, where=where, include=["distances", "metadatas"]
            )
            return [
                (_hit(cid, 1.0 - float(dist), meta), meta)
                for cid, dist, meta in zip(result["ids"][0], result["distances"][0], result["metadatas"][0], strict=False)
            ]

        found: list[Near] = self.read_vectors(query, fallback=fallback)
        return found

    def _nearest_among(
        self, query_vector: list[float], chunk_ids: Sequence[str], k: int
    ) -> list[Near] | None:
        """The ``k`` of ``chunk_ids`` nearest to the query, by the cosine of their stored vectors; None
        when some of those vectors were written by another process since this one opened the index."""
        if not chunk_ids:
            return []
        page = self.read_vectors(lambda vectors: vectors.get(ids=list(chunk_ids), include=["embeddings", "metadatas"]),
                                 fallback=lambda: None)
        if page is None:
            return None
        if not page["ids"]:
            return []
        vectors = np.asarray(page["embeddings"], dtype=np.float32)
        query = np.asarray(query_vector, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(query) or 1.0)
        cosines = vectors @ query / np.where(norms > 0, norms, 1.0)
        order = sorted(range(len(cosines)), key=lambda i: (-float(cosines[i]), page["ids"][i]))[:k]
        metas = [dict(m or {}) for m in page["metadatas"] or []]
        return [(_hit(page["ids"][i], float(cosines[i]), metas[i]), metas[i]) for i in order]

    # -- the lexicon kept in step with the index ------------------------------------------
    def sync_lexicon(self, *, full: bool = False) -> int:
        """Bring the lexicon in step with the committed articles; returns the articles (re)analysed.

        Incremental: only manifest records committed since the generation last synced are
        looked at, and only versions the lexicon lacks are read from Chroma (a reindex run in
        this process or on this machine has written them already). ``full`` (or a lexicon never
        synced) also removes rows of versions no record commits.
        """
        generation = self.generation()
        synced = self.lexicon.synced()
        if not full and synced is not None and synced >= generation:
            return 0
        everything = full or synced is None
        entries = self.manifest() if everything else self.manifest(since=synced)
        present = self.lexicon.versions(None if everything else list(entries))
        missing = [entry for aid, entry in entries.items() if entry.article_hash not in present.get(aid, ())]
        done = 0
        for part in _by_chunks(missing, _PAGE):
            with self.lexicon.deferred():  # one full-text commit a page
                for entry, rows in self._stored_rows(part):
                    self.lexicon.add(rows)
                    self.lexicon.remove_other_versions(entry.article_id, entry.article_hash)
                    done += 1
        if everything:
            self.lexicon.remove_uncommitted({aid: e.article_hash for aid, e in entries.items()})
        self.lexicon.set_synced(generation)
        if done:
            log.info("lexicon: %d articles brought in step (generation %d)", done, generation)
        return done


def _by_chunks(entries: Sequence[ManifestEntry], size: int) -> Iterator[list[ManifestEntry]]:
    """``entries`` in runs of about ``size`` chunks (an article is never split)."""
    part: list[ManifestEntry] = []
    count = 0
    for entry in entries:
        if part and count + entry.chunks > size:
            yield part
            part, count = [], 0
        part.append(entry)
        count += entry.chunks
    if part:
        yield part


def wipe_local_index(settings: Settings) -> None:
    """Remove the embedded index folder (for ``--rebuild`` of a damaged index)."""
    if not settings.server_mode and settings.index_path.exists():
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # chroma keeps one system per path in a process
        shutil.rmtree(settings.index_path)
    Lexicon(settings).drop()

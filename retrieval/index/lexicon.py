"""The lexical index on disk: an SQLite file of pre-analysed (French-stemmed) chunk tokens, and
its full-text index (tantivy, :mod:`retrieval.index.postings`).

The SQLite file is the record: one row per chunk (its tokens, article id and hash, day, outlet
and host), the statistics (document count, total length), the table of files the last reindex
read. A write is a transaction (the reindex stages an article's lexical entries inside its
commit protocol, and a killed run leaves a consistent file) and readers in other processes see
committed rows at once (WAL). Each write also queues the rows it touched (``pending``, in the
same transaction); the full-text index applies the queue and commits, and a queue left by a
killed run is applied by the next writer (or by the first reader, for a lexicon whose full-text
index is missing: one written before it existed, or removed). Tokens are analysed in Python by
:class:`~retrieval.search.lexical.FrenchAnalyzer` (the same analysis the answerer uses) and
stored space-separated.

The full-text index picks candidates with its own BM25 (k1 = 1.2, fixed); the retriever rescores
a generous pool of them with newsbot's BM25 (k1 = 0.8, measured better on PIAF) from the stored
tokens, and the statistics come from these files, never from a copy of the corpus in memory.

Rows are keyed by chunk id and carry the article id and hash: a row is only ever *used*
after the manifest says that version of the article is committed (see
:mod:`retrieval.index.store`), so staged rows of an article whose commit never happened
stay invisible until the next run removes them.

In embedded mode the files live in the index folder; with a Chroma server, each machine
keeps its own copy under the data folder, kept in step by :meth:`IndexStore.sync_lexicon`
from the manifest records committed since the generation it last saw.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.index.postings import WRITER_WAIT_S, Postings, PostingsBusy
from retrieval.index.scope import ScopeFilter, day_number, outlet_key, url_host
from retrieval.search.lexical import analysis_signature
from retrieval.settings import Settings
from retrieval.types import Chunk

log = logging.getLogger(__name__)

FORMAT = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS chunks(
    rowid INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL,
    article_hash TEXT NOT NULL,
    day INTEGER,
    seen INTEGER NOT NULL DEFAULT 0,
    outlet TEXT,
    host TEXT,
    length INTEGER NOT NULL,
    tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
-- rows changed since the full-text index last committed (see retrieval.index.postings)
CREATE TABLE IF NOT EXISTS pending(seq INTEGER PRIMARY KEY AUTOINCREMENT, rid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files(
    article_id TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, salt TEXT, article_hash TEXT
);
"""
# what a scope filters on (:meth:`Lexicon.admitted`); made after the layout check, so that a lexicon
# of an older layout is made anew first (and added to a lexicon written before they were)
_INDEXES = """
CREATE INDEX IF NOT EXISTS chunks_day ON chunks(seen, day);
CREATE INDEX IF NOT EXISTS chunks_outlet ON chunks(outlet);
CREATE INDEX IF NOT EXISTS chunks_host ON chunks(host);
"""


def analyzer_fingerprint() -> str:
    """Changes whenever what decides the stored tokens changes (the lexicon is then rebuilt): the
    analyzer's code, its stop words, the stemmer's version and the table layout (``FORMAT``) —
    not the rest of the lexical module (a rebuild reads every chunk back from Chroma)."""
    return hashlib.sha256(analysis_signature().encode()).hexdigest()[:16] + f"/{FORMAT}"


@dataclass(frozen=True)
class LexicalRow:
    chunk_id: str
    article_id: str
    article_hash: str
    day: int | None
    outlet: str | None
    host: str | None
    tokens: list[str]
    seen: bool = False  # ``day`` is the day newsbot first saw an undated article, not its date

    @classmethod
    def of(cls, chunk: Chunk, stored_text: str) -> LexicalRow:
        from retrieval.search.lexical import ANALYZER

        return cls(
            chunk.id, chunk.article_id, chunk.article_hash, day_number(chunk.date),
            outlet_key(chunk.source), url_host(chunk.url), ANALYZER.tokens(stored_text),
            seen=chunk.date_kind == "seen",
        )

    @classmethod
    def stored(cls, chunk_id: str, stored_text: str, meta: dict[str, Any]) -> LexicalRow:
        """A row from what Chroma stores of a chunk (to bring another machine's lexicon in step)."""
        from retrieval.search.lexical import ANALYZER

        day = meta.get("day")
        return cls(
            chunk_id, str(meta.get("article_id")), str(meta.get("article_hash")),
            int(day) if day is not None else day_number(meta.get("date")),
            meta.get("outlet") or outlet_key(meta.get("source")), meta.get("host") or url_host(meta.get("url")),
            ANALYZER.tokens(stored_text), seen=meta.get("date_kind") == "seen",
        )


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    article_id: str
    article_hash: str
    tokens: list[str]


def lexicon_path(settings: Settings) -> Path:
    if settings.server_mode:
        host = (settings.chroma.host or "127.0.0.1").replace(":", "_").replace("/", "_")
        return settings.data_dir / "lexicon" / f"{host}-{settings.chroma.port}-{settings.collection}.sqlite3"
    return settings.index_path / f"lexicon-{settings.collection}.sqlite3"


def postings_path(lexicon: Path) -> Path:
    """The full-text index's folder, beside the lexicon's file."""
    return lexicon.with_name(f"{lexicon.stem}.postings")


class Lexicon:
    """One SQLite file; a connection per thread (SQLite connections are not shared across threads)."""

    def __init__(self, settings: Settings) -> None:
        self.path = lexicon_path(settings)
        self.postings = Postings(postings_path(self.path))
        self._local = threading.local()
        self._generation = 0  # bumped by drop(): threads then reconnect
        self._backlog = False  # rows queued for the full-text index when the file was opened
        self._postings_commit: str | None = None  # the full-text commit this process last saw
        self._deferred = 0

    # -- connection ---------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None and getattr(self._local, "generation", -1) == self._generation:
            return db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        fingerprint = analyzer_fingerprint()
        row = db.execute("SELECT value FROM meta WHERE key='analyzer'").fetchone()
        if row is None or row[0] != fingerprint:
            with self._write(db):
                if row is not None:
                    log.info("the lexical analysis changed: the lexicon %s is rebuilt", self.path)
                # the tables are made anew: the analysis or the table layout (FORMAT) changed
                for table in ("vocab", "fts", "pending", "chunks", "meta"):  # vocab, fts: before tantivy
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.execute("INSERT INTO meta VALUES('analyzer', ?), ('docs', 0), ('length', 0)", (fingerprint,))
                self.postings.create()
        db.executescript(_INDEXES)
        self._prepare_postings(db)
        self._local.db = db
        self._local.generation = self._generation
        return db

    def _prepare_postings(self, db: sqlite3.Connection) -> None:
        """A lexicon written before its full-text index existed (an FTS5 table) or whose index is
        missing gets one, made from its rows (queued here; applied by the next flush)."""
        def fts5() -> bool:
            return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'fts'").fetchone() is not None

        if fts5() or not self.postings.exists():
            with self._write(db):
                if fts5():
                    log.info("the lexicon %s moves its full-text index from SQLite FTS5 to tantivy", self.path)
                    db.execute("DROP TABLE IF EXISTS vocab")
                    db.execute("DROP TABLE IF EXISTS fts")
                if not self.postings.exists():
                    self.postings.create()
                    db.execute("DELETE FROM pending")
                    db.execute("INSERT INTO pending(rid) SELECT rowid FROM chunks")
        if db.execute("SELECT 1 FROM pending LIMIT 1").fetchone() is not None:
            self._backlog = True

    def flush(self, wait: float = WRITER_WAIT_S) -> None:
        """Apply the queued row changes to the full-text index and commit them."""
        if self._deferred:
            return
        db = self._db()
        if db.execute("SELECT 1 FROM pending LIMIT 1").fetchone() is None:
            self._backlog = False
            return
        with self.postings.writing(wait) as batch:  # read the queue while holding the writer
            queued = db.execute("SELECT seq, rid FROM pending ORDER BY seq").fetchall()
            if not queued:
                return
            last = int(queued[-1][0])
            rids = list(dict.fromkeys(int(rid) for _, rid in queued))
            for start in range(0, len(rids), 500):
                part = rids[start:start + 500]
                marks = ",".join("?" * len(part))
                found = {
                    rowid: {"tokens": tokens, "day": day, "seen": seen, "outlet": outlet, "host": host}
                    for rowid, tokens, day, seen, outlet, host in db.execute(
                        f"SELECT rowid, tokens, day, seen, outlet, host FROM chunks WHERE rowid IN ({marks})", part
                    )
                }
                for rowid in part:
                    batch.put(rowid, found.get(rowid))

            def applied() -> None:
                with self._write(db):
                    db.execute("DELETE FROM pending WHERE seq <= ?", (last,))
                    db.execute("INSERT OR REPLACE INTO meta VALUES('postings', ?)", (uuid.uuid4().hex,))

            batch.after_commit.append(applied)
        self._backlog = False

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Several writes, one full-text commit (at the end)."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
        self.flush()

    @staticmethod
    @contextlib.contextmanager
    def _write(db: sqlite3.Connection) -> Iterator[None]:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def drop(self) -> None:
        """Remove the file (``--rebuild``, a wiped index)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
        self._generation += 1
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()
        self.postings.drop()
        self._postings_commit = None
        for built in self.path.parent.glob(f"{self.path.stem}.coverage*.json"):  # built from this index's manifest
            built.unlink(missing_ok=True)

    # -- statistics -------------------------------------------------------------------------
    def stats(self) -> tuple[int, float]:
        """(documents, average length in tokens); the full-text index is read anew when another
        writer (or this one) has committed since."""
        rows = dict(self._db().execute(
            "SELECT key, value FROM meta WHERE key IN ('docs', 'length', 'postings')"
        ).fetchall())
        commit = str(rows.get("postings", ""))
        if commit != self._postings_commit:
            self._postings_commit = commit
            self.postings.reload()
        docs = int(rows.get("docs", 0))
        return docs, (float(rows.get("length", 0)) / docs if docs else 1.0)

    def document_frequencies(self, tokens: Sequence[str]) -> dict[str, int]:
        self._catch_up()
        return self.postings.document_frequencies(tokens)

    def _catch_up(self) -> None:
        """A reader opening a lexicon with queued rows (a full-text index being made from an older
        lexicon's rows, or a killed writer's queue) applies them, unless a writer is at it."""
        self._db()
        if self._backlog:
            with contextlib.suppress(PostingsBusy):
                self.flush(wait=0)

    def synced(self) -> int | None:
        """The index generation this lexicon was last brought in step with (None: never)."""
        row = self._db().execute("SELECT value FROM meta WHERE key='synced'").fetchone()
        return None if row is None else int(row[0])

    def set_synced(self, generation: int) -> None:
        db = self._db()
        with self._write(db):
            db.execute("INSERT OR REPLACE INTO meta VALUES('synced', ?)", (generation,))

    def advance(self, generation: int) -> None:
        """The writer committed ``generation`` with its lexical rows staged here: a lexicon in step
        with the one before is in step with it (one generation per commit, one writer at a time)."""
        db = self._db()
        with self._write(db):
            db.execute("UPDATE meta SET value = ? WHERE key = 'synced' AND value = ?", (generation, generation - 1))

    # -- writing ------------------------------------------------------------------------------
    def add(self, rows: Sequence[LexicalRow]) -> int:
        """Add rows (a chunk id already present is left alone: ids name their content)."""
        if not rows:
            return 0
        db = self._db()
        added = length = 0
        with self._write(db):
            for row in rows:
                text = " ".join(row.tokens)
                cursor = db.execute(
                    "INSERT OR IGNORE INTO chunks(chunk_id, article_id, article_hash, day, seen, outlet, host,"
                    " length, tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row.chunk_id, row.article_id, row.article_hash, row.day, int(row.seen), row.outlet, row.host,
                     max(1, len(row.tokens)), text),
                )
                if cursor.rowcount == 1:
                    db.execute("INSERT INTO pending(rid) VALUES (?)", (cursor.lastrowid,))
                    added += 1
                    length += max(1, len(row.tokens))
            self._count(db, added, length)
        self.flush()
        return added

    @staticmethod
    def _count(db: sqlite3.Connection, docs: int, length: int) -> None:
        if docs or length:
            db.execute("UPDATE meta SET value = value + ? WHERE key = 'docs'", (docs,))
            db.execute("UPDATE meta SET value = value + ? WHERE key = 'length'", (length,))

    def _delete(self, db: sqlite3.Connection, where: str, params: Sequence[Any]) -> int:
        rows = db.execute(f"SELECT rowid, length FROM chunks WHERE {where}", params).fetchall()
        for rowid, _ in rows:
            db.execute("DELETE FROM chunks WHERE rowid = ?", (rowid,))
            db.execute("INSERT INTO pending(rid) VALUES (?)", (rowid,))
        self._count(db, -len(rows), -sum(length for _, length in rows))
        return len(rows)

    def remove_other_versions(self, article_id: str, article_hash: str) -> int:
        db = self._db()
        with self._write(db):
            removed = self._delete(db, "article_id = ? AND article_hash != ?", (article_id, article_hash))
        self.flush()
        return removed

    def remove_articles(self, article_ids: Sequence[str]) -> int:
        db = self._db()
        removed = 0
        with self._write(db):
            for article_id in article_ids:
                removed += self._delete(db, "article_id = ?", (article_id,))
        self.flush()
        return removed

    def versions(self, article_ids: Sequence[str] | None = None) -> dict[str, set[str]]:
        """Article id → the hashes of its versions present here (of these articles; None: all)."""
        db = self._db()
        found: dict[str, set[str]] = {}
        if article_ids is None:
            batches: list[list[str] | None] = [None]
        else:
            batches = [list(article_ids[i:i + 500]) for i in range(0, len(article_ids), 500)]
        for batch in batches:
            if batch is None:
                rows = db.execute("SELECT DISTINCT article_id, article_hash FROM chunks").fetchall()
            else:
                marks = ",".join("?" * len(batch))
                rows = db.execute(
                    f"SELECT DISTINCT article_id, article_hash FROM chunks WHERE article_id IN ({marks})", batch
                ).fetchall()
            for article_id, article_hash in rows:
                found.setdefault(article_id, set()).add(article_hash)
        return found

    def remove_uncommitted(self, committed: dict[str, str]) -> int:
        """Delete rows of article versions the manifest does not commit; returns how many."""
        stale = [
            (aid, h) for aid, hashes in self.versions().items() for h in hashes if committed.get(aid) != h
        ]
        db = self._db()
        removed = 0
        with self._write(db):
            for article_id, article_hash in stale:
                removed += self._delete(db, "article_id = ? AND article_hash = ?", (article_id, article_hash))
        self.flush()
        return removed

    # -- what the last reindex saw of each file (an unchanged reindex only stats them) -------
    def file_stats(self) -> dict[str, tuple[int, int, str, str]]:
        """Article id -> (size, mtime in ns, chunking salt, article hash) of its file when last read."""
        rows = self._db().execute("SELECT article_id, size, mtime_ns, salt, article_hash FROM files").fetchall()
        return {aid: (size, mtime, salt, h) for aid, size, mtime, salt, h in rows}

    def record_files(self, rows: Sequence[tuple[str, int, int, str, str]], removed: Sequence[str] = ()) -> None:
        db = self._db()
        with self._write(db):
            db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", rows)
            db.executemany("DELETE FROM files WHERE article_id = ?", [(aid,) for aid in removed])

    def files_state(self) -> tuple[int, int] | None:
        """(generation, chunks) at which the file table was last found to describe exactly the
        committed articles (see :meth:`retrieval.index.indexer.Indexer.unchanged`); None if unknown."""
        rows = dict(self._db().execute(
            "SELECT key, value FROM meta WHERE key IN ('files_generation', 'files_chunks')"
        ).fetchall())
        if "files_generation" not in rows:
            return None
        return int(rows["files_generation"]), int(rows.get("files_chunks", 0))

    def set_files_state(self, generation: int | None, chunks: int = 0) -> None:
        db = self._db()
        with self._write(db):
            db.execute("DELETE FROM meta WHERE key IN ('files_generation', 'files_chunks')")
            if generation is not None:
                db.execute("INSERT INTO meta VALUES('files_generation', ?), ('files_chunks', ?)", (generation, chunks))

    def count(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM chunks").fetchone()[0])

    # -- reading ------------------------------------------------------------------------------
    def admitted(self, scope: ScopeFilter, limit: int) -> list[str] | None:
        """The ids of the chunks ``scope`` admits when there are at most ``limit`` of them (None:
        more). Read through the indexes on day and outlet keys: a scope that admits few chunks (a
        year the coverage has nothing from, a small outlet) is told in a few milliseconds."""
        condition, params = scope.sql()
        rows = self._db().execute(f"SELECT c.chunk_id FROM chunks c WHERE {condition} LIMIT ?", [*params, limit + 1])
        ids = [cid for (cid,) in rows.fetchall()]
        return ids if len(ids) <= limit else None

    def newest(self, scope: ScopeFilter, limit: int) -> list[tuple[str, str]]:
        """(article id, hash) of up to ``limit`` article versions within ``scope``, by their first
        chunk: dated ones first, newest first (then undated ones, the latest seen first), each kind
        read backwards along the index on (seen, day). Versions not yet committed (or already
        replaced) may be among them: the caller checks them against the manifest."""
        condition, params = scope.sql()
        found: list[tuple[str, str]] = []
        for seen in (0, 1):
            rows = self._db().execute(
                "SELECT c.article_id, c.article_hash FROM chunks c"
                f" WHERE c.seen = ? AND c.chunk_id LIKE '%:0' AND {condition}"
                " ORDER BY c.day DESC, c.article_id LIMIT ?",
                [seen, *params, limit - len(found)],
            ).fetchall()
            found.extend((str(aid), str(h)) for aid, h in rows)
            if len(found) >= limit:
                break
        return found

    def published_between(self, since: int | None, until: int | None) -> list[tuple[str, str]]:
        """(article id, hash) of the article versions published between these days (YYYYMMDD,
        inclusive; None: open), by their first chunk along the index on (seen, day). Versions not
        yet committed (or already replaced) may be among them: the caller checks them."""
        rows = self._db().execute(
            "SELECT article_id, article_hash FROM chunks WHERE seen = 0 AND day BETWEEN ? AND ?"
            " AND chunk_id LIKE '%:0'",
            [since if since is not None else 0, until if until is not None else 99_999_999],
        ).fetchall()
        return [(str(aid), str(h)) for aid, h in rows]

    def search(
        self, tokens: Sequence[str], limit: int, scope: ScopeFilter | None = None, *, among: Sequence[str] | None = None
    ) -> list[Hit]:
        """The ``limit`` best rows for any of ``tokens`` by the full-text index's rank, within ``scope``; ``among``:
        only these chunks (the few a scope admits: their rows are read, not the full-text index, and
        every one holding a token is returned, unranked, for the caller's BM25)."""
        if not tokens:
            return []
        if among is not None:
            wanted = set(tokens)
            return [hit for hit in self.rows(among).values() if wanted.intersection(hit.tokens)]
        self._catch_up()
        scope = scope or ScopeFilter()
        rowids = self.postings.search(tokens, limit, scope)
        if not rowids:
            return []
        # the rows as committed here (a row deleted since the full-text index's last commit is gone)
        condition, params = scope.sql()
        marks = ",".join("?" * len(rowids))
        rows = {
            rowid: Hit(cid, aid, h, text.split())
            for rowid, cid, aid, h, text in self._db().execute(
                f"SELECT c.rowid, c.chunk_id, c.article_id, c.article_hash, c.tokens FROM chunks c"
                f" WHERE c.rowid IN ({marks}) AND {condition}",
                [*rowids, *params],
            )
        }
        return [rows[rowid] for rowid in rowids if rowid in rows]

    def rows(self, chunk_ids: Sequence[str]) -> dict[str, Hit]:
        """The rows of these chunks, by id."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self._db().execute(
            f"SELECT chunk_id, article_id, article_hash, tokens FROM chunks WHERE chunk_id IN ({marks})",
            list(chunk_ids),
        ).fetchall()
        return {cid: Hit(cid, aid, h, text.split()) for cid, aid, h, text in rows}

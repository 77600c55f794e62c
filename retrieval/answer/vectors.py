"""Sentence vectors, computed once and kept on disk.

The answerer compares the question with every candidate sentence of the retrieved
passages (the only signal that crosses languages). Embedding those sentences per question
cost ~0.4 s on a loaded 2-core machine; here each sentence is embedded once, keyed by the
hash of its text and of the model, and kept in a SQLite file under ``DATA_DIR/cache``.
:func:`prepare` lets the indexer fill the cache as it indexes (one call per batch).

SQLite rather than a hand-written file format: concurrent readers and one writer at a time
across processes, crash-safe writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.settings import Settings
    from retrieval.types import Chunk

log = logging.getLogger(__name__)

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"


def sentence_key(model: str, sentence: str) -> bytes:
    return hashlib.blake2b(f"{model}\0{sentence}".encode(), digest_size=16).digest()


class SentenceVectors:
    """Unit vectors of sentences (float32), from the cache or embedded and cached."""

    def __init__(self, embeddings: Any, model: str, path: Path | None) -> None:
        self.embeddings = embeddings
        self.model = model
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._memory: dict[bytes, Any] = {}  # when the file cannot be used
        self._queries: dict[str, Any] = {}

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
                self._db = db
            except (OSError, sqlite3.Error) as exc:
                log.warning("sentence vector cache %s unusable (%s); vectors kept in memory", self.path, exc)
                self.path = None
        return self._db

    def query(self, text: str) -> Any:
        """The question's unit vector (the last few are kept: a question is scored once per call)."""
        import numpy as np

        with self._lock:
            vector = self._queries.get(text)
        if vector is None:
            vector = _unit(np.asarray(self.embeddings.embed_query(text), dtype=np.float32))
            with self._lock:
                if len(self._queries) > 64:
                    self._queries.clear()
                self._queries[text] = vector
        return vector

    def get(self, sentences: Sequence[str]) -> Any:
        """A (len(sentences), dim) float32 matrix of unit vectors, missing ones embedded and stored."""
        import numpy as np

        keys = [sentence_key(self.model, s) for s in sentences]
        found = self._lookup(keys)
        missing = list({key: i for i, key in reversed(list(enumerate(keys))) if key not in found}.values())
        if missing:
            texts = [sentences[i] for i in missing]
            vectors = np.asarray(self.embeddings.embed_documents(texts), dtype=np.float32)
            fresh = {keys[i]: _unit(vectors[j]) for j, i in enumerate(missing)}
            self._store(fresh)
            found.update(fresh)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([found[key] for key in keys])

    def prepare(self, sentences: Iterable[str], batch: int = 256) -> int:
        """Embed and store the sentences not cached yet; the number embedded."""
        unique = list(dict.fromkeys(s for s in sentences if s))
        done = 0
        for start in range(0, len(unique), batch):
            part = unique[start:start + batch]
            keys = [sentence_key(self.model, s) for s in part]
            have = self._lookup(keys)
            todo = [s for s, k in zip(part, keys, strict=True) if k not in have]
            if todo:
                self.get(todo)
                done += len(todo)
        return done

    def _lookup(self, keys: list[bytes]) -> dict[bytes, Any]:
        import numpy as np

        out: dict[bytes, Any] = {}
        with self._lock:
            for key in keys:
                if key in self._memory:
                    out[key] = self._memory[key]
            db = self._connect()
            wanted = [k for k in dict.fromkeys(keys) if k not in out]
            if db is None or not wanted:
                return out
            try:
                for start in range(0, len(wanted), 500):
                    part = wanted[start:start + 500]
                    marks = ",".join("?" * len(part))
                    for key, blob in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part):
                        out[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
            except sqlite3.Error as exc:
                log.warning("sentence vector cache read failed: %s", exc)
        return out

    def _store(self, vectors: dict[bytes, Any]) -> None:
        with self._lock:
            db = self._connect()
            if db is None:
                if len(self._memory) > 200_000:
                    self._memory.clear()
                self._memory.update(vectors)
                return
            try:
                db.execute("BEGIN")
                db.executemany(
                    "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                    [(k, v.astype("float32").tobytes()) for k, v in vectors.items()],
                )
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                log.warning("sentence vector cache write failed: %s", exc)
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                self._memory.update(vectors)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _unit(vector: Any) -> Any:
    import numpy as np

    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def cache_path(settings: Settings, model: str) -> Path:
    digest = hashlib.blake2b(model.encode(), digest_size=6).hexdigest()
    folder = settings.sentence_cache_dir or settings.data_dir / "cache"
    return folder / f"sentence-vectors-{digest}.sqlite"


def model_key(settings: Settings) -> str:
    embedding = settings.embedding
    return f"{embedding.model};q={embedding.quantize};b={embedding.backend}"


def prepare_sentence_vectors(settings: Settings, embeddings: Any, chunks: Iterable[Chunk]) -> int:
    """Index-time hook: embed and cache the answer candidates of freshly indexed chunks — their
    sentences and their article's headline (:func:`retrieval.answer.features.candidates`) — (the
    indexer calls it once per written batch), so answering never embeds them. The number embedded."""
    from retrieval.answer.features import headline_of
    from retrieval.index.chunking import split_sentences

    def texts() -> Iterator[str]:
        for chunk in chunks:
            if chunk.position == 0 and (headline := headline_of(chunk.title)):
                yield headline
            yield from split_sentences(chunk.text)

    key = model_key(settings)
    vectors = SentenceVectors(embeddings, key, cache_path(settings, key))
    try:
        return vectors.prepare(texts())
    finally:
        vectors.close()


class QueryMemo:
    """Embeddings that remember their last question vectors: retrieval and the answerer embed
    the same question, once. Everything else is passed to the wrapped embeddings."""

    def __init__(self, inner: Any, size: int = 64) -> None:
        self.inner = inner
        self.size = size
        self._memo: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def wrap(cls, embeddings: Any) -> Any:
        return embeddings if isinstance(embeddings, cls) or embeddings is None else cls(embeddings)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            found = self._memo.get(text)
        if found is not None:
            return found
        vector = list(self.inner.embed_query(text))
        with self._lock:
            if len(self._memo) >= self.size:
                self._memo.pop(next(iter(self._memo)))
            self._memo[text] = vector
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        result: list[list[float]] = self.inner.embed_documents(texts)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

"""Hybrid retrieval: dense (Chroma) and French BM25, fused by normalised scores (or by rank).

The retriever answers from a snapshot of the committed chunks (texts, metadata and a BM25
index built from them). The snapshot is rebuilt when the index's generation changes, so
an article becomes searchable only once it is fully written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from retrieval.index.indexer import passage_text
from retrieval.index.store import IndexStore
from retrieval.search.lexical import FrenchAnalyzer, LexicalIndex
from retrieval.settings import Settings
from retrieval.types import Passage

log = logging.getLogger(__name__)
TOKEN_CACHE_FORMAT = 1


class MemoAnalyzer(FrenchAnalyzer):
    """The French analyzer, answering known documents from a memo of their tokens.

    The memo is filled while a snapshot's BM25 index is built (``recording``) and then only
    read, so that the next snapshot re-analyses only the chunks it has not seen.
    """

    def __init__(self, memo: dict[str, list[str]]) -> None:
        super().__init__()
        self.memo = memo
        self.recording = True

    def tokens(self, text: str) -> list[str]:
        hit = self.memo.get(text)
        if hit is not None:
            return hit
        tokens = [sys.intern(t) for t in super().tokens(text)]
        if self.recording:
            self.memo[text] = tokens
        return tokens


def analyzer_fingerprint() -> str:
    """Changes whenever the lexical analysis code changes (the token cache is then dropped)."""
    import retrieval.search.lexical as lexical

    source = Path(lexical.__file__).read_bytes()
    return hashlib.sha256(source).hexdigest()[:16]


class TokenCache:
    """BM25 tokens of each chunk (by chunk id, which names its content), kept on disk.

    A new process then builds its BM25 index without analysing every chunk again.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def load(self) -> dict[str, list[str]]:
        if self.path is None:
            return {}
        try:
            with self.path.open("rb") as f:
                data = pickle.load(f)
            if data.get("format") != TOKEN_CACHE_FORMAT or data.get("analyzer") != analyzer_fingerprint():
                return {}
            vocab: list[str] = [sys.intern(w) for w in data["vocab"]]
            return {cid: [vocab[j] for j in row] for cid, row in zip(data["ids"], data["rows"], strict=False)}
        except FileNotFoundError:
            return {}
        except Exception:  # a damaged or foreign file is only a slower start
            log.debug("token cache %s ignored", self.path, exc_info=True)
            return {}

    def save(self, tokens: dict[str, list[str]]) -> None:
        if self.path is None:
            return
        import array

        index: dict[str, int] = {}
        ids, rows = [], []
        for cid, toks in tokens.items():
            ids.append(cid)
            rows.append(array.array("i", [index.setdefault(t, len(index)) for t in toks]))
        data = {
            "format": TOKEN_CACHE_FORMAT, "analyzer": analyzer_fingerprint(),
            "vocab": list(index), "ids": ids, "rows": rows,
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            with tmp.open("wb") as f:
                pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:
            log.debug("cannot write the token cache %s", self.path, exc_info=True)


@dataclass
class Snapshot:
    generation: int
    ids: list[str]
    documents: list[str]
    metadatas: list[dict[str, Any]]
    position: dict[str, int]
    lexical: LexicalIndex
    articles: dict[str, str] = field(default_factory=dict)  # article id -> content hash
    tokens: dict[str, list[str]] = field(default_factory=dict)  # chunk id -> BM25 tokens

    @classmethod
    def load(cls, store: IndexStore, previous: Snapshot | None = None, cache: TokenCache | None = None) -> Snapshot:
        """The committed chunks and their BM25 index.

        With a ``previous`` snapshot, only the chunks of articles added or changed since are
        read from the index and analysed; the rest is taken from it.
        """
        generation = store.generation()
        manifest = store.manifest()
        articles = {aid: entry.article_hash for aid, entry in manifest.items()}
        if previous is None:
            ids, docs, metas = store.chunks_of(manifest, None)
        else:
            kept = {aid for aid, h in articles.items() if previous.articles.get(aid) == h}
            ids, docs, metas = [], [], []
            for i, meta in enumerate(previous.metadatas):
                if meta.get("article_id") in kept:
                    ids.append(previous.ids[i])
                    docs.append(previous.documents[i])
                    metas.append(meta)
            fresh = [aid for aid in articles if aid not in kept]
            if fresh:
                more = store.chunks_of(manifest, fresh)
                ids.extend(more[0])
                docs.extend(more[1])
                metas.extend(more[2])
        order = sorted(range(len(ids)), key=ids.__getitem__)  # one order, however loaded
        ids = [ids[i] for i in order]
        docs = [docs[i] for i in order]
        metas = [metas[i] for i in order]
        known = previous.tokens if previous is not None else (cache.load() if cache is not None else {})
        memo = {doc: known[cid] for cid, doc in zip(ids, docs, strict=False) if cid in known}
        analyzer = MemoAnalyzer(memo)
        lexical = LexicalIndex(docs, analyzer=analyzer)
        analyzer.recording = False
        tokens = {cid: memo[doc] for cid, doc in zip(ids, docs, strict=False) if doc in memo}
        if cache is not None and any(cid not in known for cid in ids):
            cache.save(tokens)
        return cls(
            generation=generation,
            ids=ids,
            documents=docs,
            metadatas=metas,
            position={cid: i for i, cid in enumerate(ids)},
            lexical=lexical,
            articles=articles,
            tokens=tokens,
        )


def rrf(rankings: list[list[str]], k: int) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank + 1)
    return scores


def score_fusion(dense: dict[str, float], lexical: dict[str, float], dense_weight: float) -> dict[str, float]:
    """Convex combination of normalised scores over the union of both candidate lists.

    Cosines are min-max scaled over the candidates (a candidate only BM25 found gets the
    lowest cosine the dense search returned); BM25 scores are divided by the best one.
    On PIAF this beat reciprocal rank fusion by ~0.02 recall@5 and ~0.04 MRR: ranks throw
    away how much better the first candidate is than the next.
    """
    candidates = set(dense) | set(lexical)
    if not candidates:
        return {}
    floor = min(dense.values()) if dense else 0.0
    cosines = {cid: dense.get(cid, floor) for cid in candidates}
    low, high = min(cosines.values()), max(cosines.values())
    span = high - low
    best_bm25 = max(lexical.values(), default=0.0)
    fused = {}
    for cid in candidates:
        d = (cosines[cid] - low) / span if span > 0 else (1.0 if dense else 0.0)
        b = lexical.get(cid, 0.0) / best_bm25 if best_bm25 > 0 else 0.0
        fused[cid] = dense_weight * d + (1.0 - dense_weight) * b
    return fused


class HybridRetriever(BaseRetriever):
    """A LangChain retriever returning passages as Documents with their chunk metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: IndexStore
    settings: Settings
    _snapshot: Snapshot | None = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    def snapshot(self) -> Snapshot:
        """The current snapshot, brought up to date (incrementally) when the index changed."""
        generation = self.store.generation()
        snap = self._snapshot
        if snap is None or snap.generation != generation:
            with self._lock:
                snap = self._snapshot
                if snap is None or snap.generation != generation:
                    snap = Snapshot.load(self.store, previous=snap, cache=self.token_cache())
                    self._snapshot = snap
        return snap

    def token_cache(self) -> TokenCache:
        folder = self.settings.data_dir / "cache"
        return TokenCache(folder / f"bm25-tokens-{self.settings.collection}.pkl")

    def passages(self, query: str, k: int | None = None) -> tuple[list[Passage], Snapshot]:
        """The ``k`` (default: settings.k) best passages for ``query``."""
        snap = self.snapshot()
        if not snap.ids:
            return [], snap
        fetch_k = self.settings.candidates
        vector = self.store.embeddings.embed_query(query)
        dense = [(cid, s) for cid, s in self.store.dense_search(vector, fetch_k) if cid in snap.position]
        dense_scores = dict(dense)
        lexical_ranks: dict[str, int] = {}
        if not self.settings.hybrid:
            fused = {cid: s for cid, s in dense}
        else:
            bm25 = snap.lexical.scores(query)
            lexical = [snap.ids[i] for i, _ in snap.lexical.search(query, fetch_k)]
            lexical_ranks = {cid: rank for rank, cid in enumerate(lexical)}
            if self.settings.fusion == "rrf":
                fused = rrf([[cid for cid, _ in dense], lexical], self.settings.rrf_k)
            else:
                fused = score_fusion(
                    dense_scores,
                    {cid: float(bm25[snap.position[cid]]) for cid in set(lexical) | set(dense_scores)},
                    self.settings.dense_weight,
                )
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[: k or self.settings.k]
        passages = []
        for cid, score in best:
            i = snap.position[cid]
            meta = snap.metadatas[i]
            title = str(meta.get("title", ""))
            passages.append(
                Passage(
                    chunk_id=cid,
                    article_id=str(meta.get("article_id", "")),
                    title=title,
                    text=passage_text(snap.documents[i], title),
                    score=round(score, 6),
                    date=meta.get("date"),
                    url=meta.get("url"),
                    source=meta.get("source"),
                    position=int(meta.get("position", 0)),
                    dense_score=dense_scores.get(cid),
                    lexical_rank=lexical_ranks.get(cid),
                )
            )
        return passages, snap

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        passages, _ = self.passages(query)
        return [passage_to_document(p) for p in passages]


def passage_to_document(passage: Passage) -> Document:
    meta = {k: v for k, v in passage.__dict__.items() if k != "text"}
    return Document(page_content=passage.text, metadata=meta, id=passage.chunk_id)


def document_to_passage(document: Document) -> Passage:
    return Passage(text=document.page_content, **document.metadata)

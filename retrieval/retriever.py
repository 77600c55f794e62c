"""Hybrid retrieval: dense (Chroma) and French BM25, fused by normalised scores (or by rank).

The retriever answers from a snapshot of the committed chunks (texts, metadata and a BM25
index built from them). The snapshot is rebuilt when the index's generation changes, so
an article becomes searchable only once it is fully written.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from retrieval.indexer import passage_text
from retrieval.lexical import LexicalIndex
from retrieval.settings import Settings
from retrieval.store import IndexStore
from retrieval.types import Passage


@dataclass
class Snapshot:
    generation: int
    ids: list[str]
    documents: list[str]
    metadatas: list[dict[str, Any]]
    position: dict[str, int]
    lexical: LexicalIndex

    @classmethod
    def load(cls, store: IndexStore) -> Snapshot:
        generation, ids, docs, metas = store.committed_chunks()
        return cls(
            generation=generation,
            ids=ids,
            documents=docs,
            metadatas=metas,
            position={cid: i for i, cid in enumerate(ids)},
            lexical=LexicalIndex(docs),
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
        generation = self.store.generation()
        snap = self._snapshot
        if snap is None or snap.generation != generation:
            with self._lock:
                snap = self._snapshot
                if snap is None or snap.generation != generation:
                    snap = Snapshot.load(self.store)
                    self._snapshot = snap
        return snap

    def passages(self, query: str) -> tuple[list[Passage], Snapshot]:
        snap = self.snapshot()
        if not snap.ids:
            return [], snap
        fetch_k = self.settings.fetch_k
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
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[: self.settings.k]
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

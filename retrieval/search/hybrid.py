"""Hybrid retrieval: dense (Chroma) and French BM25 (the on-disk lexicon), fused by normalised
scores (or by rank).

Nothing proportional to the corpus is held in memory: per question, the retriever opens a
:class:`~retrieval.search.lexical.LexicalView` (the lexicon's statistics, read once), asks
Chroma for the nearest chunks and the lexicon for the best BM25 candidates (both within the
question's scope), keeps only candidates whose article version the manifest commits (read
for those articles only), and reads the texts of the ``k`` passages it returns by id. When
none of the ``k`` is in the other language than the question's, the last place goes to the
densest close passage in that language (:func:`other_language_slot`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from retrieval.index.indexer import passage_text
from retrieval.index.scope import ScopeFilter
from retrieval.index.store import FEW_IN_SCOPE, IndexStore
from retrieval.search.lexical import LexicalView, bm25
from retrieval.settings import Settings
from retrieval.text import language_of
from retrieval.types import Passage, QueryScope

log = logging.getLogger(__name__)

# the full-text index ranks with its own BM25 (k1 1.2): this many times ``candidates`` are rescored with ours
LEXICAL_POOL = 2


# threads for the dense searches of questions answered at once (a bot answers several)
DENSE_WORKERS = 4

# dense candidates (beyond the k passages) looked at for a passage in the other language
OTHER_LANGUAGE_LOOKAHEAD = 8


def other_language_slot(
    language: str,
    best: list[tuple[str, float]],
    others: list[tuple[str, float]],
    fused: dict[str, float],
    stored: dict[str, tuple[str, dict[str, Any]]],
) -> list[tuple[str, float]]:
    """The k passages, the last one given to the densest passage in the other language than the
    question's when none of them is in it and that passage is close enough to the question
    (``others``: the dense candidates beyond the k, at or above the cross-language relevance
    cosine, best first).

    Lexical search matches words of the question's language only, so in a corpus of French and
    English coverage the articles in the other language compete on the dense score alone and
    rarely reach the k, even when they alone hold the fact (the newest report is often in the
    other language). Their sentences are scored across languages by the answer model.
    """

    def language_of_chunk(cid: str) -> str | None:
        entry = stored.get(cid)
        if entry is None:
            return None
        document, meta = entry
        return str(meta.get("language") or language_of(document[:600]))

    if any(language_of_chunk(cid) not in (language, None) for cid, _ in best):
        return best
    for cid, _ in others:
        found = language_of_chunk(cid)
        if found is not None and found != language:
            return [*best[:-1], (cid, fused.get(cid, 0.0))]
    return best


# fused candidates (beyond the k passages) looked at for a passage naming what the k do not
NAMED_LOOKAHEAD = 20


def named_slot(
    query: str,
    best: list[tuple[str, float]],
    lookahead: list[tuple[str, float]],
    stored: dict[str, tuple[str, dict[str, Any]]],
    fetch: Callable[[list[str]], dict[str, tuple[str, dict[str, Any]]]],
    keep: set[str],
) -> list[tuple[str, float]]:
    """The k passages, the last one (not in ``keep``) given to the best candidate of ``lookahead``
    (fused, beyond the k) that mentions a name of the question (« le 19e paquet », "Zelensky") none
    of the k mention (:func:`retrieval.answer.names.naming`).

    A question comparing two things ("between the 18th and 19th packages") or naming a second
    subject is otherwise given passages about the first alone, which several outlets repeat; and
    the answerer refuses a question naming something its passages never mention. The candidates'
    texts are read only when a name is missing.
    """
    from retrieval.answer.names import absent_names, naming

    slots = [i for i, (cid, _) in enumerate(best) if cid not in keep]
    if len(best) < 2 or not slots or not lookahead:
        return best
    wanted = absent_names(query, [chunk_text(stored[cid]) for cid, _ in best if cid in stored])
    if not wanted:
        return best
    found = fetch([cid for cid, _ in lookahead])
    present = [(cid, score) for cid, score in lookahead if cid in found]
    index = naming(wanted, [chunk_text(found[cid]) for cid, _ in present])
    if index is None:
        return best
    cid, score = present[index]
    stored[cid] = found[cid]
    out = list(best)
    out[slots[-1]] = (cid, score)
    return out


def chunk_text(entry: tuple[str, dict[str, Any]]) -> str:
    document, meta = entry
    return f"{meta.get('title', '')}\n{document}"


def language_fair(
    fused: dict[str, float],
    dense: dict[str, float],
    languages: dict[str, str | None],
    language: str,
    offset: float,
) -> dict[str, float]:
    """Fused scores in which a passage in the other language than the question's is ranked on the
    dense evidence alone: its cosine, raised by ``offset`` (the gap between same-language and
    cross-language cosines of a relevant passage, ``MIN_DENSE_SCORE - MIN_DENSE_SCORE_EN``),
    min-max scaled as in :func:`score_fusion`, when that beats its fused score.

    BM25 cannot see a passage in the other language: its lexical score is missing, not zero, and
    fused with a zero it ranks below same-language passages that merely share words with the
    question. Taking the dense score for the whole (the lexical one assumed to agree) puts the best
    other-language passages among the k when they are as close as the best same-language ones.
    """
    raised = {
        cid: cosine + offset for cid, cosine in dense.items() if languages.get(cid) not in (None, language)
    }
    if not raised:
        return fused
    low = min(dense.values())
    span = max(*dense.values(), *raised.values()) - low
    if span <= 0:
        return fused
    fair = dict(fused)
    for cid, cosine in raised.items():
        scaled = (cosine - low) / span
        if scaled > fair.get(cid, 0.0):
            fair[cid] = scaled
    return fair


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

    _pool: ThreadPoolExecutor | None = PrivateAttr(default=None)
    _pool_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=DENSE_WORKERS, thread_name_prefix="newsbot-dense")
            return self._pool

    def _dense(
        self, query: str, k: int, limits: ScopeFilter, size: int, among: list[str] | None
    ) -> list[tuple[str, float, tuple[str, str], str | None]]:
        vector = self.store.embeddings.embed_query(query)
        return self.store.dense_search(vector, k, scope=limits, size=size, among=among)

    def view(self) -> LexicalView:
        """What one question sees of the lexical index (its statistics, read now)."""
        lexicon = self.store.lexicon
        size, avgdl = lexicon.stats()
        return LexicalView(size, avgdl, lexicon.document_frequencies)

    def passages(
        self, query: str, *, view: LexicalView | None = None, scope: QueryScope | None = None,
        k: int | None = None,
    ) -> tuple[list[Passage], LexicalView]:
        """The ``k`` (default: settings.k) best passages for ``query`` within ``scope``."""
        view = view if view is not None else self.view()
        limits = ScopeFilter.of(scope)
        fetch_k = self.settings.candidates
        language = language_of(query)
        # a scope admitting few chunks (or none) is searched among them alone; the lexicon, written in
        # the same commit as the vectors, tells which (unless it is empty: never synced from a server)
        among = None if limits.empty or not view.size else self.store.lexicon.admitted(limits, FEW_IN_SCOPE)
        if among == []:
            return [], view
        lexical: list[str] = []
        doc_tokens: dict[str, list[str]] = {}
        q_tokens: list[str] = []
        pre_scores: dict[str, float] = {}
        lexical_versions: dict[str, tuple[str, str]] = {}
        # the dense search (the question embedded, Chroma asked: native code, the GIL released) runs
        # in a worker thread while this one searches the lexicon; in a fresh process it also waits
        # there for Chroma's vector index (see AnsweringService.load_vectors_meanwhile)
        dense_search = self._workers().submit(self._dense, query, fetch_k, limits, view.size, among)
        if self.settings.hybrid and view.size:
            q_tokens = view.query_tokens(query)
            hits = self.store.lexicon.search(q_tokens, LEXICAL_POOL * fetch_k, limits, among=among)
            idf = view.bm25_idf(q_tokens)
            pre_scores = {hit.chunk_id: bm25(q_tokens, hit.tokens, idf, view.avgdl) for hit in hits}
            # only the best by our BM25 can be among the fetch_k lexical candidates: the manifest
            # is then read for their articles only (twice as many, for versions not committed)
            kept = set(sorted(pre_scores, key=lambda cid: (-pre_scores[cid], cid))[: 2 * fetch_k])
            for hit in hits:
                if hit.chunk_id in kept:
                    lexical_versions[hit.chunk_id] = (hit.article_id, hit.article_hash)
                    doc_tokens[hit.chunk_id] = hit.tokens
        dense_hits = dense_search.result()
        versions = {cid: version for cid, _, version, _ in dense_hits} | lexical_versions
        # only chunks of committed article versions (the manifest, read for these articles only)
        committed = self.store.entries([aid for aid, _ in versions.values()])
        visible = {
            cid for cid, (aid, h) in versions.items()
            if aid in committed and committed[aid].article_hash == h
        }
        dense = [(cid, score) for cid, score, _, _ in dense_hits if cid in visible]
        dense_scores = dict(dense)
        lexical_ranks: dict[str, int] = {}
        if not self.settings.hybrid:
            fused = dict(dense)
        else:
            idf = view.bm25_idf(q_tokens)
            missing = [cid for cid in dense_scores if cid not in doc_tokens]
            doc_tokens.update({cid: hit.tokens for cid, hit in self.store.lexicon.rows(missing).items()})
            scores = {
                cid: pre_scores[cid] if cid in pre_scores else bm25(q_tokens, doc_tokens.get(cid, []), idf, view.avgdl)
                for cid in visible if cid in doc_tokens or cid in dense_scores
            }
            ranked = sorted(
                ((cid, s) for cid, s in scores.items() if s > 0 and cid in doc_tokens), key=lambda x: (-x[1], x[0])
            )
            lexical = [cid for cid, _ in ranked[:fetch_k]]
            lexical_ranks = {cid: rank for rank, cid in enumerate(lexical)}
            if self.settings.fusion == "rrf":
                fused = rrf([[cid for cid, _ in dense], lexical], self.settings.rrf_k)
            else:
                fused = score_fusion(
                    dense_scores,
                    {cid: scores.get(cid, 0.0) for cid in set(lexical) | set(dense_scores)},
                    self.settings.dense_weight,
                )
                fused = language_fair(
                    fused, dense_scores, self._languages(dense_hits, visible), language,
                    self.settings.min_dense_score - self.settings.min_dense_score_en,
                )
        ranked_all = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        best = ranked_all[: k or self.settings.k]
        chosen = {cid for cid, _ in best}
        others = [
            (cid, score) for cid, score in sorted(dense_scores.items(), key=lambda item: (-item[1], item[0]))
            if cid not in chosen and score >= self.settings.min_dense_score_en
        ][:OTHER_LANGUAGE_LOOKAHEAD]
        stored = self.store.chunks([cid for cid, _ in best] + [cid for cid, _ in others])
        if others and len(best) > 1:
            best = other_language_slot(language, best, others, fused, stored)
        if (k or self.settings.k) == self.settings.k:  # not a pool for the scope's re-ranking (see apply_scope)
            slotted = {cid for cid, _ in best} - {cid for cid, _ in ranked_all[: len(best)]}
            lookahead = [item for item in ranked_all if item[0] not in chosen and item[0] not in slotted]
            best = named_slot(query, best, lookahead[:NAMED_LOOKAHEAD], stored, self.store.chunks, slotted)
        passages = []
        for cid, score in best:
            if cid not in stored:  # removed since the search: gone
                continue
            document, meta = stored[cid]
            title = str(meta.get("title", ""))
            passages.append(
                Passage(
                    chunk_id=cid,
                    article_id=str(meta.get("article_id", "")),
                    title=title,
                    text=passage_text(document, title),
                    score=round(score, 6),
                    date=meta.get("date"),
                    url=meta.get("url"),
                    source=meta.get("source"),
                    position=int(meta.get("position", 0)),
                    dense_score=dense_scores.get(cid),
                    lexical_rank=lexical_ranks.get(cid),
                    date_kind=meta.get("date_kind"),
                    language=meta.get("language"),
                )
            )
        return passages, view

    def _languages(
        self, dense_hits: list[tuple[str, float, tuple[str, str], str | None]], visible: set[str]
    ) -> dict[str, str | None]:
        """The language of each visible dense candidate: recorded with the chunk, or (in an index
        written before chunks recorded theirs) told from its text."""
        languages = {cid: language for cid, _, _, language in dense_hits if cid in visible}
        unknown = [cid for cid, language in languages.items() if language is None]
        if unknown:
            for cid, (document, _) in self.store.chunks(unknown).items():
                languages[cid] = language_of(document[:600])
        return languages

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        passages, _ = self.passages(query)
        return [passage_to_document(p) for p in passages]


def passage_to_document(passage: Passage) -> Document:
    meta: dict[str, Any] = {k: v for k, v in passage.__dict__.items() if k != "text"}
    return Document(page_content=passage.text, metadata=meta, id=passage.chunk_id)

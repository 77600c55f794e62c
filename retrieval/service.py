"""The answering service: the one object front ends talk to.

It validates questions, runs the LangChain retrieval chain (condense → retrieve →
answer) and returns an :class:`~retrieval.types.Answer` whose sources carry chunk ids and
metadata straight from the index. It also runs reindexing and lists the newest articles.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from retrieval.answer.extractive import Composed, ExtractiveAnswerer, condense, language_of
from retrieval.answer.extractive import from_settings as answerer_from_settings
from retrieval.errors import IndexMismatch, IndexMissing, InvalidQuestion, StoreUnavailable
from retrieval.index.indexer import Indexer
from retrieval.index.store import IndexStore, make_client, wipe_local_index
from retrieval.locks import file_lock
from retrieval.scope.coverage import Coverage
from retrieval.scope.dating import date_answer, event_note
from retrieval.scope.parse import Understood, merge, understand
from retrieval.scope.recency import apply_scope
from retrieval.scope.roundup import newest_passages, roundup
from retrieval.search.hybrid import HybridRetriever, document_to_passage, passage_to_document
from retrieval.settings import Settings
from retrieval.types import Answer, ArticleInfo, Passage, QueryScope, ReindexReport, Source, Turn

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def clean_question(question: str, limit: int) -> str:
    """The question with control characters removed and spaces folded; errors if unusable."""
    if len(question) > limit * 4:  # do not even normalise a huge paste
        raise InvalidQuestion(f"the question is too long ({len(question):,} characters; the limit is {limit:,})")
    text = unicodedata.normalize("NFC", question)
    text = _CONTROL.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise InvalidQuestion("the question is empty")
    if len(text) > limit:
        raise InvalidQuestion(f"the question is too long ({len(text):,} characters; the limit is {limit:,})")
    return text


def make_sources(passages: Sequence[Passage], cited: set[int]) -> list[Source]:
    return [
        Source(
            n=n,
            article_id=p.article_id,
            chunk_id=p.chunk_id,
            title=p.title,
            date=p.date,
            url=p.url,
            text=p.text,
            score=p.score,
            cited=n in cited,
        )
        for n, p in enumerate(passages, start=1)
    ]


class AnsweringService:
    def __init__(
        self,
        settings: Settings,
        store: IndexStore,
        *,
        answerer: ExtractiveAnswerer | None = None,
        generator: Any = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.retriever = HybridRetriever(store=store, settings=settings)
        self.answerer = answerer or answerer_from_settings(settings, store.embeddings)
        self.generator = generator  # optional LLM answerer (see retrieval.answer.llm)
        self._write_lock = threading.Lock()
        self._coverage: tuple[int, Coverage] | None = None
        self.chain = self._build_chain()

    # -- the chain -----------------------------------------------------------------------
    def _build_chain(self) -> Any:
        from langchain_core.runnables import RunnableLambda, RunnablePassthrough

        return (
            RunnablePassthrough.assign(standalone=RunnableLambda(self._condense))
            | RunnablePassthrough.assign(understood=RunnableLambda(self._understand))
            | RunnablePassthrough.assign(scope=lambda inputs: inputs["understood"].scope)
            | RunnablePassthrough.assign(documents=RunnableLambda(self._retrieve))
            | RunnableLambda(self._compose)
        )

    def _condense(self, inputs: dict[str, Any]) -> str:
        history: list[Turn] = inputs["history"]
        if self.generator is not None and history:
            rewritten: str | None = self.generator.condense(inputs["question"], history)
            if rewritten:
                return rewritten
        snap = self.retriever.snapshot()
        return condense(inputs["question"], history, snap.lexical, self.settings.history_turns)

    # -- time and outlets (retrieval/scope) -------------------------------------------------
    def reference_day(self) -> dt.date:
        """The day questions are asked on: NEWSBOT_REFERENCE_DATE, else today."""
        return self.settings.reference_date or dt.date.today()

    def coverage(self) -> Coverage:
        """The outlets and dated titles of the index (rebuilt when the index changes)."""
        snap = self.retriever.snapshot()
        cached = self._coverage
        if cached is None or cached[0] != snap.generation:
            cached = (snap.generation, Coverage.from_metadatas(snap.metadatas))
            self._coverage = cached
        return cached[1]

    def outlets(self) -> list[str]:
        """The outlets present in the index (what « selon … » and ``--source`` are matched against)."""
        return self.coverage().outlets.names

    def _understand(self, inputs: dict[str, Any]) -> Understood:
        """The question's own scope merged with the explicit one (which wins), and the text to search."""
        coverage = self.coverage()
        understood = understand(inputs["standalone"], self.reference_day(), coverage)
        explicit: QueryScope | None = inputs.get("scope")
        if explicit is not None and explicit.sources:
            explicit = QueryScope(explicit.since, explicit.until, coverage.outlets.resolve(explicit.sources),
                                  explicit.prefer_recent)
        understood.scope = merge(explicit, understood.scope)
        return understood

    def _retrieve(self, inputs: dict[str, Any]) -> list[Any]:
        understood: Understood = inputs["understood"]
        scope: QueryScope = inputs["scope"]
        if scope.empty:
            return list(self.retriever.invoke(understood.query or inputs["standalone"]))
        if not understood.query and (scope.prefer_recent or scope.since or scope.until or scope.sources):
            snap = self.retriever.snapshot()  # « dernières nouvelles »: nothing to search, the newest articles
            found = newest_passages(snap.ids, snap.documents, snap.metadatas, scope, self.settings.k)
        else:  # a wider pool, then the scope and the recency prior pick the k passages
            pool, _ = self.retriever.passages(understood.query or inputs["standalone"], k=self.settings.candidates)
            found = apply_scope(pool, scope, k=self.settings.k,
                                half_life_days=self.settings.recency_half_life_days)
        return [passage_to_document(p) for p in found]

    def _compose(self, inputs: dict[str, Any]) -> Answer:
        question: str = inputs["question"]
        query: str = inputs["standalone"]
        understood: Understood = inputs["understood"]
        scope: QueryScope = inputs["scope"]
        language = language_of(question)
        passages = [document_to_passage(d) for d in inputs["documents"]]
        lexical = self.retriever.snapshot().lexical
        if not understood.query and not scope.empty and passages:  # « dernières nouvelles »
            text, cited = roundup(passages, language)
            composed = Composed(text, cited, False)
        else:
            composed = self.answerer.answer(question, understood.query or query, passages, lexical)
            if not composed.refused:
                composed.text = date_answer(composed.text, passages, language=language,
                                            newest_first=scope.prefer_recent)
        notes = [event_note(e.phrase, e.day, e.articles, language) for e in understood.events]
        answer = Answer(
            question=question,
            answer=composed.text,
            refused=composed.refused,
            sources=make_sources(passages, composed.cited),
            standalone_question=query if query != question else None,
            notice=" ".join(notes) or None,
        )
        if self.generator is not None and not composed.refused:
            answer = self.generator.improve(answer, passages, extractive=answer, on_token=inputs.get("on_token"))
        return answer

    # -- public API ------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        *,
        on_token: Callable[[str], None] | None = None,
        scope: QueryScope | None = None,
    ) -> Answer:
        """Answer ``question`` (a follow-up of ``history``), restricted to ``scope`` when given."""
        text = clean_question(question, self.settings.max_question_chars)
        turns = list(history)[-self.settings.history_turns:] if self.settings.history_turns else []
        answer: Answer = self.chain.invoke(
            {"question": text, "history": turns, "on_token": on_token, "scope": scope or QueryScope()}
        )
        return answer

    def reindex(
        self, *, rebuild: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> ReindexReport:
        with self._write_lock, self._process_lock():
            if rebuild:
                self.store.drop()
                self.store.open(create=True)
            return Indexer(self.store, self.settings).reindex(progress=progress)

    def _process_lock(self) -> Any:
        """One process writes an embedded index at a time (a Chroma server serialises writes itself)."""
        if self.settings.server_mode:
            return contextlib.nullcontext()
        return file_lock(
            self.settings.index_path.parent / f".{self.settings.index_path.name}.write-lock",
            waiting="another newsbot process is writing the index: waiting for it to finish…",
        )

    def latest(self, n: int = 5) -> list[ArticleInfo]:
        return self.store.latest(n)

    def warm_up(self) -> None:
        """Load the model and the retrieval snapshot now, so the first question is not slow."""
        self.retriever.snapshot()
        self.store.embeddings.embed_query("warm up")


def open_service(
    settings: Settings,
    *,
    create: bool = False,
    rebuild: bool = False,
    embeddings: Any = None,
    generator: Any = None,
) -> AnsweringService:
    """Connect to the index (creating it when asked) and build the service.

    With ``rebuild``, an index that cannot even be opened (a damaged folder, another
    model's index) is removed first.
    """
    from retrieval.embeddings.models import embeddings_from_settings

    embeddings = embeddings or embeddings_from_settings(settings)
    if generator is None and settings.llm.enabled:
        from retrieval.answer.llm import generator_from_settings

        generator = generator_from_settings(settings)
    try:
        client = make_client(settings, create=create or rebuild)
        store = IndexStore(client, embeddings, settings)
        if rebuild:
            store.drop()
        store.open(create=create or rebuild)
    except (IndexMismatch, StoreUnavailable):
        if not rebuild or settings.server_mode:
            raise
        log.warning("the index at %s cannot be opened; removing it to rebuild", settings.index_path)
        wipe_local_index(settings)
        client = make_client(settings, create=True)
        store = IndexStore(client, embeddings, settings).open(create=True)
    return AnsweringService(settings, store, generator=generator)


__all__ = ["AnsweringService", "IndexMissing", "clean_question", "open_service"]

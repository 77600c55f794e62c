"""The answering service: the one object front ends talk to.

It validates questions, runs the LangChain retrieval chain (view → condense → understand
→ retrieve → compose; "understand" reads the question's dates, outlets and wish for the newest, see
:mod:`retrieval.scope`) and returns an :class:`~retrieval.types.Answer` whose sources carry chunk ids and
metadata straight from the index. It also runs reindexing and lists the newest articles.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from retrieval.answer.duplicates import also_reported, collapse
from retrieval.answer.extractive import Composed, ExtractiveAnswerer, condense, language_of
from retrieval.answer.extractive import from_settings as answerer_from_settings
from retrieval.answer.followups import own_words
from retrieval.answer.language import chit_chat, message
from retrieval.answer.vectors import QueryMemo, prepare_sentence_vectors
from retrieval.errors import IndexMismatch, IndexMissing, InvalidQuestion, StoreUnavailable
from retrieval.index.indexer import Indexer
from retrieval.index.store import IndexStore, make_client, wipe_local_index
from retrieval.locks import file_lock
from retrieval.scope.coverage import Coverage
from retrieval.scope.coverage_cache import load_coverage
from retrieval.scope.dating import date_answer, event_note
from retrieval.scope.outlets import index_scope
from retrieval.scope.parse import Understood, merge, understand
from retrieval.scope.recency import apply_scope, recency_factors
from retrieval.scope.roundup import newest_on_subject, newest_passages, roundup
from retrieval.settings import Settings
from retrieval.types import Answer, ArticleInfo, Chunk, Passage, QueryScope, ReindexReport, Source, Turn

if TYPE_CHECKING:
    from pathlib import Path

    from retrieval.search.hybrid import HybridRetriever

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
    if not any(ch.isalnum() for ch in text):  # « ? », "🙂": nothing to search with
        raise InvalidQuestion("the question has no words: ask about the news, in French or English")
    if len(text) > limit:
        raise InvalidQuestion(f"the question is too long ({len(text):,} characters; the limit is {limit:,})")
    return text


def make_sources(
    passages: Sequence[Passage],
    cited: set[int],
    copies: dict[int, list[Passage]] | None = None,
    probabilities: dict[int, float] | None = None,
) -> list[Source]:
    copies = copies or {}
    probabilities = probabilities or {}
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
            date_kind=p.date_kind,
            also_reported_by=also_reported(copies.get(n - 1, [])),
            probability=probabilities.get(n),
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
        store.embeddings = QueryMemo.wrap(store.embeddings)  # the question is embedded once per answer
        self.store = store
        self.answerer = answerer or answerer_from_settings(settings, store.embeddings)
        self.generator = generator  # optional LLM answerer (see retrieval.answer.llm)
        self._write_lock = threading.Lock()
        self._coverage: tuple[int, Coverage] | None = None

    # the retriever and the chain are built on first use: a process that only reindexes (a
    # one-shot `newsbot reindex`, the feeds) does not import LangChain's retriever and tracers
    @functools.cached_property
    def retriever(self) -> HybridRetriever:
        from retrieval.search.hybrid import HybridRetriever

        return HybridRetriever(store=self.store, settings=self.settings)

    @functools.cached_property
    def chain(self) -> Any:
        return self._build_chain()

    # -- the chain -----------------------------------------------------------------------
    # One question = one pass down a plain sequence of steps, each taking and returning the
    # same dict: open one index view (read once, shared by every step), condense, understand
    # (the question's dates, outlets, recency), retrieve, compose. RunnableLambda steps run in the caller's thread (RunnablePassthrough.assign
    # would start a thread pool per question).
    def _build_chain(self) -> Any:
        from langchain_core.runnables import RunnableLambda

        return (
            RunnableLambda(self._open_view, name="view")
            | RunnableLambda(self._condense, name="condense")
            | RunnableLambda(self._understand, name="understand")
            | RunnableLambda(self._retrieve, name="retrieve")
            | RunnableLambda(self._compose, name="compose")
        )

    def _open_view(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {**inputs, "view": self.retriever.view()}

    def _condense(self, inputs: dict[str, Any]) -> dict[str, Any]:
        history: list[Turn] = inputs["history"]
        standalone: str | None = None
        if self.generator is not None and history:
            standalone = self.generator.condense(inputs["question"], history)
        if not standalone:
            standalone = condense(
                inputs["question"], history, inputs["view"], self.settings.history_turns
            )
        return {**inputs, "standalone": standalone}

    # -- time and outlets (retrieval/scope) -------------------------------------------------
    def reference_day(self) -> dt.date:
        """The day questions are asked on: NEWSBOT_REFERENCE_DATE, else today."""
        return self.settings.reference_date or dt.date.today()

    def coverage(self) -> Coverage:
        """The outlets and dated titles of the index, from its manifest, cached by the index generation.

        A reindex or a refresh of this service rebuilds it, so that a question reads only its
        candidates; a question rebuilds it only when another process changed the index since."""
        cached = self._coverage
        if cached is None or cached[0] != self.store.generation():
            cached = self._load_coverage()
        return cached[1]

    def _load_coverage(self) -> tuple[int, Coverage]:
        cached = load_coverage(self.store, self._coverage)
        self._coverage = cached
        return cached

    def outlets(self) -> list[str]:
        """The outlets present in the index (what « selon … » and ``--source`` are matched against)."""
        return self.coverage().outlets.names

    def _understand(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The question's own scope merged with the explicit one (which wins), and the text to search."""
        coverage = self.coverage()
        understood = understand(inputs["standalone"], self.reference_day(), coverage)
        explicit: QueryScope | None = inputs.get("scope")
        if explicit is not None and explicit.sources:
            unknown = [name for name in explicit.sources if not coverage.outlets.find(name)]
            if unknown:  # ``ask --source`` with a typo: say so, rather than « no relevant passage »
                known = coverage.outlets.names
                listed = ", ".join(known[:5]) + (", …" if len(known) > 5 else "")
                raise InvalidQuestion(f"no outlet of the index matches {unknown[0]!r}"
                                      + (f" ({len(known)} outlets: {listed})" if known else ""))
            explicit = QueryScope(explicit.since, explicit.until, coverage.outlets.resolve(explicit.sources),
                                  explicit.prefer_recent)
        understood.scope = merge(explicit, understood.scope)
        return {**inputs, "understood": understood, "scope": understood.scope}

    def _retrieve(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The index filters the candidates on the scope's dates and outlets (every name an outlet
        goes by); the recency prior re-ranks a wider pool when the question asks for the newest."""
        understood: Understood = inputs["understood"]
        scope: QueryScope = inputs["scope"]
        limits = index_scope(scope, self.coverage().outlets)
        query = understood.query or inputs["standalone"]
        if scope.empty:
            passages, _ = self.retriever.passages(query, view=inputs["view"])
        elif not understood.query:  # « dernières nouvelles »: nothing to search with, the newest articles
            passages = newest_passages(self.store, limits, self.settings.k)
        else:  # a wider pool in scope, then the recency prior picks the k passages
            pool, _ = self.retriever.passages(query, view=inputs["view"], scope=limits, k=self.settings.candidates)
            passages = apply_scope(pool, scope, k=self.settings.k, half_life_days=self.settings.recency_half_life_days,
                                   query=query)
        return {**inputs, "passages": passages}

    def _compose(self, inputs: dict[str, Any]) -> Answer:
        question: str = inputs["question"]
        query: str = inputs["standalone"]
        understood: Understood = inputs["understood"]
        scope: QueryScope = inputs["scope"]
        passages, copies = collapse(inputs["passages"])
        language = language_of(question)
        if not understood.query and not scope.empty and passages:  # « dernières nouvelles »
            text, cited = roundup(passages, language)
            composed = Composed(text, cited, False, language=language)
        else:
            # a question about the present: the newest article's sentences win when they answer too
            weights = recency_factors(passages, self.settings.recency_half_life_days) if scope.prefer_recent else None
            own = own_words(question, query)  # a follow-up's own words pick its sentences
            scoring = own if own != query else understood.query or query
            composed = self.answerer.answer(question, scoring, passages, inputs["view"], weights=weights,
                                            latest=understood.asks_latest)
            newest = newest_on_subject(passages, language) if composed.on_subject and understood.asks_latest else None
            if newest is not None:  # « où en sont … ? » that no sentence answers: the newest article on it
                composed = Composed(newest[0], newest[1], False, language=language)
            elif not composed.refused:
                composed.text = date_answer(composed.text, passages, language=language,
                                            newest_first=scope.prefer_recent)
        notes = [event_note(e.phrase, e.day, e.articles, language) for e in understood.events]
        answer = Answer(
            question=question,
            answer=composed.text,
            refused=composed.refused,
            sources=make_sources(passages, composed.cited, copies, composed.probabilities),
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
        small_talk = chit_chat(text)
        if small_talk:  # "hello", « merci »: a help line, not news
            return Answer(question=text, answer=message("chit_chat", small_talk), refused=False)
        from retrieval.digest.summary import summary_answer

        if (summary := summary_answer(self, text)) is not None:  # « Résume … », "what's new on …"
            return summary
        turns = list(history)[-self.settings.history_turns:] if self.settings.history_turns else []
        answer: Answer = self.chain.invoke(self._inputs(text, turns, on_token, scope))
        return answer

    def answer_directly(
        self, question: str, history: Sequence[Turn] = (), *, scope: QueryScope | None = None
    ) -> Answer:
        """The chain's steps called one after the other, without LangChain (to measure its cost)."""
        text = clean_question(question, self.settings.max_question_chars)
        turns = list(history)[-self.settings.history_turns:] if self.settings.history_turns else []
        inputs = self._inputs(text, turns, None, scope)
        return self._compose(self._retrieve(self._understand(self._condense(self._open_view(inputs)))))

    @staticmethod
    def _inputs(
        text: str, turns: list[Turn], on_token: Callable[[str], None] | None, scope: QueryScope | None
    ) -> dict[str, Any]:
        return {"question": text, "history": turns, "on_token": on_token, "scope": scope or QueryScope()}

    def reindex(
        self, *, full_check: bool = False, progress: Callable[[int, int], None] | None = None,
        answering: bool = True, paths: Sequence[Path] | None = None,
    ) -> ReindexReport:
        """Bring the index in step with the corpus folder. ``full_check``: hash every file, even
        those whose size and modification time are unchanged. ``answering``: this process goes
        on answering (a bot, the REPL), so what questions read of the index is brought up to
        date now rather than in the next question; a one-shot ``newsbot reindex`` skips it.
        ``paths``: only these article files changed (absolute; see :meth:`Indexer.reindex`)."""
        with self._write_lock, self._process_lock():
            self.store.record_chunk_languages()  # once, for an index from before chunks recorded it
            self.store.record_window_keys()  # once, for an index from before records had them
            indexer = Indexer(self.store, self.settings, on_written=self._prepare_sentences)
            report = indexer.reindex(progress=progress, full_check=full_check, paths=paths)
            if answering:
                self.coverage().title_index()
            return report

    def _prepare_sentences(self, chunks: list[Chunk]) -> None:
        """The vectors of the sentences (and headlines) of newly written chunks, computed now rather
        than at a question."""
        prepare_sentence_vectors(self.settings, self.store.embeddings, chunks)

    def _process_lock(self) -> Any:
        """One process writes an embedded index at a time (a Chroma server serialises writes itself)."""
        if self.settings.server_mode:
            return contextlib.nullcontext()
        return file_lock(
            self.settings.index_path.parent / f".{self.settings.index_path.name}.write-lock",
            waiting="another newsbot process is writing the index: waiting for it to finish…",
        )

    def refresh(self, *, full: bool = False) -> int:
        """Bring this process's lexical index in step with the committed articles (incremental).

        Cheap when nothing changed (one generation read). Needed with a Chroma server written
        from another machine; in embedded mode the reindex writes the shared lexicon itself.
        A bot calls it in the background (``await asyncio.to_thread(service.refresh)`` on a
        timer), never inside a user's question. Returns the articles brought in step.
        """
        changed = self.store.sync_lexicon(full=full)
        self.coverage().title_index()  # brought up to date now, not in the next question
        return changed

    def latest(self, n: int = 5) -> list[ArticleInfo]:
        return self.store.latest(n)

    def warm_up(self) -> None:
        """Load the models, the retrieval view and the coverage, so the first question is not slow;
        meanwhile, in threads, Chroma loads its vector index (an embedded index reads it on its first
        query: ~3.5 s at 1M chunks, in Rust, beside the models' load) and the index of the coverage's
        titles that dates « le sommet » is built (~2–4 s at 327k articles). Ready once the models and
        the vectors are: a question naming an event in the first seconds waits for the title index
        (built once). A one-shot ask skips it: it builds the title index only if its question names
        an event."""
        loading = self.load_vectors_meanwhile()
        self.retriever.view()
        coverage = self.coverage()
        threading.Thread(target=coverage.title_index, name="newsbot-title-index", daemon=True).start()
        self.load_models()
        loading.join()

    def load_models(self) -> None:
        """Load the embedding model and the answer reranker now. A one-shot ask does it while Chroma
        loads its collections in a thread (:meth:`load_vectors_meanwhile`): the question's first read
        of the index (the coverage's) waits for that load, and the models would otherwise load after
        it (1M chunks: the answer at 5.7 s, the models' 1.2 s after Chroma's 3.5 s)."""
        self.store.embeddings.embed_query("warm up")
        reranker = getattr(self.answerer, "reranker", None)
        if reranker is not None:
            reranker.load()

    def load_vectors_meanwhile(self) -> threading.Thread:
        """Have Chroma load its vector index in a thread (a one-shot ask: while the coverage and the
        model load, and the question is read); the first dense search then finds it loaded. The
        manifest's collection loads beside it (Chroma loads a collection on its first access, even a
        ``get``: 0.34 s for the manifest at 216k articles, which the candidates' records would wait for)."""
        # not a daemon: a process ending while Chroma loads in a thread crashes in its native code
        loading = threading.Thread(target=self._load_collections, name="newsbot-load-vectors")
        loading.start()
        return loading

    def _load_collections(self) -> None:
        manifest = threading.Thread(target=self._load, args=(self.store.load_manifest,), name="newsbot-load-manifest")
        manifest.start()
        self._load(self.store.load_vectors)
        manifest.join()

    @staticmethod
    def _load(load: Callable[[], None]) -> None:
        try:
            load()
        except Exception:  # the first question meets it again, and reports it
            log.warning("the index could not be loaded ahead of the first question", exc_info=True)


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
    store.sync_lexicon()  # no-op when in step; builds it once for an index from before the lexicon
    return AnsweringService(settings, store, generator=generator)


__all__ = ["AnsweringService", "IndexMissing", "clean_question", "open_service"]

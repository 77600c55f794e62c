"""« Quelles sont les dernières nouvelles ? »: a question about the present with no subject.

Once its scope words are removed, nothing is left to search with; ranking by relevance would then be
noise. The answer is the newest articles in scope instead: each one's first passage, newest first,
and an answer quoting each article's lead sentence with its date.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from retrieval.index.chunking import split_sentences
from retrieval.index.indexer import passage_text
from retrieval.index.scope import ScopeFilter
from retrieval.scope.dating import date_label, text
from retrieval.scope.recency import RELEVANT, passage_day
from retrieval.types import Passage, QueryScope

if TYPE_CHECKING:
    from retrieval.index.store import IndexStore


def newest_passages(store: IndexStore, scope: QueryScope, k: int) -> list[Passage]:
    """The first passage of each of the ``k`` newest articles in scope (dated ones first, newest first;
    :meth:`IndexStore.newest`), read by id."""
    newest = store.newest(ScopeFilter.of(scope), k)
    stored = store.chunks([f"{e.article_id}:{e.article_hash}:0" for e in newest])
    passages: list[Passage] = []
    for e in newest:
        found = stored.get(f"{e.article_id}:{e.article_hash}:0")
        if found is None:  # removed since the manifest was read
            continue
        document, meta = found
        passages.append(Passage(
            chunk_id=f"{e.article_id}:{e.article_hash}:0", article_id=e.article_id, title=e.title,
            text=passage_text(document, e.title), score=round(1.0 / (len(passages) + 1), 6),
            date=meta.get("date"), url=meta.get("url"), source=meta.get("source"), position=0,
            date_kind=meta.get("date_kind"), language=meta.get("language"),
        ))
    return passages


def roundup(passages: Sequence[Passage], language: str) -> tuple[str, set[int]]:
    """« (19 décembre 2025) Title : lead sentence [1] … », and the cited numbers."""
    return "\n".join(_line(p, n, language) for n, p in enumerate(passages, start=1)), set(range(1, len(passages) + 1))


def newest_on_subject(passages: Sequence[Passage], language: str) -> tuple[str, set[int]] | None:
    """For a question asking for the newest on its subject (« où en sont les négociations ? », "the most
    recent exchange") that no sentence answers: the newest dated article among the relevant passages
    (scoring at least ``RELEVANT`` of the best), its title and lead as in a roundup; None when none is dated."""
    if not passages:
        return None
    best = max(p.score for p in passages)
    dated = [(day, p.score, n, p) for n, p in enumerate(passages, start=1)
             if p.score >= RELEVANT * best and (day := passage_day(p)) is not None]
    if not dated:
        return None
    _, _, n, newest = max(dated, key=lambda item: item[:2])
    return f"{text('newest', language)}\n{_line(newest, n, language)}", {n}


def _line(p: Passage, n: int, language: str) -> str:
    """« (date) Title : lead sentence [n] » (the lead only from an article's first passage)."""
    sentences = split_sentences(p.text) if p.position == 0 else []
    lead = next((s for s in sentences if s.strip() and s.strip() != p.title.strip()), "")
    colon = " :" if language == "fr" else ":"
    label = date_label(p.date, getattr(p, "date_kind", None), language)
    return f"({label}) {p.title}{colon} {lead} [{n}]" if lead else f"({label}) {p.title} [{n}]"

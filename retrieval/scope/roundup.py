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
from retrieval.index.scope import ScopeFilter, day_number, outlet_key, url_host
from retrieval.scope.dating import date_label
from retrieval.types import Passage, QueryScope

if TYPE_CHECKING:
    from retrieval.index.store import IndexStore


def newest_passages(store: IndexStore, scope: QueryScope, k: int) -> list[Passage]:
    """The first passage of each of the ``k`` newest articles in scope (dated ones first, newest first):
    the manifest's records filtered as the index filters chunks, then their first chunks read by id."""
    limits = ScopeFilter.of(scope)
    entries = [
        e for e in store.manifest().values()
        if limits.admits(day_number(e.date or e.seen), outlet_key(e.source), url_host(e.url), seen=not e.date)
    ]
    entries.sort(key=lambda e: (0 if e.date else 1, -(day_number(e.date) or 0), e.article_id))
    newest = entries[:k]
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
    parts, cited = [], set()
    for n, p in enumerate(passages, start=1):
        sentences = split_sentences(p.text)
        lead = next((s for s in sentences if s.strip() and s.strip() != p.title.strip()), p.title)
        colon = " :" if language == "fr" else ":"
        label = date_label(p.date, getattr(p, "date_kind", None), language)
        parts.append(f"({label}) {p.title}{colon} {lead} [{n}]")
        cited.add(n)
    return "\n".join(parts), cited

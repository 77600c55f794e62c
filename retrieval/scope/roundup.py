"""« Quelles sont les dernières nouvelles ? »: a question about the present with no subject.

Once its scope words are removed, nothing is left to search with; ranking by relevance would then be
noise. The answer is the newest articles in scope instead: each one's first passage, newest first,
and an answer quoting each article's lead sentence with its date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from retrieval.index.chunking import split_sentences
from retrieval.index.indexer import passage_text
from retrieval.scope.coverage import parse_day
from retrieval.scope.dating import date_label
from retrieval.scope.recency import in_scope
from retrieval.types import Passage, QueryScope


def newest_passages(
    ids: Sequence[str], documents: Sequence[str], metadatas: Sequence[dict[str, Any]], scope: QueryScope, k: int
) -> list[Passage]:
    """The first passage of each of the ``k`` newest articles in scope (dated ones first, newest first)."""
    firsts: dict[str, Passage] = {}
    for cid, doc, meta in zip(ids, documents, metadatas, strict=False):
        article_id = str(meta.get("article_id", ""))
        position = int(meta.get("position", 0))
        known = firsts.get(article_id)
        if known is not None and known.position <= position:
            continue
        title = str(meta.get("title", ""))
        passage = Passage(
            chunk_id=cid, article_id=article_id, title=title, text=passage_text(doc, title), score=0.0,
            date=meta.get("date"), url=meta.get("url"), source=meta.get("source"), position=position,
        )
        if in_scope(passage, scope):
            firsts[article_id] = passage

    def key(p: Passage) -> tuple[int, int, str]:
        day = parse_day(p.date) if getattr(p, "date_kind", None) != "seen" else None
        return (0 if day else 1, -(day or dt.date.min).toordinal(), p.article_id)

    ranked = sorted(firsts.values(), key=key)[:k]
    return [Passage(**{**p.__dict__, "score": round(1.0 / (rank + 1), 6)}) for rank, p in enumerate(ranked)]


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

"""Near-duplicate passages: the same wire story published by several sites.

Two retrieved passages of different articles are copies when most of their word 4-grams are
shared (containment ≥ 0.6 of the shorter one: a site may cut or append a paragraph). The
best-ranked copy stays; the others are dropped from the passages so they do not crowd out
other articles, and are listed as "also reported by" on the kept one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.types import Passage

_WORD = re.compile(r"\w+")
SHINGLE = 4
THRESHOLD = 0.6


def shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}


def outlet(passage: Passage) -> str:
    """How a copy is named: its outlet, else its URL's host, else its article id."""
    if passage.source:
        return passage.source
    if passage.url:
        host = re.sub(r"^https?://(www\.)?", "", passage.url).split("/")[0]
        if host:
            return host
    return passage.article_id


def collapse(passages: Sequence[Passage]) -> tuple[list[Passage], dict[int, list[Passage]]]:
    """The passages without near-duplicate copies, and for each kept passage (index in the
    returned list) the copies folded into it, in rank order."""
    kept: list[Passage] = []
    kept_shingles: list[set[tuple[str, ...]]] = []
    copies: dict[int, list[Passage]] = {}
    for passage in passages:
        own = shingles(passage.text)
        twin = None
        for i, (other, other_shingles) in enumerate(zip(kept, kept_shingles, strict=True)):
            if other.article_id == passage.article_id or not own or not other_shingles:
                continue
            shared = len(own & other_shingles) / min(len(own), len(other_shingles))
            if shared >= THRESHOLD:
                twin = i
                break
        if twin is None:
            kept.append(passage)
            kept_shingles.append(own)
        else:
            copies.setdefault(twin, []).append(passage)
    return kept, copies


def also_reported(copies: Sequence[Passage]) -> tuple[str, ...]:
    names: list[str] = []
    for passage in copies:
        name = outlet(passage)
        if name not in names:
            names.append(name)
    return tuple(names)


__all__ = ["also_reported", "collapse", "outlet"]

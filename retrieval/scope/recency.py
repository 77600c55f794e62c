"""The scope applied to retrieved passages, and the recency prior of questions about the present.

**Scope.** The index filters the candidates on the scope's dates and outlets
(:class:`retrieval.index.scope.ScopeFilter`, on each chunk's day number and folded outlet keys); this
module only re-ranks what it returns.

**Recency prior** (``prefer_recent``: « dernières nouvelles », "latest", « actuellement »…). Onyx
multiplies a document's score by ``1 / (1 + 0.5 × age in years)`` (× 2 for a recency-seeking query,
floored at 0.5), with the age counted from today. On news that is too flat (a month or six months
old differ by a few percent) and counted from the wrong day: a corpus whose newest article is from
last spring gets the same factor everywhere. Here:

* the age is counted from the **newest relevant candidate** (score within ``RELEVANT`` of the best),
  not from today, so "the latest" means the latest the coverage has on the subject;
* the factor halves every ``half_life_days`` (``NEWSBOT_RECENCY_HALF_LIFE_DAYS``): an estimate a week
  before the outcome loses to it, a months-old article to a new one;
* a floor (``FLOOR``) keeps a much more relevant older passage above a barely relevant new one;
* an undated article gets the mean factor of the relevant dated candidates (what an article of unknown
  date may expect: neither newest nor oldest); when no relevant candidate is dated, nothing is re-ranked.

With a closed date range, an undated passage (which only *may* be in it) weighs less, the narrower the
range (:func:`undated_weight`): a dated article known to be in « le 22 octobre » leads an undated one.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import replace

from retrieval.scope.coverage import parse_day, published_day
from retrieval.types import Passage, QueryScope

RELEVANT = 0.6  # candidates scoring at least this share of the best one define "the newest"
FLOOR = 0.35  # the smallest recency factor
WIDE_RANGE_DAYS = 365  # news coverage spans about a year: a range this wide (or open) is no evidence


def undated_weight(scope: QueryScope) -> float:
    """With a date range, an undated passage only *may* be in it, the less likely the narrower the range:
    its score is weighed by 0.5 for a few days, rising to 1 for a range of ``WIDE_RANGE_DAYS`` or an open one."""
    since, until = parse_day(scope.since), parse_day(scope.until)
    if since is None or until is None:
        return 1.0
    width = (until - since).days + 1
    return 0.5 + 0.5 * min(1.0, width / WIDE_RANGE_DAYS)


def passage_day(passage: Passage) -> dt.date | None:
    """The publication day of a passage's article (None when undated or only "seen")."""
    return published_day(passage.date, getattr(passage, "date_kind", None))


def recency_factors(passages: Sequence[Passage], half_life_days: float) -> list[float]:
    """The recency factor of each passage (1 for the newest relevant one)."""
    if not passages:
        return []
    best = max(p.score for p in passages)
    days = [passage_day(p) for p in passages]
    gate = [p.score >= RELEVANT * best for p in passages]
    relevant = [d for d, ok in zip(days, gate, strict=True) if d is not None and ok]
    if not relevant:  # no relevant candidate has a date: nothing tells new from old
        return [1.0] * len(passages)
    newest = max(relevant)
    factors: list[float | None] = []
    for day in days:
        if day is None:
            factors.append(None)
            continue
        age = max(0, (newest - day).days)
        factors.append(FLOOR + (1.0 - FLOOR) * 0.5 ** (age / half_life_days))
    # an undated passage may expect what the relevant dated ones get, on average
    known = [f for f, ok in zip(factors, gate, strict=True) if f is not None and ok]
    neutral = statistics.fmean(known)
    return [neutral if f is None else f for f in factors]


def apply_scope(
    passages: Sequence[Passage], scope: QueryScope, *, k: int, half_life_days: float, query: str | None = None
) -> list[Passage]:
    """The ``k`` best passages (already filtered on the scope by the index), re-ranked: undated ones
    weigh less in a narrow date range, and the recency prior applies when the scope asks for it.
    With ``query``, the last is given to a passage of the pool naming what the question names and
    the k do not (as :func:`retrieval.search.hybrid.named_slot` does without a scope)."""
    kept = list(passages)
    weight = undated_weight(scope)
    if weight < 1.0 and kept:
        kept = [p if passage_day(p) else replace(p, score=round(p.score * weight, 6)) for p in kept]
        kept.sort(key=lambda p: -p.score)
    if scope.prefer_recent and kept:
        factors = recency_factors(kept, half_life_days)
        kept = [replace(p, score=round(p.score * f, 6)) for p, f in zip(kept, factors, strict=True)]
        kept.sort(key=lambda p: -p.score)
    chosen, rest = kept[:k], kept[k:]
    if query and len(chosen) > 1 and rest:
        from retrieval.answer.names import absent_names, naming
        from retrieval.search.hybrid import NAMED_LOOKAHEAD

        wanted = absent_names(query, [f"{p.title}\n{p.text}" for p in chosen])
        index = naming(wanted, [f"{p.title}\n{p.text}" for p in rest[:NAMED_LOOKAHEAD]])
        if index is not None:
            chosen = [*chosen[:-1], rest[index]]
    return chosen

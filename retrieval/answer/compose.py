"""From sentence probabilities to an answer: which sentences, in which order, or a refusal.

* The best sentence first, when its probability reaches the language's ``answer`` threshold.
* An article's headline (:func:`retrieval.answer.features.headline_of`) may be the best
  sentence, never a further one.
* Further sentences only when they are likely answers too (the ``more`` threshold), from the
  best sentence's article or from another article whose own best sentence reaches it — never
  filler from an unrelated article; the sentences of one article after the first in reading order.
* Otherwise a refusal that says what was closest: the question's words the coverage holds
  and those it lacks, or the nearest passages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.answer.features import Candidate
from retrieval.answer.language import LANGUAGE_NAMES, message
from retrieval.answer.model import Thresholds
from retrieval.scope.dating import date_label
from retrieval.types import Passage


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    probability: float


def choose(scored: Sequence[Scored], passages: Sequence[Passage], thresholds: Thresholds, limit: int) -> list[Scored]:
    """The answer's sentences in the order they are shown; empty when none is likely enough."""
    ranked = sorted(scored, key=lambda s: (-s.probability, s.candidate.passage, s.candidate.index))
    if not ranked or ranked[0].probability < thresholds.answer:
        return []
    best = ranked[0]
    # a headline leads an answer or stays out of it: after a sentence it mostly repeats the lede
    # (and took the place of the sentence holding the fact: news-dev 82 → 78 correct when allowed)
    extra = [s for s in ranked[1:] if s.probability >= thresholds.more and not s.candidate.headline][: max(0, limit - 1)]
    article_order = [passages[best.candidate.passage].article_id]
    for s in extra:
        article = passages[s.candidate.passage].article_id
        if article not in article_order:
            article_order.append(article)

    def reading(s: Scored) -> tuple[int, int, int]:
        passage = passages[s.candidate.passage]
        return (article_order.index(passage.article_id), passage.position, s.candidate.index)

    return [best, *sorted(extra, key=reading)]


def render(chosen: Sequence[Scored], question_language: str) -> tuple[str, set[int]]:
    """The answer text (each sentence followed by ``[n]``) and the cited passage numbers."""
    parts = []
    cited: set[int] = set()
    for s in chosen:
        n = s.candidate.passage + 1
        text = s.candidate.text
        if s.candidate.headline and text[-1:].isalnum():  # a headline ends without a full stop
            text += "."
        parts.append(f"{text} [{n}]")
        cited.add(n)
    text = " ".join(parts)
    quoted = {s.candidate.language for s in chosen}
    if quoted and question_language not in quoted:
        language = LANGUAGE_NAMES[question_language][sorted(quoted)[0]]
        text = f"{text} {message('quoted_language', question_language, language=language)}"
    return text, cited


def refusal(
    question_language: str,
    query_words: Sequence[tuple[str, str]],
    passages: Sequence[Passage],
    present: set[str],
    related: bool,
) -> str:
    """The refusal, with what the coverage holds: ``query_words`` are (word, term) pairs of the
    question; ``present`` the terms found in the nearest passages; ``related`` whether those
    passages are close to the question at all."""
    if not passages or not related:
        return message("refused", question_language)
    found = [w for w, t in query_words if t in present]
    missing = [w for w, t in query_words if t not in present]
    quote = "« {} »" if question_language == "fr" else "\"{}\""
    joiner = " et " if question_language == "fr" else " and "
    if found and missing:
        return message(
            "refused_mentions", question_language,
            found=joiner.join(quote.format(w) for w in found[:3]),
            missing=joiner.join(quote.format(w) for w in missing[:3]),
        )
    titles: list[str] = []
    for passage in passages:
        # its publication date; not the day newsbot first saw an undated article, which would read as one
        dated = passage.date and passage.date_kind != "seen"
        label = passage.title + (f" ({date_label(passage.date, None, question_language)})" if dated else "")
        if passage.title and label not in titles:
            titles.append(label)
    if not titles:
        return message("refused", question_language)
    return message("refused_nearest", question_language, nearest="; ".join(quote.format(t) for t in titles[:2]))

"""The embedded answerer: cited sentences picked from the retrieved passages.

No language model runs here. The answer is at most ``max_sentences`` sentences of the
passages, each followed by the ``[n]`` of its passage. Sentences are scored by the share
of the question's terms (IDF-weighted, French stemming) they contain — terms that are
also in the passage's title count for less, since every sentence of the article is about
its title — with a bonus for the rank of their passage and for the sentence right after a
strong one. (Weights tuned on the PIAF dev split with ``newsbot eval``.)

Refusal is a rule: the best passage must be close enough to the question, either
densely (cosine) or lexically (IDF-weighted share of the question's terms it contains).
A question detected as English gets its own cosine threshold: its cosines to French
passages run lower than those of a French question.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrieval.index.chunking import split_sentences
from retrieval.search.lexical import LexicalIndex
from retrieval.text import load_package_yaml
from retrieval.types import Passage, Turn

if TYPE_CHECKING:
    from retrieval.settings import Settings

_EN_WORDS = {
    "the", "what", "who", "when", "where", "why", "how", "which", "is", "are", "was", "were",
    "does", "did", "do", "of", "and", "about", "with", "will", "would", "has", "have", "there",
}
_FR_WORDS = {
    "le", "la", "les", "de", "des", "du", "que", "qui", "quel", "quelle", "quels", "quelles",
    "est", "sont", "et", "pour", "dans", "une", "un", "comment", "pourquoi", "quand", "où",
    "combien", "qu", "au", "aux", "ce", "cette",
}
_FOLLOW_UP_START = re.compile(
    r"^\s*(et|mais|puis|aussi|ensuite|and|but|also|what about|how about)\b", re.IGNORECASE
)
_PRONOUNS = {
    "il", "elle", "ils", "elles", "lui", "leur", "eux", "ça", "cela", "celui", "celle", "ceux",
    "he", "she", "they", "it", "them", "him", "her", "this", "that", "those",
}


def language_of(text: str) -> str:
    words = re.findall(r"[a-zàâçéèêëîïôûùüÿœ']+", text.lower().replace("’", "'"))
    en = sum(w in _EN_WORDS for w in words)
    fr = sum(w.split("'")[0] in _FR_WORDS for w in words)
    return "en" if en > fr else "fr"


@functools.lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = load_package_yaml("retrieval.answer.prompts", "messages.yaml")
    return data


def message(key: str, language: str) -> str:
    table = messages()
    return table.get(language, table["fr"])[key]


def condense(question: str, history: list[Turn], lexical: LexicalIndex | None, max_turns: int) -> str:
    """A standalone version of a follow-up question, built from the conversation.

    A question is a follow-up when it opens with a conjunction ("et la Chine ?"), uses a
    pronoun that points back, or has fewer than three terms of its own; then the previous
    question is put before it.
    """
    if not history or max_turns <= 0:
        return question
    words = set(re.findall(r"[\w']+", question.lower().replace("’", "'")))
    terms = lexical.analyzer.tokens(question) if lexical else list(words)
    follow_up = bool(_FOLLOW_UP_START.match(question)) or bool(words & _PRONOUNS) or len(terms) < 3
    if not follow_up:
        return question
    previous = history[-1].question
    return f"{previous} {question}"


@dataclass
class Composed:
    text: str
    cited: set[int]  # 1-based numbers of the cited passages
    refused: bool


@dataclass
class ExtractiveAnswerer:
    max_sentences: int = 3
    min_dense_score: float = 0.835
    min_term_coverage: float = 0.45
    min_dense_score_en: float = 0.805
    # sentence scoring weights (measured on PIAF: see the README, "Measuring answer quality")
    rank_prior: float = 0.5  # bonus rank_prior / passage rank
    follow_bonus: float = 0.5  # share of the previous sentence's score a sentence inherits
    title_term_weight: float = 0.5  # weight of a question term found in the passage's title
    own_term_weight: float = 1.5  # weight of a term of the question itself (vs. the condensed query)
    keep_ratio: float = 0.0  # keep sentences scoring at least this share of the best one
    short_sentence: int = 25  # sentences shorter than this (characters) score half
    # for questions in English about (French) passages, terms do not match across languages:
    # sentences are then scored by embedding similarity to the question
    embeddings: Any = None
    dense_passages: int = 5  # passages whose sentences are embedded (3: half the time, a little less found)

    def relevant(self, query: str, passages: list[Passage], lexical: LexicalIndex, language: str = "fr") -> bool:
        if not passages:
            return False
        best_dense = max((p.dense_score or 0.0) for p in passages)
        best_coverage = max(lexical.coverage(query, f"{p.title}\n{p.text}") for p in passages[:3])
        threshold = self.min_dense_score_en if language == "en" else self.min_dense_score
        return best_dense >= threshold or best_coverage >= self.min_term_coverage

    def answer(self, question: str, query: str, passages: list[Passage], lexical: LexicalIndex) -> Composed:
        language = language_of(question)
        if not self.relevant(query, passages, lexical, language):
            return Composed(message("refused", language), set(), True)
        if language == "en" and self.embeddings is not None:
            scored = self.score_sentences_densely(query, passages)
        else:
            scored = self.score_sentences(query, question, passages, lexical)
        if not scored:
            return Composed(message("refused", language), set(), True)
        best = scored[0][0]
        chosen = [item for item in scored if item[0] >= self.keep_ratio * best][: self.max_sentences]
        parts = []
        cited: set[int] = set()
        for _, n, _, sentence in chosen:
            parts.append(f"{sentence} [{n}]")
            cited.add(n)
        return Composed(" ".join(parts), cited, False)

    def score_sentences(
        self, query: str, question: str, passages: list[Passage], lexical: LexicalIndex
    ) -> list[tuple[float, int, int, str]]:
        """(score, passage number, sentence index, sentence), best first."""
        q_terms = set(lexical.analyzer.tokens(query))
        own_terms = set(lexical.analyzer.tokens(question))
        base = {t: lexical.idf(t) * (self.own_term_weight if t in own_terms else 1.0) for t in q_terms}
        items: list[tuple[float, int, int, str]] = []
        for rank, passage in enumerate(passages):
            title_terms = set(lexical.analyzer.tokens(passage.title))
            weights = {t: w * (self.title_term_weight if t in title_terms else 1.0) for t, w in base.items()}
            total = sum(weights.values()) or 1.0
            sentences = split_sentences(passage.text)
            raw: list[float] = []
            for sentence in sentences:
                present = set(lexical.analyzer.tokens(sentence))
                raw.append(sum(w for t, w in weights.items() if t in present) / total)
            prior = self.rank_prior / (rank + 1)
            for i, sentence in enumerate(sentences):
                score = raw[i] + prior
                if i > 0:
                    score += self.follow_bonus * raw[i - 1]  # the answer often follows the sentence that matches
                if len(sentence) < self.short_sentence:
                    score *= 0.5
                items.append((round(score, 6), rank + 1, i, sentence))
        return _best_first(items)

    def score_sentences_densely(self, query: str, passages: list[Passage]) -> list[tuple[float, int, int, str]]:
        """Sentences scored by cosine to the question (cross-language), passage rank as a tie-break."""
        located = [
            (rank, i, sentence)
            for rank, passage in enumerate(passages[: self.dense_passages])
            for i, sentence in enumerate(split_sentences(passage.text))
            if len(sentence) >= self.short_sentence
        ]
        if not located:
            return []
        question_vector = self.embeddings.embed_query(query)
        vectors = self.embeddings.embed_documents([sentence for _, _, sentence in located])
        items = []
        for (rank, i, sentence), vector in zip(located, vectors, strict=True):
            cosine = sum(a * b for a, b in zip(question_vector, vector, strict=True))
            items.append((round(cosine + 0.01 / (rank + 1), 6), rank + 1, i, sentence))
        return _best_first(items)


def _best_first(items: list[tuple[float, int, int, str]]) -> list[tuple[float, int, int, str]]:
    """Sort by score, then passage and position; a sentence only once (chunks overlap)."""
    items.sort(key=lambda x: (-x[0], x[1], x[2]))
    seen: set[str] = set()
    unique = []
    for item in items:
        if item[3] not in seen:
            seen.add(item[3])
            unique.append(item)
    return unique


def from_settings(settings: Settings, embeddings: Any = None) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(
        embeddings=embeddings,
        max_sentences=settings.max_answer_sentences,
        min_dense_score=settings.min_dense_score,
        min_term_coverage=settings.min_term_coverage,
        min_dense_score_en=settings.min_dense_score_en,
    )

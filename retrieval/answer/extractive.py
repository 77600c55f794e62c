"""The embedded answerer: cited sentences picked from the retrieved passages.

No language model runs here. Every sentence of the retrieved passages is a candidate; the
answer-sentence model (:mod:`retrieval.answer.model`, trained on PIAF dev by
:mod:`retrieval.answer.train`) gives each the probability that it answers the question, from
the features of :mod:`retrieval.answer.features`. :mod:`retrieval.answer.compose` turns the
probabilities into the answer: the best sentence first, more only when likely answers too,
or a refusal saying what was closest.

Refusal combines the model with the rule that was used before it (the best passage must be
close enough to the question, densely or lexically): the model refuses when no sentence
reaches its language's ``answer`` threshold; the rule refuses too, unless the question is
English or its best sentence is in the other language and that sentence reaches the higher
``more`` threshold: cross-language cosines run low (the rule alone refused a third of answerable
English questions), so an English question, or a passage in the other language than the
question's, is held to the lower cosine ``min_dense_score_en``. The rule holds off questions about subjects absent
from the coverage; the model, questions whose subject is covered but whose asked fact is absent.
A question naming someone or something the retrieved passages never mention (the Pope, « le
20e paquet ») is refused too (:mod:`retrieval.answer.names`), unless the best sentence is in the
other language, where names are translated (Germany/Allemagne, "the Ark"/« l'Arche »), and more
likely right than not; the refusal says which names are missing.

Sentence vectors come from a cache on disk (:mod:`retrieval.answer.vectors`), filled at
index time, so a question costs one query embedding and a few dot products.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retrieval.answer import compose
from retrieval.answer.features import FEATURES, asks_event, candidates, featurize
from retrieval.answer.followups import condense
from retrieval.answer.language import chit_chat, message, messages
from retrieval.answer.model import RerankerBlock, SentenceModel, Thresholds, shipped_model
from retrieval.answer.names import absent_names, is_ordinal
from retrieval.errors import ModelUnavailable
from retrieval.search.lexical import LexicalIndex
from retrieval.text import is_function_word, language_of
from retrieval.types import Passage

if TYPE_CHECKING:
    from retrieval.answer.reranker import SentenceReranker
    from retrieval.answer.vectors import SentenceVectors
    from retrieval.settings import Settings


@dataclass
class Composed:
    text: str
    cited: set[int]  # 1-based numbers of the cited passages
    refused: bool
    probabilities: dict[int, float] = field(default_factory=dict)  # cited passage → its best sentence's
    language: str = "fr"
    on_subject: bool = False  # refused although the passages are on the question's subject (no name missing)


log = logging.getLogger(__name__)

# a sentence in the other language at least this likely to answer is kept even when the question
# names something the passages never mention (more likely right than not: the name may be translated)
CONFIDENT = 0.5


@dataclass
class ExtractiveAnswerer:
    max_sentences: int = 3
    min_dense_score: float = 0.835
    min_term_coverage: float = 0.45
    min_dense_score_en: float = 0.805
    vectors: SentenceVectors | None = None
    model: SentenceModel | None = None
    use_rule: bool = True  # refuse also when the best passage is far from the question (the earlier rule)
    embedding_model: str | None = None  # the model of the sentence vectors (see relative_cosines)
    reranker: SentenceReranker | None = None  # the cross-encoder reading the best sentences (None: off)

    def sentence_model(self) -> SentenceModel:
        if self.model is None:
            self.model = shipped_model()
        return self.model

    def calibrated(self) -> bool:
        """Whether the sentence vectors come from the embedding model the sentence model was fitted with."""
        trained_with = self.sentence_model().info.get("embedding_model")
        return not self.embedding_model or trained_with in (None, self.embedding_model)

    def relevant(self, query: str, passages: list[Passage], lexical: LexicalIndex, language: str = "fr") -> bool:
        """The earlier rule: the best passage close enough to the question (cosine or term coverage)."""
        if not passages:
            return False
        close = any((p.dense_score or 0.0) >= self.dense_threshold(language, p) for p in passages)
        best_coverage = max(lexical.coverage(query, f"{p.title}\n{p.text}") for p in passages[:3])
        return close or best_coverage >= self.min_term_coverage

    def dense_threshold(self, language: str, passage: Passage | None = None) -> float:
        """The cosine a passage must reach for the rule: the lower one for an English question, or a
        passage in the other language than the question's (cross-language cosines run lower)."""
        crossed = passage is not None and passage.written_in() != language
        return self.min_dense_score_en if language == "en" or crossed else self.min_dense_score

    def score(
        self, question: str, query: str, passages: Sequence[Passage], lexical: LexicalIndex, language: str
    ) -> list[compose.Scored]:
        """Every candidate sentence with its probability of answering."""
        import numpy as np

        cands = candidates(passages)
        if not cands:
            return []
        model = self.sentence_model()
        products = None
        if self.vectors is not None:
            question_vector = self.vectors.query(query)
            sentence_vectors = self.vectors.get([c.text for c in cands])
            cosines = sentence_vectors @ question_vector
            if model.interactions and sentence_vectors.shape[1] == model.interactions and self.calibrated():
                products = sentence_vectors * question_vector
        else:
            cosines = np.zeros(len(cands), dtype=np.float32)
        matrix = featurize(question, query, passages, cands, lexical, cosines, language)
        if model.features != FEATURES:  # a model fitted on fewer or reordered features
            matrix = matrix[:, [FEATURES.index(name) for name in model.features]]
        if model.interactions:
            block = products if products is not None else model.neutral_interactions(len(cands))
            matrix = np.hstack([matrix, block])
        if not self.calibrated():
            matrix = relative_cosines(matrix, model)
        probabilities = model.probabilities(matrix)
        recombination = self.reranking()
        if recombination is not None:
            probabilities = self.reread(query, [c.text for c in cands], probabilities, recombination)
        return [compose.Scored(c, float(p)) for c, p in zip(cands, probabilities, strict=True)]

    def reread(self, query: str, texts: Sequence[str], probabilities: Any, block: RerankerBlock) -> Any:
        """The most likely sentences (:meth:`RerankerBlock.read`) read again by the reranker, against
        what the sentences are scored with (a follow-up's resolved words); the others kept under them.
        The reranker is optional: if it cannot be built or loaded, the sentence model alone answers."""
        import numpy as np

        if self.reranker is None:
            return probabilities
        best = block.read(probabilities)
        try:
            logits = self.reranker.logits(query, [texts[i] for i in best])
        except ModelUnavailable as exc:
            log.warning("the answer reranker is off: %s", exc)
            self.reranker = None
            return probabilities
        combined = block.combine(probabilities[best], logits)
        out = np.minimum(probabilities, float(combined.min()))
        out[best] = combined
        return out

    def reranking(self) -> RerankerBlock | None:
        """The reranker's recombination when it runs: shipped with the model, and switched on."""
        block = self.sentence_model().reranker
        return block if self.reranker is not None and block is not None and self.calibrated() else None

    def thresholds(self, language: str) -> Thresholds:
        block = self.reranking()
        if block is not None and language in block.thresholds:
            return block.thresholds[language]
        return self.sentence_model().thresholds_for(language)

    def answer(
        self,
        question: str,
        query: str,
        passages: list[Passage],
        lexical: LexicalIndex,
        *,
        weights: Sequence[float] | None = None,
        latest: bool = False,
    ) -> Composed:
        """The answer to ``question`` from ``passages``. ``weights`` (one per passage, at most 1)
        discount the sentences of some passages, e.g. older articles for a question about the present;
        ``latest``: the question asks for the newest on its subject, which the caller answers with
        the newest article when no sentence is likely enough (so a refusal is left to it)."""
        language = language_of(question)
        small_talk = chit_chat(question)
        if small_talk:
            return Composed(message("chit_chat", small_talk), set(), False, language=small_talk)
        scored = self.score(question, query, passages, lexical, language)
        if weights is not None:
            scored = [compose.Scored(s.candidate, s.probability * weights[s.candidate.passage]) for s in scored]
        thresholds = self.thresholds(language)
        calibrated = self.calibrated()
        if not calibrated:
            # another embedding model: the probabilities still rank the sentences, but their
            # thresholds were fitted on the model's own cosines; the best sentence is kept and
            # the earlier rule alone decides whether to refuse
            thresholds = dataclasses.replace(thresholds, answer=0.0)
        chosen = compose.choose(scored, passages, thresholds, self.max_sentences)
        # the earlier rule (see :meth:`relevant`), asked for at most once
        rule_holds = functools.cache(lambda: self.relevant(query, passages, lexical, language))
        if not chosen and scored and not latest and asks_event(question) and rule_holds():
            # « que s'est-il passé … ? » asks for the news itself: the model, fitted on questions
            # asking for one fact, finds no sentence likely enough, yet the passages are on the
            # subject (the rule holds; a name they lack still refuses, below): the sentence it
            # ranks first answers, alone
            chosen = [max(scored, key=lambda s: (s.probability, -s.candidate.passage, -s.candidate.index))]
        # the earlier rule vetoes an answer the model is not confident of (the rule holds off
        # questions about absent subjects; a confident sentence overrides it, e.g. for English)
        vetoed = (
            bool(chosen)
            and (self.use_rule or not calibrated)
            and (not calibrated or chosen[0].probability < thresholds.more or not overridable(chosen[0], language))
            and not rule_holds()
        )
        # the question names someone or something the passages never mention: they do not answer it
        absent = absent_names(query, [f"{p.title}\n{p.text}" for p in passages]) if chosen else []
        if absent and chosen[0].probability >= CONFIDENT and chosen[0].candidate.language != language:
            absent = [name for name in absent if is_ordinal(name)]
        if not chosen or vetoed or absent:
            text = self.refusal(query, passages, lexical, language, scored, absent=absent)
            on_subject = not vetoed and not absent and rule_holds()
            own = [p for p in passages[:3] if p.written_in() == language]
            if on_subject and own:  # the nearest passages in its language hold every word it asks with
                words, present, _ = self._words_against(query, own, lexical, language)
                on_subject = all(term in present for _, term in words)
            return Composed(text, set(), True, language=language, on_subject=on_subject)
        text, cited = compose.render(chosen, language)
        probabilities: dict[int, float] = {}
        for s in chosen:
            n = s.candidate.passage + 1
            probabilities[n] = max(probabilities.get(n, 0.0), round(s.probability, 4))
        return Composed(text, cited, False, probabilities, language)

    @staticmethod
    def _words_against(
        query: str, passages: Sequence[Passage], lexical: LexicalIndex, language: str
    ) -> tuple[list[tuple[str, str]], set[str], bool]:
        """(the question's content words with their terms, the terms of the nearest three passages,
        whether those are in the question's language). Words are compared in the question's
        language only: over passages in the other one, no word is listed."""
        nearest = list(passages[:3])
        present: set[str] = set()
        for p in nearest:
            present.update(lexical.analyzer.tokens(f"{p.title}\n{p.text}"))
        words: list[tuple[str, str]] = []
        seen: set[str] = set()
        same_language = all(p.written_in() == language for p in nearest)
        for word in re.findall(r"[^\W_]+", query) if same_language else ():
            terms = lexical.analyzer.tokens(word)
            if len(terms) == 1 and terms[0] not in seen and len(word) > 2 and not is_function_word(word):
                seen.add(terms[0])
                words.append((word, terms[0]))
        return words, present, same_language

    def refusal(
        self, query: str, passages: Sequence[Passage], lexical: LexicalIndex, language: str,
        scored: Sequence[compose.Scored], *, absent: Sequence[str] = (),
    ) -> str:
        nearest = list(passages[:3])
        words, present, _ = self._words_against(query, nearest, lexical, language)
        best_probability = max((s.probability for s in scored), default=0.0)
        related = bool(nearest) and (
            best_probability >= 0.5 * self.thresholds(language).answer
            or any((p.dense_score or 0.0) >= self.dense_threshold(language, p) for p in nearest)
        )
        if absent:  # the names the passages lack are what is missing, whatever else they share
            related = True
            named = {t for name in absent for t in lexical.analyzer.tokens(name)}
            present -= named
            words = [(name, f"\0{name}") for name in absent] + [w for w in words if w[1] not in named]
        return compose.refusal(language, words, nearest, present, related)


def overridable(best: compose.Scored, language: str) -> bool:
    """Whether a confident best sentence may override the rule: for an English question, or a best
    sentence in the other language than the question's, the rule's cosines run low."""
    return language == "en" or best.candidate.language != language


def relative_cosines(matrix: Any, model: SentenceModel) -> Any:
    """Cosines of another embedding model than the one the sentence model was trained with run on
    another scale: the absolute ones are replaced by the training mean plus their gap to the
    best candidate (the relative features are kept), so answers do not all fall under the
    thresholds. Less accurate than a model trained with those embeddings."""
    col = {name: i for i, name in enumerate(model.features)}
    out = matrix.copy()
    for absolute, gap in (("cos", "cos_gap"), ("passage_dense", "passage_dense_gap")):
        i, j = col[absolute], col[gap]
        out[:, i] = model.mean[i] + model.scale[i] + out[:, j]
    out[:, col["cos_prev"]] = model.mean[col["cos_prev"]]
    return out


def _packaged_e5(embeddings: Any) -> bool:
    """The reranker's lower layers are the packaged e5's: it reads with the model the sentence
    model's probabilities were fitted with, or not at all."""
    from retrieval.answer.vectors import QueryMemo
    from retrieval.embeddings.base import BaseEmbeddings
    from retrieval.settings import PACKAGED_E5

    inner = embeddings.inner if isinstance(embeddings, QueryMemo) else embeddings
    return isinstance(inner, BaseEmbeddings) and inner.model_name == PACKAGED_E5


def from_settings(settings: Settings, embeddings: Any = None) -> ExtractiveAnswerer:
    vectors = None
    reranker = None
    if embeddings is not None:
        from retrieval.answer.vectors import SentenceVectors, cache_path, model_key

        key = model_key(settings)
        vectors = SentenceVectors(embeddings, key, cache_path(settings, key))
        if settings.answer_reranker and _packaged_e5(embeddings):
            from retrieval.answer.reranker import SentenceReranker

            reranker = SentenceReranker(settings.models_path, threads=settings.embedding.threads)
    return ExtractiveAnswerer(
        vectors=vectors,
        reranker=reranker,
        embedding_model=settings.embedding.model,
        max_sentences=settings.max_answer_sentences,
        min_dense_score=settings.min_dense_score,
        min_term_coverage=settings.min_term_coverage,
        min_dense_score_en=settings.min_dense_score_en,
    )


__all__ = ["Composed", "ExtractiveAnswerer", "condense", "from_settings", "language_of", "message", "messages"]

"""French lexical analysis and BM25 (the Snowball French stemmer).

:class:`LexicalView` is what answering sees of the lexical index for one question: the
analyzer, IDF from the on-disk index's statistics (read once per view, document frequencies
looked up for the terms asked about only) and BM25 scoring of given token lists.
:class:`LexicalIndex` is the same interface over a list of texts in memory (tests, tools).
"""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from retrieval.text import fold_accents

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_EXTRA_STOPWORDS = {
    # question words and light verbs that say nothing about the topic
    "quel", "quelle", "quels", "quelles", "qui", "quoi", "que", "qu", "quand", "comment",
    "pourquoi", "combien", "où", "lequel", "laquelle", "lesquels", "lesquelles", "dont",
    "est", "sont", "été", "être", "fait", "faire", "a", "ont", "avait", "peut", "elle", "il",
    "l", "d", "j", "c", "s", "n", "m", "t", "y", "ce", "cet", "cette", "ces", "se", "sa", "son",
    "ses", "leur", "leurs", "du", "des", "de", "la", "le", "les", "un", "une", "et", "ou", "en",
    "au", "aux", "par", "pour", "sur", "dans", "avec", "sans", "plus", "moins", "très", "ne",
    "pas", "selon", "lors", "entre", "chez", "vers", "donc", "alors", "ainsi", "aussi",
    # English, for questions asked in English
    "the", "an", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "were",
    "what", "who", "whom", "which", "when", "where", "why", "how", "does", "did", "do", "with",
    "about", "by", "from", "at", "as", "be", "it", "its", "that", "this", "these", "those",
}


# BM25 parameters, measured on PIAF (k1 0.8 beat the usual 1.2 by ~0.006 MRR; b made no difference)
BM25_K1 = 0.8
BM25_B = 0.75


class FrenchAnalyzer:
    """Lower-case, split on non-letters (apostrophes included), drop stop words, stem."""

    def __init__(self) -> None:
        self._stemmer: Any = None
        self._stopwords: set[str] | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> None:
        if self._stemmer is None:
            with self._lock:
                if self._stemmer is None:
                    import Stemmer
                    from bm25s.stopwords import STOPWORDS_FRENCH

                    self._stopwords = set(STOPWORDS_FRENCH) | _EXTRA_STOPWORDS
                    self._stemmer = Stemmer.Stemmer("french")

    def words(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFC", text).lower().replace("’", "'")
        return _TOKEN.findall(text)

    def tokens(self, text: str) -> list[str]:
        self._ensure()
        assert self._stopwords is not None
        words = [w for w in self.words(text) if w not in self._stopwords]
        stems: list[str] = self._stemmer.stemWords(words)
        return [_fold(stem) for stem in stems]


def _fold(word: str) -> str:
    """Strip accents so that 'Etats' and 'États' meet."""
    return fold_accents(word, "NFD")


ANALYZER = FrenchAnalyzer()


@functools.cache
def analysis_signature() -> str:
    """Everything that decides the tokens of a text (the lexicon's fingerprint is made from it): the
    analyzer's code, its own stop words, and the versions of the stemmer and of the package whose
    French stop words it adds (read without loading either)."""
    import inspect
    from importlib.metadata import version

    return "\n".join([
        inspect.getsource(FrenchAnalyzer), inspect.getsource(_fold), inspect.getsource(fold_accents), _TOKEN.pattern,
        " ".join(sorted(_EXTRA_STOPWORDS)), version("PyStemmer"), version("bm25s"),
    ])


class LexicalStats(Protocol):
    """What the answerer needs of a lexical index (``LexicalView`` and ``LexicalIndex`` both are)."""

    analyzer: FrenchAnalyzer

    def idf(self, token: str) -> float: ...

    def coverage(self, query: str, text: str) -> float: ...


def bm25(query_tokens: Sequence[str], doc_tokens: Sequence[str], idf: dict[str, float], avgdl: float) -> float:
    """newsbot's BM25 of one document (Lucene's variant, as bm25s computes it; repeated query terms count)."""
    counts = Counter(doc_tokens)
    norm = BM25_K1 * (1 - BM25_B + BM25_B * max(1, len(doc_tokens)) / avgdl)
    score = 0.0
    for token in query_tokens:
        tf = counts.get(token, 0)
        if tf:
            score += idf[token] * tf / (tf + norm)
    return score


class LexicalView:
    """One question's view of the on-disk lexical index: statistics read once, IDF on demand.

    ``frequencies`` returns the document frequency of tokens (from the index).
    """

    def __init__(
        self, size: int, avgdl: float, frequencies: Callable[[Sequence[str]], dict[str, int]],
        analyzer: FrenchAnalyzer = ANALYZER,
    ) -> None:
        self.analyzer = analyzer
        self.size = size
        self.avgdl = avgdl
        self._frequencies = frequencies
        self._df: dict[str, int] = {}

    def df(self, tokens: Sequence[str]) -> dict[str, int]:
        missing = [t for t in tokens if t not in self._df]
        if missing:
            self._df.update(self._frequencies(missing))
        return {t: self._df.get(t, 0) for t in tokens}

    def idf(self, token: str) -> float:
        """The answerer's IDF (smoothed so that unseen terms weigh most)."""
        return math.log(1 + (self.size + 1) / (self.df([token])[token] + 0.5))

    def bm25_idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """BM25's IDF (Lucene's) of the tokens present in the index."""
        n = self.size
        return {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in self.df(tokens).items() if df}

    def query_tokens(self, query: str) -> list[str]:
        """The query's tokens found in the index (repeats kept: BM25 counts them)."""
        tokens = self.analyzer.tokens(query)
        known = self.df(tokens)
        return [t for t in tokens if known[t]]

    def coverage(self, query: str, text: str) -> float:
        return _coverage(self, query, text)


def _coverage(stats: LexicalStats, query: str, text: str) -> float:
    """IDF-weighted share of the query's terms present in ``text`` (0..1)."""
    terms = set(stats.analyzer.tokens(query))
    if not terms:
        return 0.0
    present = set(stats.analyzer.tokens(text))
    total = sum(stats.idf(t) for t in terms)
    return sum(stats.idf(t) for t in terms if t in present) / total


class LexicalIndex:
    """An in-memory BM25 index over a fixed list of texts, plus document frequencies."""

    def __init__(self, texts: Sequence[str], analyzer: FrenchAnalyzer = ANALYZER) -> None:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.NOTSET)  # bm25s forces DEBUG on import
        self.analyzer = analyzer
        corpus_tokens = [analyzer.tokens(text) for text in texts]
        self.size = len(corpus_tokens)
        self.df: Counter[str] = Counter()
        for tokens in corpus_tokens:
            self.df.update(set(tokens))
        self._bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        if self.size:
            # bm25s refuses documents with no token: give them a token nothing matches
            self._bm25.index([t or ["\x00"] for t in corpus_tokens], show_progress=False)

    def idf(self, token: str) -> float:
        return math.log(1 + (self.size + 1) / (self.df.get(token, 0) + 0.5))

    def scored(self, query: str, k: int) -> tuple[Any, list[tuple[int, float]]]:
        """BM25 scores of every document for ``query`` (a numpy array) and the best ``k``
        (document index, score) with a positive score, from one scoring pass."""
        import numpy as np

        tokens = [t for t in self.analyzer.tokens(query) if t in self.df]
        if not tokens or not self.size:
            return np.zeros(self.size, dtype=np.float32), []
        scores = self._bm25.get_scores(tokens)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(((int(i), float(scores[i])) for i in top), key=lambda x: -x[1])
        return scores, [(i, s) for i, s in ranked if s > 0]

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(document index, BM25 score) of the best ``k`` documents with a positive score."""
        return self.scored(query, k)[1]

    def coverage(self, query: str, text: str) -> float:
        """IDF-weighted share of the query's terms present in ``text`` (0..1)."""
        return _coverage(self, query, text)

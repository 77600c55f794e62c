"""What is measured of each (question, candidate sentence) pair, for the answer-sentence model.

A candidate is a sentence of a retrieved passage (a sentence repeated by overlapping chunks
counts once, at its best-ranked passage). The features, all measured on PIAF dev (see
``retrieval/answer/train.py`` and ``docs/answers.md``):

* dense: cosine of the question and the sentence (multilingual e5; the only signal that
  crosses languages), its gap to the best candidate, its rank, the previous sentence's;
* terms: IDF-weighted share of the question's terms in the sentence (terms of the passage's
  title count half: every sentence of an article is about its title), in the previous and
  next sentences, and the share of the sentence's own terms that are new (a sentence that
  only repeats the question does not answer it);
* answer type: what the question asks (a number, a date, a duration, a place, a person)
  and whether the sentence holds one;
* passage: rank, fused score, cosine, lexical rank, the position of the sentence;
* across languages: whether the sentence is in the other language than the question's, its
  cosine then (cross-language cosines run lower), and the share of the question's names and
  numbers it holds (matched leniently: Kyiv/Kiev, Russia/Russie), the one overlap that crosses
  languages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from retrieval.answer.names import mentioned, names, words_of
from retrieval.index.chunking import split_sentences
from retrieval.types import Passage

_NUMBER = re.compile(r"\b\d+\b")

ANSWER_TYPES = ("number", "date", "duration", "place", "person")

_ASKS = {
    "duration": re.compile(
        r"\bcombien de temps\b|\bdurée\b|\bpendant combien\b|\bdepuis combien\b|\bhow long\b|"
        r"\bfor how many (?:years|months|days|weeks)\b",
        re.I,
    ),
    "date": re.compile(
        r"\bquand\b|\bà quelle (?:date|époque|période|heure)\b|\ben quelle année\b|\bquelle (?:année|date|époque)\b|"
        r"\bquel (?:jour|mois|siècle)\b|\bdepuis quand\b|\bwhen\b|\bwhat (?:year|date|day|month|time)\b|"
        r"\bwhich (?:year|date|day|month|century)\b|\bin what year\b",
        re.I,
    ),
    "number": re.compile(
        r"\bcombien\b|\bquel(?:le)? (?:est (?:le|la) )?(?:nombre|montant|prix|taux|pourcentage|âge|part|"
        r"superficie|population|taille|hauteur|longueur|somme|coût|budget)\b|\bhow (?:many|much|old|big|tall|"
        r"high|far)\b|\bwhat (?:percentage|share|number|amount|price|rate)\b",
        re.I,
    ),
    "place": re.compile(
        r"\boù\b|\bd'où\b|\bwhere\b|\bdans quel(?:le)? (?:pays|ville|région|lieu|endroit|département|continent)\b|"
        r"\bquel(?:le)? (?:pays|ville|région|lieu|endroit)\b|\b(?:in )?(?:what|which) (?:country|city|town|"
        r"region|place|state)\b",
        re.I,
    ),
    "person": re.compile(
        r"^\s*(?:qui|who|whom)\b|\b(?:par|à|de|avec|pour|contre) qui\b|\bwho\b|\bwhose\b|"
        r"\bquel (?:homme|roi|président|ministre|joueur|auteur|artiste)\b|\bqui (?:est|était|a|sont|fut)\b",
        re.I,
    ),
}
_NUMBER = re.compile(
    r"\d|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|"
    r"cinquante|soixante|cent|cents|mille|million|millions|milliard|milliards|moitié|tiers|quart|"
    r"two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty|hundred|thousand|million|"
    r"billion|half|dozen)\b",
    re.I,
)
_MONTHS = (
    r"janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|"
    r"decembre|january|february|march|april|may|june|july|august|september|october|november|december"
)
_DATE = re.compile(
    rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})\b|\b(?:{_MONTHS})\b|\bsiècle\b|\bcentury\b|\b(?:lundi|mardi|mercredi|"
    r"jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday|hier|"
    r"yesterday|aujourd'hui|today)\b",
    re.I,
)
_DURATION = re.compile(
    r"\b(?:\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quelques|plusieurs|a|one|two|three|"
    r"four|five|six|seven|eight|nine|ten|several|few)\s+(?:ans?|années?|mois|semaines?|jours?|heures?|"
    r"minutes?|siècles?|décennies?|years?|months?|weeks?|days?|hours?|minutes?|centuries|decades?)\b|"
    r"\bpendant\b|\bdurant\b|\bduring\b|\blasted\b|\bdurée\b",
    re.I,
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÀÂÇÉÈÊËÎÏÔÛÙÜŸ][\w'’-]+")
_PLACE_CUE = re.compile(
    r"\b(?:à|au|aux|en|dans|near|in|at|from|de)\s+(?:la |le |l'|the )?[A-ZÀÂÇÉÈÊÎÔÛ][\w'-]+"
)
_PERSON = re.compile(r"\b[A-ZÀÂÇÉÈÊÎÔÛ][a-zàâçéèêëîïôûùüÿœ'-]+\s+(?:de\s+|van\s+|von\s+)?[A-ZÀÂÇÉÈÊÎÔÛ][\w'-]+")


_EVENT = re.compile(
    r"\bque s'est[- ]il passé\b|\bqu'est[- ]ce qui s'est passé\b|\bque se passe[- ]t[- ]il\b|"
    r"\bqu'est[- ]ce qui se passe\b|\bqu'est[- ]il arrivé\b|\bqu'est[- ]ce qui est arrivé\b|"
    r"\bwhat (?:has |had )?happened\b|\bwhat(?:'s| is| was) happening\b|\bwhat took place\b",
    re.I,
)


def asks_event(question: str) -> bool:
    """Whether the question asks what happened (« que s'est-il passé le 19 septembre … ? »): the news
    itself, not one fact of it."""
    return bool(_EVENT.search(question.replace("’", "'")))


def asked_type(question: str) -> str | None:
    """What the question asks for: one of :data:`ANSWER_TYPES`, or None."""
    for kind in ("duration", "date", "number", "place", "person"):
        if _ASKS[kind].search(question):
            return kind
    return None


def holds(sentence: str) -> dict[str, float]:
    """Which answer types the sentence holds."""
    capitalised = len(_CAPITALISED.findall(sentence))
    return {
        "number": float(bool(_NUMBER.search(sentence))),
        "date": float(bool(_DATE.search(sentence))),
        "duration": float(bool(_DURATION.search(sentence))),
        "place": float(bool(_PLACE_CUE.search(sentence))),
        "person": float(bool(_PERSON.search(sentence))),
        "names": min(capitalised, 6) / 6.0,
    }


class Lexical(Protocol):
    analyzer: Any

    def idf(self, token: str) -> float: ...


@dataclass
class Candidate:
    """A sentence of a retrieved passage, or the headline of its article (index -1)."""

    passage: int  # index into the passages (0-based)
    index: int  # sentence index in the passage; -1: the article's headline
    text: str
    language: str

    @property
    def headline(self) -> bool:
        return self.index < 0


HEADLINE_WORDS = 5  # a title of fewer words names a subject ("Guerre de Cent Ans"); a headline states a fact


# a question, or a sentence opening with a quoted question (its opening quote may be in the sentence before)
_ASKING = re.compile(r"\?[\s»\"”'’)]*$|^[«\"“]?[^«»\"“”]*\?\s*[»\"”]")


def headline_of(title: str) -> str | None:
    """An article's title as an answer candidate when it reads as a headline (a statement of at
    least :data:`HEADLINE_WORDS` words), not a name or a question; None otherwise."""
    text = " ".join(title.split())
    return text if len(text.split()) >= HEADLINE_WORDS and not _ASKING.search(text) else None


def _bare(text: str) -> str:
    return " ".join(text.split()).rstrip(" .!…").casefold()


def _opens(headline: str, sentences: Sequence[str]) -> bool:
    """Is the headline the article's first sentence, or its start (a title taken from the text's
    first line, cut)? It would then be quoted twice."""
    return bool(sentences) and _bare(sentences[0]).startswith(_bare(headline))


def candidates(passages: Sequence[Passage], min_chars: int = 12) -> list[Candidate]:
    """The sentences of the passages, each once (at its best-ranked passage). A sentence that asks
    a question (« Pourquoi Trump le reçoit-il ? », or a sentence opening with a quoted question)
    answers none: it is not a candidate. The headline of an article (:func:`headline_of`) is one
    too, before its first passage's sentences: news headlines state the fact (« Moscou et Kyiv
    échangent 200 prisonniers »), often in words the article's sentences do not repeat; not when
    it is the first sentence itself (an article without a title is named after its first line)."""
    seen: set[str] = set()
    out: list[Candidate] = []
    for p_index, passage in enumerate(passages):
        language = passage.written_in()
        sentences = split_sentences(passage.text)
        headline = headline_of(passage.title) if passage.position == 0 else None
        if headline and headline not in seen and not _opens(headline, sentences):
            seen.add(headline)
            out.append(Candidate(p_index, -1, headline, language))
        for s_index, sentence in enumerate(sentences):
            key = " ".join(sentence.split())
            if len(key) < min_chars or key in seen or _ASKING.search(key):
                continue
            seen.add(key)
            out.append(Candidate(p_index, s_index, sentence, language))
    return out


FEATURES = (
    "cos", "cos_gap", "cos_rank", "cos_prev", "cos_passage_gap",
    "cov", "cov_gap", "cov_prev", "cov_next", "cov_window", "new_terms", "cov_title",
    "passage_cov", "passage_rrank", "passage_score", "passage_dense", "passage_dense_gap", "lexical_rrank",
    "top_article", "sentence_index", "first_sentence", "article_start", "log_chars", "short",
    "cross_language", "cross_cos", "names_cov", "cross_names_cov",
    *(f"asks_{t}" for t in ANSWER_TYPES), "asks_none",
    *(f"holds_{t}" for t in ANSWER_TYPES), "holds_names",
    *(f"match_{t}" for t in ANSWER_TYPES), "type_missing",
)


def featurize(
    question: str,
    query: str,
    passages: Sequence[Passage],
    cands: Sequence[Candidate],
    lexical: Lexical,
    cosines: Any,
    question_language: str,
) -> Any:
    """A (len(cands), len(FEATURES)) float32 matrix. ``cosines``: question ↔ candidate cosine."""
    import numpy as np

    analyzer = lexical.analyzer
    q_terms = list(dict.fromkeys(analyzer.tokens(query)))
    idf = {t: lexical.idf(t) for t in q_terms}
    kind = asked_type(question) or asked_type(query)
    cos = np.asarray(cosines, dtype=np.float32)
    n = len(cands)
    out = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if n == 0:
        return out
    col = {name: i for i, name in enumerate(FEATURES)}

    # per passage: its sentences' terms and the title-discounted weights
    by_passage: dict[int, list[int]] = {}
    for i, c in enumerate(cands):
        by_passage.setdefault(c.passage, []).append(i)
    sentence_terms = [set(analyzer.tokens(c.text)) for c in cands]
    covs = np.zeros(n, dtype=np.float32)
    cov_prev = np.zeros(n, dtype=np.float32)
    cov_next = np.zeros(n, dtype=np.float32)
    cov_window = np.zeros(n, dtype=np.float32)
    cov_title = np.zeros(len(passages), dtype=np.float32)
    passage_cov = np.zeros(len(passages), dtype=np.float32)
    for p_index, members in by_passage.items():
        passage = passages[p_index]
        title_terms = set(analyzer.tokens(passage.title))
        weights = {t: w * (0.5 if t in title_terms else 1.0) for t, w in idf.items()}
        total = sum(weights.values()) or 1.0
        full = sum(idf.values()) or 1.0
        cov_title[p_index] = sum(w for t, w in idf.items() if t in title_terms) / full
        all_terms = set().union(*(sentence_terms[i] for i in members)) | title_terms
        passage_cov[p_index] = sum(w for t, w in idf.items() if t in all_terms) / full
        members.sort(key=lambda i: cands[i].index)
        for i in members:
            covs[i] = sum(w for t, w in weights.items() if t in sentence_terms[i]) / total
        sentences = [i for i in members if not cands[i].headline]  # a headline has no neighbours
        for i in members:
            cov_window[i] = covs[i]
        for j, i in enumerate(sentences):
            prev = sentences[j - 1] if j > 0 and cands[sentences[j - 1]].index == cands[i].index - 1 else None
            nxt = (sentences[j + 1] if j + 1 < len(sentences) and cands[sentences[j + 1]].index == cands[i].index + 1
                   else None)
            if prev is not None:
                cov_prev[i] = covs[prev]
                window = sentence_terms[i] | sentence_terms[prev]
                cov_window[i] = sum(w for t, w in weights.items() if t in window) / total
                out[i, col["cos_prev"]] = cos[prev]
            if nxt is not None:
                cov_next[i] = covs[nxt]

    best_cos = float(cos.max())
    order = np.argsort(-cos, kind="stable")
    cos_rank = np.empty(n, dtype=np.float32)
    cos_rank[order] = np.arange(n, dtype=np.float32)
    best_cov = float(covs.max())
    max_score = max((p.score for p in passages), default=1.0) or 1.0
    dense = [p.dense_score or 0.0 for p in passages]
    best_dense = max(dense, default=0.0)
    q_set = set(q_terms)
    top_article = passages[0].article_id if passages else None
    # names and numbers are written alike in both languages: the one overlap that crosses them
    wanted = [*names(question), *dict.fromkeys(_NUMBER.findall(question))]
    for i, c in enumerate(cands):
        passage = passages[c.passage]
        members = by_passage[c.passage]
        row = out[i]
        row[col["cos"]] = cos[i]
        row[col["cos_gap"]] = cos[i] - best_cos
        row[col["cos_rank"]] = 1.0 / (1.0 + cos_rank[i])
        row[col["cos_passage_gap"]] = cos[i] - float(cos[members].max())
        row[col["cov"]] = covs[i]
        row[col["cov_gap"]] = covs[i] - best_cov
        row[col["cov_prev"]] = cov_prev[i]
        row[col["cov_next"]] = cov_next[i]
        row[col["cov_window"]] = cov_window[i]
        own = sentence_terms[i]
        row[col["new_terms"]] = len(own - q_set) / max(1, len(own))
        row[col["cov_title"]] = cov_title[c.passage]
        row[col["passage_cov"]] = passage_cov[c.passage]
        row[col["passage_rrank"]] = 1.0 / (1 + c.passage)
        row[col["passage_score"]] = passage.score / max_score
        row[col["passage_dense"]] = dense[c.passage]
        row[col["passage_dense_gap"]] = dense[c.passage] - best_dense
        row[col["lexical_rrank"]] = 0.0 if passage.lexical_rank is None else 1.0 / (1 + passage.lexical_rank)
        row[col["top_article"]] = float(passage.article_id == top_article)
        index = max(c.index, 0)  # a headline reads as the article's lede
        row[col["sentence_index"]] = min(index, 10) / 10.0
        row[col["first_sentence"]] = float(index == 0)
        row[col["article_start"]] = float(index == 0 and passage.position == 0)
        row[col["log_chars"]] = math.log(1 + len(c.text))
        row[col["short"]] = float(len(c.text) < 40)
        cross = float(c.language != question_language)
        row[col["cross_language"]] = cross
        row[col["cross_cos"]] = cross * cos[i]
        if wanted:
            words = words_of([c.text])
            row[col["names_cov"]] = sum(mentioned(w, words) for w in wanted) / len(wanted)
            row[col["cross_names_cov"]] = cross * row[col["names_cov"]]
        held = holds(c.text)
        for t in ANSWER_TYPES:
            row[col[f"asks_{t}"]] = float(kind == t)
            row[col[f"holds_{t}"]] = held[t]
            row[col[f"match_{t}"]] = float(kind == t) * held[t]
        row[col["holds_names"]] = held["names"]
        row[col["asks_none"]] = float(kind is None)
        row[col["type_missing"]] = float(kind is not None and not held[kind])
    return out

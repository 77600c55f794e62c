from __future__ import annotations

import numpy as np
import pytest

from retrieval.answer.features import FEATURES, asked_type, asks_event, candidates, featurize, holds
from retrieval.search.lexical import LexicalIndex
from retrieval.types import Passage


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Combien d'habitants compte Minneapolis ?", "number"),
        ("How many people live there?", "number"),
        ("Quand a eu lieu la bataille ?", "date"),
        ("When was it founded?", "date"),
        ("Combien de temps a duré la guerre ?", "duration"),
        ("How long did it last?", "duration"),
        ("Où s'est tenu le sommet ?", "place"),
        ("Where was the summit held?", "place"),
        ("Qui a fondé la ville ?", "person"),
        ("Who won?", "person"),
        ("Pourquoi la ville a-t-elle été fondée ?", None),
    ],
)
def test_asked_type(question: str, kind: str | None) -> None:
    assert asked_type(question) == kind


@pytest.mark.parametrize(
    ("question", "event"),
    [
        ("Que s'est-il passé le 19 septembre au-dessus du golfe de Finlande ?", True),
        ("Qu’est-ce qui s’est passé à Anchorage ?", True),
        ("What happened at the White House on 18 August?", True),
        ("What is happening in Kharkiv?", True),
        ("Que se passe-t-il à Gaza ?", True),
        ("Où s'est tenu le sommet ?", False),
        ("Combien de temps s'est-il passé entre les deux sommets ?", False),
    ],
)
def test_asks_event(question: str, event: bool) -> None:
    assert asks_event(question) is event


def test_holds() -> None:
    held = holds("Le sommet s'est tenu à Anchorage le 15 août 2025 avec Donald Trump.")
    assert held["date"] and held["number"] and held["place"] and held["person"]
    assert not holds("il pleuvait.")["number"]


def test_features_measure_the_matching_sentence_higher() -> None:
    text = "Le sommet s'est tenu à Anchorage. Il a duré trois heures. La météo était clémente."
    passages = [
        Passage("a#0", "a", "Sommet en Alaska", text, 1.0, dense_score=0.85),
        Passage("b#0", "b", "Rome", "Rome compte 2,8 millions d'habitants. Rome est la capitale.", 0.5, dense_score=0.8),
    ]
    lexical = LexicalIndex([p.text for p in passages])
    cands = candidates(passages)
    assert [c.text for c in cands][:2] == ["Le sommet s'est tenu à Anchorage.", "Il a duré trois heures."]
    cos = np.linspace(0.9, 0.7, len(cands))
    matrix = featurize("Combien de temps a duré le sommet ?", "Combien de temps a duré le sommet ?",
                       passages, cands, lexical, cos, "fr")
    assert matrix.shape == (len(cands), len(FEATURES))
    col = {name: i for i, name in enumerate(FEATURES)}
    assert matrix[1, col["cov"]] > matrix[2, col["cov"]]  # "duré"
    assert matrix[1, col["match_duration"]] == 1.0 and matrix[0, col["match_duration"]] == 0.0
    assert matrix[1, col["cov_prev"]] == matrix[0, col["cov"]]
    assert matrix[0, col["cos_gap"]] == 0.0 and matrix[-1, col["cos_gap"]] < 0
    assert matrix[3, col["passage_rrank"]] == 0.5


def test_a_sentence_repeated_by_overlapping_chunks_is_one_candidate() -> None:
    passages = [Passage("a#0", "a", "T", "Une phrase assez longue. Deux.", 1.0),
                Passage("a#1", "a", "T", "Une phrase assez longue. Trois phrases ici.", 0.5)]
    assert [c.text for c in candidates(passages)] == ["Une phrase assez longue.", "Trois phrases ici."]


def test_a_headline_is_a_candidate_before_its_articles_first_sentences() -> None:
    from retrieval.answer.features import headline_of

    headline = "Moscou et Kyiv échangent 200 prisonniers, selon le Kremlin"
    passages = [
        Passage("a#0", "a", headline, "Le Kremlin a annoncé l'échange dimanche. D'autres échanges sont prévus.", 1.0),
        Passage("a#1", "a", headline, "Les soldats libérés sont rentrés chez eux.", 0.8, position=1),
        Passage("b#0", "b", "Guerre de Cent Ans", "La guerre dura de 1337 à 1453.", 0.5),
        Passage("c#0", "c", "Qui a gagné le sommet d'Alaska selon la presse ?", "Personne, dit-on.", 0.4),
    ]
    cands = candidates(passages)
    assert (cands[0].text, cands[0].index, cands[0].headline) == (headline, -1, True)
    assert sum(c.headline for c in cands) == 1  # once per article; not a name, not a question
    assert headline_of("Guerre de Cent Ans") is None and headline_of("  Trump  et Poutine se  rencontrent ") == (
        "Trump et Poutine se rencontrent")
    # an article without a title is named after its first line: that headline would be quoted twice
    lede = "Le Kremlin a annoncé dimanche l'échange de deux cents prisonniers avec Kyiv."
    for title in (lede, lede[:-1], lede[:40]):
        untitled = [Passage("d#0", "d", title, f"{lede} Il a eu lieu à la frontière.", 1.0)]
        assert [c.headline for c in candidates(untitled)] == [False, False]
    lexical = LexicalIndex([p.text for p in passages])
    matrix = featurize("Combien de prisonniers ont été échangés ?", "Combien de prisonniers ont été échangés ?",
                       passages, cands, lexical, np.linspace(0.9, 0.7, len(cands)), "fr")
    col = {name: i for i, name in enumerate(FEATURES)}
    assert matrix[0, col["article_start"]] == 1.0 and matrix[0, col["sentence_index"]] == 0.0
    # the first sentence's neighbour is no sentence: the headline does not count as one
    assert matrix[1, col["cov_prev"]] == 0.0 and matrix[1, col["cos_prev"]] == 0.0
    assert matrix[1, col["first_sentence"]] == 1.0

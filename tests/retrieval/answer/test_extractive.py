"""The answerer with the shipped answer-sentence model, the real lexical analysis and the real
default embedding model (multilingual e5: the model's cosine features are measured with it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrieval.answer.extractive import ExtractiveAnswerer
from retrieval.answer.model import shipped_model
from retrieval.answer.vectors import SentenceVectors
from retrieval.search.lexical import LexicalIndex
from retrieval.types import Passage

SUMMIT = (
    "Le sommet entre les deux présidents s'est tenu à Anchorage, en Alaska, vendredi. "
    "Les discussions ont duré près de trois heures dans une base militaire. "
    "Aucun accord n'a été annoncé à l'issue de la rencontre, selon les deux délégations."
)
ROME = "Rome compte environ 2,8 millions d'habitants. La ville est la capitale de l'Italie depuis 1871."
FILLER = [f"Article {i} sur la météo des plages et la saison touristique en Bretagne cet été." for i in range(20)]


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex([SUMMIT, ROME, *FILLER])


@pytest.fixture(scope="module")
def e5(models_dir: Path) -> Any:
    from retrieval.embeddings.models import embeddings_from_settings
    from retrieval.settings import load_settings

    return embeddings_from_settings(load_settings(model_dir=models_dir))


@pytest.fixture
def answerer(e5: Any, tmp_path: Path) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(vectors=SentenceVectors(e5, "e5", tmp_path / "v.sqlite"))


def passages(dense: float = 0.86) -> list[Passage]:
    return [
        Passage("s#0", "summit", "Sommet en Alaska", SUMMIT, 1.0, dense_score=dense, position=0),
        Passage("r#0", "rome", "Rome", ROME, 0.6, dense_score=dense - 0.03, position=0),
    ]


def test_the_shipped_model_is_small_and_has_thresholds_for_both_languages() -> None:
    model = shipped_model()
    assert len(model.coef) == len(model.features)
    assert set(model.thresholds) == {"fr", "en"}
    for t in model.thresholds.values():
        assert 0 < t.answer <= t.more < 1
    path = Path(__file__).resolve().parents[3] / "retrieval" / "answer" / "sentence_model.json"
    assert path.stat().st_size < 20_000


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [("Où s'est tenu le sommet ?", "Anchorage"), ("Combien de temps ont duré les discussions du sommet ?", "trois heures")],
)
def test_the_answer_opens_with_the_sentence_that_answers(
    answerer: ExtractiveAnswerer, lexical: LexicalIndex, question: str, expected: str
) -> None:
    composed = answerer.answer(question, question, passages(), lexical)
    assert not composed.refused
    first = composed.text.split(" [1]")[0]
    assert expected in first
    assert "Rome" not in composed.text  # no filler from an unrelated article
    assert composed.cited == {1}
    assert 0 < composed.probabilities[1] <= 1


@pytest.mark.slow
def test_small_talk_gets_a_help_line(answerer: ExtractiveAnswerer, lexical: LexicalIndex) -> None:
    composed = answerer.answer("hello", "hello", passages(), lexical)
    assert not composed.refused and not composed.cited
    assert "news" in composed.text


@pytest.mark.slow
def test_a_question_the_passages_do_not_answer_is_refused_with_what_is_closest(
    answerer: ExtractiveAnswerer, lexical: LexicalIndex
) -> None:
    question = "Combien d'habitants compte Minneapolis ?"
    composed = answerer.answer(question, question, passages(dense=0.80), lexical)
    assert composed.refused and not composed.cited
    assert composed.text.startswith("La couverture indexée ne répond pas")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("Qu'a dit le pape Léon XIV du sommet d'Alaska ?", "Léon"),  # the subject is covered, the person is not
        ("Combien de temps a duré le 3e sommet d'Alaska ?", "3e"),  # an ordinal the coverage never has
        ("Depuis quand le pape Léon XIV parle-t-il du sommet d'Alaska ?", "Léon"),
    ],
)
def test_a_question_naming_what_the_passages_never_mention_is_refused_and_says_so(
    answerer: ExtractiveAnswerer, lexical: LexicalIndex, question: str, missing: str
) -> None:
    composed = answerer.answer(question, question, passages(), lexical)
    assert composed.refused and not composed.cited
    assert f"« {missing} »" in composed.text.split("mais pas de")[1]
    assert "« Depuis »" not in composed.text and "« quand »" not in composed.text  # words of the question's frame


@pytest.mark.slow
def test_a_sentence_asking_a_question_is_never_the_answer(
    answerer: ExtractiveAnswerer, lexical: LexicalIndex
) -> None:
    text = "« Pourquoi le sommet a-t-il lieu à Anchorage ? », se demande une habitante. " + SUMMIT
    asked = [Passage("q#0", "quote", "Sommet en Alaska", text, 1.0, dense_score=0.86, position=0)]
    composed = answerer.answer("Où s'est tenu le sommet ?", "Où s'est tenu le sommet ?", asked, lexical)
    assert "se demande" not in composed.text


@pytest.mark.parametrize(
    ("query", "on_subject"),
    [
        ("Où en sont les discussions du sommet d'Alaska ?", True),  # every word is in the passages
        ("Où en est la météo à Anchorage ?", False),  # « météo »: not a word of the nearest passages
    ],
)
def test_a_refusal_says_whether_the_passages_are_on_its_subject(
    answerer: ExtractiveAnswerer, lexical: LexicalIndex, monkeypatch: pytest.MonkeyPatch, query: str, on_subject: bool
) -> None:
    from retrieval.answer import compose

    monkeypatch.setattr(answerer, "relevant", lambda *a, **k: True)  # close enough to the question, by the rule
    monkeypatch.setattr(compose, "choose", lambda *a, **k: [])  # and no sentence likely enough
    composed = answerer.answer(query, query, passages()[:1], lexical)
    assert composed.refused and composed.on_subject is on_subject


@pytest.mark.parametrize(
    ("question", "answered"),
    [
        ("Qu'a déclaré Xi Jinping à propos du sommet d'Alaska ?", False),  # a French sentence would name him
        ("What did Chancellor Merz say about the Alaska summit?", True),  # French passages may translate names
    ],
)
def test_a_confident_sentence_overrides_a_missing_name_only_in_the_other_language(
    lexical: LexicalIndex, monkeypatch: pytest.MonkeyPatch, question: str, answered: bool
) -> None:
    from retrieval.answer import compose
    from retrieval.answer.features import candidates

    answerer = ExtractiveAnswerer(use_rule=False)
    given = passages()
    monkeypatch.setattr(answerer, "score", lambda *a, **k: [
        compose.Scored(c, 0.9 if i == 0 else 0.01) for i, c in enumerate(candidates(given))])
    composed = answerer.answer(question, question, given, lexical)
    assert composed.refused is not answered


def test_the_rule_lowers_its_cosine_for_passages_in_the_other_language(lexical: LexicalIndex) -> None:
    """Cross-language cosines run low: a French question over an English passage is held to the
    threshold of English questions, a French passage to the French one."""
    answerer = ExtractiveAnswerer(min_dense_score=0.835, min_dense_score_en=0.805, min_term_coverage=1.1)
    english = Passage("e#0", "e", "Jets over the gulf", "Three jets violated the airspace over the gulf.", 1.0,
                      dense_score=0.82, position=0, language="en")
    french = Passage("f#0", "f", "Avions", "Trois avions ont violé l'espace aérien.", 1.0,
                     dense_score=0.82, position=0, language="fr")
    question = "Que s'est-il passé au-dessus du golfe ?"
    assert answerer.relevant(question, [english], lexical, "fr")
    assert not answerer.relevant(question, [french], lexical, "fr")
    assert answerer.relevant("What happened over the gulf?", [french], lexical, "en")


@pytest.mark.parametrize(("sentence_language", "vetoed"), [("en", False), ("fr", True)])
def test_a_confident_sentence_in_the_other_language_overrides_the_rule(
    lexical: LexicalIndex, monkeypatch: pytest.MonkeyPatch, sentence_language: str, vetoed: bool
) -> None:
    """For a French question, the rule is overridden by a likely answer only when that answer is
    in English (its cosines run low); in French the rule stands."""
    from retrieval.answer import compose
    from retrieval.answer.features import candidates

    answerer = ExtractiveAnswerer(min_dense_score=0.99, min_dense_score_en=0.99, min_term_coverage=1.1)
    text = "Three jets violated the airspace." if sentence_language == "en" else "Trois avions ont violé l'espace aérien."
    given = [Passage("p#0", "p", "Jets", text, 1.0, dense_score=0.5, position=0, language=sentence_language)]
    monkeypatch.setattr(answerer, "score", lambda *a, **k: [compose.Scored(c, 0.9) for c in candidates(given)])
    composed = answerer.answer("Que s'est-il passé au-dessus du golfe ?", "passé golfe", given, lexical)
    assert composed.refused is vetoed


@pytest.mark.slow
def test_a_model_naming_its_features_in_another_order_scores_the_same(
    e5: Any, tmp_path: Path, lexical: LexicalIndex
) -> None:
    import dataclasses

    import numpy as np

    shipped = shipped_model()
    order = list(reversed(range(len(shipped.features))))
    reordered = dataclasses.replace(
        shipped, features=tuple(shipped.features[i] for i in order), mean=shipped.mean[order],
        scale=shipped.scale[order], coef=shipped.coef[order], reranker=None,
    )
    vectors = SentenceVectors(e5, "e5", tmp_path / "v.sqlite")
    question = "Où s'est tenu le sommet ?"
    scores = [
        [s.probability for s in ExtractiveAnswerer(vectors=vectors, model=model).score(
            question, question, passages(), lexical, "fr")]
        for model in (dataclasses.replace(shipped, reranker=None), reordered)
    ]
    assert np.allclose(scores[0], scores[1])


EVENT = (
    "This morning, three Russian MiG-31 fighter jets violated Estonian airspace over the Gulf of Finland "
    "for twelve minutes. Estonia asked for NATO consultations under Article 4. "
    "The foreign ministry summoned Russia's chargé d'affaires."
)


@pytest.mark.slow
def test_a_question_asking_what_happened_is_answered_by_the_news_it_asks_for(
    answerer: ExtractiveAnswerer, lexical: LexicalIndex
) -> None:
    on_it = [
        Passage("e#0", "estonia", "Russian jets violate Estonian airspace", EVENT, 1.0, dense_score=0.81, position=0,
                language="en"),
        Passage("s#0", "summit", "Sommet en Alaska", SUMMIT, 0.5, dense_score=0.80, position=0),
    ]
    question = "Que s'est-il passé le 19 septembre 2025 ?"  # (the passages are those of that day)
    # no sentence is as likely as a fact asked for must be: the model was fitted on questions asking one
    best = max(s.probability for s in answerer.score(question, question, on_it, lexical, "fr"))
    assert best < answerer.thresholds("fr").answer
    composed = answerer.answer(question, question, on_it, lexical)
    assert not composed.refused
    assert composed.text.startswith("This morning, three Russian MiG-31") and composed.cited == {1}
    # asking for the newest on its subject, the refusal is left to the caller (the newest article answers)
    assert answerer.answer(question, question, on_it, lexical, latest=True).refused
    # a place the passages never name still refuses it
    elsewhere = "Que s'est-il passé le 19 septembre 2025 à Marseille ?"
    assert answerer.answer(elsewhere, elsewhere, on_it, lexical).refused

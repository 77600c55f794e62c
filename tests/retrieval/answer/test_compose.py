from __future__ import annotations

from retrieval.answer.compose import Scored, choose, refusal, render
from retrieval.answer.features import Candidate
from retrieval.answer.model import Thresholds
from retrieval.types import Passage

PASSAGES = [
    Passage("a#1", "a", "Sommet", "…", 1.0, position=1),
    Passage("b#0", "b", "Rome", "…", 0.9, position=0),
    Passage("a#0", "a", "Sommet", "…", 0.8, position=0),
]
LIMITS = Thresholds(answer=0.3, more=0.6)


def scored(passage: int, index: int, probability: float, language: str = "fr") -> Scored:
    return Scored(Candidate(passage, index, f"Phrase {passage}.{index}.", language), probability)


def test_the_best_sentence_comes_first_and_further_ones_only_when_likely() -> None:
    items = [scored(0, 2, 0.9), scored(0, 0, 0.7), scored(1, 0, 0.5), scored(2, 1, 0.65)]
    chosen = choose(items, PASSAGES, LIMITS, limit=3)
    assert chosen[0].probability == 0.9
    # the others of the same article in reading order (passage position, then sentence)
    assert [(s.candidate.passage, s.candidate.index) for s in chosen[1:]] == [(2, 1), (0, 0)]
    assert all(s.candidate.passage != 1 for s in chosen)  # 0.5 < more: no filler from Rome


def test_a_headline_may_lead_an_answer_but_never_follows_a_sentence() -> None:
    headline = scored(0, -1, 0.8)
    chosen = choose([scored(0, 0, 0.9), headline, scored(2, 1, 0.7)], PASSAGES, LIMITS, limit=3)
    assert [(s.candidate.passage, s.candidate.index) for s in chosen] == [(0, 0), (2, 1)]
    chosen = choose([headline, scored(0, 0, 0.7)], PASSAGES, LIMITS, limit=3)
    assert [s.candidate.index for s in chosen] == [-1, 0]  # it leads, the sentences follow in reading order


def test_a_quoted_headline_ends_with_a_full_stop() -> None:
    headline = Scored(Candidate(0, -1, "Trump et Poutine se rencontrent en Alaska", "fr"), 0.9)
    text, cited = render([headline, scored(0, 0, 0.8)], "fr")
    assert text.startswith("Trump et Poutine se rencontrent en Alaska. [1] Phrase 0.0. [1]") and cited == {1}
    asked = Scored(Candidate(0, -1, "Trump et Poutine : « pas d'accord »", "fr"), 0.9)
    assert render([asked], "fr")[0] == "Trump et Poutine : « pas d'accord » [1]"


def test_no_sentence_likely_enough_is_a_refusal() -> None:
    assert choose([scored(0, 0, 0.2), scored(1, 0, 0.1)], PASSAGES, LIMITS, limit=3) == []
    assert choose([], PASSAGES, LIMITS, limit=3) == []


def test_a_single_confident_sentence_stays_alone() -> None:
    chosen = choose([scored(0, 0, 0.95), scored(1, 0, 0.4), scored(2, 0, 0.2)], PASSAGES, LIMITS, limit=3)
    assert len(chosen) == 1


def test_render_cites_and_names_the_quoted_language_when_it_differs() -> None:
    text, cited = render([scored(1, 0, 0.9, "fr")], "en")
    assert text.startswith("Phrase 1.0. [2]") and cited == {2}
    assert "French" in text
    text, _ = render([scored(1, 0, 0.9, "fr")], "fr")
    assert "français" not in text


def test_refusal_says_what_the_coverage_mentions_and_lacks() -> None:
    words = [("habitants", "habit"), ("Minneapolis", "minneapol")]
    text = refusal("fr", words, PASSAGES, {"minneapol"}, related=True)
    assert text.startswith("La couverture indexée ne répond pas")
    assert "« Minneapolis »" in text and "« habitants »" in text
    nearest = refusal("en", words, PASSAGES, {"minneapol", "habit"}, related=True)
    assert '"Sommet"' in nearest
    assert refusal("en", words, PASSAGES, set(), related=False).startswith("The indexed coverage does not answer")


def test_the_nearest_passages_show_their_publication_date_not_the_day_they_were_seen() -> None:
    words = [("habitants", "habit")]
    dated = [Passage("a#0", "a", "Sommet", "…", 1.0, date="2025-08-15", date_kind="published"),
             Passage("b#0", "b", "Rome", "…", 0.9, date="2026-11-26", date_kind="seen")]
    text = refusal("fr", words, dated, {"habit"}, related=True)
    assert "« Sommet (15 août 2025) »" in text and "« Rome »" in text and "2026" not in text
    assert '"Sommet (15 August 2025)"' in refusal("en", words, dated, {"habit"}, related=True)

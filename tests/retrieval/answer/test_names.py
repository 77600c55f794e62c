from __future__ import annotations

import pytest

from retrieval.answer.names import absent_names, is_ordinal, mentioned, names, words_of


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Pope Leo XIV say about the Alaska summit?", ["Pope", "Leo", "Alaska"]),
        ("Qu'a déclaré Xi Jinping à propos du plan de paix américain ?", ["Jinping"]),
        ("Que contient le 20e paquet de sanctions de l'UE contre la Russie ?", ["20e", "Russie"]),
        ("What did Japan's prime minister say about the EU's 19th package?", ["Japan", "19th"]),
        ("Quand sortira le prochain iPhone ?", ["iPhone"]),  # capitalised inside
        # question words, titles, months, demonyms and abbreviations are not names
        ("How long did the Russian drone stay in Romanian airspace on September 13?", []),
        ("Quand le Président a-t-il parlé à l'OTAN en Août ?", []),
        ("Où s'est tenu le sommet ?", []),
    ],
)
def test_the_names_a_question_is_about(question: str, expected: list[str]) -> None:
    assert names(question) == expected


def test_names_match_across_spellings_and_languages_but_not_lookalikes() -> None:
    words = words_of(["Frappes sur Kiev et Zaporijjia ; le Japon et la Roumanie inquiets. Le 19e paquet."])
    for name in ("Kyiv", "Zaporizhzhia", "Japan", "Roumanie", "19th", "19e"):
        assert mentioned(name, words), name
    for name in ("Eurovision", "Haaland", "20e", "Jinping"):
        assert not mentioned(name, words), name
    words = words_of(["L'Inde, la Pologne et Bruxelles ; l'AIEA à Tchernobyl."])
    for name in ("India", "Poland", "Brussels", "Chernobyl"):
        assert mentioned(name, words), name
    for name in ("Indonesia", "Portugal", "Chernihiv"):
        assert not mentioned(name, words), name
    assert is_ordinal("20e") and is_ordinal("19th") and not is_ordinal("2025")


def test_absent_names_are_those_no_passage_mentions() -> None:
    texts = ["Le sommet d'Alaska a duré trois heures.", "Trump et Poutine à Anchorage."]
    assert absent_names("What did Pope Leo say about the Alaska summit?", texts) == ["Pope", "Leo"]
    assert absent_names("Combien de temps a duré le sommet d'Alaska ?", texts) == []


def test_a_hyphenated_name_is_mentioned_when_each_part_is() -> None:
    texts = ["La Russie et l'Ukraine échangent 146 prisonniers."]
    assert absent_names("What is the latest Russia-Ukraine prisoner exchange?", texts) == []
    assert absent_names("What is the latest Russia-Belarus prisoner exchange?", texts) == ["Russia-Belarus"]


def test_naming_finds_the_first_candidate_that_names_what_the_chosen_texts_do_not() -> None:
    from retrieval.answer.names import naming

    chosen = ["Le 18e paquet de sanctions vise 105 pétroliers."]
    candidates = ["Le Kremlin dénonce les sanctions.", "Le 19e paquet ajoute 117 navires.", "Le 19e paquet, encore."]
    for question, expected in (
        ("Qu'a changé entre le 18e et le 19e paquet ?", 1),
        ("Que contient le 18e paquet ?", None),  # nothing missing
        ("Que contient le 20e paquet ?", None),  # nobody names it
    ):
        assert naming(absent_names(question, chosen), candidates) == expected, question

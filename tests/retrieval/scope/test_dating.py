"""Dates placed in answers and shown for sources."""

from __future__ import annotations

import datetime as dt

from retrieval.scope.dating import date_answer, date_label, place_relative_words, source_date_label
from retrieval.types import Passage, Source


def passage(article: str, date: str | None) -> Passage:
    return Passage(chunk_id=f"{article}:0", article_id=article, title=article, text="…", score=1.0, date=date)


def test_date_labels() -> None:
    assert date_label("2025-08-15") == "15 août 2025"
    assert date_label("2025-08-15", language="en") == "15 August 2025"
    assert date_label(None) == "date inconnue"
    assert date_label(None, language="en") == "date unknown"
    assert date_label("2026-01-10", "seen", "en") == "seen on 10 January 2026"
    source = Source(n=1, article_id="a", chunk_id="a:0", title="t", date="2025-08-15", url=None, text="", score=1,
                    cited=True)
    assert source_date_label(source, "fr") == "15 août 2025"


def test_relative_words_are_placed_from_the_article_date() -> None:
    saturday = dt.date(2025, 8, 16)
    assert place_relative_words("Le sommet s'est tenu vendredi en Alaska.", saturday, "fr") == (
        "Le sommet s'est tenu vendredi (15 août 2025) en Alaska."
    )
    assert "yesterday (15 August 2025)" in place_relative_words("They met yesterday.", saturday, "en")
    assert "last month (July 2025)" in place_relative_words("Prices fell last month.", saturday, "en")
    # parts of a day: the article's day, or the one before
    assert "This morning (16 August 2025)" in place_relative_words("This morning, jets flew over.", saturday, "en")
    assert place_relative_words("Il a parlé hier soir et ce matin.", saturday, "fr") == (
        "Il a parlé hier soir (15 août 2025) et ce matin (16 août 2025)."
    )
    assert "last night (15 August 2025)" in place_relative_words("Drones struck last night.", saturday, "en")
    # an explicit date already says it
    assert place_relative_words("Ils se verront lundi 18 août.", saturday, "fr") == "Ils se verront lundi 18 août."


def test_an_answer_mixing_articles_dates_each_sentence_and_leads_with_the_newest() -> None:
    passages = [passage("estimate", "2025-08-14"), passage("outcome", "2025-08-16"), passage("undated", None)]
    answer = "Le sommet devait durer six à sept heures. [1] Il a duré trois heures vendredi. [2] Autre chose. [3]"
    dated = date_answer(answer, passages, language="fr", newest_first=True)
    assert dated.startswith("(16 août 2025) Il a duré trois heures vendredi (15 août 2025). [2]")
    assert "(14 août 2025) Le sommet devait durer six à sept heures. [1]" in dated
    assert dated.endswith("(date inconnue) Autre chose. [3]")


def test_a_word_meaning_the_day_its_label_shows_is_not_dated_twice() -> None:
    passages = [passage("saturday", "2025-09-27"), passage("tuesday", "2025-09-30")]
    answer = "L'Ukraine a accusé samedi la Russie. [1] Zelensky a parlé mardi et hier. [2]"
    dated = date_answer(answer, passages, language="fr", newest_first=True)
    assert dated == (
        "(30 septembre 2025) Zelensky a parlé mardi et hier (29 septembre 2025). [2] "
        "(27 septembre 2025) L'Ukraine a accusé samedi la Russie. [1]"
    )


def test_one_article_answers_keep_their_order_and_get_no_prefix() -> None:
    passages = [passage("a", "2025-08-16")]
    answer = "Premier. [1] Second hier. [1]"
    assert date_answer(answer, passages, language="fr", newest_first=True) == "Premier. [1] Second hier (15 août 2025). [1]"

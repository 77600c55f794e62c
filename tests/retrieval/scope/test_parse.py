"""Reading a question's scope, in French and English, with a fixed reference day."""

from __future__ import annotations

import datetime as dt

import pytest

from retrieval.scope.coverage import Coverage
from retrieval.scope.parse import merge, understand
from retrieval.types import QueryScope

REF = dt.date(2025, 9, 10)  # a Wednesday


@pytest.fixture(scope="module")
def coverage() -> Coverage:
    rows = [
        ("a", "Sommet Trump-Poutine en Alaska : ce qu'il faut retenir", "2025-08-15", "Le Monde", "https://www.lemonde.fr/a"),
        ("b", "Le sommet d'Alaska s'achève sans accord", "2025-08-16", "Le Monde", "https://www.lemonde.fr/b"),
        ("c", "Sommet en Alaska : Zelensky réagit", "2025-08-16", "bbc.co.uk", "https://feeds.bbci.co.uk/c"),
        ("d", "Pétrole : les revenus russes reculent", "2025-09-01", "Exemple Info", "https://exemple-info.fr/d"),
        ("e", "Russia and Ukraine swap prisoners", None, "tass.com", "https://tass.com/e"),
        ("f", "Sanctions", "2024-10-22", "time.com", "https://time.com/f"),
        ("g", "Rencontre Trump-Poutine : les enjeux", "2025-08-15", "Le Monde", "https://www.lemonde.fr/g"),
        ("h", "La rencontre entre Trump et Poutine s'ouvre", "2025-08-15", "tass.com", "https://tass.com/h"),
    ]
    return Coverage.from_metadatas(
        {"article_id": a, "title": t, "date": d, "source": s, "url": u} for a, t, d, s, u in rows
        for _ in range(2)  # two chunks each: an article counts once
    )


def scope_of(question: str, coverage: Coverage | None = None) -> QueryScope:
    return understand(question, REF, coverage).scope


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("Que s'est-il passé hier ?", "2025-09-09", "2025-09-10"),
        ("What happened yesterday?", "2025-09-09", "2025-09-10"),
        ("Quoi de neuf cette semaine ?", "2025-09-08", "2025-09-10"),
        ("What happened this week?", "2025-09-08", "2025-09-10"),
        ("Qu'a dit Zelensky la semaine dernière ?", "2025-09-01", "2025-09-07"),
        ("What happened last month?", "2025-08-01", "2025-08-31"),
        ("Que s'est-il passé le mois dernier ?", "2025-08-01", "2025-08-31"),
        ("Que s'est-il passé depuis le 18 août ?", "2025-08-18", None),
        ("What changed since August 18?", "2025-08-18", None),
        ("Qu'a dit Poutine avant le 15 août 2025 ?", None, "2025-08-14"),
        ("Que s'est-il passé entre le 1er et le 15 août ?", "2025-08-01", "2025-08-18"),
        ("What happened between August 1 and August 20, 2025?", "2025-08-01", "2025-08-23"),
        # the first month takes the second's year (or the year before), and "December" is not read as "Dec"
        ("How did the loan change between October and December 2024?", "2024-10-01", "2025-01-31"),
        ("Qu'est-ce qui a changé entre novembre et février 2025 ?", "2024-11-01", "2025-03-31"),
        ("Les articles publiés aujourd'hui", "2025-09-10", "2025-09-10"),
        ("Que s'est-il passé il y a deux semaines ?", "2025-08-27", "2025-08-28"),
        ("Qu'est-il arrivé ces 3 derniers jours ?", "2025-09-07", None),
        ("What happened in the last 10 days?", "2025-08-31", None),
    ],
)
def test_relative_and_ranged_dates(question: str, since: str | None, until: str | None) -> None:
    scope = scope_of(question)
    assert (scope.since, scope.until) == (since, until)


def test_a_span_longer_than_any_coverage_is_read_without_failing() -> None:
    century = (REF - dt.timedelta(days=100 * 365)).isoformat()
    assert scope_of("Que s'est-il passé depuis 3000 ans ?").since == century
    assert scope_of("What happened 999999 days ago?").since == century


def test_an_event_day_reaches_a_few_days_of_reports(coverage: Coverage) -> None:
    scope = scope_of("Que s'est-il passé le 15 août ?", coverage)
    assert scope.since == "2025-08-15"
    assert scope.until is not None and "2025-08-16" <= scope.until <= "2025-08-20"


def test_a_month_without_year_is_the_latest_one_the_coverage_has(coverage: Coverage) -> None:
    # asked in 2026 about 2025 coverage: « en août » is August 2025, not August 2026
    late = understand("Que s'est-il passé en août ?", dt.date(2026, 11, 25), coverage).scope
    assert late.since == "2025-08-01"
    english = understand("What happened in October?", dt.date(2026, 11, 25), coverage).scope
    assert english.since is not None and english.since.startswith("2024-10")  # the last October with articles


def test_a_month_in_the_future_is_last_years() -> None:
    assert scope_of("Qu'est-il arrivé en décembre ?").since == "2024-12-01"


def test_weekday_since(coverage: Coverage) -> None:
    understood = understand("Qu'est-ce qui a changé depuis lundi ?", REF, coverage)
    assert understood.scope.since == "2025-09-08"
    assert "lundi" not in understood.query  # the weekday would mislead the search


def test_a_year_alone_is_not_a_scope() -> None:
    assert scope_of("Que prévoit le prêt pour 2026-2027 ?").empty
    assert scope_of("Comment les revenus ont-ils évolué en 2025 ?").since == "2025-01-01"


@pytest.mark.parametrize(
    "question",
    [
        "Quelles sont les dernières nouvelles sur le sommet ?",
        "What is the latest on the summit?",
        "Quel est le plafond actuellement ?",
        "Qu'ont-ils finalement décidé ?",
        "What is the price cap now?",
        "Quelle est la situation aujourd'hui ?",
        "What is the most recent prisoner exchange?",
        "Comment a évolué le plafond du prix ?",
        "Quoi de neuf ?",
        "What's new?",
    ],
)
def test_questions_about_the_present_prefer_recent(question: str) -> None:
    assert scope_of(question).prefer_recent


@pytest.mark.parametrize("question", ["Où s'est tenu le sommet ?", "How long did the summit last?",
                                      "Que s'est-il passé le mois dernier ?"])
def test_other_questions_do_not(question: str) -> None:
    assert not scope_of(question).prefer_recent


@pytest.mark.parametrize(
    ("question", "latest"),
    [
        ("Où en sont les négociations après la rencontre ?", True),
        ("Quelle est la dernière coupure d'alimentation à la centrale ?", True),
        ("What is the most recent prisoner exchange?", True),
        ("What's the latest on the price cap?", True),
        ("Where do the talks stand?", True),
        ("Quel est le plafond actuellement ?", False),  # the present, but a fact: not "the newest on it"
        ("What did they finally decide on the loan?", False),
        ("What is the price cap today?", False),
        ("Comment a évolué le plafond du prix ?", False),
        ("Quelles sont les dernières nouvelles ?", False),  # no subject: the newest articles, listed
    ],
)
def test_asking_for_the_newest_on_a_subject(question: str, latest: bool) -> None:
    assert understand(question, REF).asks_latest is latest


def test_scope_words_are_removed_from_the_search_text(coverage: Coverage) -> None:
    assert understand("Quelles sont les dernières nouvelles ?", REF, coverage).query == ""  # no subject left
    assert understand("What is the latest news?", REF, coverage).query == ""
    assert understand("Résume les articles publiés aujourd'hui", REF, coverage).query == ""
    assert "latest" not in understand("What is the latest on the summit?", REF, coverage).query
    understood = understand("Que dit la BBC du bilan du sommet ?", REF, coverage)
    assert "BBC" not in understood.query and "bilan du sommet" in understood.query
    # a date stays: articles say « le 15 août » too
    assert "15 août" in understand("Que s'est-il passé le 15 août ?", REF, coverage).query


@pytest.mark.parametrize(
    ("question", "outlet"),
    [
        ("Selon Le Monde, combien de temps a duré le sommet ?", "Le Monde"),
        ("Que dit la BBC du sommet ?", "bbc.co.uk"),
        ("According to the BBC, who attended?", "bbc.co.uk"),
        ("Que dit TASS sur les prisonniers ?", "tass.com"),
        ("Que dit Exemple Info sur le pétrole ?", "Exemple Info"),
        ("D'après exemple-info.fr, que rapportent les revenus ?", "Exemple Info"),
        ("What does Time say about Medinsky?", "time.com"),
        ("Que dit lemonde.fr du sommet ?", "Le Monde"),
        ("selon LE MONDE", "Le Monde"),
    ],
)
def test_outlets_named_in_questions(coverage: Coverage, question: str, outlet: str) -> None:
    assert scope_of(question, coverage).sources == (outlet,)


@pytest.mark.parametrize(
    "question",
    [
        "According to the Financial Times, what did Moscow send?",  # not an outlet of the index
        "Qu'a dit le ministre Jean-Noël Barrot ?",
        "What does the summit mean for Ukraine?",
        "What does Time mean for the talks?",  # "Time" is an outlet only when it says or reports
        "What is the price per barrel?",
    ],
)
def test_no_outlet_when_none_is_named(coverage: Coverage, question: str) -> None:
    understood = understand(question, REF, coverage)
    assert understood.scope.sources == ()
    assert understood.query == question


def test_an_event_is_dated_from_the_coverage(coverage: Coverage) -> None:
    understood = understand("Qu'a dit Zelensky depuis le sommet d'Alaska ?", REF, coverage)
    assert [e.day for e in understood.events] == [dt.date(2025, 8, 16)]
    assert understood.scope.since == "2025-08-16"
    before = understand("Avant le sommet en Alaska, que disait Trump ?", REF, coverage).scope
    assert before.until == "2025-08-15"


def test_an_event_the_coverage_cannot_date_is_ignored(coverage: Coverage) -> None:
    understood = understand("What did Zelensky say since the Budapest summit?", REF, coverage)
    assert understood.events == [] and understood.scope.empty


def test_explicit_scope_wins() -> None:
    parsed = QueryScope(since="2025-08-01", until="2025-08-31", sources=("Le Monde",), prefer_recent=True)
    explicit = QueryScope(since="2025-08-10", sources=("tass.com",))
    assert merge(explicit, parsed) == QueryScope("2025-08-10", "2025-08-31", ("tass.com",), True)
    assert merge(None, parsed) == parsed


def test_an_event_phrase_keeps_its_list_of_names(coverage: Coverage) -> None:
    # « la rencontre entre Poutine, Witkoff et Kushner » is not « la rencontre entre Poutine » (the Alaska summit)
    understood = understand("Où en sont les négociations après la rencontre entre Poutine, Witkoff et Kushner ?",
                            REF, coverage)
    assert understood.events == [] and understood.scope.since is None

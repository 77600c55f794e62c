"""The scope applied to retrieved passages, and the recency prior."""

from __future__ import annotations

from retrieval.index.scope import ScopeFilter, day_number, outlet_key, url_host
from retrieval.scope.outlets import OutletDirectory, index_scope
from retrieval.scope.recency import apply_scope, recency_factors, undated_weight
from retrieval.types import Passage, QueryScope


def passage(article: str, score: float, date: str | None = None, source: str | None = None,
            url: str | None = None) -> Passage:
    return Passage(chunk_id=f"{article}:0", article_id=article, title=article, text="…", score=score,
                   date=date, source=source, url=url)


def admits(scope: QueryScope, date: str | None, source: str | None = None, url: str | None = None,
           *, seen: bool = False) -> bool:
    """What the index's filter (one implementation, on chunk metadata) keeps of an article."""
    return ScopeFilter.of(scope).admits(day_number(date), outlet_key(source), url_host(url), seen=seen)


def test_dates_in_range() -> None:
    scope = QueryScope(since="2025-08-15", until="2025-08-20")
    assert admits(scope, "2025-08-15")
    assert admits(scope, "2025-08-20T10:00:00")
    assert not admits(scope, "2025-08-21")
    assert not admits(scope, "2025-08-14")
    assert admits(QueryScope(), None)


def test_an_undated_article_is_filtered_on_the_day_it_was_first_seen() -> None:
    # the index gives an undated article the day newsbot first saw it: it was published then or
    # before, so only a range starting after that day excludes it
    assert admits(QueryScope(since="2025-08-15", until="2025-08-20"), "2026-01-10", seen=True)
    assert admits(QueryScope(until="2025-08-20"), "2026-01-10", seen=True)
    assert admits(QueryScope(since="2026-01-01"), "2026-01-10", seen=True)
    assert not admits(QueryScope(since="2026-02-01"), "2026-01-10", seen=True)
    # a published date is the article's own: the range applies to it exactly
    assert not admits(QueryScope(since="2025-08-15", until="2025-08-20"), "2026-01-10")


def test_outlets_matched_on_source_and_host() -> None:
    scope = QueryScope(sources=("Le Monde",))
    assert admits(scope, None, source="le  MONDE")
    assert admits(QueryScope(sources=("lemonde.fr",)), None, url="https://www.lemonde.fr/x")
    assert not admits(scope, None, source="bbc.co.uk", url="https://feeds.bbci.co.uk/x")


def test_an_outlet_is_given_to_the_index_by_every_name_it_goes_by() -> None:
    directory = OutletDirectory()
    directory.add("BBC News", "https://www.bbc.co.uk/a")
    directory.add(None, "https://bbc.co.uk/b")  # no source: joins the outlet of its host
    directory.add("Le Monde", "https://www.lemonde.fr/c")
    limits = index_scope(QueryScope(sources=tuple(directory.find("la BBC"))), directory)
    assert set(limits.sources) == {"BBC News", "bbc.co.uk"}
    assert admits(limits, None, url="https://bbc.co.uk/b")
    assert not admits(limits, None, source="Le Monde", url="https://www.lemonde.fr/c")


def test_the_newest_relevant_passage_wins() -> None:
    estimate = passage("estimate", 1.0, "2025-08-14")
    outcome = passage("outcome", 0.8, "2025-08-16")
    old = passage("old", 0.9, "2025-03-01")
    ranked = apply_scope([estimate, old, outcome], QueryScope(prefer_recent=True), k=3, half_life_days=3)
    assert [p.article_id for p in ranked][0] == "outcome"
    assert ranked[-1].article_id == "old"


def test_decay_is_relative_to_the_newest_relevant_article_not_today() -> None:
    # a corpus whose newest article is a year old still tells new from old
    factors = recency_factors([passage("a", 1.0, "2024-06-01"), passage("b", 1.0, "2024-03-01")], 30)
    assert factors[0] == 1.0 and factors[1] < 0.5


def test_an_irrelevant_new_article_does_not_set_the_clock() -> None:
    factors = recency_factors([passage("a", 1.0, "2025-08-01"), passage("noise", 0.1, "2025-12-01")], 30)
    assert factors[0] == 1.0


def test_a_much_more_relevant_old_passage_stays_above_a_barely_relevant_new_one() -> None:
    ranked = apply_scope([passage("old", 1.0, "2025-01-01"), passage("new", 0.3, "2025-08-01")],
                         QueryScope(prefer_recent=True), k=2, half_life_days=30)
    assert ranked[0].article_id == "old"


def test_undated_passages_get_a_neutral_factor() -> None:
    factors = recency_factors(
        [passage("new", 1.0, "2025-08-30"), passage("mid", 1.0, "2025-08-01"), passage("old", 1.0, "2025-06-01"),
         passage("undated", 1.0)], 30)
    assert factors[0] == 1.0
    assert factors[2] < factors[3] < factors[0]
    assert factors[3] > factors[1]  # the mean, pulled up by the newest: unknown is not old


def test_no_recency_without_prefer_recent() -> None:
    ps = [passage("a", 1.0, "2025-01-01"), passage("b", 0.9, "2025-08-01")]
    assert [p.article_id for p in apply_scope(ps, QueryScope(since="2024-01-01"), k=2, half_life_days=30)] == ["a", "b"]


def test_a_longer_half_life_weighs_recency_less() -> None:
    ps = [passage("estimate", 1.0, "2025-08-14"), passage("outcome", 0.8, "2025-08-16")]
    short = apply_scope(ps, QueryScope(prefer_recent=True), k=2, half_life_days=3)
    long = apply_scope(ps, QueryScope(prefer_recent=True), k=2, half_life_days=365)
    assert short[0].article_id == "outcome" and long[0].article_id == "estimate"


def test_with_a_date_range_a_dated_passage_in_it_leads_an_undated_one() -> None:
    ps = [passage("undated", 1.0), passage("dated", 0.7, "2025-10-22")]
    ranked = apply_scope(ps, QueryScope(since="2025-10-22", until="2025-10-25"), k=2, half_life_days=3)
    assert [p.article_id for p in ranked] == ["dated", "undated"]
    # a wide or open range says little about an undated article
    wide = apply_scope(ps, QueryScope(since="2025-01-01", until="2025-12-31"), k=2, half_life_days=3)
    assert [p.article_id for p in wide] == ["undated", "dated"]
    assert undated_weight(QueryScope(since="2025-10-22")) == 1.0


def test_no_relevant_dated_passage_no_reranking() -> None:
    ps = [passage("undated", 1.0), passage("other", 0.9), passage("irrelevant-new", 0.3, "2026-01-15"),
          passage("irrelevant-old", 0.3, "2025-01-15")]
    assert recency_factors(ps, 3) == [1.0] * 4


def test_the_newest_article_on_a_subject() -> None:
    from dataclasses import replace

    from retrieval.scope.roundup import newest_on_subject

    lead = "Moscou et Kyiv ont échangé 146 prisonniers dimanche. D'autres échanges suivront."
    passages = [
        passage("older", 0.9, "2025-08-10"),
        replace(passage("newer", 0.7, "2025-08-24"), title="Nouvel échange de prisonniers", text=lead),
        passage("newest-but-off-subject", 0.3, "2025-09-01"),  # under RELEVANT of the best
        passage("undated", 0.8),
    ]
    text, cited = newest_on_subject(passages, "fr") or ("", set())
    assert cited == {2}
    assert text.splitlines()[1] == (
        "(24 août 2025) Nouvel échange de prisonniers : Moscou et Kyiv ont échangé 146 prisonniers dimanche. [2]")
    later = [replace(passages[1], position=3)]  # not the article's first passage: its title alone
    assert newest_on_subject(later, "en") == (
        "No sentence of the coverage answers this exactly; the newest article on the subject:\n"
        "(24 August 2025) Nouvel échange de prisonniers [1]", {1})
    assert newest_on_subject([passages[3]], "fr") is None  # nothing dated: nothing to call the newest
    assert newest_on_subject([], "fr") is None


def test_with_the_question_the_last_place_goes_to_a_pool_passage_naming_what_the_others_do_not() -> None:
    from dataclasses import replace

    pool = [replace(passage(f"p{i}", 1.0 - i / 10, "2025-10-23"), text="Le 18e paquet de sanctions.") for i in range(4)]
    pool.append(replace(passage("p19", 0.2, "2025-10-23"), text="Le 19e paquet de sanctions est adopté."))
    scope = QueryScope(prefer_recent=True)
    question = "Qu'est-ce qui a changé entre le 18e et le 19e paquet ?"
    chosen = apply_scope(pool, scope, k=3, half_life_days=3, query=question)
    assert [p.article_id for p in chosen] == ["p0", "p1", "p19"]
    assert [p.article_id for p in apply_scope(pool, scope, k=3, half_life_days=3)] == ["p0", "p1", "p2"]

"""A question's scope (dates, outlets) filters candidates in both dense and lexical search."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from retrieval.index.scope import ScopeFilter, day_number, outlet_key, url_host
from retrieval.types import QueryScope


def test_keys_fold_case_accents_and_www() -> None:
    assert outlet_key("Le Monde") == outlet_key("le  MONDE") == "le monde"
    assert outlet_key("Libération") == "liberation"
    assert outlet_key("www.LeMonde.fr") == outlet_key("https://www.lemonde.fr/") == "lemonde.fr"
    assert url_host("https://www.LeMonde.fr/international/x.html") == "lemonde.fr"
    assert url_host(None) is None and outlet_key("") is None
    assert day_number("2025-08-15") == 20250815 and day_number("2025-08-15T10:00:00+02:00") == 20250815
    assert day_number("hier") is None and day_number(None) is None


def test_filter_to_chroma_and_sql() -> None:
    assert ScopeFilter.of(QueryScope()).chroma_where() is None
    limits = ScopeFilter.of(QueryScope(since="2025-08-01", sources=("Www.Exemple.org",)))
    assert limits.chroma_where() == {"$and": [
        {"day": {"$gte": 20250801}},
        {"$or": [{"outlet": {"$in": ["exemple.org"]}}, {"host": {"$in": ["exemple.org"]}}]},
    ]}
    condition, params = limits.sql()
    assert condition == "c.seen IN (0, 1) AND c.day >= ? AND (c.outlet IN (?) OR c.host IN (?))"
    assert params == [20250801, "exemple.org", "exemple.org"]
    condition, params = ScopeFilter.of(QueryScope(since="2025-08-01", until="2025-08-31")).sql()
    assert condition == "((c.seen = 0 AND c.day BETWEEN ? AND ?) OR (c.seen = 1 AND c.day >= ?))"  # an undated
    assert params == [20250801, 20250831, 20250801]  # article's day is when it was seen: published then or before
    condition, params = ScopeFilter.of(QueryScope(until="2025-08-31")).sql()
    assert condition == "((c.seen = 0 AND c.day <= ?) OR c.seen = 1)" and params == [20250831]


@pytest.fixture
def service(settings_factory, small_embeddings):
    from retrieval.service import open_service

    svc = open_service(settings_factory(), create=True, embeddings=small_embeddings)
    svc.reindex()
    return svc


def article_ids(service, query: str, scope: QueryScope) -> set[str]:
    passages, _ = service.retriever.passages(query, scope=scope)
    return {p.article_id for p in passages}


@pytest.mark.slow
@pytest.mark.parametrize("hybrid", [True, False], ids=["hybrid", "dense"])
def test_scope_filters_candidates(settings_factory, small_embeddings, hybrid: bool) -> None:
    from retrieval.service import open_service

    svc = open_service(settings_factory(hybrid=hybrid), create=True, embeddings=small_embeddings)
    svc.reindex()
    query = "pétrole russe"
    assert article_ids(svc, query, QueryScope()) >= {"2025/08/sanctions", "2025/08/petrole"}
    assert article_ids(svc, query, QueryScope(since="2025-08-01", until="2025-08-31")) <= {
        "2025/08/petrole", "alaska-summit"}  # alaska-summit: undated, seen today
    # alaska-summit is undated (seen today: published today or before), so no `until` excludes it
    assert article_ids(svc, query, QueryScope(until="2025-07-31")) - {"alaska-summit"} == {"2025/08/sanctions"}
    assert article_ids(svc, query, QueryScope(since="2025-08-01", until="2025-08-10")) - {"alaska-summit"} == {
        "2025/08/petrole"}
    assert article_ids(svc, query, QueryScope(sources=("exemple info",))) == {"2025/08/sanctions"}
    assert article_ids(svc, query, QueryScope(sources=("https://www.Example.org",))) == {"2025/08/sanctions"}
    assert article_ids(svc, query, QueryScope(sources=("Le Monde",))) == set()
    from retrieval.errors import InvalidQuestion

    with pytest.raises(InvalidQuestion, match="no outlet of the index matches 'Le Monde'"):  # a typo, said so
        svc.ask("Quel est le nouveau plafond du prix du pétrole russe ?", scope=QueryScope(sources=("Le Monde",)))


@pytest.mark.slow
def test_an_undated_article_gets_the_day_it_was_first_seen(service, corpus: Path) -> None:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    entry = service.store.manifest()["alaska-summit"]
    assert entry.seen == today and entry.date is None  # the manifest never invents a published date
    passages, _ = service.retriever.passages("Poutine Trump Alaska")
    alaska = next(p for p in passages if p.article_id == "alaska-summit")
    assert (alaska.date, alaska.date_kind) == (today, "seen")
    dated = next(p for p in service.retriever.passages("plafond du pétrole")[0] if p.article_id == "2025/08/sanctions")
    assert (dated.date, dated.date_kind) == ("2025-07-18", "published")
    # a new version keeps the first-seen day (simulated: the record says it was seen long ago)
    service.store.records.update(ids=["alaska-summit"], metadatas=[{"seen": "2024-01-02"}])
    path = corpus / "alaska-summit.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    assert service.reindex().updated == ["alaska-summit"]
    assert service.store.manifest()["alaska-summit"].seen == "2024-01-02"
    passages, _ = service.retriever.passages("Poutine Trump Alaska", scope=QueryScope(until="2024-01-02"))
    assert {p.article_id for p in passages} == {"alaska-summit"}
    assert all(p.date == "2024-01-02" and p.date_kind == "seen" for p in passages)

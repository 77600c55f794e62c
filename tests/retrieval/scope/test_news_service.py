"""Dates, "latest" and outlets through the real service: small packaged model, embedded Chroma, and a
small dated corpus — three articles on one summit on different days with a changed fact (an estimate
of its length, then the outcome), two outlets, an undated article."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.service import open_service
from retrieval.types import QueryScope
from tests.conftest import write_article

pytestmark = pytest.mark.slow

COURIER = "https://dailycourier.example.com"
EXEMPLE = "https://www.exemple-info.fr"


def dated_corpus(root: Path) -> None:
    write_article(
        root, "preview", "Anchorage summit: the Kremlin expects long talks",
        "The Kremlin said the Anchorage summit between the two presidents would last at least six to seven hours. "
        "Delegations are expected to discuss a ceasefire in Ukraine.",
        date="2025-08-14", source="Exemple Info", url=f"{EXEMPLE}/preview",
    )
    write_article(
        root, "summit-day", "Presidents meet in Anchorage for the summit",
        "The two presidents met at a military base in Anchorage for the summit. "
        "Crowds of protesters gathered outside the base during the talks.",
        date="2025-08-15", source="Daily Courier", url=f"{COURIER}/summit-day",
    )
    write_article(
        root, "outcome", "Anchorage summit ends without a deal",
        "The Anchorage summit lasted about three hours on Friday and ended without a ceasefire deal. "
        "Both presidents called the talks productive.",
        date="2025-08-16", source="Exemple Info", url=f"{EXEMPLE}/outcome",
    )
    write_article(
        root, "oil", "Oil exports rise again",
        "Oil exports from the region rose by ten percent in August, traders said on Monday.",
        date="2025-08-20", source="Daily Courier", url=f"{COURIER}/oil",
    )
    write_article(
        root, "undated", "Ceasefire talks: what the summit means",
        "Analysts said the summit opened a path to further ceasefire talks between the parties.",
        url=f"{COURIER}/undated",
    )


@pytest.fixture
def service(tmp_path: Path, settings_factory, small_embeddings):
    root = tmp_path / "dated"
    dated_corpus(root)
    settings = settings_factory(corpus_dir=root, reference_date="2025-08-17", recency_half_life_days=3)
    svc = open_service(settings, create=True, embeddings=small_embeddings)
    svc.reindex()
    return svc


def cited_ids(answer) -> list[str]:
    return [s.article_id for s in answer.cited_sources]


def test_the_outlets_of_the_index(service) -> None:
    assert service.outlets() == ["Daily Courier", "Exemple Info"]


@pytest.mark.xfail(
    reason="with the learned answer model and the small English test model, the estimate's sentence "
    "outscores the outcome's (the outcome article is under the recency prior's relevance gate); "
    "issue 13 stays open on this",
    strict=False,
)
def test_the_latest_leads_with_the_outcome_and_dates_it(service) -> None:
    answer = service.ask("How long did the Anchorage summit finally last?")
    assert not answer.refused
    assert answer.answer.startswith("(16 August 2025)")
    assert "three hours on Friday (15 August 2025)" in answer.answer
    assert "outcome" in cited_ids(answer)
    if "six to seven hours" in answer.answer:  # the estimate may follow, dated and after the outcome
        assert answer.answer.index("three hours") < answer.answer.index("six to seven hours")
        assert "(14 August 2025)" in answer.answer


def test_without_a_recency_word_the_ranking_is_by_relevance(service) -> None:
    plain = service.ask("How long did the Anchorage summit last?")
    assert not plain.refused and {s.article_id for s in plain.sources} >= {"preview", "outcome"}


def test_an_outlet_named_in_the_question_restricts_the_sources(service) -> None:
    answer = service.ask("According to the Daily Courier, what happened at the summit?")
    assert answer.sources and {s.url.split("/")[2] for s in answer.sources} == {"dailycourier.example.com"}
    french = service.ask("Que dit Exemple Info sur le sommet ?")
    assert french.sources and {s.article_id for s in french.sources} <= {"preview", "outcome"}


def test_an_explicit_outlet_wins_and_is_matched_tolerantly(service) -> None:
    answer = service.ask("According to the Daily Courier, what happened at the summit?",
                         scope=QueryScope(sources=("exemple-info.fr",)))
    assert answer.sources and {s.article_id for s in answer.sources} <= {"preview", "outcome"}


def test_an_explicit_outlet_the_index_does_not_have_is_a_clear_error(service) -> None:
    from retrieval.errors import InvalidQuestion

    with pytest.raises(InvalidQuestion, match=r"no outlet of the index matches 'Le Figaro' \(\d+ outlets: .*Exemple"):
        service.ask("What happened at the summit?", scope=QueryScope(sources=("Le Figaro",)))


def test_a_date_range_from_the_question(service) -> None:
    answer = service.ask("What happened at the summit yesterday?")  # reference day 17 August
    assert answer.sources and {s.article_id for s in answer.sources} <= {"outcome", "undated"}
    explicit = service.ask("What did the Kremlin expect from the summit?",
                           scope=QueryScope(until="2025-08-14"))
    assert explicit.sources and {s.article_id for s in explicit.sources} <= {"preview", "undated"}


def test_latest_news_without_a_subject_lists_the_newest_articles(service) -> None:
    answer = service.ask("What is the latest news?")
    assert not answer.refused
    assert [s.article_id for s in answer.sources][:4] == ["oil", "outcome", "summit-day", "preview"]
    assert answer.answer.startswith("(20 August 2025) Oil exports rise again:")


def test_an_event_dated_from_the_coverage(service) -> None:
    answer = service.ask("What happened since the Anchorage summit?")
    assert answer.notice and "Anchorage summit" in answer.notice and "August 2025" in answer.notice
    assert "preview" not in {s.article_id for s in answer.sources}


def test_with_an_llm_the_scope_decides_its_passages_and_the_prompt_dates_them(
    tmp_path: Path, settings_factory, small_embeddings
) -> None:
    from tests.support.llm_server import FakeLLMServer, Reply

    root = tmp_path / "dated"
    dated_corpus(root)
    with FakeLLMServer() as server:
        server.script(Reply.text("The summit lasted about three hours, Exemple Info reported on 16 August 2025 [1]."))
        settings = settings_factory(corpus_dir=root, reference_date="2025-08-17", llm_base_url=server.url,
                                    llm_model="fake-model")
        svc = open_service(settings, create=True, embeddings=small_embeddings)
        svc.reindex()
        answer = svc.ask("According to Exemple Info, how long did the summit finally last?")
        assert "three hours" in answer.answer
        assert {s.article_id for s in answer.sources} == {"preview", "outcome"}
        messages = server.messages(-1)
        system, user = messages[0]["content"], messages[-1]["content"]
    assert "Today is 2025-08-17" in system and "Today: 2025-08-17" in user
    assert 'date="2025-08-16" source="Exemple Info"' in user
    assert "Daily Courier" not in user and "dailycourier" not in user  # the outlet filter decides the passages


SCOPES = [
    QueryScope(since="2025-08-15"),
    QueryScope(until="2025-08-15"),
    QueryScope(since="2025-08-15", until="2025-08-16"),
    QueryScope(sources=("Exemple Info",)),
    QueryScope(since="2025-08-15", sources=("exemple-info.fr",)),
    QueryScope(since="2030-01-01"),
]


@pytest.mark.parametrize("scope", SCOPES)
def test_a_scoped_dense_search_finds_what_chromas_filter_finds(service, scope: QueryScope, monkeypatch) -> None:
    from retrieval.index import store as store_module
    from retrieval.index.scope import ScopeFilter

    store = service.store
    vector = store.embeddings.embed_query("How long did the Anchorage summit last?")
    limits = ScopeFilter.of(scope)
    by_chroma = [hit for hit, _ in store._nearest(vector, 3, limits.chroma_where())]
    assert store.dense_search(vector, 3, scope=limits) == by_chroma  # the unfiltered nearest, kept in scope
    assert store.dense_search(vector, 3, scope=limits, size=10) == by_chroma  # a small index: not the widest width
    monkeypatch.setattr(store_module, "WIDER", (1,))  # too few in scope among the nearest k: Chroma's filter decides
    assert store.dense_search(vector, 3, scope=limits) == by_chroma


@pytest.mark.parametrize("scope", SCOPES)
def test_a_scope_admitting_few_chunks_is_searched_among_them(service, scope: QueryScope) -> None:
    from retrieval.index.scope import ScopeFilter

    store = service.store
    limits = ScopeFilter.of(scope)
    among = store.lexicon.admitted(limits, 1000)
    admitted_by_chroma = store.vectors.get(where=limits.chroma_where(), include=[])["ids"]
    assert among is not None and sorted(among) == sorted(admitted_by_chroma)
    if among:
        assert store.lexicon.admitted(limits, len(among) - 1) is None  # more than the limit: not listed
    vector = store.embeddings.embed_query("How long did the Anchorage summit last?")
    by_chroma = [hit for hit, _ in store._nearest(vector, 3, limits.chroma_where())]
    found = store.dense_search(vector, 3, scope=limits, among=among)
    assert [hit[0] for hit in found] == [hit[0] for hit in by_chroma]
    assert [hit[1] for hit in found] == pytest.approx([hit[1] for hit in by_chroma], abs=1e-4)
    assert [hit[2:] for hit in found] == [hit[2:] for hit in by_chroma]


def test_a_scope_admitting_nothing_searches_nothing(service, monkeypatch) -> None:
    store = service.store
    monkeypatch.setattr(store.embeddings, "embed_query", lambda text: pytest.fail("a search with nothing in scope"))
    passages, _ = service.retriever.passages("the summit", scope=QueryScope(since="2030-01-01"))
    assert passages == []
    answer = service.ask("What happened at the summit?", scope=QueryScope(since="2030-01-01"))
    assert answer.refused and not answer.sources


def test_few_chunks_in_scope_give_the_passages_chromas_filter_gives(service, monkeypatch) -> None:
    from retrieval.search import hybrid

    scope = QueryScope(since="2025-08-15", until="2025-08-16")
    among, _ = service.retriever.passages("How long did the summit last?", scope=scope, k=4)
    monkeypatch.setattr(hybrid, "FEW_IN_SCOPE", 0)  # no scope is "few": the unfiltered widths, then Chroma's filter
    filtered, _ = service.retriever.passages("How long did the summit last?", scope=scope, k=4)
    assert [p.chunk_id for p in among] == [p.chunk_id for p in filtered]
    assert [p.score for p in among] == pytest.approx([p.score for p in filtered], abs=1e-4)


def test_among_a_scopes_few_chunks_every_token_is_matched(service, monkeypatch) -> None:
    scope = QueryScope(since="2025-08-15", until="2025-08-16")
    before, _ = service.retriever.passages("How long did the summit last?", scope=scope, k=4)
    matched: list[list[str]] = []
    search = service.store.lexicon.search
    monkeypatch.setattr(service.store.lexicon, "search", lambda tokens, *a, **k: matched.append(list(tokens))
                        or search(tokens, *a, **k))
    after, _ = service.retriever.passages("How long did the summit last?", scope=scope, k=4)
    assert len(matched[0]) > 2  # all of the question's tokens, not the rarest two
    assert [p.chunk_id for p in after] == [p.chunk_id for p in before]


def test_the_newest_on_a_subject_when_no_sentence_answers(service, monkeypatch) -> None:
    from dataclasses import replace

    answer_with = service.answerer.answer
    unsure = lambda *a, **k: replace(answer_with(*a, **k), text="refused", cited=set(), refused=True,  # noqa: E731
                                     on_subject=True)
    monkeypatch.setattr(service.answerer, "answer", unsure)  # no sentence likely enough, over passages on it
    answer = service.ask("What is the latest on the Anchorage summit?")
    assert not answer.refused and answer.answer.startswith("No sentence of the coverage answers this exactly")
    assert "(16 August 2025) Anchorage summit ends without a deal" in answer.answer
    assert [s.article_id for s in answer.cited_sources] == ["outcome"]
    assert service.ask("How long did the Anchorage summit last?").refused  # a fact asked: the refusal stands


def test_the_newest_article_is_no_answer_to_a_subject_the_coverage_lacks(service) -> None:
    answer = service.ask("What is the latest on the weather in Anchorage?")  # the summit's articles lack "weather"
    assert answer.refused and "No sentence of the coverage" not in answer.answer


@pytest.mark.parametrize("scope", [QueryScope(), *SCOPES])
def test_the_newest_articles_are_those_of_the_manifest_newest_first(service, scope: QueryScope) -> None:
    from retrieval.index.scope import ScopeFilter, day_number, outlet_key, url_host
    from retrieval.scope.roundup import newest_passages

    limits = ScopeFilter.of(scope)
    entries = [e for e in service.store.manifest().values()
               if limits.admits(day_number(e.date or e.seen), outlet_key(e.source), url_host(e.url), seen=not e.date)]
    entries.sort(key=lambda e: (0 if e.date else 1, -(day_number(e.date or e.seen) or 0), e.article_id))
    expected = [e.article_id for e in entries[:3]]
    assert [p.article_id for p in newest_passages(service.store, scope, 3)] == expected


def test_the_newest_articles_skip_versions_not_committed(service, tmp_path: Path) -> None:
    from retrieval.index.scope import ScopeFilter
    from retrieval.scope.roundup import newest_passages
    from tests.conftest import write_uncommitted_article

    write_uncommitted_article(service, service.settings.corpus_dir)  # staged, never switched
    assert "secret" in {aid for aid, _ in service.store.lexicon.newest(ScopeFilter(), 10)}
    newest = [p.article_id for p in newest_passages(service.store, QueryScope(), 10)]
    assert "secret" not in newest and newest[:2] == ["oil", "outcome"]

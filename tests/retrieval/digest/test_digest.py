"""Digests from a real index (small packaged model, embedded Chroma): stories, leads, windows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from retrieval.digest.build import build_digest
from retrieval.digest.window import Window, outlet_matches, parse_since
from retrieval.errors import InvalidQuestion
from retrieval.service import open_service
from tests.retrieval.digest.stories import write_stories

NOW = dt.datetime(2025, 3, 16, 12, 0, tzinfo=dt.UTC)


def test_parse_since() -> None:
    assert parse_since("24h", NOW) == NOW - dt.timedelta(hours=24)
    assert parse_since("7d", NOW) == NOW - dt.timedelta(days=7)
    assert parse_since("2j", NOW) == NOW - dt.timedelta(days=2)
    assert parse_since("all", NOW) is None
    assert parse_since("2025-03-14", NOW) == dt.datetime(2025, 3, 14, tzinfo=dt.UTC)
    yesterday = parse_since("hier", NOW)
    assert yesterday is not None and yesterday.date() == dt.date(2025, 3, 15)
    with pytest.raises(InvalidQuestion, match="24h"):
        parse_since("the day the cows come home", NOW)


def test_outlet_matches() -> None:
    assert outlet_matches("le monde", "Le Monde", None)
    assert outlet_matches("lemonde.fr", None, "https://www.lemonde.fr/x")
    assert outlet_matches("Lemonde", None, "https://www.lemonde.fr/x")
    assert outlet_matches("BBC", "BBC News", None)
    assert not outlet_matches("TASS", "Le Monde", "https://www.lemonde.fr/x")


@pytest.fixture
def digest_service(tmp_path: Path, settings_factory, small_embeddings):
    corpus = tmp_path / "news"
    groups = write_stories(corpus)
    service = open_service(settings_factory(corpus_dir=corpus), create=True, embeddings=small_embeddings)
    service.reindex()
    return service, groups


@pytest.mark.slow
def test_digest_groups_each_event_and_cites_its_leads(digest_service) -> None:
    service, groups = digest_service
    digest = build_digest(service.store, service.settings, Window())
    assert digest.articles == 7
    placed = [s.article_id for story in digest.stories for s in story.sources]
    assert sorted(placed) == sorted(sum(groups.values(), []))  # every article in exactly one story

    def story_of(article_id: str):
        return next(s for s in digest.stories if article_id in {x.article_id for x in s.sources})

    flood, strike = story_of("wire/flood"), story_of("wire/strike")
    assert {s.article_id for s in flood.sources} == set(groups["flood"])
    assert {s.article_id for s in strike.sources} == set(groups["strike"])
    assert digest.stories[:2] == [flood, strike]  # larger first; singletons last
    assert all(s.size == 1 for s in digest.stories[2:])
    assert set(flood.outlets) == {"Wire One", "Daily Two", "Coast News"}
    assert flood.headline in {s.title for s in flood.sources}
    assert flood.latest == "2025-03-15"
    for story in digest.stories:
        assert 1 <= len(story.lead) <= 2
        for sentence in story.lead:
            source = story.sources[sentence.n - 1]
            entry = service.store.manifest()[source.article_id]
            body = service.store.chunks_of_article(source.article_id, entry.article_hash)[1]
            assert any(sentence.text in " ".join(doc.split()) for doc in body)
            assert f"[{sentence.n}]" in story.lead_text()
    if len(flood.lead) == 2:  # the second sentence comes from another outlet
        assert flood.lead[0].n != flood.lead[1].n


@pytest.mark.slow
def test_window_and_outlets(digest_service) -> None:
    service, _ = digest_service
    published = Window(since=dt.datetime(2025, 3, 13, tzinfo=dt.UTC), by="published")
    digest = build_digest(service.store, service.settings, published)
    assert digest.articles == 5  # the flood and the strike; not the festival (12th) or the chess (11th)
    only = build_digest(service.store, service.settings, Window(sources=("daily two",)))
    assert {s.outlet for story in only.stories for s in story.sources} == {"Daily Two"}
    future = Window(since=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert build_digest(service.store, service.settings, future).stories == []
    data = digest.to_dict()
    assert data["articles"] == 5 and data["stories"][0]["lead"]


@pytest.mark.slow
def test_llm_summaries_have_their_citations_checked(digest_service) -> None:
    from retrieval.answer.llm import generator_from_settings
    from retrieval.settings import load_settings
    from tests.support.llm_server import FakeLLMServer, Reply

    service, groups = digest_service
    with FakeLLMServer() as server:
        generator = generator_from_settings(load_settings(llm_base_url=server.url, llm_model="fake", llm_timeout=5))
        server.script(Reply.text("Storm Aurora flooded Valmont [1] and the sea wall failed [2] [9]."),
                      Reply.text("Drivers of Tarsberg struck for a second day."))  # cites nothing
        digest = build_digest(service.store, service.settings, Window(), generator=generator)
    flood, strike = digest.stories[0], digest.stories[1]
    assert flood.summary == "Storm Aurora flooded Valmont [1] and the sea wall failed [2]."  # [9]: no such source
    assert strike.summary is None and strike.lead  # uncited: the extractive lead stands
    assert all(story.summary is None for story in digest.stories[2:])  # single articles: no LLM call
    assert len(server.requests) == 2
    prompt = json.dumps(server.requests[0])
    assert "Valmont" in prompt and "<passage" in prompt

"""Summaries on request: recognised questions, and answers from a real index (small model)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from retrieval.digest.summary import summary_request
from retrieval.service import open_service
from tests.retrieval.digest.stories import FLOOD, STRIKE, write_stories

NOW = dt.datetime(2025, 3, 16, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("question", "kind", "topic"),
    [
        ("Résume l'article sur le sommet en Alaska", "article", "sommet en Alaska"),
        ("résumé de la couverture sur les sanctions européennes", "coverage", "sanctions européennes"),
        ("Peux-tu me résumer la couverture de la grève ?", "coverage", "grève"),
        ("What's new on the Gunvor deal?", "coverage", "the Gunvor deal"),
        ("Quoi de neuf sur Lukoil ?", "coverage", "Lukoil"),
        ("Summarize the coverage of the oil price cap", "coverage", "the oil price cap"),
    ],
)
def test_summary_requests(question: str, kind: str, topic: str) -> None:
    request = summary_request(question, NOW)
    assert request is not None and request.kind == kind and request.topic == topic


def test_windows_and_ordinary_questions() -> None:
    today = summary_request("Résume les articles publiés aujourd'hui", NOW)
    assert today is not None and today.topic == "" and today.since == dt.datetime(2025, 3, 16, tzinfo=dt.UTC)
    week = summary_request("What is new this week?", NOW)
    assert week is not None and week.since == NOW - dt.timedelta(days=7) and week.language == "en"
    for question in ("Que dit Le Monde sur le pétrole ?", "résume", "Combien de temps a duré le sommet ?",
                     "Who summarized the report?"):
        assert summary_request(question, NOW) is None, question


@pytest.fixture
def service(tmp_path: Path, settings_factory, small_embeddings):
    corpus = tmp_path / "news"
    write_stories(corpus)
    svc = open_service(settings_factory(corpus_dir=corpus), create=True, embeddings=small_embeddings)
    svc.reindex()
    return svc


@pytest.mark.slow
def test_summaries_through_ask(service) -> None:
    coverage = service.ask("Summarize the coverage of the Valmont flood")
    assert not coverage.refused and coverage.cited_sources
    flood_ids = {item[0] for item in FLOOD}
    assert {s.article_id for s in coverage.cited_sources} <= flood_ids | {item[0] for item in STRIKE} | {
        "food/festival", "sport/chess"}
    first_line = coverage.answer.splitlines()[1]
    assert "Storm Aurora" in first_line and "[1]" in first_line  # the flood story leads, cited
    assert coverage.cited_sources[0].article_id in flood_ids

    article = service.ask("Résume l'article sur la grève des trains de Tarsberg")
    assert not article.refused and {s.article_id for s in article.cited_sources} <= {i[0] for i in STRIKE}
    assert len({s.article_id for s in article.cited_sources}) == 1
    assert article.answer.count("[1]") >= 1

    nothing = service.ask("Résumé de la couverture sur la finale du championnat de curling")
    assert nothing.refused and not nothing.sources

    ordinary = service.ask("How many homes were evacuated in Valmont?")
    assert "Résumé" not in ordinary.answer and "Summary" not in ordinary.answer

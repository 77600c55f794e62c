"""Every article has its published date when one exists (issue 13, item 1): front matter,
the page's metadata for fetched pages, the feed entry; in ISO form; impossible ones skipped
with a warning naming the file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from retrieval.ingest.collector import Collector
from retrieval.ingest.corpus import read_article
from retrieval.ingest.dates import iso_date
from retrieval.ingest.extract import Hint
from retrieval.settings import load_settings
from tests.support.newsite import BUDGET, NewsSite, Response

UNDATED_PAGE = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Le port de Brest</title></head>
<body><article><h1>Le port de Brest</h1>
<p>Le port de commerce de Brest accueillera un nouveau terminal pour les navires rouliers, a annoncé la région.</p>
<p>Les travaux commenceront par le dragage du bassin et la construction d'un quai de deux cents mètres de long.</p>
<p>La région estime que le trafic de marchandises pourrait augmenter d'un tiers une fois le terminal ouvert.</p>
</article></body></html>"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-08-15", "2025-08-15"),
        ("2025-08-15T07:30:00+02:00", "2025-08-15T07:30:00+02:00"),
        ("2025-08-15 07:30", "2025-08-15T07:30:00"),
        ("15 août 2025", "2025-08-15"),
        ("Fri, 15 Aug 2025 07:30:00 GMT", "2025-08-15"),
        ("August 2025", "2025-08-01"),
    ],
)
def test_dates_are_normalised_to_iso(value: str, expected: str) -> None:
    assert iso_date(value) == expected


@pytest.mark.parametrize("value", ["2025-02-30", "2025-13-01", "2025-01-01 25:00:00", "demain", "n/a", "2025", ""])
def test_impossible_or_unreadable_dates_are_errors(value: str) -> None:
    with pytest.raises(ValueError):
        iso_date(value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("date: 2025-08-15", "2025-08-15"),
        ('date: "15 août 2025"', "2025-08-15"),
        ("date: 2025-08-15T07:30:00+02:00", "2025-08-15T07:30:00+02:00"),
        ("date: 2025-02-30", None),
        ("date: quelque part en été", None),
    ],
)
def test_front_matter_dates(tmp_path: Path, line: str, expected: str | None, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "article.md"
    path.write_text(f"---\ntitle: Le port\n{line}\n---\n\nLe port de Brest s'agrandit.\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        article = read_article(path, "article")
    assert article.date == expected
    if expected is None:
        assert any("article.md" in r.getMessage() for r in caplog.records)


@pytest.fixture
def settings(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    return load_settings(
        corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "data", http_timeout=2.0, http_allow_hosts="127.0.0.1"
    )


def added_article(settings, url: str, hint: Hint | None):
    with Collector(settings) as collector:
        result = collector.add(url, hint=hint)
    assert result.status == "added", result.reason
    [path] = settings.corpus_dir.rglob("*.md")
    return read_article(path, "x")


def test_the_page_date_wins_over_the_feed_entry(settings) -> None:
    with NewsSite() as site:
        article = added_article(settings, site.url(BUDGET.path), Hint(date="2020-01-01"))
    assert article.date == BUDGET.date


def test_an_undated_page_takes_its_feed_entry_date(settings) -> None:
    with NewsSite() as site:
        site.routes["/port"] = Response(body=UNDATED_PAGE.encode())
        article = added_article(settings, site.url("/port"), Hint(date="Fri, 15 Aug 2025 07:30:00 GMT"))
    assert article.date == "2025-08-15"


def test_an_impossible_feed_date_is_skipped_not_the_article(settings, caplog: pytest.LogCaptureFixture) -> None:
    with NewsSite() as site, caplog.at_level(logging.WARNING):
        site.routes["/port"] = Response(body=UNDATED_PAGE.encode())
        article = added_article(settings, site.url("/port"), Hint(date="2025-02-30"))
    assert article.date is None
    assert any("/port" in r.getMessage() and "date" in r.getMessage() for r in caplog.records)

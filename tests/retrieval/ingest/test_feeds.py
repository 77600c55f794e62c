"""retrieval.ingest.feeds against RSS and Atom feeds served on loopback (tests/support/newsite.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.errors import ConfigError
from retrieval.ingest.corpus import read_article
from retrieval.ingest.feeds import poll_feeds, read_feed_list
from retrieval.ingest.fetch import add_urls
from retrieval.settings import load_settings, replace
from tests.support.newsite import (
    BUDGET,
    CANICULE,
    GREVE,
    LUMIERE,
    STORIES,
    NewsSite,
    Response,
    Story,
    article_page,
)

RENTREE = Story(
    path="/societe/2025/09/19/rentree-universitaire-des-loyers-toujours-plus-chers.html",
    title="Rentrée universitaire : des loyers toujours plus chers pour les étudiants",
    date="2025-09-19",
    author="Léa Martin",
    section="Société",
    paragraphs=(
        "Le coût de la vie étudiante augmente encore cette année, tiré par les loyers, qui progressent de "
        "4 % en moyenne selon le dernier rapport de l'Union nationale des étudiants de France.",
        "À Paris, une chambre de neuf mètres carrés se loue désormais plus de 800 euros par mois, et les "
        "résidences du Crous affichent des listes d'attente de plusieurs centaines de noms.",
    ),
)


@pytest.fixture
def site():
    with NewsSite() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path, site: NewsSite):
    (tmp_path / "corpus").mkdir()
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"# mes sources\n{site.url('/rss.xml')}\n\n{site.url('/atom.xml')}  # sciences\n")
    return load_settings(
        corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "data", feeds_file=feeds, http_timeout=1.0,
        http_allow_hosts="127.0.0.1",  # the news site is on loopback
    )


def corpus_files(settings) -> list[Path]:
    return sorted(p for p in settings.corpus_dir.rglob("*") if p.is_file())


def article_requests(site: NewsSite) -> int:
    return sum(len(site.seen(story.path)) for story in STORIES)


def test_read_feed_list(tmp_path: Path) -> None:
    path = tmp_path / "feeds.txt"
    path.write_text("# comment\n\nhttps://a.fr/rss\n  https://b.fr/atom.xml # the B feed\nhttps://a.fr/rss\n")
    assert read_feed_list(path) == ["https://a.fr/rss", "https://b.fr/atom.xml"]
    with pytest.raises(ConfigError, match="no feeds file"):
        read_feed_list(tmp_path / "missing.txt")


def test_first_run_adds_every_entry_with_its_metadata(site: NewsSite, settings) -> None:
    report = poll_feeds(settings)
    assert [f.status for f in report.feeds] == ["read", "read"]
    assert [f.new_entries for f in report.feeds] == [2, 2]
    assert report.added == 4 and report.count("failed") == 0
    by_title = {}
    for path in corpus_files(settings):
        article = read_article(path, path.stem)
        by_title[article.title] = article
    assert set(by_title) == {s.title for s in (GREVE, LUMIERE, CANICULE, BUDGET)}
    greve = by_title[GREVE.title]
    assert greve.url == site.url(GREVE.path)  # no utm_* parameters
    assert by_title[CANICULE.title].url == site.url(CANICULE.path)  # no #xtor fragment
    assert greve.date == GREVE.date and greve.author == GREVE.author and greve.language == "fr"
    assert "Marseille-Provence" in greve.text
    assert all(h["user-agent"] == settings.http.user_agent for _, h in site.requests)


def test_second_run_uses_conditional_requests_and_adds_nothing(site: NewsSite, settings) -> None:
    poll_feeds(settings)
    pages_before = article_requests(site)
    files_before = {p: p.read_bytes() for p in corpus_files(settings)}
    report = poll_feeds(settings)
    assert [f.status for f in report.feeds] == ["not modified", "not modified"]
    assert report.entries == []
    rss_first, rss_second = site.seen("/rss.xml")
    assert "if-none-match" not in rss_first
    assert rss_second["if-none-match"] == site.routes["/rss.xml"].etag
    atom_first, atom_second = site.seen("/atom.xml")
    assert "if-modified-since" not in atom_first
    assert atom_second["if-modified-since"] == site.routes["/atom.xml"].last_modified
    assert article_requests(site) == pages_before
    assert {p: p.read_bytes() for p in corpus_files(settings)} == files_before


def test_a_new_entry_is_added_and_old_ones_stay_known(site: NewsSite, settings) -> None:
    poll_feeds(settings)
    site.routes[RENTREE.path] = Response(body=article_page(RENTREE, site.base).encode())
    site.rss_stories = [RENTREE, GREVE, LUMIERE]
    old_etag = site.routes["/rss.xml"].etag
    site.publish_feeds()
    assert site.routes["/rss.xml"].etag != old_etag
    report = poll_feeds(settings)
    assert [f.status for f in report.feeds] == ["read", "not modified"]
    assert [(r.status, r.title) for r in report.entries] == [("added", RENTREE.title)]
    assert len(corpus_files(settings)) == 5
    assert len(site.seen(GREVE.path)) == 1  # seen entries are not fetched again


def test_entries_already_added_by_hand_are_known(site: NewsSite, settings) -> None:
    add_urls(settings, [site.url(GREVE.path), site.url("/amp/budget-2026")])
    report = poll_feeds(settings)
    statuses = {r.url.split("?")[0].split("#")[0]: r.status for r in report.entries}
    assert statuses[site.url(GREVE.path)] == "known"  # same URL, without its utm_* parameters
    assert statuses[site.url(BUDGET.path)] == "known"  # same text as the AMP page added before
    assert report.added == 2
    assert len(corpus_files(settings)) == 4


def test_the_cap_per_run_leaves_the_rest_for_later_runs(site: NewsSite, settings) -> None:
    capped = replace(settings, feeds_max_per_run=1)
    totals = []
    for _ in range(5):
        report = poll_feeds(capped)
        assert len(report.entries) <= 1
        totals.append((report.added, report.deferred))
    assert totals == [(1, 3), (1, 2), (1, 1), (1, 0), (0, 0)]
    assert len(corpus_files(settings)) == 4
    # the newest entry of each feed goes first
    state = json.loads((settings.data_dir / "sources.json").read_text())
    assert all(not feed["pending"] for feed in state["feeds"].values())


def test_bad_feeds_are_reported_and_the_good_ones_still_read(site: NewsSite, settings) -> None:
    settings.feeds.file.write_text(
        "\n".join([site.url("/flux-casse.xml"), site.url("/absent.xml"), site.url("/rubrique/politique"),
                   site.url("/lent"), "pas-une-url", site.url("/rss.xml")])
    )
    report = poll_feeds(settings)
    statuses = [(f.status, f.reason) for f in report.feeds]
    assert statuses[-1] == ("read", None)
    assert [s for s, _ in statuses[:-1]] == ["failed"] * 5
    reasons = [r or "" for _, r in statuses[:-1]]
    assert "not an RSS/Atom feed" in reasons[0]
    assert "HTTP 404" in reasons[1]
    assert "not an RSS/Atom feed" in reasons[2]
    assert "timed out" in reasons[3]
    assert "not an http(s) URL" in reasons[4]
    assert all("\n" not in f.line() for f in report.feeds)
    assert report.added == 2 and report.failed_feeds == 5


def test_a_failing_entry_is_retried_then_given_up(site: NewsSite, settings) -> None:
    broken = f"<item><title>Lien mort</title><link>{site.base}/disparu.html</link><guid isPermaLink=\"false\">mort-1</guid></item>"
    site.publish_feeds(rss_extra=broken)
    settings = replace(settings, feeds_max_attempts=2)
    first = poll_feeds(settings)
    assert [(r.status, "HTTP 404" in (r.reason or "")) for r in first.entries if "disparu" in r.url] == [("failed", True)]
    assert first.added == 4
    second = poll_feeds(settings)  # the feed answers 304, the pending entry is still retried
    assert [f.status for f in second.feeds] == ["not modified", "not modified"]
    assert [r.status for r in second.entries] == ["failed"]
    third = poll_feeds(settings)
    assert third.entries == []
    assert len(site.seen("/disparu.html")) == 2
    state = json.loads((settings.data_dir / "sources.json").read_text())
    assert state["feeds"][site.url("/rss.xml")]["seen"]["mort-1"] == "failed"


def test_state_file_is_valid_json_and_seen_entries_are_bounded(site: NewsSite, settings) -> None:
    small = replace(settings, feeds_keep_seen=100)
    poll_feeds(small)
    state = json.loads((settings.data_dir / "sources.json").read_text())
    assert set(state["feeds"]) == {site.url("/rss.xml"), site.url("/atom.xml")}
    assert all(len(feed["seen"]) <= 100 for feed in state["feeds"].values())
    assert not list(settings.data_dir.glob("*.tmp")) and not list(settings.data_dir.glob(".*"))

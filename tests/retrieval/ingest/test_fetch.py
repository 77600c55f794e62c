"""retrieval.ingest.fetch against a real HTTP server on loopback (tests/support/newsite.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.errors import FetchError
from retrieval.ingest.corpus import read_article, render_markdown
from retrieval.ingest.fetch import (
    Collector,
    HttpFetcher,
    add_urls,
    canonical_url,
    check_url,
    slugify,
    text_fingerprint,
)
from retrieval.settings import load_settings
from tests.support.newsite import BUDGET, GREVE, SITE_NAME, NewsSite, Response, Story, article_page


@pytest.fixture
def site():
    with NewsSite() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    return load_settings(
        corpus_dir=tmp_path / "corpus",
        data_dir=tmp_path / "data",
        http_timeout=1.0,
        http_max_bytes=1_000_000,
        feeds_file=tmp_path / "feeds.txt",
        http_allow_hosts="127.0.0.1",  # the news site is on loopback
    )


def corpus_files(settings) -> list[Path]:
    return sorted(p for p in settings.corpus_dir.rglob("*") if p.is_file())


# --- pure helpers ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.LeMonde.fr/a.html#comments", "https://www.lemonde.fr/a.html"),
        ("https://ex.fr/a?utm_source=rss&utm_medium=x&id=3", "https://ex.fr/a?id=3"),
        ("https://ex.fr:443/a?fbclid=zz", "https://ex.fr/a"),
        ("http://ex.fr:8080/a/?b=1&a=2", "http://ex.fr:8080/a/?b=1&a=2"),
        ("https://ex.fr", "https://ex.fr/"),
        ("https://WWW:290/a/b\x1f#top", "https://www:290/a/b"),  # what the fragment hid at the end
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected


def test_check_url_refuses_other_schemes() -> None:
    assert check_url(" https://ex.fr/a ") == "https://ex.fr/a"
    for bad in ("ftp://ex.fr/a", "file:///etc/passwd", "lemonde.fr/article", ""):
        with pytest.raises(FetchError):
            check_url(bad)


def test_slugify_french_titles() -> None:
    assert slugify("Grève à Orly : 40 % des vols annulés !") == "greve-a-orly-40-des-vols-annules"
    assert slugify("«  »") == ""
    assert len(slugify("mot " * 100)) <= 80


def test_fingerprint_ignores_layout_but_not_words() -> None:
    a = text_fingerprint("Le Budget 2026.\n\nIl prévoit 40 milliards d'économies.")
    assert a == text_fingerprint("le budget 2026 — il prévoit **40** milliards d’économies")
    assert a == text_fingerprint("Titre\nLe Budget 2026.\n\nIl prévoit 40 milliards d'économies.", "Titre")
    assert a != text_fingerprint("Le Budget 2027.\n\nIl prévoit 40 milliards d'économies.")


# --- fetching and extracting, for real -------------------------------------------------
def test_add_writes_the_article_with_its_metadata(site: NewsSite, settings) -> None:
    [result] = add_urls(settings, [site.url(BUDGET.path)])
    assert result.status == "added", result
    path = settings.corpus_dir / f"{result.article_id}.md"
    assert path.parent.name == "127.0.0.1"
    article = read_article(path, result.article_id)
    assert article.title == BUDGET.title
    assert article.date == BUDGET.date
    assert article.url == site.url(BUDGET.path)
    assert article.author == BUDGET.author
    assert article.source == SITE_NAME
    assert article.language == "fr"
    assert "40 milliards d'euros d'économies" in article.text
    assert "Conseil constitutionnel" in article.text
    for boilerplate in ("Tous droits réservés", "Les plus lus", "cookies", "S'abonner", "Partager"):
        assert boilerplate not in article.text
    assert not article.text.startswith(BUDGET.title)  # the <h1> is not repeated in the body
    [headers] = site.seen(BUDGET.path)
    assert headers["user-agent"] == settings.http.user_agent


def test_same_url_twice_is_known_without_a_second_download(site: NewsSite, settings) -> None:
    first = add_urls(settings, [site.url(BUDGET.path)])[0]
    variants = [
        site.url(BUDGET.path),
        site.url(BUDGET.path + "?utm_source=twitter&utm_campaign=x"),
        site.url(BUDGET.path + "#commentaires"),
    ]
    results = add_urls(settings, variants)
    assert [r.status for r in results] == ["known"] * 3
    assert {r.article_id for r in results} == {first.article_id}
    assert len(site.seen(BUDGET.path)) == 1
    assert len(corpus_files(settings)) == 1


def test_same_article_at_another_url_is_recognised_by_its_text(site: NewsSite, settings) -> None:
    first, amp, redirect = add_urls(settings, [site.url(BUDGET.path), site.url("/amp/budget-2026"), site.url("/r/budget")])
    assert first.status == "added"
    assert amp.status == "known" and amp.article_id == first.article_id
    assert "same text" in (amp.reason or "")
    assert redirect.status == "known" and redirect.article_id == first.article_id
    assert len(corpus_files(settings)) == 1
    # the other URL is remembered: asking again costs no download
    before = len(site.seen("/amp/budget-2026"))
    assert add_urls(settings, [site.url("/amp/budget-2026")])[0].status == "known"
    assert len(site.seen("/amp/budget-2026")) == before


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/rubrique/politique", "not an article"),
        ("/introuvable", "HTTP 404"),
        ("/lent", "timed out"),
        ("/enorme", "too large"),
        ("/enorme-declare", "too large"),
        ("/document.pdf", "not an HTML page (application/pdf)"),
    ],
)
def test_bad_pages_fail_in_one_line_and_change_nothing(site: NewsSite, settings, path: str, reason: str) -> None:
    kept = add_urls(settings, [site.url(GREVE.path)])[0]
    before = {p: p.read_bytes() for p in corpus_files(settings)}
    [result] = add_urls(settings, [site.url(path)])
    assert result.status == "failed"
    assert reason in (result.reason or "")
    assert "\n" not in result.line()
    assert {p: p.read_bytes() for p in corpus_files(settings)} == before
    assert kept.article_id


def test_unreachable_host_and_bad_url_fail(settings) -> None:
    results = add_urls(settings, ["http://127.0.0.1:9/rien", "ftp://exemple.fr/a", "pas une url"])
    assert [r.status for r in results] == ["failed"] * 3
    assert "cannot be fetched" in (results[0].reason or "")
    assert "not an http(s) URL" in (results[1].reason or "")


def test_size_cap_stops_the_download_early(site: NewsSite, settings) -> None:
    # the page is 10 MB; the fetcher must stop right after the 1 MB cap
    with HttpFetcher(settings) as fetcher, pytest.raises(FetchError, match="too large"):
        fetcher.get(site.url("/enorme"))


def test_declared_charset_is_honoured(site: NewsSite, settings) -> None:
    story = Story("/latin1.html", "Élections à Besançon : la gauche en tête", "2025-09-10", "Hélène Roy", "Politique",
                  ("Le premier tour des élections municipales partielles de Besançon a placé la liste d'union de la "
                   "gauche en tête avec 41 % des voix, devant la majorité sortante.",
                   "La participation, à peine supérieure à 30 %, reste très faible ; le second tour aura lieu "
                   "dimanche prochain et les négociations de fusion ont commencé dès lundi."))
    page = article_page(story, site.base).replace('<meta charset="utf-8">', "").encode("iso-8859-1", "replace")
    site.routes[story.path] = Response(body=page, content_type="text/html; charset=ISO-8859-1")
    [result] = add_urls(settings, [site.url(story.path)])
    assert result.status == "added", result
    article = read_article(settings.corpus_dir / f"{result.article_id}.md", result.article_id)
    assert article.title == story.title
    assert "négociations" in article.text


def test_non_html_without_content_type_is_refused(site: NewsSite, settings) -> None:
    site.routes["/blob"] = Response(body=b"\x89PNG\r\n" + b"\x00" * 4000, content_type="")
    [result] = add_urls(settings, [site.url("/blob")])
    assert result.status == "failed" and "not an HTML page" in (result.reason or "")


# --- the corpus is the truth ----------------------------------------------------------
def test_hand_written_articles_are_recognised(site: NewsSite, settings) -> None:
    """Articles put in the corpus by hand (no state file yet) count, by URL and by text."""
    by_url = settings.corpus_dir / "main" / "greve.md"
    by_url.parent.mkdir()
    by_url.write_text(render_markdown({"title": "Grève", "url": site.url(GREVE.path)}, "Un autre texte, écrit à la main."))
    by_text = settings.corpus_dir / "budget.md"
    by_text.write_text(render_markdown({"title": BUDGET.title}, "\n\n".join(BUDGET.paragraphs)))
    before = {p: p.read_bytes() for p in corpus_files(settings)}
    results = add_urls(settings, [site.url(GREVE.path + "?utm_medium=social"), site.url(BUDGET.path)])
    assert [(r.status, r.article_id) for r in results] == [("known", "main/greve"), ("known", "budget")]
    assert {p: p.read_bytes() for p in corpus_files(settings)} == before


def test_lost_state_is_rebuilt_and_removed_articles_can_come_back(site: NewsSite, settings) -> None:
    first = add_urls(settings, [site.url(BUDGET.path)])[0]
    (settings.data_dir / "sources.json").unlink()
    assert add_urls(settings, [site.url(BUDGET.path)])[0].status == "known"
    (settings.data_dir / "sources.json").write_text("{ not json")
    assert add_urls(settings, [site.url(BUDGET.path)])[0].status == "known"
    (settings.corpus_dir / f"{first.article_id}.md").unlink()
    again = add_urls(settings, [site.url(BUDGET.path)])[0]
    assert again.status == "added" and again.article_id == first.article_id
    state = json.loads((settings.data_dir / "sources.json").read_text())
    assert state["urls"][site.url(BUDGET.path)] == first.article_id


def test_different_articles_with_the_same_title_get_two_files(site: NewsSite, settings) -> None:
    other = Story("/autre-budget.html", BUDGET.title, "2024-09-18", "X", "Politique",
                  ("Un an plus tôt, le gouvernement précédent avait présenté un budget très différent, "
                   "fondé sur une hausse des impôts des grandes entreprises et un gel des retraites.",
                   "Ce texte avait été adopté au moyen de l'article 49.3 après des semaines de débats houleux "
                   "à l'Assemblée nationale, puis censuré en partie par le Conseil constitutionnel."))
    site.routes[other.path] = Response(body=article_page(other, site.base).encode())
    a, b = add_urls(settings, [site.url(BUDGET.path), site.url(other.path)])
    assert a.status == b.status == "added"
    assert a.article_id != b.article_id
    assert len(corpus_files(settings)) == 2


def test_writes_leave_no_temporary_files(site: NewsSite, settings) -> None:
    add_urls(settings, [site.url(BUDGET.path), site.url(GREVE.path), site.url("/introuvable")])
    leftovers = [p for p in settings.corpus_dir.rglob(".*")] + [p for p in settings.data_dir.glob("*.tmp")]
    assert leftovers == []
    json.loads((settings.data_dir / "sources.json").read_text())


def test_collector_reuses_one_connection_and_saves_on_exit(site: NewsSite, settings) -> None:
    with Collector(settings) as collector:
        assert collector.add(site.url(BUDGET.path)).status == "added"
        assert collector.add(site.url(BUDGET.path)).status == "known"
    assert (settings.data_dir / "sources.json").exists()

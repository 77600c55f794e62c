"""Regression tests of issue 16's ingest defects: each failed on the code before its fix.

Impossible dates (defect 1), title length (4), SSRF (5), unreadable folders (6), and the minor
ones: ``title: yes``, NFC/NFD file names, links to outside the corpus, a 1 MB one-line body.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from pathlib import Path

import pytest

from retrieval.errors import FetchError
from retrieval.ingest.corpus import CorpusOptions, read_article, scan_corpus
from retrieval.ingest.fetch import HttpFetcher, add_urls
from retrieval.ingest.http import AddressGuard
from retrieval.service import open_service
from retrieval.settings import load_settings
from tests.conftest import write_article
from tests.support.newsite import BUDGET, NewsSite, Response, Story, article_page

GOOD = "Le tramway de Brest sera prolongé jusqu'au port de commerce en 2027, a annoncé la métropole."


def front(path: Path, header: str, body: str = GOOD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{header}\n---\n\n{body}\n", encoding="utf-8")
    return path


# --- defect 1: one impossible date stops all indexing ------------------------------------
IMPOSSIBLE_DATES = ["2025-02-30", "2025-13-01", "2025-01-01 25:00:00"]


@pytest.mark.parametrize("date", IMPOSSIBLE_DATES)
def test_an_impossible_date_is_dropped_with_a_warning_naming_the_file(
    tmp_path: Path, date: str, caplog: pytest.LogCaptureFixture
) -> None:
    front(tmp_path / "bad-date.md", f"title: Tramway\ndate: {date}")
    front(tmp_path / "good.md", "title: Port\ndate: 2025-08-15")
    with caplog.at_level(logging.WARNING):
        scan = scan_corpus(tmp_path)
    by_id = {a.id: a for a in scan.articles}
    assert set(by_id) == {"bad-date", "good"} and scan.skipped == []
    assert by_id["bad-date"].date is None and by_id["good"].date == "2025-08-15"
    assert any("bad-date.md" in r.getMessage() and "date" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("value", ["!!int abc", "!!float abc", "!!timestamp 2025-02-30"])
def test_a_wrongly_tagged_value_skips_that_file_only(tmp_path: Path, value: str) -> None:
    front(tmp_path / "tagged.md", f"title: Tramway\ndate: {value}")
    front(tmp_path / "good.md", "title: Port")
    scan = scan_corpus(tmp_path)
    assert [a.id for a in scan.articles] == ["good"]
    assert [path for path, _ in scan.skipped] == ["tagged.md"] and "front matter" in scan.skipped[0][1]


@pytest.mark.parametrize("value", ["[2025, 8, 15]", "{jour: 15}", "!!binary aGVsbG8=", "!!set {a, b}"])
def test_a_field_that_is_not_text_is_dropped_not_the_article(
    tmp_path: Path, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    front(tmp_path / "odd.md", f"title: Tramway\ndate: {value}\nsource: {value}")
    with caplog.at_level(logging.WARNING):
        [article] = scan_corpus(tmp_path).articles
    assert (article.title, article.date, article.source) == ("Tramway", None, None)
    assert sum("odd.md" in r.getMessage() for r in caplog.records) == 2


@pytest.mark.slow
def test_a_reindex_with_impossible_dates_indexes_everything_else(settings_factory, small_embeddings, corpus) -> None:
    for n, date in enumerate(IMPOSSIBLE_DATES):
        front(corpus / f"dates/bad-{n}.md", f"title: Date impossible {n}\ndate: {date}")
    front(corpus / "dates/tagged.md", "title: Étiquette\ndate: !!int abc")
    service = open_service(settings_factory(), create=True, embeddings=small_embeddings)
    report = service.reindex()
    assert sorted(report.added) == sorted(
        ["alaska-summit", "2025/08/sanctions", "2025/08/petrole", *(f"dates/bad-{n}" for n in range(3))]
    )
    assert [path for path, _ in report.skipped] == ["dates/tagged.md"]


# --- defect 4: titles capped everywhere -------------------------------------------------
def test_front_matter_and_html_titles_are_capped(tmp_path: Path) -> None:
    front(tmp_path / "long.md", "title: " + "Titre très long " * 6000)
    page = "<html><head><title>{t}</title></head><body><article><h1>{t}</h1><p>{b}</p><p>{b}</p></article></body></html>"
    (tmp_path / "page.html").write_text(page.format(t="Mot " * 2500, b=GOOD * 3), encoding="utf-8")
    scan = scan_corpus(tmp_path)
    assert len(scan.articles) == 2
    for article in scan.articles:
        assert 50 < len(article.title) <= 300 and "\n" not in article.title


def test_a_fetched_title_is_capped(tmp_path: Path) -> None:
    story = Story("/titre-long", "Budget " * 1500, "2025-09-01", "A. Auteur", "Politique", BUDGET.paragraphs)
    settings = load_settings(corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "data", http_allow_hosts="127.0.0.1")
    with NewsSite() as site:
        site.routes[story.path] = Response(body=article_page(story, site.base).encode())
        [result] = add_urls(settings, [site.url(story.path)])
    assert result.status == "added", result.reason
    assert result.title and len(result.title) <= 300
    [path] = (tmp_path / "corpus").rglob("*.md")
    assert len(read_article(path, "x").title) <= 300


# --- defect 5: SSRF ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/", "http://localhost/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/", "http://192.168.0.1/", "http://172.16.0.1/", "http://100.100.100.200/",
        "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://2130706433/", "http://[fd00:ec2::254]/",
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match="refused"):
        AddressGuard("").check(url)


def test_listed_hosts_and_networks_are_allowed() -> None:
    guard = AddressGuard("localhost, 10.0.0.0/8")
    guard.check("http://localhost:8080/flux.xml")
    guard.check("http://10.20.30.40/")
    with pytest.raises(FetchError, match="refused"):
        guard.check("http://192.168.1.1/")


def loopback_settings(tmp_path: Path, allow: str = ""):
    (tmp_path / "corpus").mkdir(exist_ok=True)
    return load_settings(
        corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "data", http_timeout=2.0, http_allow_hosts=allow
    )


def test_loopback_is_refused_by_default_and_fetched_when_allowed(tmp_path: Path) -> None:
    with NewsSite() as site:
        [refused] = add_urls(loopback_settings(tmp_path), [site.url(BUDGET.path)])
        assert refused.status == "failed" and "refused" in (refused.reason or "")
        assert site.requests == []  # nothing was even asked
        [added] = add_urls(loopback_settings(tmp_path, "127.0.0.1"), [site.url(BUDGET.path)])
        assert added.status == "added", added.reason


def test_every_redirect_hop_is_checked(tmp_path: Path) -> None:
    with NewsSite() as site:
        port = site.base.rsplit(":", 1)[1]
        # an allowed host redirecting to a host that is not allowed (same machine, other name)
        site.routes["/vers-interne"] = Response(status=302, headers={"Location": f"http://127.0.0.1:{port}{BUDGET.path}"})
        settings = loopback_settings(tmp_path, "localhost")
        with HttpFetcher(settings) as fetcher, pytest.raises(FetchError, match="refused"):
            fetcher.get(f"http://localhost:{port}/vers-interne")
        assert [path for path, _ in site.requests] == ["/vers-interne"]
        with HttpFetcher(loopback_settings(tmp_path, "localhost, 127.0.0.1")) as fetcher:
            assert fetcher.get(f"http://localhost:{port}/vers-interne").status == 200


def test_redirect_loops_and_non_http_targets_fail_cleanly(tmp_path: Path) -> None:
    with NewsSite() as site:
        site.routes["/boucle"] = Response(status=302, headers={"Location": "/boucle"})
        site.routes["/fichier"] = Response(status=302, headers={"Location": "file:///etc/passwd"})
        with HttpFetcher(loopback_settings(tmp_path, "127.0.0.1")) as fetcher:
            with pytest.raises(FetchError, match="too many redirects"):
                fetcher.get(site.url("/boucle"))
            with pytest.raises(FetchError, match="not http"):
                fetcher.get(site.url("/fichier"))


# --- defect 6: an unreadable folder is not taken for deleted ------------------------------
def deny_listing(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` unlistable, as ``chmod 000`` does for any user but root (tests run as root)."""
    real = os.scandir

    def scandir(path: str | os.PathLike[str] = ".") -> object:
        if os.path.realpath(path) == os.path.realpath(folder):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_an_unlistable_folder_is_reported_not_emptied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_article(tmp_path, "prive/tram", "Tramway", GOOD)
    write_article(tmp_path, "public/port", "Port", GOOD)
    deny_listing(monkeypatch, tmp_path / "prive")
    scan = scan_corpus(tmp_path)
    assert [a.id for a in scan.articles] == ["public/port"]
    assert scan.unreadable == ["prive"] and scan.hides("prive/tram") and not scan.hides("public/port")
    assert any(path == "prive/" and "cannot be listed" in reason for path, reason in scan.skipped)


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists any folder: the monkeypatched test covers it")
def test_a_chmod_000_folder_is_reported(tmp_path: Path) -> None:
    write_article(tmp_path, "prive/tram", "Tramway", GOOD)
    (tmp_path / "prive").chmod(0)
    try:
        assert scan_corpus(tmp_path).unreadable == ["prive"]
    finally:
        (tmp_path / "prive").chmod(0o755)


@pytest.mark.slow
def test_the_index_keeps_the_articles_of_an_unlistable_folder(
    settings_factory, small_embeddings, corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = open_service(settings_factory(), create=True, embeddings=small_embeddings)
    assert "2025/08/sanctions" in service.reindex().added
    deny_listing(monkeypatch, corpus / "2025" / "08")
    report = service.reindex()
    assert report.removed == [] and any(path == "2025/08/" for path, _ in report.skipped)
    answer = service.ask("Quel est le plafond du prix du pétrole russe ?")
    assert any(s.article_id == "2025/08/sanctions" for s in answer.sources)
    monkeypatch.undo()
    (corpus / "2025" / "08" / "sanctions.md").unlink()
    assert service.reindex().removed == ["2025/08/sanctions"]  # a real deletion still counts


# --- minor defects -------------------------------------------------------------------------
@pytest.mark.parametrize("title", ["yes", "no", "on", "off", "true", "null-ish", "1.50", "0x1F", "2025-08-15"])
def test_front_matter_text_stays_text(tmp_path: Path, title: str) -> None:
    front(tmp_path / "a.md", f"title: {title}\nsource: Yes\nauthor: 007")
    article = read_article(tmp_path / "a.md", "a")
    assert (article.title, article.source, article.author) == (title, "Yes", "007")


def test_nfc_and_nfd_file_names_are_one_article_id(tmp_path: Path) -> None:
    nfc, nfd = unicodedata.normalize("NFC", "été"), unicodedata.normalize("NFD", "été")
    assert nfc != nfd
    front(tmp_path / f"{nfd}.md", "title: Un")
    front(tmp_path / f"{nfc}.md", "title: Deux")
    scan = scan_corpus(tmp_path)
    assert [a.id for a in scan.articles] == [nfc]
    assert len(scan.skipped) == 1 and "same article id" in scan.skipped[0][1]


def test_a_link_to_a_file_outside_the_corpus_is_refused_unless_allowed(tmp_path: Path) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "ailleurs"
    secret = front(outside / "secret.md", "title: Secret", "Le mot de passe du serveur est hunter2.")
    front(corpus / "vrai.md", "title: Vrai")
    (corpus / "lien.md").symlink_to(secret)
    (corpus / "interne.md").symlink_to(corpus / "vrai.md")  # a link inside the corpus is fine
    scan = scan_corpus(corpus)
    assert sorted(a.id for a in scan.articles) == ["interne", "vrai"]
    assert [path for path, _ in scan.skipped] == ["lien.md"] and "outside the corpus" in scan.skipped[0][1]
    allowed = scan_corpus(corpus, options=CorpusOptions(external_links=True))
    assert sorted(a.id for a in allowed.articles) == ["interne", "lien", "vrai"]


def test_a_one_megabyte_single_line_body_is_cut_to_the_chunk_cap(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from retrieval.index.chunking import chunk_article

    settings = load_settings(corpus_dir=tmp_path, data_dir=tmp_path / ".data")
    front(tmp_path / "enorme.md", "title: Énorme", "mot " * 250_000)
    with caplog.at_level(logging.WARNING):
        [article] = scan_corpus(tmp_path, options=CorpusOptions.from_settings(settings)).articles
    chunks = chunk_article(article, settings.chunk.size, settings.chunk.overlap)
    assert 0.5 * settings.article_max_chunks <= len(chunks) <= settings.article_max_chunks
    assert any("enorme.md" in r.getMessage() and "cut" in r.getMessage() for r in caplog.records)
    small = scan_corpus(tmp_path, options=CorpusOptions.from_settings(load_settings(article_max_chunks=10)))
    assert len(chunk_article(small.articles[0], settings.chunk.size, settings.chunk.overlap)) <= 10


@pytest.mark.parametrize("url", ["http://[::1", "http://example.org:99999/x", "ftp://example.org/", "http:///x"])
def test_a_malformed_url_is_one_failed_line(tmp_path: Path, url: str) -> None:
    [result] = add_urls(loopback_settings(tmp_path), [url])  # before: ValueError out of `newsbot add`
    assert result.status == "failed" and result.reason and "\n" not in result.reason

"""``newsbot add`` and ``newsbot feeds`` against the loopback news site (tests/support/newsite.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.support.fake_service import FakeService
from tests.support.newsite import BUDGET, CANICULE, GREVE, NewsSite


@pytest.fixture
def site():
    with NewsSite() as s:
        yield s


@pytest.fixture
def env(tmp_path: Path, site: NewsSite, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "feeds.txt").write_text(f"{site.url('/rss.xml')}\n{site.url('/atom.xml')}\n{site.url('/absent.xml')}\n")
    monkeypatch.setenv("NEWSBOT_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSBOT_FEEDS_FILE", str(tmp_path / "feeds.txt"))
    monkeypatch.setenv("NEWSBOT_HTTP_TIMEOUT", "1")
    monkeypatch.setenv("NEWSBOT_HTTP_ALLOW_HOSTS", "127.0.0.1")  # the news site is on loopback
    return tmp_path


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeService:
    service = FakeService()
    monkeypatch.setattr("retrieval.service.open_service", lambda settings, **kw: service)
    return service


def corpus_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "corpus").rglob("*.md"))


def test_add_writes_reports_and_reindexes_once(site: NewsSite, env: Path, fake: FakeService, capsys) -> None:
    status = main(["add", site.url(BUDGET.path), site.url(GREVE.path), site.url("/amp/budget-2026")])
    out, err = capsys.readouterr()
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("added 127.0.0.1/budget-2026") and BUDGET.title in lines[0]
    assert lines[1].startswith("added 127.0.0.1/greve")
    assert lines[2].startswith(f"known {site.url('/amp/budget-2026')}: same text as")
    assert "2 added" in lines[3]  # the reindex summary
    assert err == ""
    assert fake.reindexed == 1
    assert len(corpus_files(env)) == 2
    assert sorted(fake.reindexed_paths) == corpus_files(env)  # the files written, alone


def test_add_json_and_nothing_new_means_no_reindex(site: NewsSite, env: Path, fake: FakeService, capsys) -> None:
    assert main(["add", "--json", site.url(BUDGET.path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["added"] == 1 and data["results"][0]["status"] == "added"
    assert data["reindex"]["added"] == 2  # the fake's report
    assert main(["add", "--json", site.url(BUDGET.path + "?utm_source=x")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["known"] == 1 and data["reindex"] is None
    assert fake.reindexed == 1


def test_add_failures_are_one_line_each_and_exit_1(site: NewsSite, env: Path, fake: FakeService, capsys) -> None:
    status = main(["add", site.url("/introuvable"), site.url("/document.pdf"), site.url("/rubrique/politique"),
                   site.url("/lent")])
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("failed ") for line in lines)
    assert "Traceback" not in err
    assert fake.reindexed == 0
    assert corpus_files(env) == []


def test_add_with_a_non_url_is_a_usage_error(site: NewsSite, env: Path, fake: FakeService, capsys) -> None:
    status = main(["add", site.url("/introuvable"), "ftp://exemple.fr/x", "exemple.fr/article"])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "'ftp://exemple.fr/x'" in err and "'exemple.fr/article'" in err
    assert corpus_files(env) == [] and fake.reindexed == 0  # nothing fetched


def test_feeds_report_and_reindex(site: NewsSite, env: Path, fake: FakeService, capsys) -> None:
    status = main(["feeds"])
    out, err = capsys.readouterr()
    assert status == 1  # one feed failed
    assert f"failed feed {site.url('/absent.xml')}: HTTP 404" in err
    assert f"feed {site.url('/rss.xml')}: 2 new entries" in out
    assert "entries: 4 added, 0 already known, 0 failed" in out
    assert fake.reindexed == 1
    (env / "feeds.txt").write_text(f"{site.url('/rss.xml')}\n{site.url('/atom.xml')}\n")
    assert main(["feeds", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [f["status"] for f in data["feeds"]] == ["not modified", "not modified"]
    assert data["added"] == 0 and data["reindex"] is None
    assert fake.reindexed == 1


def test_feeds_without_a_feeds_file_is_one_line(env: Path, fake: FakeService, capsys, monkeypatch) -> None:
    monkeypatch.setenv("NEWSBOT_FEEDS_FILE", str(env / "nope.txt"))
    assert main(["feeds"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsbot: no feeds file") and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_added_article_is_answered_with_its_title_date_and_url(
    site: NewsSite, env: Path, models_dir: Path, small_embeddings
) -> None:
    """End to end: `newsbot add` in a real process, then the real service answers about the article."""
    extra = {
        "NEWSBOT_EMBEDDING_MODEL": "packaged:all-minilm-l6-v2",
        "NEWSBOT_EMBEDDING_QUANTIZE": "false",
        "NEWSBOT_MODEL_DIR": str(models_dir),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "add", "--json", site.url(BUDGET.path), site.url(GREVE.path),
         site.url(CANICULE.path)],
        capture_output=True, text=True, env={**os.environ, **extra}, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["added"] == 3 and data["reindex"]["added"] == 3

    from bot.settings import load_settings
    from retrieval.service import open_service

    settings = load_settings(**{k.removeprefix("NEWSBOT_").lower(): v for k, v in extra.items()})
    service = open_service(settings, embeddings=small_embeddings)
    answer = service.ask("Combien de milliards d'euros d'économies prévoit le budget 2026 ?")
    top = answer.sources[0]
    assert (top.title, top.date, top.url) == (BUDGET.title, BUDGET.date, site.url(BUDGET.path))
    assert not answer.refused and top.cited
    assert "40 milliards" in answer.answer
    latest = service.latest(3)
    assert [a.title for a in latest][0] == BUDGET.title  # the newest article first

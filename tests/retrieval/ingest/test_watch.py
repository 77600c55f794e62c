"""retrieval.ingest.watch: the corpus folder is watched and reindexed on change."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from retrieval.errors import ArticleError, IndexMissing
from retrieval.ingest.watch import CorpusFilter, awatch_corpus, watch_corpus
from retrieval.settings import load_settings
from retrieval.types import ReindexReport
from tests.conftest import write_article


class CountingService:
    """Stands in for AnsweringService: counts reindexes; can be told to fail once."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail_next = False

    def reindex(self, **_: object) -> ReindexReport:
        self.calls += 1
        if self.fail_next:
            self.fail_next = False
            raise IndexMissing("no index yet")
        return ReindexReport(added=[f"call-{self.calls}"])


def wait_for(condition, timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def quick(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    return load_settings(corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "data", watch_debounce=0.3)


def start(service, settings, reports: list) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=watch_corpus, args=(service, settings, reports.append, stop), daemon=True)
    thread.start()
    time.sleep(0.5)  # let the watcher start
    return thread, stop


def test_filter_keeps_articles_and_ignores_hidden_and_other_files(tmp_path: Path) -> None:
    from watchfiles import Change

    f = CorpusFilter(tmp_path)
    assert f(Change.added, str(tmp_path / "lemonde.fr" / "article.md"))
    assert f(Change.modified, str(tmp_path / "a.html"))
    assert f(Change.deleted, str(tmp_path / "lemonde.fr"))  # a whole folder removed
    assert not f(Change.added, str(tmp_path / "lemonde.fr" / ".article.md.x1.tmp"))  # atomic-write temp file
    assert not f(Change.added, str(tmp_path / "_drafts" / "a.md"))
    assert not f(Change.added, str(tmp_path / "notes.docx"))
    (tmp_path / "new-site").mkdir()
    assert f(Change.added, str(tmp_path / "new-site"))  # files written into it may raise no event
    assert not f(Change.modified, str(tmp_path / ".git" / "index"))


def test_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    settings = load_settings(corpus_dir=tmp_path / "nowhere", data_dir=tmp_path / "data")
    with pytest.raises(ArticleError, match="does not exist"):
        watch_corpus(CountingService(), settings, print, threading.Event())


def test_a_burst_of_changes_gives_one_reindex_and_stop_event_stops(quick) -> None:
    service, reports = CountingService(), []
    thread, stop = start(service, quick, reports)
    for n in range(10):
        write_article(quick.corpus_dir, f"site/a{n}", f"Article {n}", "Texte.")
    assert wait_for(lambda: service.calls >= 1)
    time.sleep(1.0)
    assert service.calls == 1 and len(reports) == 1
    (quick.corpus_dir / ".hidden.md.tmp").write_text("x")  # ignored
    (quick.corpus_dir / "notes.docx").write_text("x")  # ignored
    time.sleep(1.0)
    assert service.calls == 1
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_failed_reindex_is_logged_and_watching_goes_on(quick, caplog) -> None:
    service, reports = CountingService(), []
    service.fail_next = True
    thread, stop = start(service, quick, reports)
    try:
        write_article(quick.corpus_dir, "a", "A", "Texte.")
        assert wait_for(lambda: service.calls == 1)
        time.sleep(0.5)
        write_article(quick.corpus_dir, "b", "B", "Texte.")
        assert wait_for(lambda: len(reports) == 1)
        assert "reindexing after a change failed" in caplog.text
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


async def test_async_variant_reindexes_off_the_loop_and_stops(quick) -> None:
    service, reports = CountingService(), []
    threads: list[str] = []

    def run_blocking(fn):
        def call():
            threads.append(threading.current_thread().name)
            return fn()

        return asyncio.to_thread(call)

    async def on_report(report: ReindexReport) -> None:
        reports.append(report)

    stop = asyncio.Event()
    task = asyncio.create_task(awatch_corpus(service, quick, on_report, run_blocking, stop_event=stop))
    await asyncio.sleep(0.5)
    write_article(quick.corpus_dir, "a", "A", "Texte.")
    for _ in range(160):
        if reports:
            break
        await asyncio.sleep(0.05)
    assert len(reports) == 1 and service.calls == 1
    assert threads and threads[0] != threading.current_thread().name
    stop.set()
    await asyncio.wait_for(task, timeout=5)


@pytest.mark.slow
def test_the_real_index_follows_the_corpus(settings_factory, small_embeddings) -> None:
    """A real service on a tmp corpus: added, changed and removed files reach the index."""
    from retrieval.service import open_service

    settings = settings_factory(watch_debounce=0.3)
    service = open_service(settings, create=True, embeddings=small_embeddings)
    service.reindex()
    titles = lambda: {info.article_id: info.title for info in service.latest(50)}  # noqa: E731
    assert "nouvelles/velo" not in titles()
    reports: list[ReindexReport] = []
    thread, stop = start(service, settings, reports)
    try:
        started = time.monotonic()
        write_article(
            settings.corpus_dir, "nouvelles/velo", "Le vélo progresse à Paris",
            "La part du vélo dans les déplacements parisiens a doublé en cinq ans, selon la mairie.",
            date="2025-09-20", url="https://example.org/velo",
        )
        assert wait_for(lambda: "nouvelles/velo" in titles())
        added_after = time.monotonic() - started
        print(f"watch: article indexed {added_after:.2f} s after it was written")
        answer = service.ask("Quelle est la part du vélo dans les déplacements à Paris ?")
        assert any(s.article_id == "nouvelles/velo" and s.url == "https://example.org/velo" for s in answer.sources)

        write_article(settings.corpus_dir, "nouvelles/velo", "Le vélo double à Paris", "Texte mis à jour sur le vélo.")
        assert wait_for(lambda: titles().get("nouvelles/velo") == "Le vélo double à Paris")

        (settings.corpus_dir / "nouvelles" / "velo.md").unlink()
        assert wait_for(lambda: "nouvelles/velo" not in titles())
        (settings.corpus_dir / "2025" / "08" / "petrole.md").unlink()
        assert wait_for(lambda: "2025/08/petrole" not in titles())
        assert "alaska-summit" in titles()
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert reports and added_after < 5


def test_a_burst_naming_article_files_reindexes_those_alone(tmp_path: Path) -> None:
    from watchfiles import Change

    from retrieval.ingest.watch import changed_files

    a, b = tmp_path / "a.md", tmp_path / "fil" / "b.html"
    assert changed_files({(Change.added, str(a)), (Change.modified, str(a)), (Change.deleted, str(b))}) == sorted([a, b])
    (tmp_path / "new").mkdir()  # a folder came (its files raise no event) or went: every file is looked at
    assert changed_files({(Change.added, str(a)), (Change.added, str(tmp_path / "new"))}) is None
    assert changed_files({(Change.deleted, str(tmp_path / "old"))}) is None

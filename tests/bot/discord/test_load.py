"""Load through the bot's real answering path (CI size; ``benchmarks/load.py`` runs a bigger one).

Real NewsBot message handling, fake Discord REST layer, the REAL answering service with
the small packaged model and a real embedded Chroma index.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.settings import load_settings
from retrieval.service import open_service
from tests.conftest import REPO
from tests.support.load_harness import mixed_questions, run_load, write_generated_articles

pytestmark = pytest.mark.slow

QUESTIONS, USERS, ARTICLES = 30, 10, 60


@pytest.fixture
def service(tmp_path: Path, models_dir: Path, small_embeddings: Any) -> Any:
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    settings = load_settings(
        embedding_model="packaged:all-minilm-l6-v2", embedding_quantize=False, data_dir=tmp_path / "data",
        model_dir=models_dir, corpus_dir=corpus, discord_sync_commands=False, discord_rate_limit=1000,
        embedding_batch_size=4,  # commits of ~64 chunks: many commits while questions run
    )
    svc = open_service(settings, create=True, embeddings=small_embeddings)
    svc.reindex()
    return svc


async def test_concurrent_users_all_answered(service: Any, monkeypatch: Any) -> None:
    result = await run_load(service, service.settings, monkeypatch, mixed_questions(QUESTIONS), users=USERS)
    print("\n".join(result.lines(f"{QUESTIONS} questions, {USERS} users")))
    assert result.answered == QUESTIONS and result.lost == 0 and result.failed == 0
    assert result.cited >= QUESTIONS // 2  # most questions are about the corpus
    assert result.worst_lag_ms < 250, result  # the model works in threads, never on the loop
    assert result.violations == []


async def test_answers_keep_coming_during_a_reindex(service: Any, monkeypatch: Any) -> None:
    generated = write_generated_articles(service.settings.corpus_dir, ARTICLES)
    result = await run_load(
        service, service.settings, monkeypatch, mixed_questions(QUESTIONS, ARTICLES), users=USERS,
        reindex=service.reindex, generated_ids=generated,
        switch_delay=0.5,  # chunks written, records not yet: the window a leak would show in
    )
    print("\n".join(result.lines(f"{QUESTIONS} questions, {USERS} users, reindex of {ARTICLES} articles")))
    assert result.questions >= QUESTIONS
    assert result.answered == result.questions and result.lost == 0 and result.failed == 0
    assert result.reindex_added == ARTICLES
    assert result.answers_during_reindex >= 1  # answering does not wait for the reindex
    assert result.violations == [], result.violations  # nothing half-indexed is ever cited
    assert result.cited_generated >= 1  # and articles committed during the run were cited (checked)
    # the reindex competes for the GIL (tokenising, Chroma): the loop lags more, but far below
    # what would matter (Discord's heartbeat interval is ~41 s)
    assert result.worst_lag_ms < 2000, result
    # afterwards the index is complete and the generated articles are found
    ids = service.store.chunk_ids()
    assert len(ids) == len(set(ids))
    assert len(service.latest(1000)) == ARTICLES + len(list((REPO / "corpus").glob("*.md")))


def test_the_citation_check_catches_an_uncommitted_article() -> None:
    """The checker itself: an answer citing an article whose record was never written is reported."""
    from types import SimpleNamespace

    from retrieval.index.store import ManifestEntry
    from retrieval.types import Answer, Source
    from tests.support.load_harness import CheckedService, CommitLog

    class Collection:
        def get(self, *, where: Any, include: Any) -> dict[str, list[str]]:
            return {"ids": ["a:h:0"]}

    class Store:
        records = SimpleNamespace(upsert=lambda **kwargs: None)
        vectors = Collection()

        def manifest(self) -> dict[str, ManifestEntry]:
            return {"a": ManifestEntry("a", "h", "A", None, None, 2, "")}

    def cite(article_id: str) -> Answer:
        source = Source(n=1, article_id=article_id, chunk_id=f"{article_id}:h:0", title="T", date=None, url=None,
                        text="x", score=1.0, cited=True)
        return Answer(question="q", answer="x [1]", refused=False, sources=[source])

    store = Store()
    commits = CommitLog(store)
    store.manifest = lambda: {}  # type: ignore[method-assign]
    checked = CheckedService(SimpleNamespace(store=store, ask=lambda q, h, on_token, scope: cite("b")), commits)
    checked.ask("q")
    assert checked.violations == ["'q' cites b, not committed yet", "'q' cites b, absent from the manifest"]
    store.manifest = lambda: {"a": ManifestEntry("a", "h", "A", None, None, 2, "")}  # type: ignore[method-assign]
    checked = CheckedService(SimpleNamespace(store=store, ask=lambda q, h, on_token, scope: cite("a")), commits)
    checked.ask("q")
    assert checked.violations == ["'q' cites a:h:0: 1 chunks indexed of 2"]  # one chunk missing

"""The engine end to end: real model (the small packaged one), real embedded Chroma."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.errors import ArticleError, IndexMismatch, IndexMissing, InvalidQuestion
from retrieval.service import open_service
from retrieval.types import Turn
from tests.conftest import write_article, write_uncommitted_article

pytestmark = pytest.mark.slow


@pytest.fixture
def service(settings_factory, small_embeddings):
    settings = settings_factory()
    svc = open_service(settings, create=True, embeddings=small_embeddings)
    svc.reindex()
    return svc


def chunk_ids(service) -> list[str]:
    return service.store.chunk_ids()


def test_no_index_yet(settings_factory, small_embeddings) -> None:
    with pytest.raises(IndexMissing, match="newsbot reindex"):
        open_service(settings_factory(), embeddings=small_embeddings)


def test_reindex_is_incremental(service, corpus: Path) -> None:
    first = service.store.count()
    assert first >= 5
    report = service.reindex()
    assert report.to_dict() == {"added": 0, "updated": 0, "removed": 0, "unchanged": 3, "skipped": 0, "chunks": first}
    assert report.embedded == 0

    write_article(corpus, "nouveau", "Un nouvel article", "La Chine achète davantage de pétrole russe.")
    path = corpus / "2025" / "08" / "petrole.md"
    path.write_text(path.read_text(encoding="utf-8").replace("27 %", "31 %"), encoding="utf-8")
    (corpus / "2025" / "08" / "sanctions.md").unlink()
    (corpus / "broken.md").write_bytes(b"\x00\x00")
    report = service.reindex()
    assert report.added == ["nouveau"]
    assert report.updated == ["2025/08/petrole"]
    assert report.removed == ["2025/08/sanctions"]
    assert report.unchanged == ["alaska-summit"]
    assert report.skipped and report.skipped[0][0] == "broken.md"
    ids = chunk_ids(service)
    assert len(ids) == len(set(ids)) == report.chunks
    assert not [i for i in ids if i.startswith("2025/08/sanctions:")]
    answer = service.ask("De combien ont chuté les recettes pétrolières de la Russie ?")
    assert "31 %" in answer.answer and "27 %" not in answer.answer


def test_unreadable_file_keeps_its_indexed_version(service, corpus: Path) -> None:
    (corpus / "2025" / "08" / "petrole.md").write_bytes(b"\xff\xfe garbage")
    report = service.reindex()
    assert report.removed == []
    assert [p for p, _ in report.skipped] == ["2025/08/petrole.md"]
    assert any(a.article_id == "2025/08/petrole" for a in service.latest(10))


def test_cited_answer_with_sources(service) -> None:
    answer = service.ask("Quel est le nouveau plafond du prix du pétrole russe ?")
    assert not answer.refused
    assert "47,6 dollars" in answer.answer
    assert "[" in answer.answer
    cited = answer.cited_sources
    assert cited and cited[0].article_id == "2025/08/sanctions"
    assert cited[0].url == "https://example.org/sanctions" and cited[0].date == "2025-07-18"
    assert f"[{cited[0].n}]" in answer.answer
    assert cited[0].chunk_id.startswith("2025/08/sanctions:")
    assert len(answer.sources) <= service.settings.k
    assert [s.n for s in answer.sources] == list(range(1, len(answer.sources) + 1))
    scores = [s.score for s in answer.sources]
    assert scores == sorted(scores, reverse=True)
    # every cited chunk is a real chunk of the index
    assert {s.chunk_id for s in cited} <= set(chunk_ids(service))
    assert answer.answer.count("[") <= 3


def test_unanswerable_question_is_refused(service) -> None:
    for question in ("Quel temps fera-t-il à Marseille demain ?", "Who won the football world cup in 1998?"):
        answer = service.ask(question)
        assert answer.refused, answer.answer
        assert not answer.cited_sources
        assert "[" not in answer.answer


def test_follow_up_uses_the_conversation(service) -> None:
    first = service.ask("Avec quels pays Poutine veut-il des alliances stratégiques ?")
    follow = service.ask("et la Chine ?", [Turn(first.question, first.answer)])
    assert follow.standalone_question and "Poutine" in follow.standalone_question
    assert "Chine" in follow.answer and not follow.refused


def test_questions_are_validated(service) -> None:
    with pytest.raises(InvalidQuestion, match="empty"):
        service.ask(" \n\t\x00 ")
    with pytest.raises(InvalidQuestion, match="too long"):
        service.ask("a" * (service.settings.max_question_chars + 1))
    for wordless in ("?", "🙂🙂", "… !"):
        with pytest.raises(InvalidQuestion, match="no words"):
            service.ask(wordless)
    answer = service.ask("Pourquoi\x00 l'Alaska\u202e ?")
    assert answer.question == "Pourquoi l'Alaska ?"


def test_another_model_is_refused(settings_factory, service, small_embeddings) -> None:
    other = settings_factory(embedding_model="some/other-model")
    with pytest.raises(IndexMismatch, match="--rebuild"):
        open_service(other, embeddings=small_embeddings)


def test_half_written_article_is_invisible(service, corpus: Path) -> None:
    """Chunks written without their manifest record are never retrieved, and cleaned later."""
    write_uncommitted_article(service, corpus)  # chunks of "secret", no manifest record
    answer = service.ask("Où apparaît le mot zanzibarien ?")
    assert all(s.article_id != "secret" for s in answer.sources)
    report = service.reindex()
    assert report.added == ["secret"]
    ids = chunk_ids(service)
    assert len(ids) == len(set(ids))
    assert any(s.article_id == "secret" for s in service.ask("Où apparaît le mot zanzibarien ?").cited_sources)


def test_crash_between_articles_then_rerun(service, corpus: Path, monkeypatch) -> None:
    for i in range(6):
        write_article(corpus, f"lot/{i}", f"Article {i}", f"Le numéro {i} parle de la guerre en Ukraine. " * 5)
    original = service.store.write_articles

    def crashing(items, **kwargs):
        original(items[:2], **kwargs)  # two articles committed, then the process is stopped
        service.store.stage_vectors(items[2:3])  # the third one's chunks are staged, not committed
        service.store.stage_lexical(items[2:3])
        raise KeyboardInterrupt

    monkeypatch.setattr(service.store, "write_articles", crashing)
    with pytest.raises(KeyboardInterrupt):
        service.reindex()
    assert service.store.is_dirty()
    monkeypatch.setattr(service.store, "write_articles", original)
    report = service.reindex()
    assert len(report.added) == 4  # the two committed before the crash are unchanged
    ids = chunk_ids(service)
    assert len(ids) == len(set(ids)) == report.chunks
    assert len(service.latest(100)) == 9
    assert not service.store.is_dirty()
    # the lexicon holds exactly the committed chunks (the staged ones were cleaned up)
    assert sorted(service.store.lexicon.rows(ids)) == sorted(ids) and service.store.lexicon.count() == len(ids)


def test_rebuild_starts_over(service, settings_factory, small_embeddings) -> None:
    count = service.store.count()
    svc = open_service(settings_factory(), rebuild=True, embeddings=small_embeddings)
    assert svc.store.count() == 0
    report = svc.reindex()
    assert len(report.added) == 3 and report.chunks == count


def test_latest_lists_newest_first(service) -> None:
    latest = service.latest(2)
    assert [a.article_id for a in latest] == ["2025/08/petrole", "2025/08/sanctions"]
    assert latest[1].url == "https://example.org/sanctions"


def test_langchain_retriever_carries_metadata(service) -> None:
    docs = service.retriever.invoke("plafond du prix du pétrole")
    assert docs and docs[0].metadata["chunk_id"] == docs[0].id
    assert {"article_id", "title", "score", "chunk_id"} <= set(docs[0].metadata)


def test_killed_reindex_leaves_a_complete_index(settings_factory, corpus: Path, tmp_path: Path, models_dir) -> None:
    """A real `newsbot reindex` process is killed after its first commit, then run again."""
    for i in range(30):
        write_article(corpus, f"lot/{i:02d}", f"Article {i}", f"Le numéro {i} parle de sanctions. " * 40)
    env = {
        **os.environ,
        "NEWSBOT_EMBEDDING_MODEL": "packaged:all-minilm-l6-v2",
        "NEWSBOT_EMBEDDING_QUANTIZE": "false",
        "NEWSBOT_EMBEDDING_BATCH_SIZE": "4",
        "NEWSBOT_DATA_DIR": str(tmp_path / "killed"),
        "NEWSBOT_MODEL_DIR": str(models_dir),
        "NEWSBOT_CORPUS_DIR": str(corpus),
    }
    cmd = [sys.executable, "-m", "bot.cli", "-v", "reindex", "--json"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "committed" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    done = subprocess.run(cmd[:3] + ["reindex", "--json"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["added"] + report["unchanged"] == 33 and report["added"] < 33
    again = json.loads(subprocess.run(cmd[:3] + ["reindex", "--json"], env=env, capture_output=True, text=True).stdout)
    assert again["unchanged"] == 33 and again["chunks"] == report["chunks"]
    import chromadb

    client = chromadb.PersistentClient(path=str(tmp_path / "killed" / "index"))
    ids = client.get_collection("newsbot").get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == report["chunks"]


def test_a_second_writer_waits_for_the_first(service, corpus: Path, caplog) -> None:
    import threading

    from retrieval.locks import file_lock

    write_article(corpus, "attente", "Un article de plus", "La Chine achète davantage de pétrole russe.")
    index = service.settings.index_path
    done = threading.Event()
    with file_lock(index.parent / f".{index.name}.write-lock"):  # as another process would hold it
        worker = threading.Thread(target=lambda: (service.reindex(), done.set()))
        worker.start()
        assert not done.wait(1.0)  # waits while the other writer holds the index
    worker.join(timeout=120)
    assert done.is_set()
    assert any("another newsbot process is writing the index" in r.message for r in caplog.records)
    assert any(a.article_id == "attente" for a in service.latest(10))


def test_an_index_from_before_chunks_recorded_their_language_is_given_it_once(service) -> None:
    store = service.store
    ids = store.chunk_ids()
    store.vectors.update(ids=ids, metadatas=[{"language": None}] * len(ids))  # None removes a key
    meta = store._meta()
    meta["chunk_languages"] = False
    store.records.modify(metadata=meta)
    assert all("language" not in m for _, m in store.chunks(ids).values())
    before = service.ask("Où aura lieu la rencontre entre Poutine et Trump ?")  # told from the texts meanwhile
    service.reindex()
    assert {m.get("language") for _, m in store.chunks(ids).values()} <= {"fr", "en"}
    assert all(m.get("language") and m.get("article_id") for _, m in store.chunks(ids).values())  # merged, not replaced
    assert store.record_chunk_languages() == 0  # once
    assert service.ask("Où aura lieu la rencontre entre Poutine et Trump ?").answer == before.answer


def test_a_reindex_of_given_files_looks_at_them_alone(service, corpus: Path, monkeypatch) -> None:
    from retrieval.ingest import corpus as corpus_module

    read: list[str] = []
    original = corpus_module.read_article
    monkeypatch.setattr(corpus_module, "read_article", lambda p, *a, **k: read.append(p.name) or original(p, *a, **k))
    manifest_reads: list[int] = []
    full_manifest = service.store.manifest
    monkeypatch.setattr(service.store, "manifest", lambda *a, **k: manifest_reads.append(1) or full_manifest(*a, **k))
    write_article(corpus, "fil/nouveau", "Un nouvel article", "La Chine achète davantage de pétrole russe via Zanzibar.")
    edited = corpus / "2025" / "08" / "petrole.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("27 %", "31 %"), encoding="utf-8")
    gone = corpus / "2025" / "08" / "sanctions.md"
    gone.unlink()
    # as `newsbot reindex PATH…` does (an answering process also brings its coverage up to date)
    report = service.reindex(
        paths=[corpus / "fil" / "nouveau.md", edited, gone, corpus / "fil" / ".tmp-x.md"], answering=False
    )
    assert (report.added, report.updated, report.removed) == (["fil/nouveau"], ["2025/08/petrole"], ["2025/08/sanctions"])
    assert sorted(read) == ["nouveau.md", "petrole.md"] and manifest_reads == []  # nothing else looked at
    ids = chunk_ids(service)
    assert len(ids) == len(set(ids)) == report.chunks
    assert not [i for i in ids if i.startswith("2025/08/sanctions:")]
    assert any(s.article_id == "fil/nouveau" for s in service.ask("Par où passe le pétrole russe acheté par la Chine ?").cited_sources)
    # the next whole reindex checks every file once and finds nothing more to do
    monkeypatch.undo()
    assert service.reindex().to_dict() == {
        "added": 0, "updated": 0, "removed": 0, "unchanged": 3, "skipped": 0, "chunks": report.chunks,
    }


def test_given_files_that_only_a_whole_scan_can_judge_take_it(service, corpus: Path) -> None:
    write_article(corpus, "fil/a", "A", "Le premier texte sur la guerre en Ukraine. " * 3)
    write_article(corpus, "fil/b", "B", "Le second texte sur la guerre en Ukraine. " * 3)
    report = service.reindex(paths=[corpus / "fil"])  # a folder: every file is looked at
    assert report.added == ["fil/a", "fil/b"] and len(report.unchanged) == 3
    with pytest.raises(ArticleError, match="not a file of the corpus folder"):
        service.reindex(paths=[corpus.parent / "elsewhere.md"])


def test_after_a_reindex_of_given_files_an_unchanged_corpus_is_still_found_by_its_file_times(
    service, corpus: Path, monkeypatch
) -> None:
    import time

    old = time.time() - 60
    for path in corpus.rglob("*.md"):
        os.utime(path, (old, old))
    service.reindex(full_check=True)  # every file's size and time remembered
    new = write_article(corpus, "fil/nouveau", "Un nouvel article", "La Chine achète davantage de pétrole russe.")
    os.utime(new, (old, old))  # written a while ago (a file of the last seconds is not trusted by its time)
    assert service.reindex(paths=[new], answering=False).added == ["fil/nouveau"]
    manifest_reads: list[int] = []
    full_manifest = service.store.manifest
    monkeypatch.setattr(service.store, "manifest", lambda *a, **k: manifest_reads.append(1) or full_manifest(*a, **k))
    report = service.reindex(answering=False)
    assert len(report.unchanged) == 4 and manifest_reads == []  # the file times alone told it


def test_warm_up_has_chroma_load_its_vectors_beside_the_model(service, monkeypatch, caplog) -> None:
    import threading

    store = service.store
    loaded, manifest = store.load_vectors, store.load_manifest
    threads: list[str] = []
    monkeypatch.setattr(store, "load_vectors", lambda: (threads.append(threading.current_thread().name), loaded()))
    monkeypatch.setattr(store, "load_manifest", lambda: (threads.append(threading.current_thread().name), manifest()))
    service.warm_up()
    assert sorted(threads) == ["newsbot-load-manifest", "newsbot-load-vectors"]  # both collections, side by side
    monkeypatch.setattr(store, "load_vectors", lambda: 1 / 0)  # a failure is the first question's to report
    service.warm_up()
    assert "could not be loaded" in caplog.text
    assert service.ask("Où a eu lieu le sommet entre Poutine et Trump ?").sources


def test_loading_the_vectors_of_an_empty_index_does_nothing(settings_factory, small_embeddings) -> None:
    empty = open_service(settings_factory(), create=True, embeddings=small_embeddings)
    empty.store.load_vectors()
    empty.store.load_manifest()


def test_the_manifest_ids_alone(service, monkeypatch) -> None:
    from retrieval.index import store as store_module

    monkeypatch.setattr(store_module, "_ID_PAGE", 2)  # several pages
    assert service.store.article_ids() == set(service.store.manifest()) and len(service.store.article_ids()) == 3


def test_totals_from_counts_when_clean_else_from_the_manifest(service, monkeypatch) -> None:
    store = service.store
    manifest = store.manifest()
    expected = (len(manifest), sum(e.chunks for e in manifest.values()), max(e.indexed_at for e in manifest.values()))
    reads: list[int] = []
    read = store.manifest
    monkeypatch.setattr(store, "manifest", lambda *a, **k: reads.append(1) or read(*a, **k))
    assert store.totals() == expected and reads == []  # counts and the last commit's time: no record read
    store.set_dirty(True)  # a reindex under way: staged chunks are not committed ones
    assert store.totals() == expected and reads == [1]
    store.set_dirty(False)
    meta = store._meta()
    del meta["committed_at"]  # an index from before the commit time was kept
    store.records.modify(metadata=meta)
    assert store.totals() == expected and reads == [1, 1]


def test_nothing_waiting_is_told_from_the_files_alone(service, corpus: Path, monkeypatch) -> None:
    import time

    from retrieval.index.indexer import Indexer

    old = time.time() - 60  # a file of the last seconds is not trusted by its time
    for path in corpus.rglob("*.md"):
        os.utime(path, (old, old))
    service.reindex(full_check=True)  # every file's size and time remembered
    monkeypatch.setattr(service.store, "manifest", lambda *a, **k: 1 / 0)
    plan = Indexer(service.store, service.settings).pending()
    assert not plan.to_embed and not plan.removed and len(plan.report.unchanged) == 3


def test_windows_are_read_along_the_records_keys(service, corpus: Path, monkeypatch) -> None:
    import datetime as dt

    from retrieval.digest.articles import in_window, window_entries
    from retrieval.digest.window import Window

    write_article(corpus, "fil/undated", "Sans date", "Un article sans date sur le pétrole russe.")
    service.reindex()
    store = service.store
    manifest = store.manifest()
    now = dt.datetime.now(dt.UTC)
    days = sorted({e.date[:10] for e in manifest.values() if e.date})
    first = dt.datetime.fromisoformat(days[0]).replace(tzinfo=dt.UTC)
    windows = [
        Window(since=now - dt.timedelta(hours=1)), Window(since=now + dt.timedelta(hours=1)),
        Window(until=now - dt.timedelta(hours=1)), Window(since=now - dt.timedelta(days=1), until=now),
        Window(since=first, by="published"), Window(until=first, by="published"),
        Window(since=first + dt.timedelta(days=1), until=first + dt.timedelta(days=400), by="published"),
    ]
    monkeypatch.setattr(store, "manifest", lambda *a, **k: 1 / 0)  # the keys alone
    for window in windows:
        expected = sorted(aid for aid, e in manifest.items() if in_window(e, window))
        assert sorted(e.article_id for e in window_entries(store, window)) == expected, window
    assert len(window_entries(store, windows[0])) == 4 and not window_entries(store, windows[1])


def test_an_index_from_before_the_window_keys_gets_them_once(service, monkeypatch) -> None:
    import datetime as dt

    store = service.store
    ids = list(store.manifest())
    store.records.update(ids=ids, metadatas=[{"arrived": None}] * len(ids))  # keys removed
    meta = store._meta()
    del meta["window_keys"]
    store.records.modify(metadata=meta)
    assert store.window(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), None) is None  # read the manifest then
    assert store.record_window_keys() == len(ids) and store.record_window_keys() == 0
    assert set(store.window(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), None) or {}) == set(ids)

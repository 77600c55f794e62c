"""The on-disk lexicon: written inside the commit, read per question, kept in step incrementally."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.service import open_service
from tests.conftest import write_article, write_uncommitted_article

pytestmark = pytest.mark.slow


@pytest.fixture
def service(settings_factory, small_embeddings):
    svc = open_service(settings_factory(), create=True, embeddings=small_embeddings)
    svc.reindex()
    return svc


def lexical_state(store) -> dict[str, str]:
    """chunk id -> article hash of every lexicon row."""
    db = store.lexicon._db()
    return dict(db.execute("SELECT chunk_id, article_hash FROM chunks").fetchall())


def test_changes_are_visible_at_once_without_a_full_read(service, corpus: Path, monkeypatch) -> None:
    write_article(corpus, "nouveau", "Le zanzibarien", "Le mot zanzibarien n'apparaît que dans cet article.")
    path = corpus / "2025" / "08" / "petrole.md"
    path.write_text(path.read_text(encoding="utf-8").replace("27 %", "31 %"), encoding="utf-8")
    (corpus / "2025" / "08" / "sanctions.md").unlink()
    service.reindex()
    # answering never pages through the collection: only candidates are read, by id
    from retrieval.index import store as store_module

    monkeypatch.setattr(store_module, "pages", lambda *a, **k: pytest.fail("answering read every record"))
    answer = service.ask("Où apparaît le mot zanzibarien ?")
    assert any(s.article_id == "nouveau" for s in answer.cited_sources)
    assert "31 %" in service.ask("De combien ont chuté les recettes pétrolières de la Russie ?").answer
    monkeypatch.undo()
    ids = service.store.chunk_ids()
    assert lexical_state(service.store) == {cid: cid.split(":")[1] for cid in ids}
    assert not [i for i in ids if i.startswith("2025/08/sanctions:")]


def test_bm25_matches_the_in_memory_index(service) -> None:
    """The lexicon's statistics and scores equal those of an in-memory BM25 over the same chunks."""
    import math

    from retrieval.search.lexical import ANALYZER, LexicalIndex, bm25

    ids = sorted(service.store.chunk_ids())
    stored = service.store.chunks(ids)
    memory = LexicalIndex([stored[cid][0] for cid in ids])
    view = service.retriever.view()
    assert view.size == memory.size == len(ids)
    query = "plafond du prix du pétrole russe sanctions"
    tokens = view.query_tokens(query)
    assert tokens and all(view.df([t])[t] == memory.df[t] for t in tokens)
    assert all(math.isclose(view.idf(t), memory.idf(t)) for t in ANALYZER.tokens(query))
    expected = memory.scored(query, len(ids))[0]
    rows = service.store.lexicon.rows(ids)
    idf = view.bm25_idf(tokens)
    for i, cid in enumerate(ids):
        assert math.isclose(bm25(tokens, rows[cid].tokens, idf, view.avgdl), float(expected[i]), rel_tol=1e-4)


def test_half_written_article_stays_invisible(service, corpus: Path) -> None:
    write_uncommitted_article(service, corpus)  # vectors and lexical rows of "secret", no manifest record
    assert any(cid.startswith("secret:") for cid in lexical_state(service.store))
    assert all(s.article_id != "secret" for s in service.ask("Où apparaît le mot zanzibarien ?").sources)
    service.store.set_dirty(True)  # as the killed run would have left it
    service.reindex()
    assert any(s.article_id == "secret" for s in service.ask("Où apparaît le mot zanzibarien ?").cited_sources)


def test_a_fresh_lexicon_is_brought_in_step_incrementally(
    service, settings_factory, small_embeddings, corpus, monkeypatch
) -> None:
    """Another machine (or an index from before the lexicon): built once from Chroma, then kept in step."""
    from retrieval.index.store import IndexStore

    expected = lexical_state(service.store)
    service.store.lexicon.drop()
    # the chunks are read by their ids, not article by article through a `where` (hours at 662k chunks)
    monkeypatch.setattr(IndexStore, "chunks_of_article", lambda *a: pytest.fail("read article by article"))
    other = open_service(settings_factory(), embeddings=small_embeddings)
    assert lexical_state(other.store) == expected
    monkeypatch.undo()
    assert other.refresh() == 0  # in step: nothing to do
    write_article(corpus, "nouveau", "Le zanzibarien", "Le mot zanzibarien n'apparaît que dans cet article.")
    service.reindex()
    assert other.refresh() == 0  # the writer on this machine wrote the shared lexicon itself
    # a lexicon missing the new article (as on another machine) catches up from the manifest since its generation
    other.store.lexicon.remove_articles(["nouveau"])
    other.store.lexicon.set_synced(other.store.generation() - 1)
    assert other.refresh() == 1
    assert lexical_state(other.store) == lexical_state(service.store)


def test_dirty_mark_and_orphan_scan(service, corpus: Path, monkeypatch) -> None:
    assert not service.store.is_dirty()
    scans: list[int] = []
    original = service.store.remove_orphans
    monkeypatch.setattr(service.store, "remove_orphans", lambda m: scans.append(1) or original(m))
    write_article(corpus, "nouveau", "Un nouvel article", "La Chine achète davantage de pétrole russe.")
    service.reindex()
    assert scans == [] and not service.store.is_dirty()  # a clean run needs no full scan
    service.store.set_dirty(True)  # as if a run had been killed
    service.reindex()
    assert scans == [1] and not service.store.is_dirty()


def test_batched_writes_replace_old_versions(service, corpus: Path) -> None:
    for i in range(5):
        write_article(corpus, f"lot/{i}", f"Article {i}", f"Le numéro {i} parle de sanctions. " * 30)
    service.reindex()
    for i in range(5):
        write_article(corpus, f"lot/{i}", f"Article {i}", f"Le numéro {i} parle de pétrole. " * 30)
    report = service.reindex()
    assert len(report.updated) == 5
    ids = service.store.chunk_ids()
    assert len(ids) == len(set(ids)) == report.chunks
    hashes = {e.article_id: e.article_hash for e in service.store.manifest().values()}
    assert all(i.split(":")[1] == hashes[i.split(":")[0]] for i in ids)
    assert lexical_state(service.store) == {cid: cid.split(":")[1] for cid in ids}


def test_unchanged_reindex_reads_no_file(service, corpus: Path, monkeypatch) -> None:
    import os
    import time

    old = time.time() - 60
    for path in corpus.rglob("*.md"):
        os.utime(path, (old, old))
    service.reindex(full_check=True)  # reads every file, remembers sizes and times
    from retrieval.ingest import corpus as corpus_module

    read: list[str] = []
    original = corpus_module.read_article
    monkeypatch.setattr(corpus_module, "read_article", lambda p, *a, **k: read.append(p.name) or original(p, *a, **k))
    report = service.reindex()
    assert read == [] and len(report.unchanged) == 3
    path = corpus / "2025" / "08" / "petrole.md"
    path.write_text(path.read_text(encoding="utf-8").replace("27 %", "31 %"), encoding="utf-8")
    report = service.reindex()
    assert read == ["petrole.md"] and report.updated == ["2025/08/petrole"]
    read.clear()
    service.reindex(full_check=True)
    assert len(read) == 3  # forced: every file hashed again


def _age(corpus: Path) -> None:
    import os
    import time

    old = time.time() - 60
    for path in corpus.rglob("*.md"):
        os.utime(path, (old, old))


def test_an_unchanged_reindex_does_not_read_the_manifest_but_any_change_does(service, corpus: Path, monkeypatch) -> None:
    _age(corpus)
    first = service.reindex(full_check=True)  # remembers the files, marked with the generation
    reads: list[int | None] = []  # whole reads of the manifest (the coverage reads only what is new)
    original = service.store.manifest
    monkeypatch.setattr(
        service.store, "manifest",
        lambda **kw: (reads.append(None) if kw.get("since") is None else None) or original(**kw),
    )

    report = service.reindex()
    assert reads == [] and len(report.unchanged) == 3 and report.chunks == first.chunks == service.store.count()

    # a new file, a removed one, a touched one: the whole path, which sees them
    path = write_article(corpus, "2025/09/nouveau", "Nouveau", "Un article de plus sur le pétrole russe.")
    report = service.reindex()
    assert reads == [None] and report.added == ["2025/09/nouveau"]
    _age(corpus)
    service.reindex()  # the new file is old enough to be remembered now
    reads.clear()
    assert service.reindex().added == [] and reads == []
    path.unlink()
    report = service.reindex()
    assert report.removed == ["2025/09/nouveau"] and reads  # (the coverage is rebuilt after a removal too)
    reads.clear()
    assert service.reindex().removed == [] and reads == []


def test_a_commit_by_another_writer_is_not_missed(service, corpus: Path, monkeypatch) -> None:
    _age(corpus)
    service.reindex(full_check=True)
    service.store.remove_articles(["2025/08/petrole"])  # e.g. `newsbot rm`, or another machine
    report = service.reindex()
    assert report.added == ["2025/08/petrole"]  # generation moved on: the manifest is read again
    service.store.set_dirty(True)  # an interrupted run
    assert service.store.manifest() and service.reindex().unchanged  # whole path again (orphans looked for)
    assert not service.store.is_dirty()


def test_a_lexicon_of_an_older_layout_is_made_anew(tmp_path) -> None:
    import sqlite3

    from retrieval.index.lexicon import _SCHEMA, Lexicon, lexicon_path
    from retrieval.settings import load_settings

    settings = load_settings(data_dir=tmp_path / "data")
    path = lexicon_path(settings)
    path.parent.mkdir(parents=True)
    old = sqlite3.connect(path)  # the layout before the `seen` column, written by an older analyzer
    old.executescript(_SCHEMA.replace("    seen INTEGER NOT NULL DEFAULT 0,\n", ""))
    old.execute("INSERT INTO meta VALUES('analyzer', 'older'), ('docs', 0), ('length', 0)")
    old.commit()
    old.close()
    db = Lexicon(settings)._db()
    columns = [row[1] for row in db.execute("PRAGMA table_info(chunks)")]
    assert "seen" in columns
    assert db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 0
    indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"chunks_day", "chunks_outlet", "chunks_host"} <= indexes  # what scopes are told by


def test_an_article_whose_chunks_are_not_found_by_id_is_read_by_its_where(service) -> None:
    from dataclasses import replace

    store = service.store
    entry = next(e for e in store.manifest().values() if e.chunks > 1)
    wrong = replace(entry, chunks=entry.chunks + 1)  # a record counting one more chunk than the ids find
    [(got, rows)] = list(store._stored_rows([wrong]))
    assert got is wrong and sorted(r.chunk_id for r in rows) == sorted(store.chunks_of_article(entry.article_id,
                                                                                                  entry.article_hash)[0])


def test_the_few_chunks_of_a_scope_are_all_returned_for_scoring(service) -> None:
    lexicon = service.store.lexicon
    ids = sorted(lexical_state(service.store))
    tokens = service.retriever.view().query_tokens("pétrole russe sommet Alaska")
    hits = lexicon.search(tokens, 1, among=ids)  # unranked: every one holding a token, whatever the limit
    holding = [cid for cid, hit in lexicon.rows(ids).items() if set(tokens) & set(hit.tokens)]
    assert len(hits) == len(holding) > 1 and {h.chunk_id for h in hits} == set(holding)

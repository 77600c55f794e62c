"""The retriever's snapshot: incremental reloads, the on-disk token cache, the dirty mark."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.search.hybrid import Snapshot, TokenCache
from retrieval.service import open_service
from tests.conftest import write_article, write_uncommitted_article

pytestmark = pytest.mark.slow


@pytest.fixture
def service(settings_factory, small_embeddings):
    svc = open_service(settings_factory(), create=True, embeddings=small_embeddings)
    svc.reindex()
    return svc


def same(a: Snapshot, b: Snapshot) -> None:
    assert a.ids == b.ids
    assert a.documents == b.documents
    assert a.metadatas == b.metadatas
    assert a.lexical.df == b.lexical.df


def test_incremental_snapshot_equals_a_full_load(service, corpus: Path) -> None:
    first = service.retriever.snapshot()
    write_article(corpus, "nouveau", "Le zanzibarien", "Le mot zanzibarien n'apparaît que dans cet article.")
    path = corpus / "2025" / "08" / "petrole.md"
    path.write_text(path.read_text(encoding="utf-8").replace("27 %", "31 %"), encoding="utf-8")
    (corpus / "2025" / "08" / "sanctions.md").unlink()
    service.reindex()
    calls: list[object] = []
    original = service.store.chunks_of
    service.store.chunks_of = lambda manifest, ids: calls.append(ids) or original(manifest, ids)  # type: ignore[method-assign]
    second = service.retriever.snapshot()
    assert second is not first and second.generation > first.generation
    assert calls and sorted(calls[0]) == ["2025/08/petrole", "nouveau"]  # only what changed is read
    same(second, Snapshot.load(service.store))
    assert not [i for i in second.ids if i.startswith("2025/08/sanctions:")]
    answer = service.ask("Où apparaît le mot zanzibarien ?")
    assert any(s.article_id == "nouveau" for s in answer.cited_sources)
    assert "31 %" in service.ask("De combien ont chuté les recettes pétrolières de la Russie ?").answer


def test_snapshot_is_reused_while_nothing_changes(service) -> None:
    first = service.retriever.snapshot()
    service.ask("Quel est le nouveau plafond du prix du pétrole russe ?")
    assert service.retriever.snapshot() is first
    service.reindex()  # nothing changed: no new generation
    assert service.retriever.snapshot() is first


def test_half_written_article_stays_invisible_to_a_cached_snapshot(service, corpus: Path) -> None:
    service.retriever.snapshot()
    write_uncommitted_article(service, corpus)  # chunks of "secret", no manifest record
    service.store._bump_generation()  # another article committed meanwhile: the snapshot reloads
    snap = service.retriever.snapshot()
    assert not [i for i in snap.ids if i.startswith("secret:")]
    assert all(s.article_id != "secret" for s in service.ask("Où apparaît le mot zanzibarien ?").sources)


def test_token_cache_on_disk(service, settings_factory, small_embeddings, monkeypatch) -> None:
    snap = service.retriever.snapshot()
    cache = service.retriever.token_cache()
    assert cache.path is not None and cache.path.exists()
    assert cache.load() == snap.tokens and len(snap.tokens) == len(snap.ids)
    # a new process answers from the cache without analysing any chunk again
    from retrieval.search.hybrid import MemoAnalyzer

    analysed: list[str] = []
    original = MemoAnalyzer.tokens

    def spy(self, text):
        if text not in self.memo:
            analysed.append(text)
        return original(self, text)

    monkeypatch.setattr(MemoAnalyzer, "tokens", spy)
    other = open_service(settings_factory(), embeddings=small_embeddings)
    same(other.retriever.snapshot(), snap)
    assert not set(analysed) & set(snap.documents)


def test_damaged_or_stale_token_cache_is_ignored(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "tokens.pkl"
    cache = TokenCache(path)
    assert cache.load() == {}
    path.write_bytes(b"not a pickle")
    assert cache.load() == {}
    cache.save({"a:1:0": ["sommet", "alask"], "b:2:0": ["sommet"]})
    assert cache.load() == {"a:1:0": ["sommet", "alask"], "b:2:0": ["sommet"]}
    monkeypatch.setattr("retrieval.search.hybrid.analyzer_fingerprint", lambda: "other")
    assert cache.load() == {}


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
    ids = service.store.vectorstore._collection.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == report.chunks
    hashes = {e.article_id: e.article_hash for e in service.store.manifest().values()}
    assert all(i.split(":")[1] == hashes[i.split(":")[0]] for i in ids)

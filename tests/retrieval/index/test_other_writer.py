"""A running service while a `newsbot reindex` writes the same embedded index from another process.

Chroma's embedded client keeps the vector segments it loaded: the other process's chunks reach its
reads of metadata and texts, not its vectors, and a filtered search or a read of vectors touching
them failed ("Error finding id", reported as "index unavailable"). They are now found by their words
(the lexicon is shared) and left out of the vector search until a restart; a digest computes their
vectors again from their texts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.index.scope import ScopeFilter
from retrieval.service import open_service
from retrieval.types import QueryScope
from tests.conftest import cli_env, write_article


@pytest.fixture
def service(settings_factory, small_embeddings, corpus: Path, models_dir: Path):
    svc = open_service(settings_factory(), create=True, embeddings=small_embeddings)
    svc.reindex()
    svc.ask("Quel est le plafond du prix du pétrole russe ?")  # its vectors loaded
    write_article(corpus, "2025/09/tanker", "Un pétrolier arraisonné en mer Baltique",
                  "La marine danoise a arraisonné un pétrolier de la flotte fantôme au large de Skagen.",
                  date="2025-09-02", source="Autre Info")
    env = cli_env(svc.settings.data_dir, corpus, models_dir)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "reindex", "--json"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return svc


@pytest.mark.slow
def test_a_scoped_question_touching_another_process_chunks_is_answered(service) -> None:
    new = [cid for cid in service.store.chunk_ids() if cid.startswith("2025/09/tanker:")]
    assert new
    vector = service.store.embeddings.embed_query("Quel pétrolier a été arraisonné ?")
    september = ScopeFilter.of(QueryScope(since="2025-09-01"))
    hits = service.store.dense_search(vector, 2, scope=september, among=new)  # searched as a wider scope
    assert not {hit[0] for hit in hits} & set(new)  # their vectors are not readable here yet
    everything = ScopeFilter.of(QueryScope(since="2025-01-01"))
    assert service.store.dense_search(vector, 2, scope=everything)  # the filtered search falls back
    service.refresh()
    answer = service.ask("Quel pétrolier a été arraisonné ?", scope=QueryScope(since="2025-09-01"))
    assert not answer.refused and answer.sources[0].article_id == "2025/09/tanker"  # by its words


@pytest.mark.slow
def test_a_digest_computes_their_vectors_from_their_texts(service) -> None:
    from retrieval.digest.articles import load_articles

    entries = [e for e in service.store.manifest().values() if e.article_id in ("2025/09/tanker", "2025/08/petrole")]
    articles = load_articles(service.store, entries)
    assert [a.article_id for a in articles] == ["2025/08/petrole", "2025/09/tanker"]
    assert all(len(a.vectors) == len(a.chunks) > 0 for a in articles)

"""A running service while a `newsbot reindex` writes the same embedded index from another process.

Chroma's embedded client keeps the vector segments it loaded: the other process's chunks reach its
reads of metadata and texts, not its vectors, and a filtered search touching them failed ("Error
finding id", reported as "index unavailable"). The store reads the index anew then, and a
background refresh does it before a question needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.index.scope import ScopeFilter
from retrieval.service import open_service
from retrieval.types import QueryScope
from tests.conftest import cli_env, write_article


def reindex_elsewhere(service, corpus: Path, models_dir: Path) -> None:
    env = cli_env(service.settings.data_dir, corpus, models_dir)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "reindex", "--json"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def service(settings_factory, small_embeddings):
    svc = open_service(settings_factory(), create=True, embeddings=small_embeddings)
    svc.reindex()
    svc.ask("Quel est le plafond du prix du pétrole russe ?")  # its vectors loaded
    return svc


@pytest.mark.slow
def test_a_question_touching_vectors_another_process_wrote_is_answered(service, corpus: Path, models_dir) -> None:
    write_article(corpus, "2025/09/tanker", "Un pétrolier arraisonné en mer Baltique",
                  "La marine danoise a arraisonné un pétrolier de la flotte fantôme au large de Skagen.",
                  date="2025-09-02", source="Autre Info")
    reindex_elsewhere(service, corpus, models_dir)
    new = [cid for cid in service.store.chunk_ids() if cid.startswith("2025/09/tanker:")]
    assert new
    vector = service.store.embeddings.embed_query("Quel pétrolier a été arraisonné ?")
    september = ScopeFilter.of(QueryScope(since="2025-09-01"))
    assert [hit[0] for hit in service.store.dense_search(vector, 2, scope=september, among=new)] == new
    answer = service.ask("Quel pétrolier a été arraisonné ?", scope=QueryScope(since="2025-09-01"))
    assert not answer.refused and answer.sources[0].article_id == "2025/09/tanker"


@pytest.mark.slow
def test_a_refresh_reads_them_before_a_question_does(service, corpus: Path, models_dir) -> None:
    assert service.store.catch_up() is False  # nothing written since it opened
    write_article(corpus, "2025/09/drones", "Des drones au-dessus de l'aéroport de Copenhague",
                  "L'aéroport de Copenhague a fermé après le survol de drones non identifiés.",
                  date="2025-09-23", source="Autre Info")
    reindex_elsewhere(service, corpus, models_dir)
    client = service.store.client
    service.refresh()
    assert service.store.client is not client  # read anew, in the refresh
    assert service.store.catch_up() is False
    answer = service.ask("Pourquoi l'aéroport de Copenhague a-t-il fermé ?", scope=QueryScope(since="2025-09-20"))
    assert not answer.refused and answer.sources[0].article_id == "2025/09/drones"
    service.reindex()  # its own writes: nothing to read anew
    write_article(corpus, "2025/09/autre", "Un troisième article", "Le port de Gdansk a rouvert ce matin.",
                  date="2025-09-24")
    service.reindex()
    client = service.store.client
    service.refresh()
    assert service.store.client is client

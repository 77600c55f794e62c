"""The vector index's search setting: real embedded Chroma, the small packaged model."""

from __future__ import annotations

from typing import Any

import pytest

from retrieval.index.store import IndexStore, make_client

pytestmark = pytest.mark.slow


def search_ef(store: IndexStore) -> Any:
    fresh = make_client(store.settings, create=False).get_collection(store.chunks_name)
    return fresh.configuration["hnsw"]["ef_search"]


def test_the_vector_index_searches_with_the_settings_ef_and_a_writer_applies_a_change(
    settings_factory: Any, small_embeddings: Any
) -> None:
    settings = settings_factory(chroma_search_ef=150)
    store = IndexStore(make_client(settings, create=True), small_embeddings, settings).open(create=True)
    assert search_ef(store) == 150

    reader = settings_factory(chroma_search_ef=300)
    IndexStore(make_client(reader, create=False), small_embeddings, reader).open(create=False)
    assert search_ef(store) == 150  # answering processes change nothing

    writer = IndexStore(make_client(reader, create=True), small_embeddings, reader).open(create=True)
    assert search_ef(writer) == 300

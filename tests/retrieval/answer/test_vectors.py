from __future__ import annotations

from pathlib import Path

import numpy as np

from retrieval.answer.vectors import QueryMemo, SentenceVectors


class CountingEmbeddings:
    def __init__(self) -> None:
        self.documents: list[str] = []
        self.queries: list[str] = []

    def _vector(self, text: str) -> list[float]:
        rng = np.random.default_rng(sum(map(ord, text)))
        return list(rng.normal(size=8))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents.extend(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return self._vector(text)


def test_sentences_are_embedded_once_and_kept_on_disk(tmp_path: Path) -> None:
    embeddings = CountingEmbeddings()
    path = tmp_path / "cache" / "vectors.sqlite"
    first = SentenceVectors(embeddings, "model-a", path)
    matrix = first.get(["Une phrase.", "Une autre phrase.", "Une phrase."])
    assert matrix.shape == (3, 8)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0)
    assert embeddings.documents == ["Une phrase.", "Une autre phrase."]
    first.close()
    again = SentenceVectors(embeddings, "model-a", path)  # another process, later
    assert np.allclose(again.get(["Une autre phrase."]), matrix[1])
    assert len(embeddings.documents) == 2
    other_model = SentenceVectors(embeddings, "model-b", path)
    other_model.get(["Une phrase."])
    assert len(embeddings.documents) == 3  # the key holds the model


def test_prepare_fills_the_cache(tmp_path: Path) -> None:
    embeddings = CountingEmbeddings()
    vectors = SentenceVectors(embeddings, "m", tmp_path / "v.sqlite")
    assert vectors.prepare(["a b", "c d", "a b"]) == 2
    assert vectors.prepare(["a b", "e f"]) == 1


def test_an_unusable_cache_folder_keeps_vectors_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    embeddings = CountingEmbeddings()
    vectors = SentenceVectors(embeddings, "m", blocker / "v.sqlite")
    vectors.get(["x y"])
    vectors.get(["x y"])
    assert embeddings.documents == ["x y"]


def test_query_memo_embeds_a_question_once() -> None:
    inner = CountingEmbeddings()
    memo = QueryMemo.wrap(inner)
    assert QueryMemo.wrap(memo) is memo
    assert memo.embed_query("q") == memo.embed_query("q")
    assert inner.queries == ["q"]
    memo.embed_documents(["d"])
    assert inner.documents == ["d"]


def test_index_time_preparation_covers_the_sentences_and_the_headline(tmp_path: Path) -> None:
    from dataclasses import replace

    from retrieval.answer.vectors import cache_path, model_key, prepare_sentence_vectors
    from retrieval.settings import Settings
    from retrieval.types import Chunk

    settings = Settings(data_dir=tmp_path)
    first = Chunk("a:0", "a", "h", "Trump et Poutine se rencontrent en Alaska", "Ils ont parlé. Trois heures.", 0, 0, 28, "c")
    later = replace(first, id="a:1", text="Sans accord.", position=1)
    embeddings = CountingEmbeddings()
    assert prepare_sentence_vectors(settings, embeddings, [first, later]) == 4
    assert sorted(embeddings.documents) == sorted(
        ["Trump et Poutine se rencontrent en Alaska", "Ils ont parlé.", "Trois heures.", "Sans accord."])
    assert cache_path(settings, model_key(settings)).exists()

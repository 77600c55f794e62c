"""The embeddings base class with a fake provider: lazy loading, prompts, the LangChain interface."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from retrieval.embeddings.base import E5_PROMPTS, BaseEmbeddings, EncoderModel, model_prompts
from retrieval.errors import ModelUnavailable


class FakeModel:
    """Encodes a text as [its length, its first character's code]: easy to check."""

    def __init__(self, prompts: dict[str, str]) -> None:
        self.prompts = prompts
        self.dimension = 2
        self.calls: list[tuple[list[str], int]] = []

    def encode(self, texts: list[str], batch_size: int) -> list[list[float]]:
        self.calls.append((texts, batch_size))
        return [[float(len(t)), float(ord(t[0]))] for t in texts]


class FakeEmbeddings(BaseEmbeddings):
    def __init__(self, prompts: dict[str, str], *, fail: bool = False) -> None:
        super().__init__("fake", models_dir=Path("unused"), batch_size=7)
        self.prompts = prompts
        self.fail = fail
        self.loads = 0

    def _load(self) -> EncoderModel:
        self.loads += 1
        time.sleep(0.05)  # long enough for racing threads to meet
        if self.fail:
            raise ModelUnavailable("no model")
        return FakeModel(self.prompts)


def test_nothing_is_loaded_before_the_first_text() -> None:
    embeddings = FakeEmbeddings({})
    assert embeddings.loads == 0
    embeddings.embed_query("x")
    embeddings.embed_documents(["a", "b"])
    assert embeddings.loads == 1


def test_threads_racing_for_the_model_load_it_once() -> None:
    embeddings = FakeEmbeddings({})
    threads = [threading.Thread(target=embeddings.embed_query, args=("x",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert embeddings.loads == 1


def test_load_builds_now() -> None:
    embeddings = FakeEmbeddings({})
    embeddings.load()
    assert embeddings.loads == 1 and embeddings.dimension == 2


def test_queries_and_passages_get_their_prompts() -> None:
    embeddings = FakeEmbeddings({"query": "q: ", "passage": "p: "})
    assert embeddings.embed_query("abc") == [6.0, float(ord("q"))]
    assert embeddings.embed_documents(["abc", "de"]) == [[6.0, float(ord("p"))], [5.0, float(ord("p"))]]
    model = embeddings.model
    assert isinstance(model, FakeModel)
    assert model.calls[-1] == (["p: abc", "p: de"], 7)  # the provider's batch size is passed on


def test_a_document_prompt_serves_passages_and_no_prompt_means_none() -> None:
    assert FakeEmbeddings({"document": "d: "}).embed_documents(["x"]) == [[4.0, float(ord("d"))]]
    assert FakeEmbeddings({}).embed_query("x") == [1.0, float(ord("x"))]


def test_no_texts_no_vectors() -> None:
    embeddings = FakeEmbeddings({})
    assert embeddings.embed_documents([]) == []


def test_a_failed_load_is_raised_and_tried_again_next_time() -> None:
    embeddings = FakeEmbeddings({}, fail=True)
    for _ in range(2):
        with pytest.raises(ModelUnavailable):
            embeddings.embed_query("x")
    assert embeddings.loads == 2


@pytest.mark.parametrize(
    ("name", "declared", "expected"),
    [
        ("packaged:multilingual-e5-small", {}, E5_PROMPTS),
        ("intfloat/multilingual-e5-base", {"query": ""}, E5_PROMPTS),
        ("intfloat/e5-small", {"query": "Q: "}, {"query": "Q: "}),
        ("all-minilm", {"query": "", "passage": ""}, {}),
        ("all-minilm", {"query": "a: "}, {"query": "a: "}),
    ],
)
def test_model_prompts(name: str, declared: dict[str, str], expected: dict[str, str]) -> None:
    assert model_prompts(name, declared) == expected

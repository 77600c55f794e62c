"""What every embeddings provider shares: lazy loading, query/passage prompts, embedding.

A provider subclasses :class:`BaseEmbeddings` and implements :meth:`BaseEmbeddings._load`,
which returns an :class:`EncoderModel` (texts in, normalized vectors out, its prompts and
dimension). Everything else (loading once, from any thread, on first use; which prompt
goes before a question or a passage; the LangChain interface) lives here, once.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Protocol

from langchain_core.embeddings import Embeddings

# multilingual-e5 models are trained with these prefixes; some copies do not declare them
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


class EncoderModel(Protocol):
    """A loaded model: what a provider's ``_load`` returns."""

    prompts: dict[str, str]
    dimension: int

    def encode(self, texts: list[str], batch_size: int) -> list[list[float]]:
        """Vectors of ``texts``, in order."""
        ...


def model_prompts(model_name: str, declared: dict[str, str]) -> dict[str, str]:
    """The prompts a model declares (empty ones dropped), with e5's when an e5 model declares none."""
    prompts = {kind: text for kind, text in declared.items() if text}
    if not prompts.get("query") and "e5" in model_name.lower():
        prompts = {**E5_PROMPTS, **prompts}
    return prompts


class BaseEmbeddings(Embeddings, ABC):
    """LangChain embeddings whose model is loaded (built if need be) on first use, once.

    ``models_dir`` is where packaged models and exports are built (see
    :mod:`retrieval.embeddings.cache`); nothing is loaded until a text is embedded or
    :meth:`load` is called.
    """

    def __init__(self, model_name: str, *, models_dir: Path, batch_size: int = 32) -> None:
        self.model_name = model_name
        self.models_dir = models_dir
        self.batch_size = batch_size
        self._model: EncoderModel | None = None
        self._lock = threading.Lock()

    @abstractmethod
    def _load(self) -> EncoderModel:
        """Load the model (building it first if the provider needs to); raise ModelUnavailable."""

    @property
    def model(self) -> EncoderModel:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def load(self) -> None:
        """Load (or build) the model now rather than at the first text: a caller that shows
        progress calls this first, so that a build's own message comes before its bar."""
        self.model  # noqa: B018

    @property
    def dimension(self) -> int:
        return self.model.dimension

    def _prompt(self, kind: str) -> str:
        prompts = self.model.prompts
        if kind == "query":
            return prompts.get("query", "")
        return prompts.get("passage") or prompts.get("document", "")

    def _encode(self, texts: list[str], prefix: str) -> list[list[float]]:
        if not texts:
            return []
        return self.model.encode([prefix + text for text in texts], self.batch_size)

    # -- LangChain interface -----------------------------------------------------------
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), self._prompt("passage"))

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], self._prompt("query"))[0]

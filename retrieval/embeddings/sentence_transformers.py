"""The sentence-transformers (torch) provider: any sentence-transformers model, on any device.

Names are resolved by :mod:`retrieval.embeddings.sources`: the packaged models, a local
folder, or a hub name that sentence-transformers downloads (for users with internet).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from retrieval.embeddings.base import BaseEmbeddings, EncoderModel, model_prompts
from retrieval.embeddings.noise import quiet_transformers
from retrieval.embeddings.sources import resolve_model_path
from retrieval.errors import ModelUnavailable

log = logging.getLogger(__name__)


class _TorchModel:
    """A loaded SentenceTransformer behind the :class:`EncoderModel` interface."""

    def __init__(self, model: Any, prompts: dict[str, str]) -> None:
        self.model = model
        self.prompts = prompts
        # sentence-transformers 6 renamed it; 5 has only the old name
        self.dimension = int(getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)())

    def encode(self, texts: list[str], batch_size: int) -> list[list[float]]:
        vectors = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return [vector.tolist() for vector in vectors]


class SentenceTransformerEmbeddings(BaseEmbeddings):
    """Embeddings computed by sentence-transformers (torch), optionally int8-quantized on CPU."""

    def __init__(
        self,
        model_name: str,
        *,
        models_dir: Path,
        device: str = "cpu",
        batch_size: int = 32,
        quantize: bool = False,
    ) -> None:
        super().__init__(model_name, models_dir=models_dir, batch_size=batch_size)
        self.device = device
        self.quantize = quantize

    def _load(self) -> EncoderModel:
        name, models_dir = self.model_name, self.models_dir
        path = resolve_model_path(name, models_dir)
        try:
            quiet_transformers()
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(path, device=self.device)
        except Exception as exc:  # OSError, ValueError, hub errors: all mean "cannot load"
            log.debug("loading %s failed", path, exc_info=True)
            raise ModelUnavailable(
                f"cannot load embedding model {name!r} "
                f"(offline, or not a sentence-transformers model): {type(exc).__name__}"
            ) from None
        prompts = model_prompts(name, dict(getattr(model, "prompts", {}) or {}))
        if self.quantize and self.device == "cpu":
            import torch

            model = torch.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        model.eval()
        return _TorchModel(model, prompts)

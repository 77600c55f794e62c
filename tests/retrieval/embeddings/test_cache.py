"""Built models: one per-user folder, exports keyed by the resolved source and the weights'
content hash, one build at a time (the heavy export is faked here; test_models.py runs it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from retrieval.embeddings import e5build, export, onnx
from retrieval.embeddings.onnx import OnnxEmbeddings, onnx_dir
from retrieval.embeddings.sources import fingerprint, locate, same_weights
from retrieval.settings import PACKAGED_E5, default_models_dir, load_settings
from tests.conftest import REPO


def test_models_live_in_the_user_cache_unless_model_dir_says(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_models_dir() == tmp_path / "cache" / "newsbot" / "models"
    assert load_settings().models_path == tmp_path / "cache" / "newsbot" / "models"
    assert load_settings(data_dir=tmp_path / "elsewhere").models_path == default_models_dir()
    monkeypatch.setenv("NEWSBOT_MODEL_DIR", str(tmp_path / "mine"))
    assert load_settings().models_path == tmp_path / "mine"


@pytest.fixture
def fake_export(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """export_onnx writes only its marker (the real fingerprint); the runtime is a stub."""
    exported: list[Path] = []

    def export_onnx(source: Any, target: Path, *, quantize_weights: bool) -> Path:
        exported.append(target)
        target.mkdir(parents=True, exist_ok=True)
        marker = {"format": export.ONNX_FORMAT, **fingerprint(source), "quantized": quantize_weights}
        (target / export.ONNX_MARKER).write_text(json.dumps(marker), encoding="utf-8")
        return target

    class Runtime:
        def __init__(self, folder: Path, info: dict[str, Any], *, threads: int) -> None:
            self.prompts: dict[str, str] = dict(info.get("prompts") or {})
            self.dimension = 1

        def encode(self, texts: list[str], batch_size: int) -> list[list[float]]:
            return [[1.0] for _ in texts]

    monkeypatch.setattr(export, "export_onnx", export_onnx)
    monkeypatch.setattr(onnx, "OnnxModel", Runtime)
    return exported


def weights_folder(root: Path) -> Path:
    folder = root / "my-model"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights " * 1000)
    return folder


def test_a_model_spelled_differently_is_not_exported_again(tmp_path: Path, fake_export: list[Path]) -> None:
    folder = weights_folder(tmp_path / "src")
    (tmp_path / "link").symlink_to(tmp_path / "src")
    models = tmp_path / "models"
    os.chdir(tmp_path)
    for name, models_dir in [
        ("src/my-model", Path("models")),
        (str(folder), models),
        ("./link/my-model", Path("./models/../models")),
        (str(tmp_path / "link" / "my-model"), models),
    ]:
        OnnxEmbeddings(name, models_dir=models_dir).embed_query("x")
    assert [path.resolve() for path in fake_export] == [onnx_dir(str(folder), models, True)]


def test_changed_weights_are_exported_again_a_touched_file_is_not(tmp_path: Path, fake_export) -> None:
    folder = weights_folder(tmp_path)
    models = tmp_path / "models"
    OnnxEmbeddings(str(folder), models_dir=models).embed_query("x")
    weights = folder / "model.safetensors"
    os.utime(weights, ns=(1, 1))  # same bytes, another mtime (a copy, say): the hash decides
    OnnxEmbeddings(str(folder), models_dir=models).embed_query("x")
    assert len(fake_export) == 1
    weights.write_bytes(b"WEIGHTS " * 1000)  # same size, new content
    OnnxEmbeddings(str(folder), models_dir=models).embed_query("x")
    assert len(fake_export) == 2


def test_the_default_model_is_keyed_by_its_resolved_folder(tmp_path: Path, monkeypatch, fake_export) -> None:
    """`NEWSBOT_MODEL_DIR=$PWD/.newsbot/models` after a relative run: no second export."""
    monkeypatch.setattr(e5build, "is_complete", lambda target, source=None: True)
    weights_folder(tmp_path / ".newsbot" / "models")
    (tmp_path / ".newsbot" / "models" / "my-model").rename(tmp_path / ".newsbot" / "models" / "multilingual-e5-small")
    os.chdir(tmp_path)
    OnnxEmbeddings(PACKAGED_E5, models_dir=Path(".newsbot/models")).embed_query("x")
    OnnxEmbeddings(PACKAGED_E5, models_dir=tmp_path / ".newsbot" / "models").embed_query("x")
    assert len(fake_export) == 1


def test_exports_made_before_content_hashes_are_kept(tmp_path: Path) -> None:
    folder = weights_folder(tmp_path)
    st = (folder / "model.safetensors").stat()
    legacy = {"format": 2, "source": str(tmp_path / "." / "my-model"), "weights": "model.safetensors",
              "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    source = locate(str(folder), tmp_path / "models")
    assert same_weights(legacy, source)
    assert not same_weights({**legacy, "mtime_ns": 1}, source)
    assert not same_weights({**legacy, "source": str(tmp_path / "other")}, source)


BUILDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from retrieval.embeddings.cache import build_once

    models, done = Path(sys.argv[1]), Path(sys.argv[1]) / "built"

    def build():
        with open(Path(sys.argv[1]) / "builds.log", "a") as log:
            log.write(sys.argv[2] + "\\n")
        deadline = time.time() + 60
        while not (models / "started-2").exists() and time.time() < deadline:
            time.sleep(0.05)  # until the second process runs, then long enough for it to wait
        time.sleep(1)
        done.write_text("yes")

    (models / ("started-" + sys.argv[2])).touch()
    build_once(models, done.exists, build, what="test")
    assert done.read_text() == "yes"
    """
)


def test_two_processes_build_once(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.Popen([sys.executable, "-c", BUILDER, str(tmp_path), "1"], env=env, stderr=subprocess.PIPE)
    while not (tmp_path / "builds.log").exists():  # the first one is building
        assert first.poll() is None
    second = subprocess.run(
        [sys.executable, "-c", BUILDER, str(tmp_path), "2"], env=env, capture_output=True, text=True
    )
    assert first.wait() == 0 and second.returncode == 0, second.stderr
    assert (tmp_path / "builds.log").read_text() == "1\n"  # the second waited, then used it
    assert "another newsbot process is building" in second.stderr


def put_in_hub_cache(cache: Path, repo: str) -> Path:
    """A model as huggingface_hub caches it: refs/main names the snapshot holding the files."""
    root = cache / f"models--{repo.replace('/', '--')}"
    snapshot = root / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text("abc123", encoding="utf-8")
    (snapshot / "modules.json").write_text("[]", encoding="utf-8")
    (snapshot / "model.safetensors").write_bytes(b"hub weights")
    return snapshot


def test_a_hub_model_is_keyed_by_its_cached_snapshot(tmp_path: Path, monkeypatch, fake_export) -> None:
    from huggingface_hub import constants

    from retrieval.embeddings.sources import after_download

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    before = locate("someone/some-model", tmp_path / "models")
    assert before.folder is None and before.load_from == "someone/some-model"  # sentence-transformers downloads it
    snapshot = put_in_hub_cache(tmp_path / "hub", "someone/some-model")
    assert after_download(before).folder == snapshot.resolve()
    for _ in range(2):
        OnnxEmbeddings("someone/some-model", models_dir=tmp_path / "models").embed_query("x")
    assert len(fake_export) == 1
    marker = json.loads((fake_export[0] / export.ONNX_MARKER).read_text(encoding="utf-8"))
    assert marker["source"] == str(snapshot.resolve()) and marker["sha256"]

"""Embedding backends: the ONNX Runtime export agrees with sentence-transformers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.embeddings.models import (
    OnnxEmbeddings,
    SentenceTransformerEmbeddings,
    embeddings_from_settings,
    onnx_dir,
)
from tests.conftest import SMALL_MODEL

pytestmark = pytest.mark.slow

TEXTS = [
    "Le sommet d'Alaska s'est tenu le 15 août à Anchorage.",
    "court",
    "Les recettes de la Russie tirées du pétrole et du gaz ont chuté de 27 % sur un an en juillet. " * 4,
    "L'Union européenne a adopté un dix-huitième paquet de sanctions.",
]


def cosines(a: list[list[float]], b: list[list[float]]) -> np.ndarray:
    return np.sum(np.asarray(a) * np.asarray(b), axis=1)


@pytest.mark.parametrize(("quantize", "floor"), [(False, 0.999), (True, 0.95)])
def test_onnx_agrees_with_sentence_transformers(models_dir: Path, small_embeddings, quantize, floor) -> None:
    onnx = OnnxEmbeddings(SMALL_MODEL, models_dir=models_dir, quantize=quantize)
    got = onnx.embed_documents(TEXTS)
    assert len(got) == len(TEXTS) and onnx.dimension == 384
    assert cosines(got, small_embeddings.embed_documents(TEXTS)).min() >= floor
    # length-sorted batches give back the vectors in the callers' order, whatever the batch size
    # (int8 quantizes activations per batch, so batches change its vectors a little)
    onnx.batch_size = 1
    assert cosines(got, onnx.embed_documents(TEXTS)).min() > (floor if quantize else 0.9999)
    query = onnx.embed_query("sommet Alaska")
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-4
    assert (onnx_dir(SMALL_MODEL, models_dir, quantize) / "newsbot-onnx.json").exists()


def test_backend_is_chosen_by_the_settings(settings_factory) -> None:
    assert isinstance(embeddings_from_settings(settings_factory()), OnnxEmbeddings)
    assert isinstance(embeddings_from_settings(settings_factory(embedding_backend="torch")), SentenceTransformerEmbeddings)


def test_onnx_backend_runs_without_torch(models_dir: Path, small_embeddings) -> None:
    OnnxEmbeddings(SMALL_MODEL, models_dir=models_dir, quantize=False).embed_query("x")  # exported
    code = (
        "import sys\nfrom pathlib import Path\nfrom retrieval.embeddings.models import OnnxEmbeddings\n"
        f"e = OnnxEmbeddings({SMALL_MODEL!r}, models_dir=Path({str(models_dir)!r}), quantize=False)\n"
        "assert len(e.embed_query('bonjour')) == 384\n"
        "print([m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_damaged_export_is_rebuilt(tmp_path: Path, models_dir: Path) -> None:
    import shutil

    source = onnx_dir(SMALL_MODEL, models_dir, False)
    OnnxEmbeddings(SMALL_MODEL, models_dir=models_dir, quantize=False).embed_query("x")
    target = onnx_dir(SMALL_MODEL, tmp_path, False)
    shutil.copytree(source, target)
    (target / "newsbot-onnx.json").write_text("{", encoding="utf-8")  # an interrupted export
    rebuilt = OnnxEmbeddings(SMALL_MODEL, models_dir=tmp_path, quantize=False)
    assert len(rebuilt.embed_query("x")) == 384
    assert (target / "newsbot-onnx.json").read_text(encoding="utf-8").startswith("{\n")


def test_sentence_transformers_provider_gives_the_library_s_vectors(models_dir: Path) -> None:
    """The provider adds prompts and normalization, nothing else: its vectors are the library's."""
    from sentence_transformers import SentenceTransformer

    from retrieval.embeddings.models import resolve_model_path

    provider = SentenceTransformerEmbeddings("packaged:multilingual-e5-small", models_dir=models_dir)
    library = SentenceTransformer(resolve_model_path("packaged:multilingual-e5-small", models_dir), device="cpu")
    expected = library.encode(TEXTS, prompt_name="passage", normalize_embeddings=True)
    assert np.array_equal(np.asarray(provider.embed_documents(TEXTS), dtype=np.float32), expected)
    query = library.encode(["sommet Alaska"], prompt_name="query", normalize_embeddings=True)[0]
    assert np.array_equal(np.asarray(provider.embed_query("sommet Alaska"), dtype=np.float32), query)
    assert provider.dimension == 384


def test_a_first_build_says_so_in_one_line_and_nothing_else(tmp_path: Path) -> None:
    """The export's libraries stay quiet: no `Loading weights` bar, no quantizer advice."""
    code = (
        "import logging, sys\nfrom pathlib import Path\nlogging.basicConfig(level=logging.WARNING)\n"
        "from retrieval.embeddings.models import OnnxEmbeddings, SentenceTransformerEmbeddings\n"
        f"OnnxEmbeddings({SMALL_MODEL!r}, models_dir=Path(sys.argv[1])).embed_query('x')\n"
        f"SentenceTransformerEmbeddings({SMALL_MODEL!r}, models_dir=Path(sys.argv[1])).embed_query('x')\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and "building the embedding model" in lines[0], out.stderr
    assert (onnx_dir(SMALL_MODEL, tmp_path, True) / "newsbot-onnx.json").exists()


def test_a_model_that_cannot_be_exported_is_one_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    from retrieval.errors import ModelUnavailable

    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    (not_a_model / "model.safetensors").write_bytes(b"not weights")
    embeddings = OnnxEmbeddings(str(not_a_model), models_dir=tmp_path / "models")
    with pytest.raises(ModelUnavailable, match="cannot load embedding model .* to export it"):
        embeddings.embed_query("x")
    assert not any((tmp_path / "models" / "onnx").iterdir())  # no half-made export

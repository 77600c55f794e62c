"""Shared tokenizers: one object per file content, and batches cut and padded as ``tokenizers``
itself does with truncation and padding set (a small WordLevel tokenizer with RoBERTa's specials)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, processors

from retrieval.embeddings.shared import encode_pairs, encode_texts, shared_tokenizer

WORDS = "le sommet de la paix a eu lieu en alaska vendredi trois heures sans accord où quand combien".split()  # noqa: SIM905
PAD = 1


@pytest.fixture
def vocabulary(tmp_path: Path) -> Path:
    vocab = {"<s>": 0, "<pad>": PAD, "</s>": 2, "<unk>": 3, **{w: i + 4 for i, w in enumerate(WORDS)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    return path


def configured(path: Path, max_length: int, strategy: str = "longest_first") -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length, strategy=strategy)
    tokenizer.enable_padding(pad_id=PAD, pad_token="<pad>")
    return tokenizer


TEXTS = ["le sommet", "le sommet de la paix a eu lieu en alaska vendredi sans accord", "trois heures", "où"]


def test_one_object_per_content_whatever_the_file(vocabulary: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy" / "tokenizer.json"
    copy.parent.mkdir()
    shutil.copy(vocabulary, copy)
    assert shared_tokenizer(vocabulary) is shared_tokenizer(copy)
    other = tmp_path / "other.json"
    other.write_text(vocabulary.read_text("utf-8").replace('"alaska"', '"anchorage"'), "utf-8")
    assert shared_tokenizer(other) is not shared_tokenizer(vocabulary)


@pytest.mark.parametrize("max_length", [4, 8, 64])
def test_texts_are_cut_and_padded_as_the_library_does(vocabulary: Path, max_length: int) -> None:
    expected = configured(vocabulary, max_length).encode_batch(TEXTS)
    ids, mask = encode_texts(shared_tokenizer(vocabulary), TEXTS, max_length, PAD)
    assert ids.tolist() == [e.ids for e in expected]
    assert mask.tolist() == [e.attention_mask for e in expected]


@pytest.mark.parametrize("max_length", [11, 13, 64])
def test_pairs_cut_the_sentence_as_the_library_does(vocabulary: Path, max_length: int) -> None:
    question = "où a eu lieu le sommet"
    expected = configured(vocabulary, max_length, "only_second").encode_batch([(question, t) for t in TEXTS])
    ids, mask = encode_pairs(shared_tokenizer(vocabulary), question, TEXTS, max_length, PAD)
    assert ids.tolist() == [e.ids for e in expected]
    assert mask.tolist() == [e.attention_mask for e in expected]


def test_a_question_longer_than_the_limit_is_cut_rather_than_failing(vocabulary: Path) -> None:
    question = " ".join(WORDS * 3)
    with pytest.raises(Exception, match="[Tt]runcation"):  # what the library's only_second does
        configured(vocabulary, 12, "only_second").encode_batch([(question, "le sommet")])
    ids, mask = encode_pairs(shared_tokenizer(vocabulary), question, ["le sommet", "trois heures"], 12, PAD)
    assert ids.shape == (2, 12) and mask.all()
    assert ids[0, 0] == 0 and ids[0, -1] == 2


def test_a_shared_tokenizer_keeps_no_settings_of_its_callers(vocabulary: Path) -> None:
    tokenizer = shared_tokenizer(vocabulary)
    encode_texts(tokenizer, TEXTS, 4, PAD)
    encode_pairs(tokenizer, "où", TEXTS, 9, PAD)
    assert tokenizer.truncation is None and tokenizer.padding is None
    assert np.array_equal(encode_texts(tokenizer, [], 8, PAD)[0], np.zeros((0, 0), dtype=np.int64))


# --- lookup tables ------------------------------------------------------------------------


def lookup_model(folder: Path, table: np.ndarray) -> Path:
    """A model that looks rows up in ``table`` and scales them (a Gather, then a Mul)."""
    from onnx import TensorProto, helper, numpy_helper, save

    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["rows"], axis=0),
         helper.make_node("Mul", ["rows", "scale"], ["out"])],
        "lookup",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [None])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, table.shape[1]])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(np.array([2.0], dtype=np.float32), "scale")],
    )
    folder.mkdir(parents=True, exist_ok=True)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(folder / "model.onnx"))
    return folder


def test_the_lookup_table_is_spilled_and_shared_by_sessions_with_the_same_outputs(tmp_path: Path) -> None:
    import onnxruntime as ort

    from retrieval.embeddings.export import LOOKUP_TABLE, spill_table
    from retrieval.embeddings.shared import session_options, shared_table

    table = np.arange(40, dtype=np.float32).reshape(10, 4)
    first, second = lookup_model(tmp_path / "a", table), lookup_model(tmp_path / "b", table)
    infos = [{"lookup_table": spill_table(folder)} for folder in (first, second)]
    assert infos[0]["lookup_table"]["name"] == "table" and (first / LOOKUP_TABLE).is_file()
    assert infos[0]["lookup_table"]["sha256"] == infos[1]["lookup_table"]["sha256"]
    shared = [shared_table(folder / LOOKUP_TABLE, info["lookup_table"]["sha256"]) for folder, info in
              zip((first, second), infos, strict=True)]
    assert shared[0] is shared[1]  # one mapping for both models

    ids = np.array([3, 0, 9], dtype=np.int64)
    plain = ort.InferenceSession(str(first / "model.onnx"), providers=["CPUExecutionProvider"])
    for folder, info in zip((first, second), infos, strict=True):
        session = ort.InferenceSession(str(folder / "model.onnx"), session_options(folder, info, threads=1),
                                       providers=["CPUExecutionProvider"])
        assert np.array_equal(session.run(None, {"ids": ids})[0], plain.run(None, {"ids": ids})[0])


def test_an_export_without_a_lookup_table_loads_as_before(tmp_path: Path) -> None:
    import onnxruntime as ort
    from onnx import TensorProto, helper, save

    from retrieval.embeddings.export import spill_table
    from retrieval.embeddings.shared import session_options

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "plain",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "model.onnx"))
    assert spill_table(tmp_path) is None
    folder = lookup_model(tmp_path / "old", np.ones((3, 2), dtype=np.float32))  # exported before tables were spilled
    for info in ({}, {"lookup_table": {"name": "table", "file": "missing.npy", "sha256": "0"}}):
        session = ort.InferenceSession(str(folder / "model.onnx"), session_options(folder, info, threads=0),
                                       providers=["CPUExecutionProvider"])
        assert session.run(None, {"ids": np.array([1], dtype=np.int64)})[0].tolist() == [[2.0, 2.0]]

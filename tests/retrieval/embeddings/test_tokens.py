"""Shared tokenizers: one object per file content, and batches cut and padded as ``tokenizers``
itself does with truncation and padding set (a small WordLevel tokenizer with RoBERTa's specials)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, processors

from retrieval.embeddings.tokens import encode_pairs, encode_texts, shared_tokenizer

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

"""What the models of one process share: their tokenizer, and their word-embedding table.

**Tokenizers.** The multilingual e5 vocabulary (250k pieces) costs ~280 MB once ``tokenizers`` has
loaded it. The embedding model and the answer reranker (fine-tuned from the same weights) read that
vocabulary from two copies of one file, so an answering process held it twice.
:func:`shared_tokenizer` loads a tokenizer file once per content (its sha256), without truncation or
padding settings: those are a shared object's state, which one caller cannot change while another
thread encodes with it. Each caller truncates and pads instead with :func:`encode_texts` (single
texts, cut at the end) or :func:`encode_pairs` (a question and its sentences, the sentence cut
first), as ``tokenizers`` does with ``enable_truncation`` and ``enable_padding`` (right side, to the
longest of the batch).

**Lookup tables.** The word embeddings are most of a small encoder's weights (e5-small: 96 MB of its
118 MB once int8), identical in the embedding model and the reranker (whose fine-tuning kept them),
and a question reads a few dozen of their 250k rows. The export copies the table beside the model
(:func:`retrieval.embeddings.export.spill_table`); :func:`shared_table` maps that file into memory
once per content, and ONNX Runtime sessions take it in place of their own copy
(``SessionOptions.add_initializer``): only the rows read are paged in, and the pages are shared by
every session and process of the machine.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retrieval.files import sha256_file

_lock = threading.Lock()
_loaded: dict[str, Any] = {}
_tables: dict[str, tuple[Any, Any]] = {}  # sha256 → (the mapped array, the OrtValue over it)


def shared_tokenizer(path: Path) -> Any:
    """The ``tokenizers.Tokenizer`` of the file at ``path``: one object per file content in a process."""
    from tokenizers import Tokenizer

    key = sha256_file(path)
    with _lock:
        tokenizer = _loaded.get(key)
        if tokenizer is None:
            tokenizer = Tokenizer.from_file(str(path))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            _loaded[key] = tokenizer
    return tokenizer


def encode_texts(tokenizer: Any, texts: Sequence[str], max_length: int, pad_id: int) -> tuple[Any, Any]:
    """(input ids, attention mask) of ``texts``, each cut to ``max_length`` tokens with its special
    tokens, padded with ``pad_id`` to the longest."""
    room = max(0, max_length - tokenizer.num_special_tokens_to_add(False))
    encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
    for encoding in encodings:
        if len(encoding.ids) > room:
            encoding.truncate(room)
    return _padded([tokenizer.post_process(e, None, True) for e in encodings], pad_id)


def encode_pairs(
    tokenizer: Any, first: str, seconds: Sequence[str], max_length: int, pad_id: int
) -> tuple[Any, Any]:
    """(input ids, attention mask) of the pairs (``first``, each of ``seconds``) cut to ``max_length``
    tokens: the second text first; the first only when it leaves no room at all (a very long question)."""
    room = max(0, max_length - tokenizer.num_special_tokens_to_add(True))
    head = tokenizer.encode(first, add_special_tokens=False)
    if len(head.ids) > room:
        head.truncate(room)
    left = room - len(head.ids)
    tails = tokenizer.encode_batch(list(seconds), add_special_tokens=False)
    for tail in tails:
        if len(tail.ids) > left:
            tail.truncate(left)
    return _padded([tokenizer.post_process(head, tail, True) for tail in tails], pad_id)


def _padded(encodings: Sequence[Any], pad_id: int) -> tuple[Any, Any]:
    import numpy as np

    longest = max((len(e.ids) for e in encodings), default=0)
    ids = np.full((len(encodings), longest), pad_id, dtype=np.int64)
    mask = np.zeros((len(encodings), longest), dtype=np.int64)
    for row, encoding in enumerate(encodings):
        n = len(encoding.ids)
        ids[row, :n] = encoding.ids
        mask[row, :n] = 1
    return ids, mask


def shared_table(path: Path, sha256: str) -> Any:
    """An ``onnxruntime.OrtValue`` over the array saved at ``path`` (``numpy.save``), mapped read-only:
    one per content (``sha256``, recorded by the export) in a process."""
    import numpy as np
    import onnxruntime as ort

    with _lock:
        entry = _tables.get(sha256)
        if entry is None:
            array = np.load(path, mmap_mode="r")
            entry = (array, ort.OrtValue.ortvalue_from_numpy(array))  # the array stays referenced here
            _tables[sha256] = entry
    return entry[1]


def session_options(folder: Path, info: dict[str, Any], *, threads: int) -> Any:
    """ONNX Runtime options for the export in ``folder`` (its marker's ``info``): threads, quiet logs,
    and its lookup table shared when the export has one."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    table = info.get("lookup_table")
    if isinstance(table, dict) and (folder / str(table.get("file"))).is_file():
        options.add_initializer(str(table["name"]), shared_table(folder / str(table["file"]), str(table["sha256"])))
    return options

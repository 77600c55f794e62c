"""The first build of an embedding model: wall time and peak memory (issue 17).

    python benchmarks/model_build.py                         # the default model, into a fresh folder
    python benchmarks/model_build.py --model packaged:all-minilm-l6-v2 --backend torch
    python benchmarks/model_build.py --models-dir /tmp/models   # keep (or reuse) the build

A fresh process builds the model (``NEWSBOT_MODEL_DIR`` = a temporary folder unless
``--models-dir``), as ``newsbot reindex`` would on its first run, then embeds one text.
Printed: the wall time, the peak RSS of the largest single process (what ``/usr/bin/time -v``
reports) and the peak of the whole process tree's RSS summed (the build runs its heavy steps
in child processes, one at a time, while the parent waits), sampled every 0.1 s from /proc
(Linux). Then a second process times loading the built model.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = (
    "import sys\nfrom pathlib import Path\nfrom retrieval.settings import load_settings\n"
    "from retrieval.embeddings.models import embeddings_from_settings\n"
    "s = load_settings(embedding_model=sys.argv[1], embedding_backend=sys.argv[2], model_dir=Path(sys.argv[3]))\n"
    "assert len(embeddings_from_settings(s).embed_query('bonjour')) > 0\n"
)


def tree_rss_kb(pid: int) -> int:
    """RSS of ``pid`` and all its descendants, in kB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        ppid = int(fields.get("PPid", "0").strip())
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total


def run(model: str, backend: str, models_dir: Path) -> tuple[float, int, int]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", CODE, model, backend, str(models_dir)], env=env)
    peak_tree = 0
    while process.poll() is None:
        peak_tree = max(peak_tree, tree_rss_kb(process.pid))
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"the build failed (exit {process.returncode})")
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kB on Linux
    return elapsed, peak_tree, largest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="packaged:multilingual-e5-small")
    parser.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    parser.add_argument("--models-dir", type=Path, default=None)
    args = parser.parse_args()
    models_dir = args.models_dir or Path(tempfile.mkdtemp(prefix="newsbot-models-"))
    print(f"model {args.model}, backend {args.backend}, into {models_dir}; load: {os.getloadavg()[0]:.1f}")
    first, tree, largest = run(args.model, args.backend, models_dir)
    print(f"first run (build): {first:.1f} s, peak RSS {largest / 1e6:.2f} GB (largest process), "
          f"{tree / 1e6:.2f} GB (process tree, sampled)")
    again, tree, _ = run(args.model, args.backend, models_dir)
    print(f"second run (built): {again:.1f} s, peak RSS {tree / 1e6:.2f} GB (process tree)")


if __name__ == "__main__":
    main()

"""How long a digest takes once its articles are indexed.

Builds (once) an index of N articles in DATA: the articles of CORPUS, repeated with their paragraphs
rotated and an edition number in the title until there are N (repeats of one article are
near-duplicates: the worst case for story sizes, a fair one for time). Then times ``build_digest``
over all of them R times in one process (reading the chunks and their vectors from Chroma,
names, clustering, leads; nothing is embedded) and prints the median, and the stories found.

    HF_HUB_OFFLINE=1 NEWSBOT_MODEL_DIR=… python benchmarks/digest.py --corpus DIR --data /tmp/bench \
        [--articles 500] [--runs 5] [--model packaged:multilingual-e5-small]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_corpus(source: Path, target: Path, n: int) -> int:
    """N articles in ``target`` from the articles of ``source`` (Markdown with front matter)."""
    from retrieval.ingest.corpus import iter_article_files, render_markdown, split_front_matter

    originals = []
    for path in iter_article_files(source):
        if path.suffix == ".md":
            meta, body = split_front_matter(path.read_text(encoding="utf-8"))
            originals.append((path.relative_to(source).with_suffix(""), meta, body.strip().split("\n\n")))
    if not originals:
        raise SystemExit(f"no Markdown article in {source}")
    written = 0
    edition = 0
    while written < n:
        for rel, meta, paragraphs in originals:
            if written >= n:
                break
            shift = edition % max(1, len(paragraphs))
            rotated = paragraphs[shift:] + paragraphs[:shift]
            title = meta["title"] if edition == 0 else f"{meta['title']} (édition {edition + 1})"
            out = target / f"{rel}-e{edition}.md"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(render_markdown({**meta, "title": title}, "\n\n".join(rotated)), encoding="utf-8")
            written += 1
        edition += 1
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of Markdown articles")
    parser.add_argument("--data", type=Path, required=True, help="where the benchmark's corpus and index live")
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default="packaged:multilingual-e5-small", help="NEWSBOT_EMBEDDING_MODEL")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    sys.path.insert(0, str(ROOT))
    from retrieval.digest.build import build_digest
    from retrieval.digest.window import Window
    from retrieval.service import open_service
    from retrieval.settings import load_settings

    corpus = args.data / "corpus"
    if not corpus.exists():
        print(f"writing {make_corpus(args.corpus, corpus, args.articles)} articles into {corpus}", flush=True)
    overrides: dict[str, object] = {"corpus_dir": corpus, "data_dir": args.data, "embedding_model": args.model}
    if os.environ.get("NEWSBOT_MODEL_DIR"):
        overrides["model_dir"] = Path(os.environ["NEWSBOT_MODEL_DIR"])
    settings = load_settings(**overrides)
    service = open_service(settings, create=True)
    started = time.perf_counter()
    report = service.reindex()
    print(f"index: {report.summary()} ({time.perf_counter() - started:.0f} s)", flush=True)

    times, cpu = [], []
    digest = None
    for _ in range(args.runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        digest = build_digest(service.store, settings, Window())
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    assert digest is not None
    print(f"digest of {digest.articles} articles: median {statistics.median(times):.2f} s wall, "
          f"{statistics.median(cpu):.2f} s CPU over {args.runs} runs (first {times[0]:.2f} s wall, "
          f"{cpu[0]:.2f} s CPU; min {min(times):.2f} s); {len(digest.stories)} stories, "
          f"{len(digest.multi)} with several articles, largest {max((s.size for s in digest.stories), default=0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

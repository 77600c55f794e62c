"""Answer latency with the answer-sentence model: the whole ``ask`` and the answer stage alone.

Opens the PIAF dev index that ``newsbot eval`` builds (DATA_DIR/eval; built if missing), asks N
French questions and the English question set, and prints p50/p95 of ``AnsweringService.ask``
and of the answer stage alone (candidate sentences, their cached vectors, features, model,
composition) given the retrieved passages. The answer stage reads at most k passages whatever
the size of the index; its sentence vectors come from the cache filled at index time (the
first run after indexing without the hook pays their embedding once).

    HF_HUB_OFFLINE=1 NEWSBOT_MODEL_DIR=... python benchmarks/answer_speed.py [--limit 200]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = REPO.parent / "shared" / "eval" / "piaf-dev.json"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=200, help="French questions asked")
    parser.add_argument("--english", type=Path, default=REPO / "tests" / "data" / "eval-english.json")
    args = parser.parse_args(argv)
    if not args.dataset.exists():
        print(f"{args.dataset} not found", file=sys.stderr)
        return 2

    from retrieval.evaluation.squad import eval_settings, load_squad, write_corpus
    from retrieval.service import open_service
    from retrieval.settings import load_settings

    settings = load_settings()
    dataset = load_squad(args.dataset)
    local = eval_settings(settings, dataset)
    write_corpus(dataset, local.corpus_dir)
    service = open_service(local, create=True)
    service.reindex()
    service.warm_up()
    questions = [q.question for q in random.Random(1).sample(dataset.questions, args.limit)]
    english = [item["question"] for item in json.loads(args.english.read_text("utf-8"))]
    lexical = service.retriever.view()
    print(f"index: {service.store.count():,} chunks")
    for name, items in (("French", questions), ("English", english)):
        ask, stage = [], []
        for question in items:
            started = time.perf_counter()
            service.ask(question)
            ask.append(time.perf_counter() - started)
            passages, _ = service.retriever.passages(question)
            started = time.perf_counter()
            service.answerer.answer(question, question, passages, lexical)
            stage.append(time.perf_counter() - started)
        print(
            f"{name:8s} {len(items):4d} questions: ask p50 {1000 * percentile(ask, 0.5):.0f} ms, "
            f"p95 {1000 * percentile(ask, 0.95):.0f} ms; answer stage p50 {1000 * percentile(stage, 0.5):.1f} ms, "
            f"p95 {1000 * percentile(stage, 0.95):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

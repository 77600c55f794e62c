"""The cost of the LangChain composition on one question (issue 11): chain vs the same steps called directly.

    NEWSBOT_MODEL_DIR=/work/main/.newsbot/models \\
        python benchmarks/question_path.py [--paragraphs 300] [--questions 200] [--work DIR]

Builds a small index of PIAF paragraphs (``/work/shared/eval/piaf-dev.json`` or ``--piaf``;
without it, the articles of ``corpus/``) with the default embedding model, then asks each
question twice, alternating: (a) through ``AnsweringService.ask`` (the LangChain chain) and
(b) through the same steps called one after the other (condense, retrieve, answer, sources).
Prints p50/p95 of both and their difference. The two paths must give the same answers.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def direct(service: Any, question: str) -> Any:
    """The chain's steps without LangChain (the service's own helpers, called in order)."""
    return service.answer_directly(question)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--piaf", type=Path, default=REPO.parent / "shared" / "eval" / "piaf-dev.json")
    parser.add_argument("--paragraphs", type=int, default=300)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()

    from bot.settings import load_settings
    from retrieval.evaluation.squad import load_squad, subset, write_corpus
    from retrieval.service import open_service

    work = args.work or Path(tempfile.mkdtemp(prefix="question-path-"))
    corpus = work / "corpus"
    if args.piaf.exists():
        dataset = subset(load_squad(args.piaf), args.paragraphs, seed=0)
        write_corpus(dataset, corpus)
        questions = [q.question for q in dataset.questions][: args.questions]
    else:
        corpus = REPO / "corpus"
        questions = ["Quel est le nouveau plafond du prix du pétrole russe ?"] * args.questions
    settings = load_settings(data_dir=work / "data", corpus_dir=corpus)
    service = open_service(settings, create=True)
    service.reindex()
    service.warm_up()
    for question in questions[:10]:  # warm both paths
        service.ask(question)
        direct(service, question)

    chain: list[float] = []
    plain: list[float] = []
    differ = 0
    for question in questions:
        t0 = time.perf_counter()
        a = service.ask(question)
        t1 = time.perf_counter()
        b = direct(service, question)
        t2 = time.perf_counter()
        chain.append((t1 - t0) * 1000)
        plain.append((t2 - t1) * 1000)
        differ += a.answer != b.answer
    print(f"questions: {len(questions)}  (index: {settings.index_path})")
    print("| path | p50 ms | p95 ms |")
    print("|---|---|---|")
    print(f"| chain (`service.ask`) | {statistics.median(chain):.1f} | {percentile(chain, 0.95):.1f} |")
    print(f"| direct calls | {statistics.median(plain):.1f} | {percentile(plain, 0.95):.1f} |")
    print(f"chain overhead p50: {statistics.median(chain) - statistics.median(plain):+.1f} ms; answers differing: {differ}")


if __name__ == "__main__":
    main()

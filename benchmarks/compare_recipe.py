"""Side by side: the usual LangChain tutorial recipe versus newsbot, on the same data, in one run.

(a) the recipe: ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, the same
    embedding model (newsbot's ``SentenceTransformerEmbeddings``), ``Chroma.from_documents``
    (langchain-chroma, embedded, in a temporary folder) and ``similarity_search(k=4)``;
(b) newsbot with its default settings (hybrid retrieval, k=5), indexed from scratch in a
    temporary folder through ``AnsweringService.reindex``.

Both index the same paragraphs of a SQuAD-format dataset (each paragraph an article: its
title on the first line, then the text) and answer the same questions. Printed: recall@5
(for the recipe, over its 4 results), MRR, index time, p50 query latency (retrieval only)
and newsbot's p50 answer latency, and the ratios newsbot / recipe.

    HF_HUB_OFFLINE=1 python benchmarks/compare_recipe.py --paragraphs 400 --limit 400
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = REPO.parent / "shared" / "eval" / "piaf-dev.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="SQuAD-format JSON file")
    p.add_argument("--paragraphs", type=int, default=400, help="paragraphs indexed (drawn at random)")
    p.add_argument("--limit", type=int, default=400, help="questions asked (drawn at random)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def ranks_metrics(ranks: list[int | None]) -> tuple[float, float]:
    n = len(ranks) or 1
    recall5 = sum(1 for r in ranks if r is not None and r <= 5) / n
    mrr = sum(1.0 / r for r in ranks if r is not None) / n
    return recall5, mrr


def median_ms(values: list[float]) -> float:
    ordered = sorted(values)
    return 1000 * ordered[len(ordered) // 2] if ordered else 0.0


def index_recipe(articles: list[Any], embeddings: Any, folder: Path) -> tuple[Any, int, float]:
    """The tutorial's indexing: split, then ``Chroma.from_documents``; (store, chunks, seconds)."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    docs = [Document(page_content=f"{a.title}\n{a.text}", metadata={"article_id": a.id}) for a in articles]
    started = time.perf_counter()
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    store = Chroma.from_documents(splits, embeddings, persist_directory=str(folder), collection_name="recipe")
    return store, len(splits), time.perf_counter() - started


def index_newsbot(dataset: Any, embeddings: Any, folder: Path) -> tuple[Any, Any, int, float]:
    """newsbot with its defaults: (service, ranking retriever, chunks, seconds)."""
    from retrieval.evaluation import squad as ev
    from retrieval.service import open_service
    from retrieval.settings import load_settings

    settings = load_settings(
        data_dir=folder / "data", corpus_dir=folder / "corpus", model_dir=REPO / ".newsbot" / "models"
    )
    ev.write_corpus(dataset, settings.corpus_dir)
    service = open_service(settings, create=True, embeddings=embeddings)
    report = service.reindex()
    return service, ev.ranking_retriever(service, settings), report.chunks, report.seconds


def compare(dataset: Any, questions: list[Any], embeddings: Any, folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Index with both, then ask every question of both in turn (so both see the same machine load)."""
    from retrieval.evaluation import squad as ev

    store, recipe_chunks, recipe_seconds = index_recipe(dataset.articles, embeddings, folder / "recipe")
    service, ranker, newsbot_chunks, newsbot_seconds = index_newsbot(dataset, embeddings, folder / "newsbot")
    recipe_ranks: list[int | None] = []
    newsbot_ranks: list[int | None] = []
    recipe_latency: list[float] = []
    query_latency: list[float] = []
    answer_latency: list[float] = []
    contained = 0
    for q in questions:
        started = time.perf_counter()
        found = store.similarity_search(q.question, k=4)
        recipe_latency.append(time.perf_counter() - started)
        recipe_ranks.append(ev.gold_rank([d.metadata["article_id"] for d in found], q.article_id))

        started = time.perf_counter()
        service.retriever.passages(q.question)
        query_latency.append(time.perf_counter() - started)
        started = time.perf_counter()
        answer = service.ask(q.question)
        answer_latency.append(time.perf_counter() - started)
        contained += (not answer.refused) and ev.contains_answer(answer.answer, q.answers)
        passages, _ = ranker.passages(q.question)
        newsbot_ranks.append(ev.gold_rank([p.article_id for p in passages], q.article_id))
    r5, mrr = ranks_metrics(recipe_ranks)
    recipe = {
        "chunks": recipe_chunks, "index_seconds": recipe_seconds, "recall_at_5": r5, "mrr": mrr,
        "query_p50_ms": median_ms(recipe_latency),
    }
    r5, mrr = ranks_metrics(newsbot_ranks)
    newsbot = {
        "chunks": newsbot_chunks, "index_seconds": newsbot_seconds, "recall_at_5": r5, "mrr": mrr,
        "query_p50_ms": median_ms(query_latency), "answer_p50_ms": median_ms(answer_latency),
        "containment": contained / max(1, len(questions)),
    }
    return recipe, newsbot


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.path.insert(0, str(REPO))
    args = parse_args(argv)

    from retrieval.embeddings.models import embeddings_from_settings
    from retrieval.errors import NewsbotError
    from retrieval.evaluation import squad as ev
    from retrieval.settings import load_settings

    try:
        settings = load_settings(model_dir=REPO / ".newsbot" / "models")
        dataset = ev.subset(ev.load_squad(args.dataset), args.paragraphs, args.seed)
        questions = ev.sample(dataset.questions, args.limit, args.seed)
        embeddings = embeddings_from_settings(settings)
        embeddings.embed_query("warm-up")  # load the model outside the timings
        with tempfile.TemporaryDirectory() as tmp:
            recipe, newsbot = compare(dataset, questions, embeddings, Path(tmp))
    except NewsbotError as exc:
        print(f"compare_recipe: {exc}", file=sys.stderr)
        return 1

    print(
        f"{dataset.name}: {len(dataset.articles)} paragraphs, {len(questions)} questions (seed {args.seed}); "
        f"embedding model {settings.embedding.model} (quantize={settings.embedding.quantize})"
    )
    print()
    print("| | tutorial recipe | newsbot | newsbot / recipe |")
    print("|---|---|---|---|")
    rows = [
        ("recall@5 (recipe: its k=4)", "recall_at_5", "{:.3f}"),
        ("MRR", "mrr", "{:.3f}"),
        ("chunks", "chunks", "{:d}"),
        ("index time (s)", "index_seconds", "{:.1f}"),
        ("query latency p50 (ms, retrieval)", "query_p50_ms", "{:.0f}"),
    ]
    for label, key, fmt in rows:
        a, b = recipe[key], newsbot[key]
        ratio = f"{b / a:.2f}×" if a else "—"
        print(f"| {label} | {fmt.format(a)} | {fmt.format(b)} | {ratio} |")
    print(f"| answer latency p50 (ms) | — | {newsbot['answer_p50_ms']:.0f} | |")
    print(f"| answer containment | — | {newsbot['containment']:.3f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

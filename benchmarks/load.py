"""Load on the bot's real answering path: N questions from U concurrent users, then the same during a reindex.

Real NewsBot message handling over the fake Discord REST layer (tests/support/discord_fakes.py),
the REAL answering service with the small packaged model and a real embedded Chroma index
(built from corpus/ in a temporary folder). Prints: answered / lost, p50/p95 latency, the
event loop's worst lag, peak RSS; then, while a reindex of A generated articles runs in
another thread, the same figures and the number of answers citing an article that was not
completely indexed when the answer was given (must be 0). See tests/support/load_harness.py.

    HF_HUB_OFFLINE=1 python benchmarks/load.py [--questions 100] [--users 20] [--articles 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--articles", type=int, default=500, help="generated articles reindexed meanwhile (0: skip)")
    parser.add_argument("--workers", type=int, default=2, help="NEWSBOT_DISCORD_WORKERS")
    parser.add_argument("--model", default="packaged:all-minilm-l6-v2", help="NEWSBOT_EMBEDDING_MODEL")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    sys.path.insert(0, str(ROOT))
    import pytest

    from bot.settings import load_settings
    from retrieval.service import open_service
    from tests.support.load_harness import mixed_questions, peak_rss_mb, run_load, write_generated_articles

    ok = True
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as monkeypatch:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        settings = load_settings(
            embedding_model=args.model, embedding_quantize=False, data_dir=Path(tmp) / "data",
            model_dir=ROOT / ".newsbot" / "models", corpus_dir=corpus, discord_sync_commands=False,
            discord_rate_limit=100_000, discord_workers=args.workers,
        )
        service = open_service(settings, create=True)
        service.reindex()
        print(f"model {args.model}, {args.workers} answer workers, {os.cpu_count()} CPUs; "
              f"RSS after loading {peak_rss_mb():.0f} MB")

        result = asyncio.run(
            run_load(service, settings, monkeypatch, mixed_questions(args.questions), users=args.users)
        )
        print("\n".join(result.lines(f"\n{args.questions} questions from {args.users} users")))
        ok &= result.answered == result.questions and not result.violations

        if args.articles:
            generated = write_generated_articles(corpus, args.articles)
            result = asyncio.run(
                run_load(
                    service, settings, monkeypatch, mixed_questions(args.questions, args.articles),
                    users=args.users, reindex=service.reindex, generated_ids=generated,
                )
            )
            title = f"\nthe same during a reindex of {args.articles} articles (users ask until it ends)"
            print("\n".join(result.lines(title)))
            for violation in result.violations[:10]:
                print(f"  VIOLATION {violation}")
            ok &= result.answered == result.questions and not result.violations
            ok &= result.reindex_added == args.articles
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

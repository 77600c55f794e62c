"""``newsbot eval DATASET``: answer quality on a SQuAD-format dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.main import emit_json
from retrieval.errors import ConfigError

if TYPE_CHECKING:
    from bot.settings import AppSettings


def register(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="measure retrieval and answers on a SQuAD-format dataset (e.g. ../shared/eval/piaf-dev.json)",
        description="Index each paragraph of DATASET as an article (in a cache under DATA_DIR/eval, "
        "reused by later runs), ask its questions and report recall@1/5/10, MRR, answer containment, "
        "refusal rate, answer latency and index time.",
    )
    p.add_argument("dataset", type=Path, help="SQuAD-format JSON file")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="ask N questions drawn at random")
    p.add_argument("--seed", type=int, default=0, help="seed of the random draws (default 0)")
    p.add_argument(
        "--paragraphs", type=int, default=None, metavar="N",
        help="index only N paragraphs drawn at random (and ask only their questions)",
    )
    p.add_argument(
        "--extra", type=Path, action="append", default=[], metavar="FILE",
        help="a further question set: JSON list of {question, qid?, answers?}; questions without "
        "qid are unanswerable (repeatable)",
    )
    p.add_argument(
        "--split", choices=("all", "train", "heldout"), default="all",
        help="ask only the questions of these SQuAD articles (heldout: every fourth article, never "
        "used to train the answer-sentence model); all paragraphs stay indexed",
    )
    p.add_argument("--details", action="store_true", help="with --json, include every question's result")
    p.set_defaults(handler=cmd_eval)


class StageBar:
    """One tqdm bar per stage (indexing, then each question set) on standard error."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.stage: str | None = None
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total == 0:
            return
        if stage != self.stage:
            self.close()
            from tqdm import tqdm

            unit = "chunk" if stage == "indexing" else "question"
            self.bar = tqdm(total=total, unit=unit, desc=stage, file=sys.stderr, leave=False, disable=None)
            self.stage = stage
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def cmd_eval(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.evaluation import squad as evaluation

    if args.limit is not None and args.limit < 1:
        raise ConfigError("--limit must be at least 1")
    if args.paragraphs is not None and args.paragraphs < 1:
        raise ConfigError("--paragraphs must be at least 1")
    dataset = evaluation.load_squad(args.dataset)
    dataset = evaluation.subset(dataset, args.paragraphs, args.seed)
    extra_base = dataset
    dataset = evaluation.only_split(dataset, args.split)
    extra = [(path.stem, evaluation.load_extra(path, extra_base)) for path in args.extra]
    bar = StageBar(enabled=sys.stderr.isatty() or not args.json)
    try:
        report = evaluation.run_eval(settings, dataset, limit=args.limit, seed=args.seed, extra=extra, progress=bar)
    finally:
        bar.close()
    if args.json:
        emit_json(report.to_dict(with_results=args.details))
    else:
        sys.stdout.write(report.table() + "\n")
    return 0

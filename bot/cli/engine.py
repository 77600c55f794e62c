"""``newsbot reindex``, ``newsbot ask`` and ``newsbot chat``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.main import emit_json
from bot.cli.render import render_answer
from retrieval.errors import IndexMissing, NewsbotError

if TYPE_CHECKING:
    from bot.settings import AppSettings


def register(sub: Any) -> None:
    p = sub.add_parser("reindex", help="index new, changed and removed articles of the corpus")
    p.add_argument("--rebuild", action="store_true", help="start the index over")
    p.add_argument("--full-check", action="store_true",
                   help="hash every article file, even those whose size and time are unchanged")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument("--watch", action="store_true", help="keep watching the corpus folder and reindex on change")
    p.set_defaults(handler=cmd_reindex)

    p = sub.add_parser("ask", help="answer one question (or one per line of standard input with --jsonl)")
    p.add_argument("question", nargs="?", help="the question")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print the answer and every retrieved passage as JSON")
    mode.add_argument("--jsonl", action="store_true", help="read questions from standard input, one per line")
    p.set_defaults(handler=cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal (builds the index on first run)")
    p.set_defaults(handler=cmd_chat)


def progress_bar(enabled: bool) -> tuple[Any, Any]:
    """A tqdm progress callback for reindexing, and a function closing it."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if total == 0:
            return
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, unit="chunk", desc="indexing", file=sys.stderr, leave=False)
        bar["bar"].n = done
        bar["bar"].refresh()

    def close() -> None:
        if "bar" in bar:
            bar["bar"].close()

    return update, close


def run_reindex(service: Any, *, show_progress: bool, full_check: bool = False) -> Any:
    update, close = progress_bar(show_progress)
    try:
        return service.reindex(full_check=full_check, progress=update)
    finally:
        close()


def cmd_reindex(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.service import open_service

    service = open_service(settings, create=True, rebuild=args.rebuild)
    report = run_reindex(service, show_progress=not args.json, full_check=args.full_check)
    if args.json:
        emit_json(report.to_dict())
    else:
        for path, reason in report.skipped:
            print(f"skipped {path}: {reason}", file=sys.stderr)
        print(f"{report.summary()} ({report.seconds:.1f} s)")
    if args.watch:
        from retrieval.ingest.watch import watch_corpus

        watch_corpus(service, settings, on_report=lambda r: emit_json(r.to_dict()) if args.json else print(r.summary()))
    return 0


def cmd_ask(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.service import open_service

    if args.jsonl:
        if args.question:
            raise NewsbotError("--jsonl reads the questions from standard input; give no question")
        service = open_service(settings)
        status = 0
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                emit_json(service.ask(line.rstrip("\n")).to_dict())
            except NewsbotError as exc:  # one bad line does not stop the others
                emit_json({"question": line.rstrip("\n"), "error": str(exc)})
                status = 1
        return status
    if args.question is None:
        raise NewsbotError("give a question: newsbot ask \"…\" (or --jsonl to read them from standard input)")
    from retrieval.service import clean_question

    clean_question(args.question, settings.max_question_chars)  # fail fast, before loading anything
    service = open_service(settings)
    answer = service.ask(args.question)
    if args.json:
        emit_json(answer.to_dict())
    else:
        print(render_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace, settings: AppSettings) -> int:
    from bot.cli.repl import Repl
    from retrieval.service import open_service

    try:
        service = open_service(settings)
    except IndexMissing:
        print("No index yet: indexing the corpus first…", file=sys.stderr)
        service = open_service(settings, create=True)
        report = run_reindex(service, show_progress=True)
        print(report.summary(), file=sys.stderr)
    return Repl(service, settings).run()

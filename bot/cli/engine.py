"""``newsbot reindex``, ``newsbot ask`` and ``newsbot chat``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from bot.cli.main import UsageError, emit_json
from bot.cli.render import Style, echo, render_answer
from retrieval.errors import ConfigError, IndexMissing, NewsbotError
from retrieval.types import QueryScope, Turn

if TYPE_CHECKING:
    from bot.settings import AppSettings

log = logging.getLogger("newsbot")


def iso_date(text: str) -> str:
    """An argparse type: ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (give YYYY-MM-DD)") from None


def register(sub: Any) -> None:
    p = sub.add_parser("reindex", help="index new, changed and removed articles of the corpus")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="only these article files changed (new, edited or deleted): the rest of the corpus "
                        "is not looked at")
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
    mode.add_argument(
        "--jsonl", action="store_true",
        help='read questions from standard input, one per line: plain text, or JSON {"question": …, '
        '"conversation": ID} (answers of one conversation are follow-ups); one JSON answer per line',
    )
    p.add_argument("--source", action="append", default=[], metavar="OUTLET",
                   help="only articles of this outlet (repeatable)")
    p.add_argument("--since", type=iso_date, metavar="YYYY-MM-DD", help="only articles of this day or later")
    p.add_argument("--until", type=iso_date, metavar="YYYY-MM-DD", help="only articles of this day or earlier")
    p.set_defaults(handler=cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal (indexes waiting articles first)")
    p.set_defaults(handler=cmd_chat)


# -- reindexing -------------------------------------------------------------------------------
def progress_bar(enabled: bool = True) -> tuple[Any, Any]:
    """A tqdm progress callback for reindexing, and a function closing it. The bar shows on a
    terminal only (``disable=None``): redirected standard error gets no ``\\r`` fragments."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        # the bar starts once the first chunks are embedded: after the model is loaded (and any
        # message about building it), never sharing a line with it
        if total == 0 or (done == 0 and "bar" not in bar):
            return
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, unit="chunk", desc="indexing", file=sys.stderr, leave=False, disable=None)
        bar["bar"].n = done
        bar["bar"].refresh()

    def close() -> None:
        if "bar" in bar:
            bar["bar"].close()

    return update, close


def run_reindex(
    service: Any, *, show_progress: bool, full_check: bool = False, answering: bool = True,
    paths: list[Path] | None = None,
) -> Any:
    """``answering``: this process asks questions afterwards (the REPL); a one-shot command does not.
    ``paths``: only these article files changed."""
    update, close = progress_bar(show_progress)
    try:
        return service.reindex(full_check=full_check, progress=update, answering=answering, paths=paths)
    finally:
        close()


def require_corpus(settings: AppSettings) -> None:
    """Refuse before anything is created: no corpus folder means no index folder or lock either."""
    if not settings.corpus_dir.is_dir():
        raise ConfigError(
            f"no corpus folder at {settings.corpus_dir}: create it and put articles in it, "
            "or set NEWSBOT_CORPUS_DIR"
        )


def print_skipped(report: Any) -> None:
    """One line per file that could not be read, its path relative to the corpus."""
    for path, reason in report.skipped:
        echo(f"newsbot: skipped {path}: {reason}", sys.stderr)


def log_unsupported(settings: AppSettings) -> None:
    """Files of the corpus newsbot does not read (a .docx, a .pdf), listed once (shown with -v)."""
    if not log.isEnabledFor(logging.INFO):
        return
    from retrieval.ingest.corpus import SUFFIXES

    root = settings.corpus_dir
    ignored = [
        path.relative_to(root).as_posix() for path in sorted(root.rglob("*"))
        if path.is_file() and path.suffix.lower() not in SUFFIXES
        and not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)
    ]
    if ignored:
        log.info("not articles (newsbot reads %s): %s", ", ".join(sorted(SUFFIXES)), ", ".join(ignored))


def cmd_reindex(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.service import open_service

    require_corpus(settings)
    paths = [Path(p).absolute() for p in args.paths] or None
    if paths and (args.rebuild or args.full_check or args.watch):
        raise UsageError("PATH arguments do not go with --rebuild, --full-check or --watch (they look at every file)")
    service = open_service(settings, create=True, rebuild=args.rebuild)
    report = run_reindex(service, show_progress=not args.json, full_check=args.full_check, answering=False,
                         paths=paths)
    print_skipped(report)
    log_unsupported(settings)
    if args.json:
        emit_json(report.to_dict())
    else:
        print(f"{report.summary()} ({report.seconds:.1f} s)")
    if args.watch:
        from retrieval.ingest.watch import watch_corpus

        def on_report(r: Any) -> None:
            print_skipped(r)
            emit_json(r.to_dict()) if args.json else print(r.summary(), flush=True)

        watch_corpus(service, settings, on_report=on_report)
    return 0


# -- asking -----------------------------------------------------------------------------------
def scope_of(args: argparse.Namespace) -> QueryScope | None:
    if args.since and args.until and args.since > args.until:
        raise UsageError(f"--since {args.since} is after --until {args.until}")
    sources = tuple(s.strip() for s in args.source if s.strip())
    if not (args.since or args.until or sources):
        return None
    return QueryScope(since=args.since, until=args.until, sources=sources)


def ask(service: Any, question: str, history: list[Turn], scope: QueryScope | None) -> Any:
    if scope is None:  # a service without scopes (a test double, an older facade) still answers
        return service.ask(question, history)
    return service.ask(question, history, scope=scope)


@dataclass
class Request:
    """One line of ``ask --jsonl``."""

    number: int
    question: str | None
    conversation: str | None = None
    error: str | None = None


def read_requests(stream: BinaryIO) -> Iterator[Request]:
    """Lines of standard input as questions: plain text, or JSON ``{"question", "conversation"}``.
    A line that is not UTF-8 has its bad bytes replaced (and says so on standard error)."""
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = raw.decode("utf-8", "replace")
            echo(f"newsbot: line {number} is not UTF-8: its invalid bytes were replaced by U+FFFD", sys.stderr)
        line = line.rstrip("\r\n").lstrip("\ufeff")
        if not line.strip():
            continue
        if not line.lstrip().startswith("{"):
            yield Request(number, line)
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Request(number, line, error=f"line {number}: invalid JSON ({exc.msg})")
            continue
        question, conversation = data.get("question"), data.get("conversation")
        if not isinstance(question, str):
            yield Request(number, None, error=f'line {number}: a JSON line needs "question" (a string)')
        elif conversation is not None and not isinstance(conversation, (str, int)):
            yield Request(number, question, error=f'line {number}: "conversation" must be a string')
        else:
            yield Request(number, question, None if conversation is None else str(conversation))


def answer_lines(service: Any, stream: BinaryIO, scope: QueryScope | None) -> int:
    """``ask --jsonl``: one JSON answer per question; a bad line gets an error line and the rest go on."""
    status = 0
    conversations: dict[str, list[Turn]] = {}
    for request in read_requests(stream):
        row: dict[str, Any]
        if request.error is None and request.question is not None:
            history = conversations.setdefault(request.conversation, []) if request.conversation else []
            try:
                answer = ask(service, request.question, list(history), scope)
            except NewsbotError as exc:  # one bad line does not stop the others
                row = {"question": request.question, "error": str(exc)}
                status = 1
            else:
                row = answer.to_dict()
                if request.conversation:
                    history.append(Turn(question=request.question, answer=answer.answer))
        else:
            row = {"question": request.question, "error": request.error}
            status = 1
        if request.conversation is not None:
            row["conversation"] = request.conversation
        emit_json(row)
    return status


def _ready_to_ask(settings: AppSettings) -> Any:
    """The service, its models loading while Chroma loads its vectors in a thread (the question's
    first read of the index waits for that load: the models would otherwise load after it)."""
    from retrieval.service import open_service

    service = open_service(settings)
    service.load_vectors_meanwhile()
    service.load_models()
    return service


def cmd_ask(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.service import clean_question

    scope = scope_of(args)
    if args.jsonl:
        if args.question:
            raise UsageError("--jsonl reads the questions from standard input; give no question")
        return answer_lines(_ready_to_ask(settings), sys.stdin.buffer, scope)
    if args.question is None:
        raise UsageError('give a question: newsbot ask "…" (or --jsonl to read them from standard input)')
    if "\ufffd" in args.question:
        echo("newsbot: the question held bytes that are not UTF-8: they were replaced by U+FFFD", sys.stderr)
    clean_question(args.question, settings.max_question_chars)  # fail fast, before loading anything
    answer = ask(_ready_to_ask(settings), args.question, [], scope)
    if args.json:
        emit_json(answer.to_dict())
    else:
        print(render_answer(answer, style=Style.for_stream(sys.stdout)))
    return 0


# -- chatting ---------------------------------------------------------------------------------
def index_waiting(service: Any, settings: AppSettings) -> None:
    """Index the articles waiting in the corpus before the conversation starts, or say why not."""
    from bot.cli.status import waiting

    try:
        pending = waiting(service.store, settings)
    except NewsbotError as exc:
        echo(f"newsbot: cannot tell whether articles are waiting to be indexed: {exc}", sys.stderr)
        return
    if not pending.count:
        return
    echo(f"{pending.describe()} waiting: indexing them…", sys.stderr)
    try:
        report = run_reindex(service, show_progress=True)
    except NewsbotError as exc:
        echo(f"newsbot: indexing failed ({exc}); answering from the index as it is", sys.stderr)
        return
    print_skipped(report)
    echo(report.summary(), sys.stderr)


def cmd_chat(args: argparse.Namespace, settings: AppSettings) -> int:
    from bot.cli.repl import Repl, spinner
    from retrieval.service import open_service

    try:
        service = open_service(settings)
    except IndexMissing:
        require_corpus(settings)
        echo("No index yet: indexing the corpus first…", sys.stderr)
        service = open_service(settings, create=True)
        report = run_reindex(service, show_progress=True)
        print_skipped(report)
        echo(report.summary(), sys.stderr)
    else:
        if settings.corpus_dir.is_dir():
            index_waiting(service, settings)
    with spinner("loading the model…", sys.stderr):
        warm = getattr(service, "warm_up", None)
        if warm is not None:
            warm()
    return Repl(service, settings).run()

"""``newsbot add URL…`` and ``newsbot feeds``: new articles from the web, then a reindex."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.main import UsageError, emit_json
from bot.cli.render import safe

if TYPE_CHECKING:
    from bot.settings import AppSettings


def register(sub: Any) -> None:
    p = sub.add_parser("add", help="download web pages into the corpus, then reindex")
    p.add_argument("urls", nargs="+", metavar="URL", help="article pages (http or https)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    p.add_argument("--no-reindex", action="store_true", help="only write the articles into the corpus")
    p.set_defaults(handler=cmd_add)

    p = sub.add_parser("feeds", help="add the new entries of the RSS/Atom feeds of NEWSBOT_FEEDS_FILE, then reindex")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    p.add_argument("--no-reindex", action="store_true", help="only write the articles into the corpus")
    p.set_defaults(handler=cmd_feeds)


def reindex_if_needed(args: argparse.Namespace, settings: AppSettings, results: list[Any]) -> Any:
    """Reindex the files just written, when there are any (the model is not even loaded otherwise):
    they alone are looked at, however large the corpus."""
    written = [r.path.absolute() for r in results if r.status == "added" and r.path is not None]
    if args.no_reindex or not written:
        return None
    from bot.cli.engine import run_reindex
    from retrieval.service import open_service

    service = open_service(settings, create=True)
    return run_reindex(service, show_progress=not args.json, answering=False, paths=written)


def say(text: str, *, failed: bool = False) -> None:
    """One line of output; failures go to standard error."""
    stream = sys.stderr if failed else sys.stdout
    stream.write(safe(text) + "\n")
    stream.flush()


def print_lines(lines: list[tuple[str, bool]]) -> None:
    for text, failed in lines:
        say(text, failed=failed)


def not_urls(urls: list[str]) -> list[str]:
    """The arguments that are not http(s) URLs with a host."""
    from urllib.parse import urlsplit

    bad = []
    for url in urls:
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            bad.append(url)
            continue
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            bad.append(url)
    return bad


def cmd_add(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.ingest.fetch import add_urls

    bad = not_urls(list(args.urls))
    if bad:  # nothing is fetched: a typo in one argument is a usage error, not a half-done run
        raise UsageError(f"not a web page address (give http:// or https:// URLs): {', '.join(map(repr, bad))}")
    results = add_urls(settings, list(args.urls))
    added = sum(1 for r in results if r.status == "added")
    failed = sum(1 for r in results if r.status == "failed")
    if not args.json:
        print_lines([(r.line(), r.status == "failed") for r in results])
    report = reindex_if_needed(args, settings, results)
    if args.json:
        emit_json(
            {
                "results": [r.to_dict() for r in results],
                "added": added,
                "known": sum(1 for r in results if r.status == "known"),
                "failed": failed,
                "reindex": report.to_dict() if report is not None else None,
            }
        )
    elif report is not None:
        say(report.summary())
    return 1 if failed else 0


def cmd_feeds(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.ingest.feeds import poll_feeds

    report = poll_feeds(settings)
    if not args.json:
        lines = [(feed.line(), feed.status == "failed") for feed in report.feeds]
        lines += [(entry.line(), entry.status == "failed") for entry in report.entries]
        print_lines(lines)
        say(report.summary())
    reindex = reindex_if_needed(args, settings, report.entries)
    if args.json:
        emit_json({**report.to_dict(), "reindex": reindex.to_dict() if reindex is not None else None})
    elif reindex is not None:
        say(reindex.summary())
    return 1 if report.failed_feeds else 0

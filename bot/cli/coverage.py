"""``newsbot digest|list|show|search|rm``: what arrived, grouped by story, and managing the coverage."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import TYPE_CHECKING, Any

from bot.cli.main import emit_json
from retrieval.errors import NewsbotError

if TYPE_CHECKING:
    from bot.settings import AppSettings
    from retrieval.digest.window import Window


def register(sub: Any) -> None:
    p = sub.add_parser("digest", help="the articles that arrived recently, grouped by story, with cited leads")
    p.add_argument("--since", help="24h, 7d, a date (2025-08-15) or 'all' (default: NEWSBOT_DIGEST_SINCE)")
    p.add_argument("--source", action="append", default=[], metavar="S", help="only this outlet (repeatable)")
    p.add_argument("--published", action="store_true", help="the window is on published dates, not arrivals")
    p.add_argument("--stories", type=int, default=None, metavar="N", help="show at most N stories")
    p.add_argument("--json", action="store_true", help="print the digest as one JSON object")
    p.set_defaults(handler=cmd_digest)

    p = sub.add_parser("list", help="list the indexed articles, newest first")
    p.add_argument("--since", default="all", help="24h, 7d, a date or 'all' (default)")
    p.add_argument("--source", action="append", default=[], metavar="S", help="only this outlet (repeatable)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N articles")
    p.add_argument("--json", action="store_true", help="print the articles as JSON")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("show", help="show one article (its id as given by `newsbot list`)")
    p.add_argument("article_id", metavar="ID")
    p.add_argument("--json", action="store_true", help="print the article as JSON")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("search", help="the passages found for some terms, with their scores (no answer)")
    p.add_argument("terms")
    p.add_argument("-k", type=int, default=None, help="passages to show (default: NEWSBOT_K)")
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("rm", help="remove an article: its file in the corpus and its index entries")
    p.add_argument("article_id", metavar="ID")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=cmd_rm)


def make_window(settings: AppSettings, since: str | None, sources: list[str], *, published: bool = False) -> Window:
    from retrieval.digest.build import now_utc
    from retrieval.digest.window import Window, parse_since

    start = parse_since(since if since is not None else settings.digest.since, now_utc())
    return Window(since=start, by="published" if published else "arrived", sources=tuple(sources))


def cmd_digest(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.digest.build import build_digest
    from retrieval.digest.render import render_digest
    from retrieval.service import open_service

    window = make_window(settings, args.since, args.source, published=args.published)
    service = open_service(settings)
    digest = build_digest(service.store, settings, window, generator=service.generator)
    if args.json:
        data = digest.to_dict()
        if args.stories is not None:
            data["stories"] = data["stories"][: max(0, args.stories)]
        emit_json(data)
    else:
        print(render_digest(digest, max_stories=args.stories))
    return 0


def cmd_list(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.digest.catalog import list_articles
    from retrieval.service import open_service

    window = make_window(settings, args.since, args.source)
    service = open_service(settings)
    rows = list_articles(service.store, window, limit=args.limit)
    if args.json:
        emit_json({"articles": [r.to_dict() for r in rows], "count": len(rows)})
        return 0
    for row in rows:
        when = row.date or f"seen {row.indexed_at[:10]}"
        print(f"{row.article_id}\n    {row.title} — {row.outlet} — {when}")
    print(f"{len(rows)} article{'s' if len(rows) != 1 else ''}")
    return 0


def cmd_show(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.digest.catalog import show_article
    from retrieval.service import open_service

    service = open_service(settings)
    view = show_article(service.store, settings, args.article_id)
    if args.json:
        emit_json({"article_id": args.article_id, **view.to_dict()})
        return 0
    print(view.title)
    print(f"{view.outlet} — {view.date or 'date unknown'}" + (f" — {view.url}" if view.url else ""))
    if view.row:
        print(f"indexed {view.row.indexed_at} in {view.row.chunks} chunks")
    else:
        print("not indexed yet (run `newsbot reindex`)")
    for path in view.files:
        print(f"file: {path}")
    print()
    for paragraph in view.text.split("\n\n"):
        print(textwrap.fill(paragraph, 100))
        print()
    return 0


def cmd_search(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.digest.catalog import search_passages
    from retrieval.service import clean_question, open_service
    from retrieval.settings import replace

    terms = clean_question(args.terms, settings.max_question_chars)
    if args.k is not None:
        if not 1 <= args.k <= 50:
            raise NewsbotError("-k must be between 1 and 50")
        settings = replace(settings, k=args.k)
    service = open_service(settings)
    passages = search_passages(service.retriever, terms)
    if args.json:
        emit_json({"terms": terms, "passages": [p.__dict__ for p in passages]})
        return 0
    from bot.cli.render import excerpt

    for n, p in enumerate(passages, start=1):
        print(f"{n}. {p.score:.3f}  {p.title} — {p.source or p.url or p.article_id}" + (f" — {p.date}" if p.date else ""))
        print(f"   {p.chunk_id}")
        print(textwrap.indent(textwrap.fill(excerpt(p.text), 96), "   "))
    if not passages:
        print("no passage found")
    return 0


def cmd_rm(args: argparse.Namespace, settings: AppSettings) -> int:
    from retrieval.digest.catalog import remove_article, show_article
    from retrieval.service import open_service

    service = open_service(settings)
    view = show_article(service.store, settings, args.article_id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise NewsbotError("rm asks for confirmation: run it in a terminal, or add --yes")
        reply = input(f"Remove {args.article_id!r} ({view.title}) from the corpus and the index? [y/N] ")
        if reply.strip().lower() not in {"y", "yes", "o", "oui"}:
            print("nothing removed")
            return 1
    removed = remove_article(service.store, settings, args.article_id)
    where = ", ".join(removed) if removed else "no file (it was only in the index)"
    print(f"removed {args.article_id}: {where}; its index entries are gone")
    return 0

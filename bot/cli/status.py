"""``newsbot status``: what the index holds, what waits to be indexed, what is configured.

It opens the index without the embedding model (nothing is embedded) and reads the corpus the
way ``reindex`` does, so "waiting" means exactly what the next reindex would do.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from bot.cli.main import emit_json
from bot.cli.render import safe
from retrieval.errors import IndexMissing, NewsbotError

if TYPE_CHECKING:
    from bot.settings import AppSettings


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="what the index holds, what waits to be indexed, what is configured")
    p.add_argument("--json", action="store_true", help="print the status as one JSON object")
    p.add_argument(
        "--load-model", action="store_true",
        help="also load the embedding model (building it the first time, e.g. in a Docker image build) "
        "and report how long it took",
    )
    p.set_defaults(handler=cmd_status)


@dataclass
class Waiting:
    """What the next reindex would do."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.added) + len(self.updated) + len(self.removed)

    def describe(self) -> str:
        parts = [f"{len(self.added)} new", f"{len(self.updated)} changed", f"{len(self.removed)} removed"]
        return f"{self.count} article{'s' if self.count != 1 else ''} ({', '.join(parts)})"


def waiting(store: Any, settings: AppSettings) -> Waiting:
    """The corpus compared with the index's committed articles (nothing is embedded)."""
    from retrieval.index.indexer import Indexer

    report = Indexer(store, settings).pending().report
    return Waiting(list(report.added), list(report.updated), list(report.removed), list(report.skipped))


def llm_reachable(settings: AppSettings) -> bool | None:
    """Whether the LLM server answers HTTP at all (None: no LLM configured); loads no model."""
    if not settings.llm.enabled or not settings.llm.base_url:
        return None
    import httpx

    url = settings.llm.base_url.rstrip("/")
    try:
        httpx.get(url + ("/api/tags" if settings.llm.provider == "ollama" else "/models"), timeout=3.0)
    except httpx.HTTPError:
        return False
    return True


def count_feeds(settings: AppSettings) -> int | None:
    path = settings.feeds.file
    if not path.is_file():
        return None
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return sum(1 for line in lines if line.strip() and not line.lstrip().startswith("#"))


def collect(settings: AppSettings) -> dict[str, Any]:
    """The status as plain data (the ``--json`` output)."""
    from retrieval.index.store import IndexStore, make_client

    index: dict[str, Any] = {
        "location": (f"http://{settings.chroma.host}:{settings.chroma.port}" if settings.server_mode
                     else str(settings.index_path)),
        "collection": settings.collection,
        "embedding_model": settings.embedding.model,
        "exists": False,
        "articles": 0,
        "chunks": 0,
        "last_reindex": None,
        "error": None,
    }
    corpus: dict[str, Any] = {"location": str(settings.corpus_dir), "exists": settings.corpus_dir.is_dir(),
                              "waiting": None, "skipped": None}
    store = None
    try:
        store = IndexStore(make_client(settings, create=False), None, settings).open(create=False)
        articles, chunks, last = store.totals()
        index.update(exists=True, articles=articles, chunks=chunks, last_reindex=last)
    except IndexMissing:
        pass
    except NewsbotError as exc:
        index["error"] = str(exc)
    if corpus["exists"]:
        try:
            if store is not None:
                pending = waiting(store, settings)
                corpus["waiting"] = {k: len(v) for k, v in asdict(pending).items() if k != "skipped"}
                corpus["skipped"] = len(pending.skipped)
            else:
                from retrieval.index.indexer import chunk_salt
                from retrieval.ingest.corpus import scan_corpus

                scan = scan_corpus(settings.corpus_dir, salt=chunk_salt(settings))
                corpus["waiting"] = {"added": len(scan.articles), "updated": 0, "removed": 0}
                corpus["skipped"] = len(scan.skipped)
        except NewsbotError as exc:
            corpus["error"] = str(exc)
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    return {
        "index": index,
        "corpus": corpus,
        "feeds": {"file": str(settings.feeds.file), "count": count_feeds(settings)},
        "llm": {"configured": settings.llm.enabled, "model": settings.llm.model,
                "base_url": settings.llm.base_url, "reachable": llm_reachable(settings)},
        "discord": {"token_present": bool(token)},
    }


def render(data: dict[str, Any]) -> str:
    index, corpus, feeds, llm = data["index"], data["corpus"], data["feeds"], data["llm"]
    lines = [f"index        {index['location']} (model {index['embedding_model']})"]
    if index["error"]:
        lines.append(f"             unavailable: {index['error']}")
    elif not index["exists"]:
        lines.append("             not built yet: run `newsbot reindex`")
    else:
        lines.append(f"             {index['articles']} article{'s' if index['articles'] != 1 else ''}, {index['chunks']} chunks; "
                     f"last reindex {index['last_reindex'] or 'unknown'}")
    lines.append(f"corpus       {corpus['location']}")
    if not corpus["exists"]:
        lines.append("             does not exist")
    elif corpus.get("error"):
        lines.append(f"             unreadable: {corpus['error']}")
    elif corpus["waiting"] is not None:
        w = corpus["waiting"]
        total = w["added"] + w["updated"] + w["removed"]
        if total:
            lines.append(f"             {total} waiting to be indexed ({w['added']} new, {w['updated']} changed, "
                         f"{w['removed']} removed): run `newsbot reindex`")
        else:
            lines.append("             nothing waiting to be indexed")
        if corpus["skipped"]:
            lines.append(f"             {corpus['skipped']} unreadable files (see `newsbot reindex`)")
    count = feeds["count"]
    lines.append(f"feeds        {feeds['file']}: " + ("no such file" if count is None else f"{count} feeds"))
    if not llm["configured"]:
        lines.append("LLM          none (extractive answers)")
    else:
        state = "reachable" if llm["reachable"] else "NOT reachable (extractive answers meanwhile)"
        lines.append(f"LLM          {llm['model']} at {llm['base_url']}: {state}")
    lines.append("Discord      token " + ("present" if data["discord"]["token_present"] else "missing (DISCORD_TOKEN)"))
    if "model" in data:
        model = data["model"]
        lines.append(f"model        loaded in {model['seconds']} s" if model["loaded"] else f"model        {model['error']}")
    return "\n".join(safe(line) for line in lines)


def load_model(settings: AppSettings) -> dict[str, Any]:
    """Load (and the first time build) the embedding model as answering would, and time it."""
    import time

    from retrieval.embeddings.models import embeddings_from_settings

    started = time.perf_counter()
    try:
        embeddings_from_settings(settings).embed_query("warm up")
    except NewsbotError as exc:
        return {"loaded": False, "error": str(exc)}
    return {"loaded": True, "seconds": round(time.perf_counter() - started, 2)}


def cmd_status(args: argparse.Namespace, settings: AppSettings) -> int:
    data = collect(settings)
    if args.load_model:
        data["model"] = load_model(settings)
    if args.json:
        emit_json(data)
    else:
        sys.stdout.write(render(data) + "\n")
    return 1 if data["index"]["error"] or not data.get("model", {"loaded": True})["loaded"] else 0

"""Reading the corpus: one article per file.

Formats:

* ``.md`` — Markdown with YAML front matter (``title`` required; ``date``, ``source``,
  ``url``, ``language``, ``author`` optional);
* ``.txt`` — plain text, the title on the first line;
* ``.html``/``.htm`` — a web page; its main text and metadata are extracted with trafilatura.

An article's id is its path relative to the corpus folder, without the extension.
A file that cannot be read is skipped with a reason; the rest of the corpus is unaffected.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import ArticleError
from retrieval.ingest.extract import extract_html
from retrieval.ingest.markdown import FRONT_MATTER_KEYS, clean_body, render_markdown, split_front_matter
from retrieval.types import Article

log = logging.getLogger(__name__)

SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html", ".htm": "html"}
DEFAULT_MAX_BYTES = 10_000_000


@dataclass
class CorpusScan:
    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def article_id_for(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def iter_article_files(root: Path) -> Iterator[Path]:
    """Article files under ``root``, sorted, ignoring hidden and ``_``-prefixed names."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if any(part.startswith((".", "_")) for part in rel):
            continue
        if path.is_file() and path.suffix.lower() in SUFFIXES:
            yield path


def scan_corpus(root: Path, *, salt: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> CorpusScan:
    """Read every article under ``root``. ``salt`` enters each article's hash (chunking settings)."""
    scan = CorpusScan()
    if not root.is_dir():
        raise ArticleError(f"corpus folder {root} does not exist")
    seen: dict[str, Path] = {}
    for path in iter_article_files(root):
        article_id = article_id_for(path, root)
        if article_id in seen:
            reason = f"same article id as {seen[article_id].name}"
            scan.skipped.append((path.relative_to(root).as_posix(), reason))
            log.warning("skipped %s: %s", path, reason)
            continue
        try:
            article = read_article(path, article_id, salt=salt, max_bytes=max_bytes)
        except ArticleError as exc:
            scan.skipped.append((path.relative_to(root).as_posix(), str(exc)))
            log.warning("skipped %s: %s", path, exc)
            continue
        seen[article_id] = path
        scan.articles.append(article)
    return scan


def read_article(path: Path, article_id: str, *, salt: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ArticleError(f"too large ({size:,} bytes; the limit is {max_bytes:,})")
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot be read ({exc.strerror or exc})") from None
    digest = hashlib.sha256(raw + salt.encode()).hexdigest()[:16]
    kind = SUFFIXES[path.suffix.lower()]
    fields = parse_html(raw) if kind == "html" else parse_text(decode(raw), markdown=kind == "markdown")
    text = fields.pop("text")
    if not text.strip():
        raise ArticleError("has no text")
    return Article(id=article_id, text=text, content_hash=digest, **fields)


def decode(raw: bytes) -> str:
    if not raw.strip():
        raise ArticleError("is empty")
    if b"\x00" in raw[:8192]:
        raise ArticleError("is binary, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"is not valid UTF-8 (byte {exc.start})") from None
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def parse_text(text: str, *, markdown: bool) -> dict[str, Any]:
    if markdown:
        meta, body = split_front_matter(text)
        return {**meta, "text": clean_body(body)}
    lines = text.strip().split("\n", 1)
    title = lines[0].strip()
    if len(title) > 300:
        raise ArticleError("first line is too long to be a title")
    body = lines[1] if len(lines) > 1 else ""
    return {"title": title, "text": clean_body(body)}


def parse_html(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise ArticleError("is empty")
    data = extract_html(raw)
    if data is None:
        raise ArticleError("has no article text that could be extracted")
    text = (data.get("text") or "").strip()
    if not text:
        raise ArticleError("has no article text that could be extracted")
    meta = {
        "title": data.get("title") or text.split("\n", 1)[0][:120],
        "date": data.get("date"),
        "source": data.get("sitename"),
        "url": data.get("url"),
        "language": data.get("language"),
        "author": data.get("author"),
    }
    return {**{k: str(v) for k, v in meta.items() if v}, "text": text}


__all__ = [
    "FRONT_MATTER_KEYS",
    "CorpusScan",
    "article_id_for",
    "clean_body",
    "iter_article_files",
    "read_article",
    "render_markdown",
    "scan_corpus",
    "split_front_matter",
]

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

import datetime as dt
import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import ArticleError
from retrieval.types import Article

log = logging.getLogger(__name__)

SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html", ".htm": "html"}
FRONT_MATTER_KEYS = ("title", "date", "source", "url", "language", "author")
DEFAULT_MAX_BYTES = 10_000_000
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


@dataclass
class CorpusScan:
    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unchanged: dict[str, str] = field(default_factory=dict)  # article id -> hash, files not read (``known``)
    paths: dict[str, Path] = field(default_factory=dict)  # article id -> its file


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


def scan_corpus(
    root: Path, *, salt: str = "", max_bytes: int = DEFAULT_MAX_BYTES,
    known: Callable[[Path, str], str | None] | None = None,
) -> CorpusScan:
    """Read every article under ``root``. ``salt`` enters each article's hash (chunking settings).

    ``known(path, article_id)`` may return the hash of a file known unchanged: it is then not read.
    """
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
        scan.paths[article_id] = path
        same = known(path, article_id) if known is not None else None
        if same is not None:
            seen[article_id] = path
            scan.unchanged[article_id] = same
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


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    import yaml

    if not text.startswith("---"):
        raise ArticleError("has no front matter (a '---' block with at least a title)")
    match = _FRONT.match(text)
    if not match:
        raise ArticleError("front matter is not closed by a '---' line")
    try:
        data = yaml.load(match.group(1), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 10x faster
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise ArticleError(f"front matter is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ArticleError("front matter is not a set of 'key: value' lines")
    meta = normalise_meta(data)
    if not meta.get("title"):
        raise ArticleError("front matter has no title")
    return meta, text[match.end():]


def normalise_meta(data: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key in FRONT_MATTER_KEYS:
        value = data.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, (dt.date, dt.datetime)):
            value = value.isoformat()
        if not isinstance(value, (str, int, float)):
            raise ArticleError(f"front matter field '{key}' must be text")
        meta[key] = str(value).strip()
    return meta


_MD_NOISE = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links → their text
    (re.compile(r"^#{1,6}\s*", re.M), ""),  # heading marks
    (re.compile(r"^\s*>\s?", re.M), ""),  # quote marks
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
]


def clean_body(body: str) -> str:
    for pattern, repl in _MD_NOISE:
        body = pattern.sub(repl, body)
    body = re.sub(r"[ \t]+\n", "\n", body)
    body = re.sub(r"\n{3,}", "\n\n", body)
    return body.strip()


def parse_html(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise ArticleError("is empty")
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - a declared dependency
        raise ArticleError("needs trafilatura to read HTML") from None
    result = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, favor_precision=True)
    if result is None:
        raise ArticleError("has no article text that could be extracted")
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
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


def render_markdown(meta: dict[str, Any], text: str) -> str:
    """An article in the corpus's Markdown format (used to save fetched articles)."""
    import yaml

    front = {k: meta[k] for k in FRONT_MATTER_KEYS if meta.get(k)}
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000).strip()
    return f"---\n{header}\n---\n\n{text.strip()}\n"

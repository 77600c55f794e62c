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

import dataclasses
import hashlib
import logging
import os
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import ArticleError
from retrieval.ingest.dates import iso_date
from retrieval.ingest.extract import extract_html
from retrieval.ingest.markdown import (
    FRONT_MATTER_KEYS,
    cap_title,
    clean_body,
    render_markdown,
    split_front_matter,
)
from retrieval.settings import Settings
from retrieval.types import Article

log = logging.getLogger(__name__)

SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html", ".htm": "html"}
DEFAULT_MAX_BYTES = 10_000_000


@dataclass(frozen=True)
class CorpusOptions:
    """How the corpus is read: the largest file, the longest text kept (about
    ``article_max_chunks`` chunks), and whether links to outside the corpus are followed."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_chars: int | None = None
    external_links: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> CorpusOptions:
        stride = max(1, settings.chunk.size - settings.chunk.overlap)
        return cls(
            max_chars=settings.article_max_chunks * stride + settings.chunk.overlap,
            external_links=settings.corpus_external_links,
        )


@dataclass
class CorpusScan:
    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # folders that could not be listed
    unchanged: dict[str, str] = field(default_factory=dict)  # article id -> hash, files not read (``known``)
    paths: dict[str, Path] = field(default_factory=dict)  # article id -> its file
    # a scan of some files only (:func:`scan_files`): the article ids looked at, present or gone
    looked_at: set[str] | None = None

    def hides(self, article_id: str) -> bool:
        """True when ``article_id`` may exist in a folder that could not be listed (so it must
        not be taken for deleted)."""
        return any(folder in ("", ".") or article_id.startswith(folder + "/") for folder in self.unreadable)


@dataclass
class CorpusListing:
    files: list[Path] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (folder, reason)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def article_id_for(path: Path, root: Path) -> str:
    """The article id of ``path``: its path in the corpus without extension, in Unicode NFC (so
    a name typed on macOS (NFD) and on Linux (NFC) are the same article)."""
    return _article_id(str(path), str(root).rstrip(os.sep) + os.sep, root)


def _article_id(full: str, base: str, root: Path) -> str:
    """:func:`article_id_for` of the file ``full`` under ``root`` (``base``: ``root`` with a trailing separator)."""
    if full.startswith(base):  # the common case, without pathlib's parsing (a corpus has 100,000s of files)
        stem = os.path.splitext(full[len(base):])[0]  # listed files all have a known suffix
        return unicodedata.normalize("NFC", stem.replace(os.sep, "/"))
    return unicodedata.normalize("NFC", Path(full).relative_to(root).with_suffix("").as_posix())


def _inside(target: str, root: str) -> bool:
    return target == root or target.startswith(root.rstrip(os.sep) + os.sep)


def _walk(root: Path, listing: CorpusListing, *, external_links: bool) -> Iterator[os.DirEntry[str]]:
    """The directory entries of the article files under ``root`` (unsorted), ignoring hidden and
    ``_``-prefixed names; the folders that could not be listed and the links refused go to
    ``listing``. The one place the corpus's rules live (see :func:`list_corpus`)."""
    real_root = os.path.realpath(root)
    folders = [os.fspath(root)]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as entries:
                found = list(entries)
        except OSError as exc:
            rel_folder = Path(folder).relative_to(root).as_posix()
            listing.unreadable.append((rel_folder, f"folder cannot be listed ({exc.strerror or exc})"))
            continue
        for entry in found:
            name = entry.name
            if name.startswith((".", "_")):
                continue
            try:
                if entry.is_symlink():
                    if entry.is_dir():
                        continue  # as before: linked folders are not walked
                    if not external_links and not _inside(os.path.realpath(entry.path), real_root):
                        reason = "is a link to a file outside the corpus (NEWSBOT_CORPUS_EXTERNAL_LINKS=true reads it)"
                        listing.refused.append((Path(entry.path).relative_to(root).as_posix(), reason))
                        continue
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif os.path.splitext(name)[1].lower() in SUFFIXES and entry.is_file():
                    yield entry
            except OSError:  # vanished meanwhile, or a link loop
                continue


def list_corpus(root: Path, *, external_links: bool = False) -> CorpusListing:
    """The article files under ``root`` (sorted), ignoring hidden and ``_``-prefixed names; the
    folders that could not be listed; the links to outside the corpus refused.

    A folder that cannot be listed is reported, not taken for empty (its articles would count
    as deleted). Symbolic links to folders are not followed; a link to a file outside the
    corpus is refused unless ``external_links`` (a corpus is what its folder holds: a link
    must not make ``/etc/…`` or another user's files answerable)."""
    listing = CorpusListing()
    paths = sorted(entry.path for entry in _walk(root, listing, external_links=external_links))
    listing.files = [Path(path) for path in paths]  # sorted as strings: Paths compare part by part, slowly
    listing.unreadable.sort()
    return listing


def stat_corpus(root: Path, *, external_links: bool = False) -> tuple[dict[str, tuple[int, int]], CorpusListing] | None:
    """Each article file's (size, modification time in ns) by article id, as :func:`list_corpus`
    lists them, without building a path object per file (an unchanged reindex of a large corpus
    is this walk: 327k files in ~1.6 s against ~3.3 s with paths, measured on a loaded machine);
    the listing holds the folders unreadable and the links refused. None when two files give one
    article id."""
    listing = CorpusListing()
    base = os.fspath(root).rstrip(os.sep) + os.sep
    found: dict[str, tuple[int, int]] = {}
    for entry in _walk(root, listing, external_links=external_links):
        article_id = _article_id(entry.path, base, root)
        try:
            st = entry.stat()
        except OSError:  # vanished meanwhile
            continue
        if article_id in found:
            return None
        found[article_id] = (st.st_size, st.st_mtime_ns)
    return found, listing


def iter_article_files(root: Path, *, external_links: bool = False) -> Iterator[Path]:
    """Article files under ``root``, sorted, ignoring hidden and ``_``-prefixed names."""
    yield from list_corpus(root, external_links=external_links).files


def scan_corpus(
    root: Path,
    *,
    salt: str = "",
    max_bytes: int | None = None,
    options: CorpusOptions | None = None,
    known: Callable[[Path, str], str | None] | None = None,
) -> CorpusScan:
    """Read every article under ``root``. ``salt`` enters each article's hash (chunking settings).
    A file or folder that cannot be read is skipped with a warning naming it.

    ``known(path, article_id)`` may return the hash of a file known unchanged: it is then not read.
    """
    options = options or CorpusOptions()
    if max_bytes is not None:
        options = dataclasses.replace(options, max_bytes=max_bytes)
    scan = CorpusScan()
    if not root.is_dir():
        raise ArticleError(f"corpus folder {root} does not exist")
    listing = list_corpus(root, external_links=options.external_links)
    for folder, reason in listing.unreadable:
        scan.unreadable.append(folder)
        scan.skipped.append((f"{folder}/", f"{reason}; its indexed articles are kept"))
        log.warning("skipped %s: %s; its indexed articles are kept", root / folder, reason)
    for rel, reason in listing.refused:
        scan.skipped.append((rel, reason))
        log.warning("skipped %s: %s", root / rel, reason)
    seen: dict[str, Path] = {}
    for path in listing.files:
        article_id = article_id_for(path, root)
        rel = article_id + path.suffix  # ids are NFC
        if article_id in seen:
            reason = f"same article id as {seen[article_id].relative_to(root).as_posix()}"
            scan.skipped.append((rel, reason))
            log.warning("skipped %s: %s", path, reason)
            continue
        scan.paths[article_id] = path
        same = known(path, article_id) if known is not None else None
        if same is not None:
            seen[article_id] = path
            scan.unchanged[article_id] = same
            continue
        if _read_into(scan, path, article_id, salt=salt, options=options):
            seen[article_id] = path
    return scan


def _read_into(scan: CorpusScan, path: Path, article_id: str, *, salt: str, options: CorpusOptions) -> bool:
    """The article of ``path`` added to ``scan``, or the reason it cannot be read (False)."""
    try:
        article = read_article(path, article_id, salt=salt, max_bytes=options.max_bytes, max_chars=options.max_chars)
    except ArticleError as exc:
        scan.skipped.append((article_id + path.suffix, str(exc)))  # ids are NFC
        log.warning("skipped %s: %s", path, exc)
        return False
    scan.articles.append(article)
    return True


def scan_files(
    root: Path, paths: Iterable[Path], *, salt: str = "", options: CorpusOptions | None = None
) -> CorpusScan | None:
    """Read only the article files ``paths`` (absolute, inside ``root``): the files a feed just
    wrote, or those a watcher saw change. A path whose file is gone is looked at too (its
    article is removed); hidden and ``_``-prefixed names and other suffixes are not articles.

    None when only a whole scan can be sure: a folder, a link, or another file giving the same
    article id (the whole scan decides which of two such files is read). An :class:`ArticleError`
    when a path is not inside ``root``."""
    options = options or CorpusOptions()
    scan = CorpusScan()
    looked_at: set[str] = set()
    base = os.path.abspath(root)
    for given in paths:
        full = os.path.abspath(given)
        if full == base:
            return None  # the corpus folder itself: every file
        if not _inside(full, base):
            raise ArticleError(f"{given} is not a file of the corpus folder {root}")
        path = Path(full)
        parts = path.relative_to(base).parts
        if any(part.startswith((".", "_")) for part in parts):
            continue
        if path.is_symlink() or path.is_dir():
            return None
        suffix = path.suffix.lower()
        if suffix not in SUFFIXES:
            continue
        if any(path.with_suffix(other).exists() for other in SUFFIXES if other != suffix):
            return None
        article_id = article_id_for(path, Path(base))
        if article_id in looked_at:
            continue
        looked_at.add(article_id)
        if not path.exists():
            continue  # gone: its article is removed
        scan.paths[article_id] = path
        _read_into(scan, path, article_id, salt=salt, options=options)
    scan.looked_at = looked_at
    return scan


def read_article(
    path: Path,
    article_id: str,
    *,
    salt: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_chars: int | None = None,
) -> Article:
    """The article in ``path``; an :class:`ArticleError` (the reason) when it cannot be read."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ArticleError(f"too large ({size:,} bytes; the limit is {max_bytes:,})")
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot be read ({exc.strerror or exc})") from None
    kind = SUFFIXES[path.suffix.lower()]
    return parse_article(raw, kind, article_id, salt=salt, max_chars=max_chars, where=str(path))


def parse_article(
    raw: bytes, kind: str, article_id: str, *, salt: str = "", max_chars: int | None = None, where: str = ""
) -> Article:
    """The article in the bytes of a file of ``kind`` (``markdown``, ``text`` or ``html``); an
    :class:`ArticleError` (the reason) when there is none. A date that cannot be read, or a
    field that is not text, is dropped with a warning naming ``where`` (the file); a title is
    capped at ``TITLE_MAX`` characters; a text longer than ``max_chars`` is cut, with a warning."""
    where = where or article_id
    digest = hashlib.sha256(raw + salt.encode()).hexdigest()[:16]
    fields = parse_html(raw) if kind == "html" else parse_text(decode(raw), markdown=kind == "markdown")
    text = fields.pop("text")
    if not any(ch.isalnum() for ch in text):  # marks or punctuation alone are no article
        raise ArticleError("has no text")
    fields["title"] = cap_title(fields["title"])
    if not fields["title"]:
        raise ArticleError("has an empty title")
    for key in ("source", "url", "language", "author"):
        if key in fields and not isinstance(fields[key], str):
            log.warning("%s: front matter field '%s' ignored: not text", where, key)
            del fields[key]
    if "date" in fields and not fields["date"]:  # `date:` left empty, or `date: []`
        del fields["date"]
    if fields.get("date"):
        try:
            fields["date"] = iso_date(fields["date"])
        except ValueError as exc:
            log.warning("%s: date ignored: %s", where, exc)
            del fields["date"]
    if max_chars is not None and len(text) > max_chars:
        log.warning(
            "%s: text of %s characters cut to the first %s (NEWSBOT_ARTICLE_MAX_CHUNKS)",
            where, f"{len(text):,}", f"{max_chars:,}",
        )
        cut = text[:max_chars]
        space = cut.rfind(" ")
        text = cut[:space] if space > max_chars // 2 else cut
        # only a cut article's hash depends on the cap: raising it re-chunks just those
        digest = hashlib.sha256(raw + salt.encode() + f"|cut:{max_chars}".encode()).hexdigest()[:16]
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
    try:
        data = extract_html(raw)
    except Exception as exc:  # trafilatura and lxml raise assorted errors on odd markup
        log.debug("trafilatura failed", exc_info=True)
        raise ArticleError(f"cannot be parsed as HTML ({type(exc).__name__})") from None
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
    # NFC as for text files: a page and the Markdown newsbot saves of it read as the same article
    fields = {k: unicodedata.normalize("NFC", str(v)) for k, v in meta.items() if v}
    return {**fields, "text": unicodedata.normalize("NFC", text)}


__all__ = [
    "FRONT_MATTER_KEYS",
    "CorpusListing",
    "CorpusOptions",
    "CorpusScan",
    "article_id_for",
    "clean_body",
    "iter_article_files",
    "list_corpus",
    "parse_article",
    "read_article",
    "render_markdown",
    "scan_corpus",
    "split_front_matter",
    "stat_corpus",
]

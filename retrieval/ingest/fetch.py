"""Fetching web pages into the corpus (``newsbot add`` and ``newsbot feeds``).

A page is downloaded politely (user agent, timeout, a size cap enforced while streaming,
a content-type check), its article is extracted with trafilatura (title, date, author,
site, main text) and written as ``corpus/<site>/<slug>.md`` in the corpus's Markdown format.

Nothing is added twice:

* the same URL — URLs are canonicalised (no fragment, no ``utm_*`` and click-id
  parameters, lower-case host, no default port) and mapped to the article they produced;
* the same article at another URL — recognised by a fingerprint of its normalised text.

Both maps live in ``DATA_DIR/sources.json`` (with the feeds' state, see
:mod:`retrieval.ingest.feeds`) and are reconciled with the corpus itself on every run, so an
article removed from the corpus by hand can be added again, and a lost state file is
rebuilt from the articles' front matter. Every file is written atomically (a hidden
temporary file, then a rename), so the indexer and the watcher never see half an article.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from retrieval.errors import ArticleError, FetchError
from retrieval.ingest.corpus import (
    article_id_for,
    clean_body,
    iter_article_files,
    read_article,
    render_markdown,
)
from retrieval.locks import file_lock
from retrieval.settings import Settings

log = logging.getLogger(__name__)

STATE_FILE = "sources.json"
LOCK_FILE = "sources.lock"
STATE_VERSION = 1
HTML_TYPES = ("text/html", "application/xhtml+xml")
TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "xtor", "at_medium", "at_campaign"}
SLUG_MAX = 80
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)


# --- small pure helpers ----------------------------------------------------------------
def canonical_url(url: str) -> str:
    """``url`` without fragment or tracking parameters, with a lower-case scheme and host."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port and parts.port != _DEFAULT_PORTS.get(scheme) else None
    netloc = f"{host}:{port}" if port else host
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMS
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def check_url(url: str) -> str:
    """The URL, stripped; a :class:`FetchError` unless it is an absolute http(s) URL."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not an http(s) URL: {url[:200]!r}")
    return url


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold())


def drop_title_line(text: str, title: str) -> str:
    """``text`` without a first line that only repeats the title (an ``<h1>`` kept by extraction)."""
    first, _, rest = text.partition("\n")
    return rest.lstrip("\n") if rest.strip() and _words(first) == _words(title) else text


def text_fingerprint(text: str, title: str = "") -> str:
    """A hash of an article's words, blind to case, punctuation, spacing, Markdown marks and a
    leading line repeating the title."""
    words = _words(drop_title_line(clean_body(text), title))
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:24]


def slugify(text: str, max_len: int = SLUG_MAX) -> str:
    """``"Grève à Orly : 40 % des vols"`` → ``"greve-a-orly-40-des-vols"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:max_len].rstrip("-")


def site_name(url: str) -> str:
    """The corpus folder for a URL's site: its host without ``www.``."""
    host = (urlsplit(url).hostname or "unknown").lower()
    host = host.removeprefix("www.")
    return re.sub(r"[^a-z0-9.-]+", "-", host).strip(".-") or "unknown"


def atomic_write(path: Path, data: str) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --- HTTP --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FetchedPage:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    content: bytes

    @property
    def mime(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        match = re.search(r"charset=[\"']?([\w.:-]+)", self.headers.get("content-type", ""), re.I)
        return match.group(1) if match else None


class HttpFetcher:
    """An httpx client with newsbot's manners: user agent, timeout, size cap, redirects."""

    def __init__(self, settings: Settings, *, transport: Any = None) -> None:
        import httpx

        self.settings = settings
        self.client = httpx.Client(
            headers={"User-Agent": settings.http.user_agent},
            timeout=settings.http.timeout,
            follow_redirects=True,
            transport=transport,
        )

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def get(
        self, url: str, *, accept: tuple[str, ...] | None = None, headers: dict[str, str] | None = None
    ) -> FetchedPage:
        """GET ``url``; a 304 is returned (empty), any other failure is a :class:`FetchError`."""
        import httpx

        url = check_url(url)
        timeout = self.settings.http.timeout
        cap = self.settings.http.max_bytes
        deadline = time.monotonic() + timeout
        try:
            with self.client.stream("GET", url, headers=headers or {}) as response:
                final = str(response.url)
                head = {k.lower(): v for k, v in response.headers.items()}
                if response.status_code == 304:
                    return FetchedPage(url, final, 304, head, b"")
                if response.status_code >= 400:
                    raise FetchError(f"HTTP {response.status_code} ({response.reason_phrase or 'error'})")
                if response.status_code != 200:
                    raise FetchError(f"unexpected HTTP status {response.status_code}")
                mime = head.get("content-type", "").split(";")[0].strip().lower()
                if accept is not None and mime and mime not in accept:
                    raise FetchError(f"not an HTML page ({mime})")
                declared = head.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FetchError(f"too large ({int(declared):,} bytes; the limit is {cap:,})")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > cap:
                        raise FetchError(f"too large (more than the {cap:,}-byte limit)")
                    if time.monotonic() > deadline:
                        raise FetchError(f"timed out after {timeout:g} s")
        except httpx.TimeoutException:
            raise FetchError(f"timed out after {timeout:g} s") from None
        except httpx.TooManyRedirects:
            raise FetchError("too many redirects") from None
        except httpx.HTTPError as exc:
            log.debug("fetching %s failed", url, exc_info=True)
            raise FetchError(f"cannot be fetched ({type(exc).__name__}: {exc})") from None
        content = bytes(body)
        if accept is not None and not mime and not looks_like_html(content):
            raise FetchError("not an HTML page (no content type, and the body is not HTML)")
        return FetchedPage(url, final, 200, head, content)


def looks_like_html(content: bytes) -> bool:
    head = content[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head


# --- extraction ------------------------------------------------------------------------
@dataclass(frozen=True)
class Extracted:
    """An article extracted from a page: front-matter fields and the main text."""

    title: str
    text: str
    url: str
    date: str | None = None
    author: str | None = None
    source: str | None = None
    language: str | None = None

    def meta(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "url": self.url,
            "author": self.author,
            "language": self.language,
        }


@dataclass(frozen=True)
class Hint:
    """What a feed entry says of its article, used when the page itself does not say it."""

    title: str | None = None
    date: str | None = None
    author: str | None = None


def extract_article(page: FetchedPage, *, min_chars: int, hint: Hint | None = None) -> Extracted:
    """The article in ``page``; a :class:`FetchError` when there is none worth keeping."""
    import trafilatura

    document: bytes | str = page.content
    if page.charset:
        with contextlib.suppress(LookupError):  # an unknown charset: let trafilatura guess
            document = page.content.decode(page.charset, errors="replace")
    try:
        result = trafilatura.bare_extraction(
            document, url=page.final_url, with_metadata=True, include_comments=False, favor_precision=True
        )
    except Exception as exc:  # trafilatura raises assorted errors on odd markup
        log.debug("trafilatura failed on %s", page.final_url, exc_info=True)
        raise FetchError(f"not an article (the page cannot be parsed: {type(exc).__name__})") from None
    data: dict[str, Any] = {}
    if result is not None:
        data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    text = clean_body(str(data.get("text") or ""))
    if not text:
        raise FetchError("not an article (no main text found)")
    if len(text) < min_chars:
        raise FetchError(f"not an article (main text of {len(text)} characters; at least {min_chars} needed)")
    hint = hint or Hint()
    title = str(data.get("title") or hint.title or text.split("\n", 1)[0][:120]).strip()
    match = _LANG.search(page.content[:20000])
    return Extracted(
        title=title,
        text=drop_title_line(text, title),
        url=canonical_url(page.final_url),
        date=str(data.get("date") or hint.date or "") or None,
        author=str(data.get("author") or hint.author or "") or None,
        source=str(data.get("sitename") or site_name(page.final_url)),
        language=match.group(1).decode().lower() if match else None,
    )


# --- state: what the corpus holds, by URL and by text -----------------------------------
@contextlib.contextmanager
def state_lock(settings: Settings) -> Iterator[None]:
    """One writer of the sources state at a time (``add`` and ``feeds`` may run together)."""
    with file_lock(settings.data_dir / LOCK_FILE):
        yield


@dataclass
class SourceState:
    """The JSON state file: URL → article id, article → fingerprint, and the feeds' state."""

    path: Path
    urls: dict[str, str] = field(default_factory=dict)
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    feeds: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings) -> SourceState:
        path = settings.data_dir / STATE_FILE
        state = cls(path)
        if not path.exists():
            return state
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            # the corpus is the truth for articles; only the feeds' memory is lost
            log.warning("%s is unreadable (%s); rebuilding it from the corpus", path, exc)
            return state
        state.urls = {str(k): str(v) for k, v in (data.get("urls") or {}).items()}
        state.articles = dict(data.get("articles") or {})
        state.feeds = dict(data.get("feeds") or {})
        return state

    def save(self) -> None:
        data = {"version": STATE_VERSION, "urls": self.urls, "articles": self.articles, "feeds": self.feeds}
        atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n")

    def sync(self, corpus_dir: Path) -> None:
        """Bring the article maps in line with the files actually in the corpus."""
        present: dict[str, dict[str, Any]] = {}
        if corpus_dir.is_dir():
            for path in iter_article_files(corpus_dir):
                article_id = article_id_for(path, corpus_dir)
                try:
                    stat = path.stat()
                except OSError:
                    continue
                cached = self.articles.get(article_id)
                if cached and cached.get("mtime_ns") == stat.st_mtime_ns and cached.get("size") == stat.st_size:
                    present[article_id] = cached
                    continue
                try:
                    article = read_article(path, article_id)
                except ArticleError:
                    continue
                present[article_id] = {
                    "fingerprint": text_fingerprint(article.text, article.title),
                    "url": canonical_url(article.url) if article.url else None,
                    "file": path.relative_to(corpus_dir).as_posix(),
                    "mtime_ns": stat.st_mtime_ns,
                    "size": stat.st_size,
                }
        self.articles = present
        self.urls = {url: aid for url, aid in self.urls.items() if aid in present}
        for aid, entry in present.items():
            if entry.get("url"):
                self.urls.setdefault(entry["url"], aid)

    def find_url(self, url: str) -> str | None:
        return self.urls.get(canonical_url(url))

    def find_text(self, fingerprint: str) -> str | None:
        for aid, entry in self.articles.items():
            if entry.get("fingerprint") == fingerprint:
                return aid
        return None

    def remember(self, article_id: str, urls: list[str], entry: dict[str, Any] | None = None) -> None:
        for url in urls:
            self.urls[canonical_url(url)] = article_id
        if entry is not None:
            self.articles[article_id] = entry


# --- adding ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AddResult:
    """What became of one URL: ``added``, ``known`` (already in the corpus) or ``failed``."""

    url: str
    status: str
    article_id: str | None = None
    title: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def line(self) -> str:
        if self.status == "added":
            return f"added {self.article_id}: {self.title} ({self.url})"
        if self.status == "known":
            return f"known {self.url}: {self.reason}"
        return f"failed {self.url}: {self.reason}"


class Collector:
    """Adds pages to the corpus, with the state locked and loaded; use as a context manager."""

    def __init__(self, settings: Settings, *, fetcher: HttpFetcher | None = None) -> None:
        self.settings = settings
        self._own_fetcher = fetcher is None
        self.fetcher = fetcher
        self._lock: contextlib.ExitStack | None = None
        self.state = SourceState(settings.data_dir / STATE_FILE)

    def __enter__(self) -> Collector:
        stack = contextlib.ExitStack()
        stack.enter_context(state_lock(self.settings))
        self._lock = stack
        self.state = SourceState.load(self.settings)
        self.state.sync(self.settings.corpus_dir)
        if self.fetcher is None:
            self.fetcher = HttpFetcher(self.settings)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.state.save()
        finally:
            if self._own_fetcher and self.fetcher is not None:
                self.fetcher.close()
                self.fetcher = None
            if self._lock is not None:
                self._lock.close()
                self._lock = None

    def add(self, url: str, *, hint: Hint | None = None) -> AddResult:
        """Fetch ``url`` and write its article, unless it is already in the corpus."""
        try:
            return self._add(check_url(url), hint)
        except FetchError as exc:
            log.info("failed %s: %s", url, exc)
            return AddResult(url=url, status="failed", reason=str(exc))

    def _add(self, url: str, hint: Hint | None) -> AddResult:
        known = self.state.find_url(url)
        if known:
            return AddResult(url, "known", known, reason=f"same URL as {known}")
        assert self.fetcher is not None, "use Collector as a context manager"
        page = self.fetcher.get(url, accept=HTML_TYPES)
        urls = [url, page.final_url]
        known = self.state.find_url(page.final_url)
        if known:
            self.state.remember(known, urls)
            return AddResult(url, "known", known, reason=f"redirects to the URL of {known}")
        article = extract_article(page, min_chars=self.settings.article_min_chars, hint=hint)
        fingerprint = text_fingerprint(article.text, article.title)
        known = self.state.find_text(fingerprint)
        if known:
            self.state.remember(known, urls)
            return AddResult(url, "known", known, reason=f"same text as {known}")
        path = self._target(article)
        atomic_write(path, render_markdown(article.meta(), article.text))
        corpus = self.settings.corpus_dir
        article_id = article_id_for(path, corpus)
        stat = path.stat()
        self.state.remember(
            article_id,
            [*urls, article.url],
            {
                "fingerprint": fingerprint,
                "url": article.url,
                "file": path.relative_to(corpus).as_posix(),
                "mtime_ns": stat.st_mtime_ns,
                "size": stat.st_size,
            },
        )
        self.state.save()  # after each article: a crash later loses nothing
        log.info("added %s from %s", article_id, url)
        return AddResult(url, "added", article_id, title=article.title)

    def _target(self, article: Extracted) -> Path:
        folder = self.settings.corpus_dir / site_name(article.url)
        slug = slugify(article.title) or slugify(urlsplit(article.url).path) or "article"
        path = folder / f"{slug}.md"
        if not path.exists():
            return path
        tag = hashlib.sha256(article.url.encode()).hexdigest()[:8]
        path = folder / f"{slug}-{tag}.md"
        n = 2
        while path.exists():
            path = folder / f"{slug}-{tag}-{n}.md"
            n += 1
        return path


def add_urls(settings: Settings, urls: list[str], *, fetcher: HttpFetcher | None = None) -> list[AddResult]:
    """Add each URL's article to the corpus; one result per URL, in order."""
    with Collector(settings, fetcher=fetcher) as collector:
        return [collector.add(url) for url in urls]


__all__ = [
    "AddResult",
    "Collector",
    "Extracted",
    "FetchedPage",
    "Hint",
    "HttpFetcher",
    "SourceState",
    "add_urls",
    "atomic_write",
    "canonical_url",
    "extract_article",
    "slugify",
    "text_fingerprint",
]

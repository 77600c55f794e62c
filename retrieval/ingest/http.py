"""Downloading pages politely: user agent, timeout, a size cap enforced while streaming,
a content-type check. Every failure is a :class:`~retrieval.errors.FetchError`."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from retrieval.errors import FetchError
from retrieval.ingest.urls import check_url
from retrieval.settings import Settings

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


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


__all__ = ["HTML_TYPES", "FetchedPage", "HttpFetcher", "looks_like_html"]

"""Downloading pages politely: user agent, timeout, a size cap enforced while streaming,
a content-type check. Every failure is a :class:`~retrieval.errors.FetchError`."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from retrieval.errors import FetchError
from retrieval.ingest.urls import check_url
from retrieval.settings import Settings

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_REDIRECTS = 10


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


class AddressGuard:
    """Refuses hosts that resolve to private, loopback, link-local (cloud metadata), shared,
    reserved or multicast addresses: ``newsbot add`` and feed entries come from users and feeds,
    and an internal page must not become an article anyone can query. Checked after DNS
    resolution (every address of the name) and on every redirect hop. ``allow`` (the
    ``http.allow_hosts`` setting) lists host names, addresses or networks that may be fetched
    anyway, for people who run their own internal feeds.

    A name is resolved here and again by the HTTP client: a DNS server that answers differently
    within that instant (DNS rebinding) is not stopped; a proxy that pins addresses would be."""

    def __init__(self, allow: str = "") -> None:
        self.names: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in (part.strip().lower() for part in allow.split(",")):
            if not item:
                continue
            try:
                self.networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                self.names.add(item.rstrip("."))

    def check(self, url: str) -> None:
        """A :class:`FetchError` unless ``url``'s host may be fetched."""
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        if host in self.names:
            return
        for address in self.addresses(host, parts.port or (443 if parts.scheme == "https" else 80)):
            if any(address in network for network in self.networks):
                continue
            if not address.is_global or address.is_multicast:
                raise FetchError(
                    f"refused: {host} is (or resolves to) a private, loopback or link-local address ({address}); "
                    "NEWSBOT_HTTP_ALLOW_HOSTS lists the hosts that may be fetched anyway"
                )

    @staticmethod
    def addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        try:
            found = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                raise FetchError(f"cannot be fetched (the host {host[:100]!r} does not resolve: {exc})") from None
            found = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        unwrapped: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
        for address in found:
            if isinstance(address, ipaddress.IPv6Address):
                inner = address.ipv4_mapped or address.sixtofour
                if inner is not None:
                    unwrapped.append(inner)
            unwrapped.append(address)
        return unwrapped


class HttpFetcher:
    """An httpx client with newsbot's manners: user agent, timeout, size cap, redirects followed
    (at most ``MAX_REDIRECTS``) with every hop's address checked by :class:`AddressGuard`."""

    def __init__(self, settings: Settings, *, transport: Any = None) -> None:
        import httpx

        self.settings = settings
        self.guard = AddressGuard(settings.http.allow_hosts)
        self.client = httpx.Client(
            headers={"User-Agent": settings.http.user_agent},
            timeout=settings.http.timeout,
            follow_redirects=False,  # followed by hand: each hop is checked
            transport=transport,
        )

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def _open(self, url: str, headers: dict[str, str]) -> Any:
        """The streamed response of ``url`` after its redirects (the caller closes it)."""
        for _ in range(MAX_REDIRECTS + 1):
            self.guard.check(url)
            response = self.client.send(self.client.build_request("GET", url, headers=headers), stream=True)
            if not response.has_redirect_location:
                return response
            location = response.headers.get("location", "")
            response.close()
            try:
                url = check_url(urljoin(str(response.url), location))
            except FetchError:
                raise FetchError(f"redirects to a URL that is not http(s): {location[:200]!r}") from None
        raise FetchError("too many redirects")

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
            response = self._open(url, headers or {})
            try:
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
            finally:
                response.close()
        except httpx.TimeoutException:
            raise FetchError(f"timed out after {timeout:g} s") from None
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


__all__ = ["HTML_TYPES", "AddressGuard", "FetchedPage", "HttpFetcher", "looks_like_html"]

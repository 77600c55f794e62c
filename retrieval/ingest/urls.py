"""URLs and the names derived from them: canonical form, validation, site folder, slug."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from retrieval.errors import FetchError
from retrieval.text import fold_accents

TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "xtor", "at_medium", "at_campaign"}
SLUG_MAX = 80
_DEFAULT_PORTS = {"http": 80, "https": 443}


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
    # stripped again: what the fragment hid at the end ("/a/b\x1f#top") would go at the next call
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), "")).strip()


def check_url(url: str) -> str:
    """The URL, stripped; a :class:`FetchError` unless it is an absolute http(s) URL."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        raise FetchError(f"not a valid URL: {url[:200]!r}") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise FetchError(f"not an http(s) URL: {url[:200]!r}")
    return url


def slugify(text: str, max_len: int = SLUG_MAX) -> str:
    """``"Grève à Orly : 40 % des vols"`` → ``"greve-a-orly-40-des-vols"``."""
    ascii_text = fold_accents(text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:max_len].rstrip("-")


def site_name(url: str) -> str:
    """The corpus folder for a URL's site: its host without ``www.``."""
    host = (urlsplit(url).hostname or "unknown").lower()
    host = host.removeprefix("www.")
    return re.sub(r"[^a-z0-9.-]+", "-", host).strip(".-") or "unknown"


__all__ = ["canonical_url", "check_url", "site_name", "slugify"]

"""Fetching web pages into the corpus (``newsbot add`` and ``newsbot feeds``): the public names
of the ingest modules, each with one job —

* :mod:`~retrieval.ingest.urls` — canonical URLs, validation, site folders, slugs;
* :mod:`~retrieval.ingest.http` — polite downloading (:class:`HttpFetcher`);
* :mod:`~retrieval.ingest.extract` — the article in a page (trafilatura);
* :mod:`~retrieval.ingest.state` — what the corpus holds by URL and by text (``sources.json``);
* :mod:`~retrieval.ingest.collector` — adding a page to the corpus (:func:`add_urls`).
"""

from __future__ import annotations

from retrieval.files import atomic_write
from retrieval.ingest.collector import AddResult, Collector, add_urls
from retrieval.ingest.extract import Extracted, Hint, extract_article
from retrieval.ingest.http import HTML_TYPES, FetchedPage, HttpFetcher
from retrieval.ingest.state import SourceState, text_fingerprint
from retrieval.ingest.urls import canonical_url, check_url, site_name, slugify

__all__ = [
    "HTML_TYPES",
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
    "check_url",
    "extract_article",
    "site_name",
    "slugify",
    "text_fingerprint",
]

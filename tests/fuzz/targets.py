"""The fuzz targets: the corpus parser (Markdown, text, HTML), the date reader and the URL
helpers, each given arbitrary bytes. A target may refuse its input with the project's own
error (``ArticleError``, ``FetchError``, ``ValueError`` for a date); any other exception, or
a broken invariant (an ``AssertionError``), is a crash.

``check(data)`` is used both by the coverage-guided fuzzer (``fuzz_corpus.py``, atheris) and
by the test suite, which replays the seeds and every crash the fuzzer found
(``regressions/``).
"""

from __future__ import annotations

from retrieval.errors import ArticleError, FetchError

KINDS = ("markdown", "text", "html", "date", "url")


def check(data: bytes) -> None:
    """Run the target chosen by the first byte on the rest of ``data``."""
    if not data:
        return
    kind, raw = KINDS[data[0] % len(KINDS)], data[1:]
    if kind == "date":
        check_date(raw.decode("utf-8", "replace"))
    elif kind == "url":
        check_url_helpers(raw.decode("utf-8", "replace"))
    else:
        check_article(raw, kind)


def check_article(raw: bytes, kind: str) -> None:
    from retrieval.ingest.corpus import parse_article
    from retrieval.ingest.dates import iso_date
    from retrieval.ingest.markdown import TITLE_MAX, render_markdown

    try:
        article = parse_article(raw, kind, "fuzz", max_chars=20_000)
    except ArticleError as exc:
        assert str(exc) and "\n" not in str(exc), repr(str(exc))
        return
    assert article.title and len(article.title) <= TITLE_MAX and "\n" not in article.title, article.title
    assert article.text.strip() and len(article.text) <= 20_000
    for value in (article.date, article.source, article.url, article.language, article.author):
        assert value is None or isinstance(value, str), value
    if article.date is not None:
        assert iso_date(article.date) == article.date, article.date  # ISO, stable
    # what newsbot writes for an article is read back as the same article
    meta = {"title": article.title, "date": article.date, "source": article.source, "url": article.url}
    again = parse_article(render_markdown(meta, article.text).encode(), "markdown", "fuzz")
    assert (again.title, again.date, again.source, again.url) == (article.title, article.date, article.source, article.url)


def check_date(text: str) -> None:
    from retrieval.ingest.dates import iso_date

    try:
        value = iso_date(text)
    except ValueError:
        return
    assert iso_date(value) == value, (text, value)


def check_url_helpers(text: str) -> None:
    from retrieval.ingest.urls import canonical_url, check_url, site_name, slugify

    slug = slugify(text)
    assert slug == slug.strip("-") and len(slug) <= 80
    try:
        url = check_url(text)
    except FetchError:
        return
    canonical = canonical_url(url)
    assert canonical_url(canonical) == canonical, (url, canonical)
    assert site_name(url)

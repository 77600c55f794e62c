"""The corpus's Markdown article format: YAML front matter, then the text.

Reading (:func:`split_front_matter`, :func:`clean_body`) and writing (:func:`render_markdown`)
live together so that what ``newsbot add`` writes is exactly what the corpus reads back.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from retrieval.errors import ArticleError

FRONT_MATTER_KEYS = ("title", "date", "source", "url", "language", "author")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The front matter's fields and the body after it; an :class:`ArticleError` when the front
    matter is missing, not closed, not YAML, or has no title."""
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
    """Article text without Markdown marks (images, links, headings, quotes, bold), spacing tidied."""
    for pattern, repl in _MD_NOISE:
        body = pattern.sub(repl, body)
    body = re.sub(r"[ \t]+\n", "\n", body)
    body = re.sub(r"\n{3,}", "\n\n", body)
    return body.strip()


def render_markdown(meta: dict[str, Any], text: str) -> str:
    """An article in the corpus's Markdown format (used to save fetched articles)."""
    import yaml

    front = {k: meta[k] for k in FRONT_MATTER_KEYS if meta.get(k)}
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000).strip()
    return f"---\n{header}\n---\n\n{text.strip()}\n"


__all__ = ["FRONT_MATTER_KEYS", "clean_body", "normalise_meta", "render_markdown", "split_front_matter"]

"""The corpus's Markdown article format: YAML front matter, then the text.

Reading (:func:`split_front_matter`, :func:`clean_body`) and writing (:func:`render_markdown`)
live together so that what ``newsbot add`` writes is exactly what the corpus reads back.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from retrieval.errors import ArticleError

FRONT_MATTER_KEYS = ("title", "date", "source", "url", "language", "author")
TITLE_MAX = 300  # characters; the .txt format already refused longer first lines
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
        data = yaml.load(match.group(1), Loader=text_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise ArticleError(f"front matter is not valid YAML{where}") from None
    except Exception as exc:  # noqa: BLE001 - PyYAML's constructors raise what they meet
        # an explicit tag whose value is not of its type: `!!int abc` (ValueError),
        # `!!timestamp 2025-02-30` (ValueError), `!!timestamp 2025-08-15T10:=00` (AttributeError)
        raise ArticleError(f"front matter is not valid YAML ({type(exc).__name__}: {str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise ArticleError("front matter is not a set of 'key: value' lines")
    meta = normalise_meta(data)
    if not meta.get("title"):
        raise ArticleError("front matter has no title")
    return meta, text[match.end():]


@functools.cache
def text_loader() -> type:
    """A safe YAML loader (libyaml's when available: 10x faster) that reads plain scalars as
    text: ``title: yes`` is "yes", not True; ``date: 2025-02-30`` is the text "2025-02-30"
    (checked by :func:`retrieval.ingest.dates.iso_date`), not a crash of the whole scan.
    Explicit tags (``!!int``) keep their meaning."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    typed = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
    resolvers = {
        first: [(tag, regexp) for tag, regexp in entries if tag not in typed]
        for first, entries in base.yaml_implicit_resolvers.items()
    }
    return type("TextLoader", (base,), {"yaml_implicit_resolvers": resolvers})


def cap_title(title: str, limit: int = TITLE_MAX) -> str:
    """``title`` on one line, at most ``limit`` characters (cut at a word, with "…")."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def normalise_meta(data: dict[str, Any]) -> dict[str, Any]:
    """The known front-matter fields as text; a title that is not text is an error, another
    field that is not text (a list, a mapping) is passed on as is for the reader to drop."""
    meta: dict[str, Any] = {}
    for key in FRONT_MATTER_KEYS:
        value = data.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, (dt.date, dt.datetime)):
            value = value.isoformat()
        if isinstance(value, (str, int, float)):
            meta[key] = str(value).strip()
        elif key == "title":
            raise ArticleError(f"front matter field '{key}' must be text")
        else:  # dropped with a warning naming the file by the reader (corpus.parse_article)
            meta[key] = value
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


__all__ = ["FRONT_MATTER_KEYS", "TITLE_MAX", "cap_title", "clean_body", "normalise_meta", "render_markdown", "split_front_matter", "text_loader"]

"""A digest as plain text (the terminal); the Discord bot renders its own markdown from the same data."""

from __future__ import annotations

import textwrap

from retrieval.digest.build import texts
from retrieval.digest.types import Digest, Story


def window_words(digest: Digest, language: str = "fr") -> str:
    t = texts()[language]
    return t["window_since"].format(since=digest.since.replace("T", " ")) if digest.since else t["window_all"]


def story_text(story: Story, number: int, *, width: int = 100, max_sources: int = 8, language: str = "fr") -> str:
    t = texts()[language]
    outlets = ", ".join(story.outlets[:6]) + (f" (+{len(story.outlets) - 6})" if len(story.outlets) > 6 else "")
    head = f"{number}. {story.headline}"
    when = (story.latest if story.dated else t["seen"].format(date=story.latest)) if story.latest else ""
    meta = f"   {story.size} article{'s' if story.size > 1 else ''} · {outlets}" + (f" · {when}" if when else "")
    lines = [head, meta]
    body = story.summary or story.lead_text()
    if body:
        lines.append(textwrap.indent(textwrap.fill(body, width - 3), "   "))
    for source in story.sources[:max_sources]:
        where = source.url or source.article_id
        date = f" — {source.date}" if source.date else ""
        lines.append(f"   [{source.n}] {source.outlet}{date} — {where}")
    if story.size > max_sources:
        lines.append("   " + t["more_sources"].format(count=story.size - max_sources))
    return "\n".join(lines)


def render_digest(digest: Digest, *, language: str = "fr", max_stories: int | None = None) -> str:
    t = texts()[language]
    window = window_words(digest, language)
    if not digest.stories:
        return t["digest_empty"].format(window=window)
    out = [t["digest_header"].format(window=window, articles=digest.articles, stories=len(digest.stories)), ""]
    shown = digest.stories if max_stories is None else digest.stories[:max_stories]
    singles_started = False
    for number, story in enumerate(shown, start=1):
        if story.size == 1 and not singles_started and number > 1:
            out.extend([t["singles_header"], ""])
            singles_started = True
        out.extend([story_text(story, number, language=language), ""])
    if len(shown) < len(digest.stories):
        out.append(t["more_sources"].format(count=len(digest.stories) - len(shown)))
    return "\n".join(out).rstrip()

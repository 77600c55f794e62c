"""A digest as Discord markdown: a header message, then one block per story, split at 2,000 characters
with the answers' splitter; headlines escaped, links between ``<…>`` (no previews), nothing that pings."""

from __future__ import annotations

import functools
from importlib import resources

from bot.discord.formatting import defang_mentions, escape_markdown, no_preview_link, one_line, split_message
from retrieval.digest.types import Digest, Story

_MAX_SOURCES = 3  # links under a story in Discord (the CLI and --json give them all)
_MAX_STORIES = 12  # stories with several articles shown in full
_MAX_SINGLES = 15  # single articles, one line each


@functools.lru_cache(maxsize=4)
def texts(language: str = "fr") -> dict[str, str]:
    import yaml

    raw = resources.files("bot.discord.cogs.digest").joinpath("texts.yaml").read_text("utf-8")
    table: dict[str, dict[str, str]] = yaml.safe_load(raw)
    return table.get(language, table["fr"])


def clean(text: str) -> str:
    return defang_mentions(escape_markdown(one_line(text)))


def window_text(digest: Digest, language: str) -> str:
    t = texts(language)
    return t["since"].format(since=digest.since[:16].replace("T", " ")) if digest.since else t["all"]


def render_header(digest: Digest, language: str = "fr") -> str:
    t = texts(language)
    window = window_text(digest, language)
    if not digest.stories:
        return t["empty"].format(window=window)
    return t["header"].format(window=window, articles=digest.articles, stories=len(digest.stories),
                              multi=len(digest.multi))


def render_story(story: Story, number: int, language: str = "fr") -> str:
    t = texts(language)
    outlets = ", ".join(clean(o) for o in story.outlets[:5])
    if len(story.outlets) > 5:
        outlets += " " + t["more"].format(count=len(story.outlets) - 5)
    size = t["articles"].format(count=story.size) if story.size > 1 else t["article"]
    when = (story.latest if story.dated else t["seen"].format(date=story.latest)) if story.latest else ""
    lines = [f"**{number}. {clean(story.headline)}**", f"-# {size} · {outlets}" + (f" · {when}" if when else "")]
    body = story.summary or story.lead_text()
    if body:
        lines.append(defang_mentions(body))
    for source in story.sources[:_MAX_SOURCES]:
        where = no_preview_link(source.url) if source.url else f"`{source.article_id.replace('`', '')}`"
        date = f" — {escape_markdown(source.date)}" if source.date else ""
        lines.append(f"[{source.n}] {clean(source.outlet)}{date} — {where}")
    if story.size > _MAX_SOURCES:
        lines.append(t["more"].format(count=story.size - _MAX_SOURCES))
    return "\n".join(lines)


def render_single(story: Story) -> str:
    """A story of one article on one line: title, outlet, date, link."""
    source = story.sources[0]
    where = no_preview_link(source.url) if source.url else f"`{source.article_id.replace('`', '')}`"
    date = f" — {escape_markdown(source.date)}" if source.date else ""
    return f"• **{clean(story.headline)}** — {clean(source.outlet)}{date} — {where}"


def render_digest(
    digest: Digest, language: str = "fr", max_stories: int = _MAX_STORIES, max_singles: int = _MAX_SINGLES
) -> list[str]:
    """The messages of the digest's thread (each at most 2,000 characters): the stories covered by
    several articles in full, then the single articles one line each (a digest only lists single
    articles when it has few stories)."""
    t = texts(language)
    multi, singles = digest.multi[:max_stories], digest.singles
    blocks = [render_story(story, number, language) for number, story in enumerate(multi, start=1)]
    if not multi:  # nothing covered twice: the single articles are the news
        blocks = [render_story(story, number, language) for number, story in enumerate(singles[:max_stories], 1)]
        singles = singles[max_stories:]
    shown_singles = singles[:max_singles]
    if shown_singles:
        blocks.append("\n".join([f"__{t['others']}__", *(render_single(s) for s in shown_singles)]))
    hidden = len(digest.multi) - len(multi) + len(singles) - len(shown_singles)
    if hidden > 0:
        blocks.append(t["cut"].format(count=hidden))
    return split_message("\n\n".join(blocks))


def thread_title(digest: Digest, language: str = "fr", today: str | None = None) -> str:
    stamp = (digest.until or today or "")[:10]
    title = texts(language)["thread"].format(date=stamp or "…", stories=len(digest.stories))
    return title[:95]

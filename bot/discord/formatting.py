"""Rendering answers for Discord, as plain functions (no discord.py here).

An answer becomes Discord markdown: the answer with its ``[n]`` markers, then a short
sources block (title, date, and the link between ``<…>`` so that Discord shows no
preview, or the article id when there is no link). Text longer than Discord's 2,000
characters is split on paragraph, line or sentence boundaries, never inside a link, a
citation marker or a mention. :func:`answer_body` reads one of the bot's answers back.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Sequence
from importlib import resources

from retrieval.types import Answer, ArticleInfo, ReindexReport, Source

DISCORD_LIMIT = 2000  # Discord's hard limit on a message's content (not a tunable)

# Spans a split must never cut: <links>, [text](links), bare links, [n] / [1, 2] markers,
# user/role/channel mentions and custom emojis.
_PROTECTED = re.compile(
    r"<https?://[^>\s]*>"
    r"|\[[^\]\n]{0,200}\]\([^)\s]*\)"
    r"|https?://\S+"
    r"|\[\d+(?:\s*[,;–-]\s*\d+)*\]"
    r"|<(?:@[!&]?|#)\d+>"
    r"|<a?:\w+:\d+>"
)
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_LINE = re.compile(r"\n")
# a sentence end, with closing quotes/brackets and the citation markers that follow it
_SENTENCE = re.compile(r"[.!?…][)\]»\"'”’]*(?:[ \t]*\[\d+(?:\s*[,;–-]\s*\d+)*\])*(?=\s)")
_SPACE = re.compile(r"\s+")
_MARKDOWN = re.compile(r"([\\*_~|`>])")
_MASS_MENTION = re.compile(r"@(everyone|here)")


@functools.lru_cache(maxsize=4)
def texts(language: str = "fr") -> dict[str, str]:
    """The bot's fixed texts (``bot/discord/texts.yaml``) in one language."""
    import yaml

    raw = resources.files("bot.discord").joinpath("texts.yaml").read_text("utf-8")
    table: dict[str, dict[str, str]] = yaml.safe_load(raw)
    return table.get(language, table["fr"])


# -- small escapes -----------------------------------------------------------------------
def escape_markdown(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def defang_mentions(text: str) -> str:
    """``@everyone``/``@here`` shown as text (allowed_mentions already prevents pings)."""
    return _MASS_MENTION.sub("@\u200b\\1", text)


def no_preview_link(url: str) -> str:
    """A link between ``<…>`` (Discord shows no preview); unsafe characters are escaped."""
    safe = url.strip().replace(" ", "%20").replace(">", "%3E").replace("<", "%3C")
    return f"<{safe}>"


def one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


# -- answers -----------------------------------------------------------------------------
def source_line(source: Source) -> str:
    title = defang_mentions(escape_markdown(one_line(source.title)))
    parts = [f"[{source.n}] **{title or source.article_id}**"]
    if source.date:
        parts.append(escape_markdown(source.date))
    parts.append(no_preview_link(source.url) if source.url else f"`{source.article_id.replace('`', '')}`")
    return " — ".join(parts)


def render_sources(sources: Sequence[Source], language: str = "fr") -> str:
    if not sources:
        return ""
    return "\n".join([texts(language)["sources_header"], *(source_line(s) for s in sources)])


def render_answer(answer: Answer, *, language: str = "fr", quote_question: bool = False) -> str:
    """The whole answer as Discord markdown (may exceed 2,000 characters: see split_message)."""
    out: list[str] = []
    if quote_question:
        out.append(f"> {defang_mentions(escape_markdown(one_line(answer.question)))}")
    if answer.notice:
        out.append(f"*({answer.notice})*")
    out.append(defang_mentions(answer.answer.strip()))
    sources = render_sources(answer.cited_sources, language)
    if sources:
        out.extend(["", sources])
    return "\n".join(out)


def render_partial(text: str, limit: int = DISCORD_LIMIT) -> str:
    """The text streamed so far, cut to fit one message, with a mark that more is coming."""
    text = defang_mentions(text.strip())
    if len(text) + 2 <= limit:
        return f"{text} …" if text else "…"
    return text[: limit - 2].rstrip() + " …"


def render_apology(language: str = "fr", reason: str | None = None) -> str:
    t = texts(language)
    return t["failed"].format(reason=reason) if reason else t["apology"]


def render_latest(infos: Iterable[ArticleInfo], language: str = "fr") -> str:
    t = texts(language)
    lines = [t["latest_header"]]
    for info in infos:
        date = f" — {escape_markdown(info.date)}" if info.date else ""
        where = f" — {no_preview_link(info.url)}" if info.url else f" — `{info.article_id.replace('`', '')}`"
        title = defang_mentions(escape_markdown(one_line(info.title)))
        lines.append(t["latest_line"].format(title=title, date=date, where=where))
    return "\n".join(lines) if len(lines) > 1 else t["latest_empty"]


def render_reindex(report: ReindexReport, language: str = "fr") -> str:
    return texts(language)["reindex_done"].format(summary=report.summary(), seconds=report.seconds)


def render_rate_limited(seconds: float, language: str = "fr") -> str:
    return texts(language)["rate_limited"].format(seconds=max(1, int(seconds + 0.999)))


def thread_name(question: str, limit: int = 90) -> str:
    """A thread title from the question (Discord allows 100 characters)."""
    text = one_line(question) or "?"
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


# -- splitting ---------------------------------------------------------------------------
def _cut_points(pattern: re.Pattern[str], text: str, *, at_end: bool = True) -> list[int]:
    return [m.end() if at_end else m.start() for m in pattern.finditer(text)]


def split_message(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at the best boundary available.

    Preference: a paragraph break, a line break, a sentence end (keeping the ``[n]``
    markers that follow it), in the second half of the window; else the last of any of
    them or a space; a hard cut only for a single word longer than the limit. No cut
    falls inside a link, a citation marker or a mention unless that span alone exceeds
    the limit.
    """
    if limit < 10:
        raise ValueError("limit too small")
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    spans = [(m.start(), m.end()) for m in _PROTECTED.finditer(text)]
    starts = [s for s, _ in spans]

    def inside(pos: int) -> bool:
        i = bisect.bisect_right(starts, pos - 1) - 1  # last span starting before pos
        return i >= 0 and spans[i][0] < pos < spans[i][1]

    levels = [
        _cut_points(_PARAGRAPH, text, at_end=False),
        _cut_points(_LINE, text, at_end=False),
        _cut_points(_SENTENCE, text),
        _cut_points(_SPACE, text, at_end=False),
    ]

    def last_cut(points: list[int], low: int, high: int) -> int | None:
        i = bisect.bisect_right(points, high) - 1
        while i >= 0 and points[i] > low:
            if not inside(points[i]):
                return points[i]
            i -= 1
        return None

    pieces: list[str] = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        cut = None
        for points in levels[:3]:  # a good boundary in the second half of the window
            cut = last_cut(points, start + limit // 2, end)
            if cut is not None:
                break
        if cut is None:
            found = [c for c in (last_cut(p, start, end) for p in levels) if c is not None]
            cut = max(found) if found else None
        if cut is None:  # one huge word: cut before the span it would break, if possible
            cut = end
            i = bisect.bisect_right(starts, cut - 1) - 1
            if i >= 0 and spans[i][0] < cut < spans[i][1] and spans[i][0] > start:
                cut = spans[i][0]
        piece = text[start:cut].strip()
        if piece:
            pieces.append(piece)
        start = cut
        while start < len(text) and text[start].isspace():
            start += 1
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


# -- questions and conversations ---------------------------------------------------------
def strip_mention(content: str, user_id: int) -> str:
    """The question of a message, without the bot's mention(s)."""
    return one_line(re.sub(rf"<@!?{user_id}>", " ", content))


def answer_body(text: str, language: str = "fr") -> tuple[str | None, str]:
    """(quoted question, answer text) of one of the bot's messages, sources block removed."""
    header = texts(language)["sources_header"]
    lines = text.splitlines()
    if header in lines:
        lines = lines[: lines.index(header)]
    question = None
    if lines and lines[0].startswith("> "):
        question = re.sub(r"\\(.)", r"\1", lines[0][2:]).strip()
        lines = lines[1:]
    return question, "\n".join(lines).strip()

"""Rendering answers for Discord, as plain functions (no discord.py here).

An answer becomes Discord markdown: the answer with its ``[n]`` markers, then a short
sources block, one entry per article (title, date or "date unknown", and the article's own
link between ``<…>`` so that Discord shows no preview, or its id), the ``[n]`` of its passages
under it. Everything that comes from an article, a question or a model is escaped: no
markdown, no masked link, no control character, no ping. Text longer than Discord's 2,000
characters is split on paragraph, line or sentence boundaries, never inside a link, a
citation marker or a mention. :func:`answer_body` reads one of the bot's answers back.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Sequence

from retrieval.text import load_package_yaml
from retrieval.types import Answer, ArticleInfo, ReindexReport, Source

DISCORD_LIMIT = 2000  # Discord's hard limit on a message's content (not a tunable)
MAX_MESSAGES = 5  # an answer (or a listing) is never more messages than this, whatever it holds
TITLE_LIMIT = 300  # characters of a title shown (a front matter or a page may hold 100 KB)
ANSWER_LIMIT = 6000  # characters of an answer's text shown (three messages)
URL_LIMIT = 300  # a longer URL is not shown (the article id is)
ID_LIMIT = 120
DATE_LIMIT = 40
MAX_ARTICLES = 10  # articles listed under an answer

_CITATION = re.compile(r"\[\d+(?:[ \t]*[,;–-][ \t]*\d+)*\]")
# Spans a split must never cut: <links>, bare links, [n] / [1, 2] markers,
# user/role/channel mentions, custom emojis and escapes (\[ cut in two would be a bare [).
_PROTECTED = re.compile(
    r"<https?://[^>\s]*>"
    r"|https?://\S+"
    r"|\[\d+(?:[ \t]*[,;–-][ \t]*\d+)*\]"
    r"|<(?:@[!&]?|#)\d+>"
    r"|<a?:\w+:\d+>"
    r"|\\."  # an escape and the character it escapes
)
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_LINE = re.compile(r"\n")
# a sentence end, with closing quotes/brackets and the citation markers that follow it
_SENTENCE = re.compile(r"[.!?…][)\]»\"'”’]*(?:[ \t]*\[\d+(?:[ \t]*[,;–-][ \t]*\d+)*\])*(?=\s)")
_SPACE = re.compile(r"\s+")
# Discord markdown, brackets and parentheses included: "[text](url)" is a masked link whose
# text can say anything; escaped, every one of these shows as itself
_MARKDOWN = re.compile(r"([\\*_~|`>\[\]()])")
# control characters (newline and tab aside) and direction overrides (they disguise text)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MASS_MENTION = re.compile(r"@(everyone|here)")
_ESCAPED = re.compile(r"\\(.)")
_ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_OPEN_MARKER = re.compile(r"\[[\d\s,;–-]*$")  # "[1, 2" left at the end of a cut
_URL = re.compile(r"https?://[^\s<>\"`]+", re.IGNORECASE)


@functools.lru_cache(maxsize=4)
def texts(language: str = "fr") -> dict[str, str]:
    """The bot's fixed texts (``bot/discord/texts.yaml``) in one language."""
    table: dict[str, dict[str, str]] = load_package_yaml("bot.discord", "texts.yaml")
    return table.get(language, table["fr"])


# -- small escapes -----------------------------------------------------------------------
def clean(text: str) -> str:
    """``text`` without control characters or direction overrides (tabs become spaces)."""
    return _CONTROL.sub("", text.replace("\t", " ").replace("\r", " "))


def escape_markdown(text: str) -> str:
    """``text`` shown as it is: no markdown, no masked link, no control character."""
    return _MARKDOWN.sub(r"\\\1", clean(text))


def escape_text(text: str) -> str:
    """Like :func:`escape_markdown`, keeping ``[n]`` citation markers as they are (an answer's
    text: quoted article sentences or an LLM's words, either of which may try to make a link)."""
    out: list[str] = []
    pos = 0
    for m in _CITATION.finditer(text):
        out.append(escape_markdown(text[pos : m.start()]))
        out.append(_SPACE.sub(" ", m.group()))  # a marker's tabs shown as spaces
        pos = m.end()
    out.append(escape_markdown(text[pos:]))
    return "".join(out)


def unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)


def defang_mentions(text: str) -> str:
    """``@everyone``/``@here`` shown as text (allowed_mentions already prevents pings)."""
    return _MASS_MENTION.sub("@\u200b\\1", text)


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word when one ends near the limit."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def no_preview_link(url: str) -> str | None:
    """An article's own http(s) URL between ``<…>`` (shown as it is, no preview); None when
    the value is not one plain URL or is too long to show."""
    url = url.strip()
    if _URL.fullmatch(url) is None or _CONTROL.search(url) or len(url) > URL_LIMIT:
        return None  # never a cleaned-up version: a link shown is exactly the article's own
    safe = url.replace("[", "%5B").replace("]", "%5D").replace("|", "%7C")
    return f"<{safe}>"


def one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def show(text: str, limit: int = TITLE_LIMIT) -> str:
    """One line of untrusted text (a title, a date, a question) shown as it is, capped."""
    return defang_mentions(escape_markdown(clip(one_line(clean(text)), limit)))


def show_id(article_id: str) -> str:
    """An article id as inline code (no backtick or backslash inside, so the span stays closed)."""
    shown = clip(one_line(clean(article_id)).replace("`", "").replace("\\", "/"), ID_LIMIT)
    return f"`{defang_mentions(shown)}`"


def where(url: str | None, article_id: str) -> str:
    """The article's own URL (no preview), else its id."""
    link = no_preview_link(url) if url else None
    return link or show_id(article_id)


# -- answers -----------------------------------------------------------------------------
def show_date(date: str | None, kind: str | None, language: str = "fr") -> str:
    """An article's date (its day when it is an ISO timestamp), "seen on …" when it is only the
    day newsbot first saw it, or "date unknown"."""
    t = texts(language)
    if not date or not date.strip():
        return t["date_unknown"]
    day = _ISO_DAY.match(date.strip())
    shown = show(day.group(1) if day else date, DATE_LIMIT)
    return t["date_seen"].format(date=shown) if kind == "seen" else shown


def source_line(source: Source, language: str = "fr") -> str:
    """An article's line in the sources block: title — date — its own link (or its id)."""
    title = show(source.title) or show_id(source.article_id)
    date = show_date(source.date, getattr(source, "date_kind", None), language)
    return f"**{title}** — {date} — {where(source.url, source.article_id)}"


def group_by_article(sources: Sequence[Source]) -> list[list[Source]]:
    """Sources of the same article together, articles in the order of their first passage."""
    groups: dict[str, list[Source]] = {}
    for source in sorted(sources, key=lambda s: s.n):
        groups.setdefault(source.article_id, []).append(source)
    return list(groups.values())


def render_sources(sources: Sequence[Source], language: str = "fr") -> str:
    """One entry per article, the ``[n]`` of its passages under it."""
    if not sources:
        return ""
    t = texts(language)
    lines = [t["sources_header"]]
    for group in group_by_article(sources)[:MAX_ARTICLES]:
        lines.append(source_line(group[0], language))
        lines.append(t["source_passages"].format(markers=" ".join(f"[{s.n}]" for s in group)))
    return "\n".join(lines)


def render_answer(answer: Answer, *, language: str = "fr", quote_question: bool = False) -> str:
    """The whole answer as Discord markdown (may exceed 2,000 characters: see split_message)."""
    out: list[str] = []
    if quote_question:
        out.append(f"> {show(answer.question)}")
    if answer.notice:
        out.append(f"*({show(answer.notice)})*")
    out.append(defang_mentions(escape_text(clip(answer.answer.strip(), ANSWER_LIMIT))))
    sources = render_sources(answer.cited_sources, language)
    if sources:
        out.extend(["", sources])
    return "\n".join(out)


def render_partial(text: str, limit: int = DISCORD_LIMIT) -> str:
    """The text streamed so far, cut to fit one message, with a mark that more is coming."""
    text = defang_mentions(escape_text(text.strip()))
    if len(text) + 2 <= limit:
        return f"{text} …" if text else "…"
    cut = text[: limit - 2]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return _cut_cleanly(cut) + " …"


def _cut_cleanly(cut: str) -> str:
    """Rendered text cut short, without the opening of a citation marker or an escape it lost."""
    return _OPEN_MARKER.sub("", cut).rstrip().rstrip("\\").rstrip()


def render_apology(language: str = "fr", reason: str | None = None) -> str:
    t = texts(language)
    if not reason:
        return t["apology"]
    return t["failed"].format(reason=show(reason))


def render_latest(infos: Iterable[ArticleInfo], language: str = "fr") -> str:
    t = texts(language)
    lines = [t["latest_header"]]
    for info in infos:
        date = f" — {show_date(info.date, getattr(info, 'date_kind', None), language)}"
        title = show(info.title) or show_id(info.article_id)
        lines.append(t["latest_line"].format(title=title, date=date, where=f" — {where(info.url, info.article_id)}"))
    return "\n".join(lines) if len(lines) > 1 else t["latest_empty"]


def render_reindex(report: ReindexReport, language: str = "fr") -> str:
    return texts(language)["reindex_done"].format(summary=report.summary(), seconds=report.seconds)


def render_rate_limited(seconds: float, language: str = "fr") -> str:
    return texts(language)["rate_limited"].format(seconds=max(1, int(seconds + 0.999)))


def thread_name(question: str, limit: int = 90) -> str:
    """A thread title from the question (Discord allows 100 characters)."""
    text = one_line(clean(question)) or "?"
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
        cut = _before_escape(text, start, cut)  # the spans above miss these inside a huge word
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


def _before_escape(text: str, start: int, cut: int) -> int:
    """``cut`` moved back before the opening of a citation marker it would cut (``[1,`` | ``2]``),
    and before a backslash that escapes the character after it (an escape cut in two would leave
    that character bare: ``\\[`` → ``[``)."""
    for whole in _CITATION.finditer(text, max(start, cut - 40), min(len(text), cut + 40)):
        if whole.start() < cut < whole.end() and not _escaped(text, start, whole.start()):
            # a marker the spans above missed (inside a bare link's run of characters): kept whole,
            # before the cut, or after it when the piece would hold nothing else
            return whole.start() if whole.start() > start else whole.end()
    marker = _OPEN_MARKER.search(text, start, cut)
    if marker is not None and marker.start() > start and not _escaped(text, start, marker.start()):
        cut = marker.start()  # (an escaped "\\[" opens no marker: cutting after "\\[1," is safe)
    if not _escaped(text, start, cut):
        return cut
    # keep the escape with its character: before the backslash, or after the character when the
    # backslash opens the piece (a piece of one backslash would leave the next one's bracket bare)
    return cut - 1 if cut - 1 > start else cut + 1


def _escaped(text: str, start: int, pos: int) -> bool:
    """Whether ``text[pos]`` follows a backslash that escapes it (an odd run of them since ``start``)."""
    run = 0
    while pos - run - 1 >= start and text[pos - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def message_parts(text: str, max_messages: int = MAX_MESSAGES, limit: int = DISCORD_LIMIT) -> list[str]:
    """:func:`split_message`, never more than ``max_messages`` pieces (the last then ends in "…")."""
    parts = split_message(text, limit)
    if len(parts) <= max_messages:
        return parts
    last = parts[max_messages - 1]
    return [*parts[: max_messages - 1], _cut_cleanly(last[: limit - 2]) + " …"]


# -- questions and conversations ---------------------------------------------------------
def strip_mention(content: str, user_id: int) -> str:
    """The question of a message, without the bot's mention(s)."""
    return one_line(clean(re.sub(rf"<@!?{user_id}>", " ", content)))


def answer_body(text: str, language: str = "fr") -> tuple[str | None, str]:
    """(quoted question, answer text) of one of the bot's messages, sources block removed."""
    header = texts(language)["sources_header"]
    lines = text.splitlines()
    if header in lines:
        lines = lines[: lines.index(header)]
    question = None
    if lines and lines[0].startswith("> "):
        question = unescape(lines[0][2:]).strip()
        lines = lines[1:]
    return question, unescape("\n".join(lines)).strip()

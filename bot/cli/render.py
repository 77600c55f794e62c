"""Plain-text rendering of answers and reports for the terminal.

Everything shown in a terminal goes through :func:`safe`: a title or an article may hold
control sequences (``ESC[2J``, OSC hyperlinks, bidi overrides) that a terminal would obey;
they are made visible instead (``^[[2J``). ``--json`` output is not rendered here.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from retrieval.types import Answer, Source

# C0 (but tab and newline), DEL, C1, zero-width and bidi controls, line/paragraph separators
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
EXCERPT_WIDTH = 88
SAME_ARTICLE = "↳ same article"


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return "^" + chr(code + 64)  # ESC -> ^[, BEL -> ^G, CR -> ^M
    if code == 0x7F:
        return "^?"
    return f"<U+{code:04X}>"


def safe(text: str) -> str:
    """``text`` with every control character a terminal would act on made visible."""
    return _UNSAFE.sub(_visible, text)


@dataclass(frozen=True)
class Style:
    """How the terminal is written to: its width and whether it takes colour."""

    width: int | None = None  # None: answers are not wrapped (a pipe, a file)
    colour: bool = False

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    @classmethod
    def for_stream(cls, stream: TextIO, environ: dict[str, str] | None = None) -> Style:
        """Wrap to the terminal's width and colour only on a terminal; ``NO_COLOR`` turns colour off."""
        env = os.environ if environ is None else environ
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        if not tty:
            return cls()
        import shutil

        width = shutil.get_terminal_size((100, 24)).columns
        colour = not env.get("NO_COLOR") and env.get("TERM") != "dumb"
        return cls(width=max(width, 20), colour=colour)


PLAIN = Style()


def excerpt(text: str, width: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + "…"


def date_text(source: Source) -> str:
    """The article's date as a reader needs it: ``2025-08-15``, ``seen on 2025-08-15`` or ``date unknown``."""
    if not source.date:
        return "date unknown"
    if getattr(source, "date_kind", None) == "seen":
        return f"seen on {source.date}"
    return source.date


def group_by_article(sources: list[Source]) -> list[list[Source]]:
    """Sources grouped by article, in the order of each article's first passage."""
    groups: dict[str, list[Source]] = {}
    for source in sources:
        groups.setdefault(source.article_id, []).append(source)
    return list(groups.values())


def numbered_line(source: Source, first: bool, style: Style = PLAIN) -> str:
    """``[n] title — date — where`` for an article's first passage, ``[n] ↳ same article — where``
    for its others: every ``[n]`` of an answer starts a line ending with where to read it (scripts
    read the sources block line by line)."""
    where = safe(source.url or source.article_id)
    if first:
        parts = [safe(source.title), date_text(source), where]
        if source.also_reported_by:
            parts.append("also reported by " + safe(", ".join(source.also_reported_by)))
    else:
        parts = [SAME_ARTICLE, where]
    line = f"[{source.n}] " + " — ".join(parts)
    if style.width:  # never breaks a URL
        line = textwrap.fill(line, style.width, subsequent_indent="      ", break_long_words=False,
                             break_on_hyphens=False)
    return "\n".join(style.paint(part, "1") for part in line.split("\n"))


def source_line(source: Source) -> str:
    """One passage as one line (the article it comes from, its date, where to read it)."""
    return numbered_line(source, True)


def render_sources(sources: list[Source], *, with_text: bool = True, style: Style = PLAIN) -> str:
    """One entry per article (its title, date and link on its first passage's line), its other
    passages right under it; with ``with_text``, each passage's excerpt below its line."""
    width = min(style.width or EXCERPT_WIDTH, EXCERPT_WIDTH)
    lines: list[str] = []
    for passages in group_by_article(sources):
        for i, passage in enumerate(passages):
            lines.append(numbered_line(passage, i == 0, style))
            if with_text:
                body = textwrap.fill(safe(excerpt(passage.text)), width, initial_indent="      ",
                                     subsequent_indent="      ")
                lines.append(style.paint(body, "2") if style.colour else body)
    return "\n".join(lines)


def wrap(text: str, style: Style) -> str:
    """``text`` wrapped to the terminal's width, paragraph by paragraph (not wrapped without one)."""
    if not style.width:
        return text
    return "\n".join(
        textwrap.fill(line, style.width, break_long_words=False, break_on_hyphens=False) if line.strip() else line
        for line in text.split("\n")
    )


def render_answer(answer: Answer, *, all_sources: bool = False, style: Style = PLAIN) -> str:
    out = [wrap(safe(answer.answer), style)]
    if answer.notice:
        out.insert(0, wrap(f"({safe(answer.notice)})", style))
    shown = answer.sources if all_sources else answer.cited_sources
    if shown:
        out.append("")
        out.append(style.paint("Sources:", "1"))
        out.append(render_sources(shown, style=style))
    return "\n".join(out)


def echo(text: str, stream: TextIO, transform: Callable[[str], str] = safe) -> None:
    """Write one line of terminal text, made safe, and flush."""
    stream.write(transform(text) + "\n")
    stream.flush()

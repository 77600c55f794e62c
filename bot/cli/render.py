"""Plain-text rendering of answers and reports for the terminal."""

from __future__ import annotations

import textwrap

from retrieval.types import Answer, Source


def source_line(source: Source) -> str:
    where = source.url or source.article_id
    parts = [f"[{source.n}] {source.title}"]
    if source.date:
        parts.append(source.date)
    parts.append(where)
    if source.also_reported_by:
        parts.append("also reported by " + ", ".join(source.also_reported_by))
    return " — ".join(parts)


def excerpt(text: str, width: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + "…"


def render_sources(sources: list[Source], *, with_text: bool = True) -> str:
    lines = []
    for source in sources:
        lines.append(source_line(source))
        if with_text:
            lines.append(textwrap.indent(textwrap.fill(excerpt(source.text), 88), "    "))
    return "\n".join(lines)


def render_answer(answer: Answer, *, all_sources: bool = False) -> str:
    out = [answer.answer]
    if answer.notice:
        out.insert(0, f"({answer.notice})")
    shown = answer.sources if all_sources else answer.cited_sources
    if shown:
        out.append("")
        out.append("Sources:")
        out.append(render_sources(shown))
    return "\n".join(out)

"""Splitting articles into overlapping chunks on paragraph and sentence boundaries.

The sentence splitter knows French typography: a space before ``?``/``!``, guillemets
(« … »), ellipses, and common abbreviations (M., Mme, J.-C., etc.) that do not end a sentence.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from retrieval.text import language_of
from retrieval.types import Article, Chunk

_ABBREVIATIONS = {
    "m", "mm", "mme", "mmes", "mlle", "mlles", "dr", "pr", "me", "mgr", "st", "ste", "sts",
    "etc", "cf", "p", "pp", "av", "apr", "env", "vol", "no", "n", "art", "chap", "éd", "ed",
    "fig", "hab", "min", "max", "jr", "sr", "mr", "mrs", "ms", "prof", "gén", "gen", "col",
    "cap", "lt", "sgt", "vs", "ex", "ibid", "op", "cit", "approx", "dept", "inc", "ltd", "co",
    "corp", "janv", "févr", "avr", "juil", "sept", "oct", "nov", "déc", "jan", "feb", "mar",
    "aug", "sep", "dec", "bd", "boul", "pl", "rte", "tél", "tel", "s", "ss", "ve", "e",
}
# A sentence ends at . ! ? … (possibly repeated), then optional closing quotes/brackets,
# then whitespace, then something that can start a sentence.
_BOUNDARY = re.compile(
    r"(?P<end>[.!?…]+(?:[\"'»”’)\]]|\u00a0?\s?[»”])*)(?P<space>\s+)(?=[«\"“‘'(\[—–-]?\s?[A-ZÀ-ÖØ-Þ0-9ŒÉÈ])"
)
_WORD_BEFORE = re.compile(r"([\w.-]+)\s*$")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _is_abbreviation(text: str, dot_index: int) -> bool:
    """True when the '.' at ``dot_index`` ends an abbreviation or an initial."""
    match = _WORD_BEFORE.search(text, 0, dot_index)
    if not match:
        return False
    word = match.group(1).rstrip(".")
    last = word.split(".")[-1].split("-")[-1]
    if len(last) == 1 and last.isalpha():  # initials: "V. Poutine", "J.-C.", "U.S."
        return True
    return last.lower() in _ABBREVIATIONS


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of ``text[start:end]``, whitespace trimmed, offsets into ``text``."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        marks = match.group("end")
        if marks == "." and _is_abbreviation(text, match.start("end")):
            continue
        stop = match.end("end")
        if text[cursor:stop].strip():
            spans.append(_trim(text, cursor, stop))
        cursor = match.end("space")
    if text[cursor:end].strip():
        spans.append(_trim(text, cursor, end))
    return spans


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; every line break also ends a sentence."""
    return [text[s.start:s.end] for s in iter_sentence_spans(text)]


def iter_sentence_spans(text: str) -> Iterator[Span]:
    for line in _line_spans(text):
        yield from sentence_spans(text, line.start, line.end)


def _line_spans(text: str) -> Iterator[Span]:
    pos = 0
    for match in re.finditer(r"\n", text):
        if text[pos:match.start()].strip():
            yield Span(pos, match.start())
        pos = match.end()
    if text[pos:].strip():
        yield Span(pos, len(text))


def _paragraph_spans(text: str) -> Iterator[Span]:
    pos = 0
    for match in re.finditer(r"\n\s*\n", text):
        if text[pos:match.start()].strip():
            yield Span(pos, match.start())
        pos = match.end()
    if text[pos:].strip():
        yield Span(pos, len(text))


def _split_long(text: str, span: Span, size: int) -> Iterator[Span]:
    """Cut a sentence longer than ``size`` at word boundaries."""
    start = span.start
    while span.end - start > size:
        cut = text.rfind(" ", start + size // 2, start + size)
        if cut <= start:
            cut = start + size
        yield _trim(text, start, cut)
        start = cut
    if text[start:span.end].strip():
        yield _trim(text, start, span.end)


def _units(text: str, size: int) -> list[tuple[Span, int]]:
    """Sentences (cut when too long) with the index of their paragraph."""
    units: list[tuple[Span, int]] = []
    for p_index, paragraph in enumerate(_paragraph_spans(text)):
        for sentence in (
            s for line in _line_spans_within(text, paragraph) for s in sentence_spans(text, line.start, line.end)
        ):
            for piece in _split_long(text, sentence, size):
                units.append((piece, p_index))
    return units


def _line_spans_within(text: str, outer: Span) -> Iterator[Span]:
    for line in _line_spans(text[outer.start:outer.end]):
        yield Span(outer.start + line.start, outer.start + line.end)


def chunk_spans(text: str, size: int, overlap: int) -> list[Span]:
    """Greedy packing of sentences into chunks of at most ``size`` characters.

    A chunk does not start a new paragraph once it is half full; consecutive chunks share
    up to ``overlap`` characters of whole sentences.
    """
    units = _units(text, size)
    chunks: list[Span] = []
    i = 0
    while i < len(units):
        first = i
        start = units[i][0].start
        end = units[i][0].end
        i += 1
        while i < len(units):
            unit, paragraph = units[i]
            if unit.end - start > size:
                break
            if paragraph != units[i - 1][1] and end - start > size // 2:
                break
            end = unit.end
            i += 1
        chunks.append(Span(start, end))
        if i >= len(units):
            break
        # step back over whole sentences for the overlap, never back to this chunk's start
        back = i
        while back - 1 > first and units[i - 1][0].end - units[back - 1][0].start <= overlap:
            back -= 1
        i = back
    return chunks


def chunk_article(article: Article, size: int, overlap: int, *, seen: str | None = None) -> list[Chunk]:
    """The article's chunks. ``seen``: the day newsbot first saw it, its date when it has none."""
    from retrieval.index.scope import day_number, outlet_key, url_host

    date = article.date or seen
    date_kind = None if date is None else ("published" if article.date else "seen")
    chunks = []
    for position, span in enumerate(chunk_spans(article.text, size, overlap)):
        body = article.text[span.start:span.end]
        chunks.append(
            Chunk(
                id=f"{article.id}:{article.content_hash}:{position}",
                article_id=article.id,
                article_hash=article.content_hash,
                title=article.title,
                text=body,
                position=position,
                start=span.start,
                end=span.end,
                content_hash=hashlib.sha256(body.encode()).hexdigest()[:16],
                date=date,
                url=article.url,
                source=article.source,
                date_kind=date_kind,
                seen=seen,
                day=day_number(date),
                outlet=outlet_key(article.source),
                host=url_host(article.url),
                language=language_of(body),
            )
        )
    return chunks

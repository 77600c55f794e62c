"""Dates in answers: a composed answer's quoted sentences placed in time, and sources' date labels.

* :func:`date_label` / :func:`source_date_label` — « 15 août 2025 », "date unknown", "seen on 3 May 2026":
  what renderers show for a source (CLI, Discord);
* :func:`date_answer` — a post-processing step on an extractive answer (sentences each followed by
  their ``[n]``): a relative time word of a sentence gets the day it means in its article
  (« vendredi (15 août 2025) »); when the answer mixes articles of different dates, each sentence is
  preceded by its article's date; for questions about the present, the newest article's sentences
  come first.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from retrieval.scope.coverage import parse_day
from retrieval.types import Passage, Source


@functools.cache
def texts() -> dict[str, dict[str, str]]:
    import yaml

    data: dict[str, dict[str, str]] = yaml.safe_load(
        resources.files("retrieval.scope").joinpath("texts.yaml").read_text("utf-8")
    )
    return data


def text(key: str, language: str) -> str:
    table = texts()
    return table.get(language, table["fr"])[key]


def format_day(day: dt.date, language: str, pattern: str = "d MMMM y") -> str:
    from babel.dates import format_date

    return str(format_date(day, pattern, locale=text("locale", language)))


def date_label(date: str | None, date_kind: str | None = None, language: str = "fr") -> str:
    """« 15 août 2025 », « vu le 3 mai 2026 » (only the day newsbot first saw it) or « date inconnue »."""
    day = parse_day(date)
    if day is None:
        return text("unknown", language)
    if date_kind == "seen":
        return text("seen", language).format(date=format_day(day, language))
    return format_day(day, language)


def source_date_label(source: Source | Passage, language: str = "fr") -> str:
    """The date label of a source or passage, for renderers (they may add ``date_kind`` later)."""
    return date_label(source.date, getattr(source, "date_kind", None), language)


# --- relative time words of a sentence ----------------------------------------------------

_WEEKDAYS = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
_DAY_SHIFT = {
    "avant-hier": -2, "avant hier": -2, "the day before yesterday": -2, "hier": -1, "yesterday": -1,
    "aujourd'hui": 0, "aujourd’hui": 0, "today": 0, "demain": 1, "tomorrow": 1,
    "après-demain": 2, "the day after tomorrow": 2,
    "ce matin": 0, "this morning": 0, "cet après-midi": 0, "this afternoon": 0, "ce soir": 0,
    "this evening": 0, "tonight": 0, "la nuit dernière": -1, "last night": -1, "hier matin": -1,
    "hier soir": -1, "yesterday morning": -1, "yesterday afternoon": -1, "yesterday evening": -1,
}
_MONTHS_AFTER = r"(?:\s+(?:\d{1,2}(?:er)?\s+)?(?:janv|févr|fevr|mars|avr|mai|juin|juil|août|aout|sept|oct|nov|déc|dec|" \
    r"jan|feb|mar|apr|may|jun|jul|aug|sep)|\s+\d{1,2}\b)"
RELATIVE_WORD = re.compile(
    r"(?<![\w-])(?P<word>the day before yesterday|the day after tomorrow|avant[- ]hier|après-demain|hier matin|hier soir|hier|"
    r"yesterday morning|yesterday afternoon|yesterday evening|yesterday|"
    r"aujourd['’]hui|today|demain|tomorrow|ce matin|this morning|cet après-midi|this afternoon|ce soir|"
    r"this evening|tonight|la nuit dernière|last night|"
    r"(?:ce |this |last |next |on )?(?:" + "|".join(_WEEKDAYS) + r")(?: dernier| prochain)?|"
    r"le mois dernier|le mois prochain|last month|next month|l['’]an dernier|l['’]année dernière|last year|"
    r"cette année|this year)(?![\w-])(?!" + _MONTHS_AFTER + r")",
    re.I,
)


def _month_shift(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def resolve(word: str, published: dt.date, language: str) -> str | None:
    """The date a relative time word of an article published on ``published`` means, formatted."""
    w = word.lower().replace("’", "'")
    if w in _DAY_SHIFT:
        return format_day(published + dt.timedelta(days=_DAY_SHIFT[w]), language)
    if "mois" in w or "month" in w:
        shift = 1 if ("prochain" in w or "next" in w) else -1
        return format_day(_month_shift(published, shift), language, "MMMM y")
    if "an" in w.split()[0:1] or "année" in w or "year" in w or w.startswith("l'an"):
        year = published.year - 1 if ("dernier" in w or "dernière" in w or "last" in w) else published.year
        return str(year)
    for name, weekday in _WEEKDAYS.items():
        if name in w:
            back = (published.weekday() - weekday) % 7
            forward = (weekday - published.weekday()) % 7
            if "dernier" in w or "last" in w or (back <= 3 and "prochain" not in w and "next" not in w):
                return format_day(published - dt.timedelta(days=back), language)
            return format_day(published + dt.timedelta(days=forward), language)
    return None


def place_relative_words(sentence: str, published: dt.date, language: str, *, labelled: bool = False) -> str:
    """« vendredi » → « vendredi (15 août 2025) », for an article published on ``published``.
    ``labelled``: the sentence is shown after its article's date, so a word meaning that very day
    (« samedi » in Saturday's article, « aujourd'hui ») is left as it is."""
    same_day = format_day(published, language) if labelled else None

    def fix(match: re.Match[str]) -> str:
        resolved = resolve(match.group("word"), published, language)
        return f"{match.group(0)} ({resolved})" if resolved and resolved != same_day else match.group(0)

    return RELATIVE_WORD.sub(fix, sentence)


# --- the answer ----------------------------------------------------------------------------

_MARKS = re.compile(r"(?:\s*\[\d+\])+")


@dataclass
class Segment:
    text: str
    marks: str
    numbers: list[int]


def segments(answer: str) -> tuple[list[Segment], str]:
    """The answer as (sentence, its ``[n]`` marks) pieces, and any text after the last mark."""
    pieces: list[Segment] = []
    last = 0
    for m in _MARKS.finditer(answer):
        body = answer[last:m.start()]
        if body.strip():
            pieces.append(Segment(body.strip(), m.group(0).strip(), [int(n) for n in re.findall(r"\d+", m.group(0))]))
        elif pieces:
            pieces[-1].marks += " " + m.group(0).strip()
        last = m.end()
    return pieces, answer[last:].strip()


def date_answer(
    answer: str,
    passages: Sequence[Any],
    *,
    language: str,
    newest_first: bool = False,
) -> str:
    """The answer with its quoted sentences placed in time (see the module's docstring)."""
    pieces, tail = segments(answer)
    if not pieces:
        return answer

    def passage(n: int) -> Any:
        return passages[n - 1] if 1 <= n <= len(passages) else None

    def day_of(piece: Segment) -> dt.date | None:
        p = passage(piece.numbers[0])
        if p is None or getattr(p, "date_kind", None) == "seen":
            return None
        return parse_day(p.date)

    labels = []
    for piece in pieces:
        p = passage(piece.numbers[0])
        labels.append(date_label(p.date, getattr(p, "date_kind", None), language) if p is not None else "")
    articles = {getattr(passage(piece.numbers[0]), "article_id", None) for piece in pieces}
    mixed = len(articles) > 1 and len(set(labels)) > 1
    order = list(range(len(pieces)))
    if newest_first and mixed:
        # the newest article's sentences first; an article's sentences keep their order
        first_seen: dict[dt.date | None, int] = {}
        for i, piece in enumerate(pieces):
            first_seen.setdefault(day_of(piece), i)
        order.sort(key=lambda i: (-(day_of(pieces[i]) or dt.date.min).toordinal(), i))
    out = []
    for i in order:
        piece = pieces[i]
        day = day_of(piece)
        sentence = place_relative_words(piece.text, day, language, labelled=mixed) if day else piece.text
        if mixed:
            sentence = f"({labels[i]}) {sentence}"
        out.append(f"{sentence} {piece.marks}")
    return " ".join(out) + (f" {tail}" if tail else "")


def event_note(phrase: str, day: dt.date, count: int, language: str) -> str:
    """« « le sommet d'Alaska » : daté du 15 août 2025 d'après la couverture (3 articles ce jour-là). »"""
    return text("event", language).format(phrase=phrase.strip(), date=format_day(day, language), count=count)

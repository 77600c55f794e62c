"""What an article names: people, places, organisations, figures and dates (same-event evidence).

Hand-written on purpose and kept small: a capitalised word that does not open a sentence is a
name (« Vladimir Médinsky », "Gunvor"), a figure is a number with its unit or with two digits
or more (« 47,6 », "27 %"), a date is a day with its month (« 15 août »). A named-entity model
would be better but would cost a model load and seconds per digest; these features only add
evidence to the embedding similarity, never decide alone.
"""

from __future__ import annotations

import functools
import re

from retrieval.text import fold_accents


def _fold_plain(text: str) -> str:
    """Lower case without accents (« Médinsky » → ``medinsky``); other scripts are kept."""
    return fold_accents(text.lower())


_UPPER = "A-ZÀ-ÖØ-ÞŒ"
_NAME = re.compile(rf"(?<![\w’'])([{_UPPER}][\w’'-]+(?:\s+(?:de\s+|du\s+|la\s+|von\s+)?[{_UPPER}][\w’'-]+)*)")
_FIGURE = re.compile(r"(?<![\w,.])(\d+(?:[ \u00a0\u202f]\d{3})*(?:[.,]\d+)?)\s*(%|\$|€|dollars?|euros?|milliards?|millions?|billion|million|barils?|km|°C)?", re.I)
_MONTHS = (
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|"
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
_MONTH_NUMBER = {_fold_plain(name): i % 12 + 1 for i, name in enumerate(_MONTHS.split("|"))}
_SPACES = re.compile(r"[ \u00a0\u202f]")
_DAY_WORD = re.compile(r"(?<!\d)(\d{1,2})(?:er)?\s+(\w+)")
_WORD_DAY = re.compile(r"\b([A-Za-z]{3,9})\s+(\d{1,2})(?!\d)")
_MONTH_AFTER = re.compile(rf"(?:er)?\s*(?:{_MONTHS})\b", re.I)
_SENTENCE_START = re.compile(r"(?:^|[.!?…:»\"]\s+|\n)$")
# capitalised words that name nothing in particular
_COMMON = {
    "le", "la", "les", "un", "une", "des", "du", "de", "ce", "cette", "ces", "il", "elle", "ils", "elles",
    "the", "a", "an", "this", "that", "these", "those", "he", "she", "they", "it", "we", "in", "on", "at",
    "selon", "mais", "et", "pour", "dans", "après", "avant", "lors", "en", "au", "aux", "par", "sur",
    "but", "and", "for", "after", "before", "according", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    *(_fold_plain(m) for m in _MONTHS.split("|")),
    "m", "mme", "mr", "mrs", "ms", "dr", "photo", "afp", "reuters", "ap", "lire", "read", "voir", "source",
}


fold = functools.lru_cache(maxsize=100_000)(_fold_plain)


def mentions(text: str, limit: int = 2000) -> set[str]:
    """The names, figures and dates of ``text[:limit]``, folded (``n:``, ``f:``, ``d:`` prefixes)."""
    text = text[:limit]
    found: set[str] = set()
    for match in _NAME.finditer(text):
        words = match.group(1).split()
        if len(words) == 1 and _SENTENCE_START.search(text, max(0, match.start() - 3), match.start()):
            continue  # a single capitalised word opening a sentence is no evidence
        words = [w for w in words if fold(w).strip("’'") not in _COMMON]
        if not words:
            continue
        for word in words:
            key = fold(word).strip("’'-")
            if len(key) > 2:
                found.add(f"n:{key}")
    for match in _FIGURE.finditer(text):
        number, unit = match.group(1), (match.group(2) or "").lower()
        digits = re.sub(r"\D", "", number)
        if _MONTH_AFTER.match(text, match.end()):
            continue  # the day of a date (counted below)
        if unit or len(digits) >= 2:
            if len(digits) == 4 and not unit and digits.startswith(("19", "20")):
                continue  # a year says little
            compact = _SPACES.sub("", number).replace(",", ".")
            found.add(f"f:{compact}{unit[:3]}")
    for match in _DAY_WORD.finditer(text):
        month = _MONTH_NUMBER.get(fold(match.group(2)))
        if month:
            found.add(f"d:{int(match.group(1))}-{month}")
    for match in _WORD_DAY.finditer(text):
        month = _MONTH_NUMBER.get(match.group(1).lower())
        if month:
            found.add(f"d:{int(match.group(2))}-{month}")
    return found

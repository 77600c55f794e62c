"""Follow-up questions made standalone: « Et Zelensky ? », "And in September?", "How long did it last?".

A question is a follow-up when it opens with a conjunction ("et", "and", "what about"),
points back with a pronoun ("it", « il »), or has fewer than three terms of its own and no
name (« Avec quel score ? »). Its new
words then replace what they stand for in the previous (standalone) question:

* a date ("in September", « en 2024 ») replaces the previous question's date, or is added;
* a name (« Zelensky », "Kyiv") replaces the previous question's last name;
* a pronoun ("it", « il », « ça ») is replaced by the previous question's subject: its words
  without the question words;
* otherwise the follow-up is kept and the previous question's subject is added after it.

The new words come first, so retrieval is led by them. In the last case the answer's sentences
are then scored against the follow-up's own words (:func:`own_words`): the previous subject
finds the articles, the new question picks the sentence (« Et quels pays ne participent pas à
cet emprunt ? » after a question on the loan's amount wants the countries, not the amount).
No model: rules over the question's words, since these follow-ups are short and their forms few.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from retrieval.types import Turn

_START = re.compile(
    r"^\s*(?:et|mais|puis|aussi|ensuite|and|but|also|what about|how about|same (?:for|question for)|"
    r"même question pour|qu'en est-il de|quid de)\b[\s,]*",
    re.IGNORECASE,
)
_PRONOUNS = {
    "il", "elle", "ils", "elles", "lui", "leur", "eux", "ça", "cela", "celui", "celle", "ceux", "y", "en",
    "he", "she", "they", "it", "them", "him", "her", "this", "that", "those", "there",
}
_STRONG_PRONOUNS = {"il", "elle", "ils", "elles", "ça", "cela", "he", "she", "they", "it", "them", "him", "this", "there"}
_MONTHS = (
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|"
    "decembre|january|february|march|april|may|june|july|august|september|october|november|december"
)
_DATE = re.compile(
    rf"(?:\b(?:en|in|au mois de|on|le|depuis|since|during|pendant)\s+)?(?:\b\d{{1,2}}(?:er)?\s+)?"
    rf"(?:\b(?:{_MONTHS})\b(?:\s+\d{{4}})?|\b(?:1[5-9]|20)\d{{2}}\b|\b(?:hier|yesterday|aujourd'hui|today|"
    r"last (?:week|month|year)|la semaine dernière|le mois dernier|l'an dernier|l'année dernière)\b)",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-ZÀÂÇÉÈÊËÎÏÔÛÙÜŸ][\w'’-]*(?:\s+(?:de\s+|d'|van\s+|von\s+)?[A-ZÀÂÇÉÈÊËÎÏÔÛÙÜŸ][\w'’-]*)*")
_QUESTION_WORDS = {
    "quel", "quelle", "quels", "quelles", "qui", "que", "qu", "quoi", "quand", "où", "comment", "pourquoi",
    "combien", "est", "ce", "a", "t", "what", "who", "whom", "which", "when", "where", "how", "why",
    "did", "does", "do", "is", "are", "was", "were", "has", "have", "many", "much", "long",
}
_WORD = re.compile(r"[\w'’-]+")


def is_follow_up(question: str, terms: Sequence[str]) -> bool:
    words = {w.lower() for w in _WORD.findall(question.replace("’", "'"))}
    if _START.match(question) or words & _STRONG_PRONOUNS or len(terms) < 2:
        return True
    return len(terms) < 3 and not _names(question)  # short, and no name of its own


def _subject(previous: str) -> str:
    """The previous question's words without question words and punctuation."""
    words = [w for w in _WORD.findall(previous.replace("’", "'")) if w.lower().split("'")[-1] not in _QUESTION_WORDS]
    words = [w.split("'")[-1] if "'" in w and w.split("'")[0].lower() in {"qu", "l", "d", "s", "n"} else w for w in words]
    return " ".join(w for w in words if w)


def _names(text: str, skip_first: bool = True) -> list[re.Match[str]]:
    """Capitalised words and runs of them, except the question's first word."""
    out = []
    for match in _NAME.finditer(text):
        if skip_first and match.start() == 0:
            first, _, rest = match.group(0).partition(" ")
            if not rest:
                continue
        out.append(match)
    return out


def rewrite(question: str, previous: str) -> str:
    """``question`` (a follow-up of ``previous``) as a standalone question, led by its new words."""
    rest = _START.sub("", question).strip()
    core = rest.rstrip(" ?!.").strip()
    new_date = _DATE.search(core)
    if new_date and len(core) - len(new_date.group(0)) < 4:  # the follow-up is only a date
        old = _DATE.search(previous)
        if old:
            return previous[: old.start()] + new_date.group(0) + previous[old.end():]
        return f"{previous.rstrip(' ?')} {new_date.group(0)} ?"
    new_names = _names(core, skip_first=False)
    words = _WORD.findall(core)
    short = len(words) <= 4 and not ({w.lower() for w in words} & _STRONG_PRONOUNS)
    if short and new_names and len(new_names[0].group(0)) >= len(core) / 2:
        # a name after a determiner or preposition is a place (« en Allemagne », « la Chine »):
        # it replaces a place; a bare name (« Zelensky ») replaces the first bare name
        place = _is_place(core, new_names[0])
        old_names = [m for m in _names(previous) if _is_place(previous, m) == place]
        if old_names:
            first = old_names[0]
            return previous[: first.start()] + new_names[0].group(0) + previous[first.end():]
    if short:
        swapped = _swap_phrase(core, previous)
        if swapped:
            return swapped
    subject = _subject(previous)
    tokens = _WORD.findall(rest)
    replaced = False
    out_words = []
    for token in tokens:
        if not replaced and token.lower() in _STRONG_PRONOUNS:
            out_words.append(subject)
            replaced = True
        else:
            out_words.append(token)
    if replaced:
        return " ".join(out_words) + (" ?" if question.rstrip().endswith("?") else "")
    return f"{rest} {subject}"


_PLACE_BEFORE = re.compile(
    r"(?:\b(?:à|au|aux|en|dans|la|le|les|du|des|de|vers|in|at|to|from|the)\s+|\bl['’]|\bd['’])$", re.IGNORECASE
)


def _is_place(text: str, match: re.Match[str]) -> bool:
    return bool(_PLACE_BEFORE.search(text[: match.start()]))


_LINKS = {"de", "du", "des", "d", "à", "au", "aux", "en", "pour", "sur", "dans", "avec", "of", "in", "on", "at", "for", "with", "to"}


def _swap_phrase(core: str, previous: str) -> str | None:
    """« la délégation ukrainienne » after « Qui dirigeait la délégation russe … ? »: the
    follow-up's phrase replaces the previous one sharing its noun (and the word after it)."""
    words = _WORD.findall(core)
    lowered = previous.lower()
    for i, word in enumerate(words):
        if len(word) < 4:
            continue
        match = re.search(rf"\b{re.escape(word.lower())}\b", lowered)
        if not match:
            continue
        start, end = match.start(), match.end()
        after = re.match(r"\s+([\w'’-]+)", previous[end:])
        if after and after.group(1).lower() not in _LINKS and not after.group(1)[0].isupper():
            end += after.end()
        phrase = " ".join(words[i:])
        return previous[:start] + phrase + previous[end:]
    return None


def condense(question: str, history: list[Turn], lexical: Any, max_turns: int) -> str:
    """A standalone version of a follow-up question, built from the conversation."""
    if not history or max_turns <= 0:
        return question
    terms = lexical.analyzer.tokens(question) if lexical else _WORD.findall(question)
    if not is_follow_up(question, terms):
        return question
    return rewrite(question, history[-1].question)


def own_words(question: str, standalone: str) -> str:
    """What to score the answer's sentences against: the follow-up's own words when the
    standalone question only added the previous subject after them, else the standalone one."""
    rest = _START.sub("", question).strip()
    if standalone != question and len(_WORD.findall(rest)) >= 3 and standalone.startswith(f"{rest} "):
        return rest
    return standalone

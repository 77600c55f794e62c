"""The names a question is about, and those the retrieved passages never mention.

"What did Pope Leo XIV say about the Alaska summit?" over coverage that never names the Pope
retrieves passages about the summit, and their best sentence can look like an answer. A
question that names someone or something (a capitalised word past its first, an ordinal
such as « 20e ») the retrieved passages do not mention at all is not answered by them,
whatever its other words share with them: the answerer refuses unless its best sentence is in
the other language (where names are translated) and more likely right than not (see
:mod:`retrieval.answer.extractive`); an ordinal is spelt the same in both languages, so a
missing one (« le 20e paquet » over coverage of the 19th) is refused whatever the sentence's
probability.

Names are matched leniently, so that the same name across French and English or two
transliterations still counts as present (Kyiv/Kiev, Zaporizhzhia/Zaporijjia, Japan/Japon,
"Russia-Ukraine" over « la Russie et l'Ukraine »): case and accents folded, then an exact word,
or a close spelling (:func:`_close`: the same initial and a similarity ratio,
:class:`difflib.SequenceMatcher`, of :data:`SIMILAR`; the same first three letters and
:data:`SIMILAR_PREFIXED`; or one inside the other, Chernobyl/Tchernobyl). Demonyms ("Russian",
"Ukrainian") and all-capital abbreviations (EU/UE, NATO/OTAN) are left out: they are
written differently across the two languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

from retrieval.text import fold_accents, is_function_word

SIMILAR = 0.72  # Kyiv/Kiev 0.75, Japan/Japon 0.8; Haaland/Holland 0.71 and Eurovision/Europe 0.5 stay apart
SIMILAR_PREFIXED = 0.6  # with the same first three letters: India/Inde 0.67, Poland/Pologne 0.62

_TOKEN = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_ORDINAL = re.compile(r"^\d+(?:e|er|ère|ème|eme|th|st|nd|rd)$", re.I)
_DEMONYM = re.compile(r"(?:ian|ean|ese|ish)$")
# capitalised words that are not names, besides the grammar and question words of
# :func:`retrieval.text.is_function_word`: titles, months and days, in both languages
_NOT_NAMES = frozenset(
    fold_accents(w).lower()
    for w in (  # noqa: SIM905 (a word list reads better as text)
        "president président prime minister ministre premier chancellor chancelier king queen roi reine "
        "mr mrs ms m mme dr general général secretary secrétaire chief chef state états etat état "
        "january february march april may june july august september october november december "
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre "
        "monday tuesday wednesday thursday friday saturday sunday "
        "lundi mardi mercredi jeudi vendredi samedi dimanche"
    ).split()
)


def is_ordinal(word: str) -> bool:
    """« 20e », "19th": spelt the same in both languages, so its absence is decisive."""
    return bool(_ORDINAL.match(word))


def fold(word: str) -> str:
    return fold_accents(word).lower().replace("’", "'")


def names(question: str) -> list[str]:
    """The names the question is about: capitalised words past the first (not titles, months,
    demonyms or abbreviations) and ordinals (« 20e », "19th"), in question order, once each."""
    out: list[str] = []
    for i, match in enumerate(_TOKEN.finditer(question)):
        for part in re.split(r"['’]", match.group()):
            word = part.removesuffix("s") if part.endswith(("'s", "’s")) else part
            if not word:
                continue
            if _ORDINAL.match(word) or is_name(word, first=i == 0):
                out.append(word)
    return list(dict.fromkeys(out))


def is_name(word: str, *, first: bool = False) -> bool:
    """A capitalised word (or one capitalised inside: "iPhone", "eBay") that is not the question's
    first, a title, a month, a demonym or an abbreviation."""
    folded = fold(word)
    capitalised = word[0].isupper() or any(ch.isupper() for ch in word[1:])
    return not (
        first or len(word) < 3 or not capitalised or folded in _NOT_NAMES or is_function_word(word)
        or word.isupper() or bool(_DEMONYM.search(folded)) or any(ch.isdigit() for ch in word)
    )


def words_of(texts: Iterable[str]) -> set[str]:
    return {fold(w) for text in texts for token in _TOKEN.findall(text) for w in re.split(r"['’-]", token) + [token]}


def mentioned(name: str, words: set[str]) -> bool:
    """Whether ``name`` is among ``words`` (folded), exactly or as a close spelling; a hyphenated
    name ("Russia-Ukraine", « Haut-Karabakh ») when each of its parts is."""
    target = fold(name)
    if target in words or target.rstrip("s") in words:
        return True
    parts = [part for part in target.split("-") if part]
    if len(parts) > 1:
        return all(mentioned(part, words) for part in parts)
    if _ORDINAL.match(name):  # « 20e » and "20th" are the same ordinal
        number = name.rstrip("erèmthsnd")
        return any(re.fullmatch(rf"{number}(?:e|er|ère|ème|eme|th|st|nd|rd)", w) for w in words)
    if len(target) < 4:  # "Leo" is not "le": short names match exactly
        return False
    return any(_close(target, w) for w in words)


def _close(target: str, word: str) -> bool:
    """Two spellings of one name: the same initial and a similarity ratio of :data:`SIMILAR`
    (Kyiv/Kiev), the same first three letters and :data:`SIMILAR_PREFIXED` (India/Inde,
    Poland/Pologne, Brussels/Bruxelles), or one inside the other but for two letters
    (Chernobyl/Tchernobyl)."""
    if len(word) < 4 or abs(len(word) - len(target)) > 3:
        return False
    shorter, longer = sorted((target, word), key=len)
    if len(shorter) >= 5 and len(longer) - len(shorter) <= 2 and shorter in longer:
        return True
    if word[:1] != target[:1]:
        return False
    ratio = SequenceMatcher(None, target, word).ratio()
    return ratio >= SIMILAR or (word[:3] == target[:3] and ratio >= SIMILAR_PREFIXED)


def absent_names(question: str, texts: Sequence[str]) -> list[str]:
    """The question's names that none of ``texts`` mentions."""
    wanted = names(question)
    if not wanted:
        return []
    words = words_of(texts)
    return [n for n in wanted if not mentioned(n, words)]


def naming(wanted: Sequence[str], candidates: Sequence[str]) -> int | None:
    """The index of the first of ``candidates`` that mentions one of the ``wanted`` names (those
    of a question its chosen passages lack: :func:`absent_names`), or None."""
    for i, text in enumerate(candidates if wanted else ()):
        words = words_of([text])
        if any(mentioned(name, words) for name in wanted):
            return i
    return None


__all__ = ["SIMILAR", "absent_names", "is_ordinal", "mentioned", "names", "naming"]

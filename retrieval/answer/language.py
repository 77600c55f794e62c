"""The fixed user-facing texts of answers, in the question's language (:func:`retrieval.text.language_of`),
and the small talk that gets a help line instead of news."""

from __future__ import annotations

import functools
import re

from retrieval.text import load_package_yaml

LANGUAGE_NAMES = {
    "fr": {"fr": "français", "en": "anglais"},
    "en": {"fr": "French", "en": "English"},
}


@functools.lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = load_package_yaml("retrieval.answer.prompts", "messages.yaml")
    return data


def message(key: str, lang: str, **values: str) -> str:
    """The fixed text ``key`` in ``language`` (French when unknown), with ``values`` filled in."""
    table = messages()
    text = table.get(lang, table["fr"])[key]
    return text.format(**values) if values else text


_CHIT_CHAT = re.compile(
    r"^\s*(?:(?:hello|hi|hey|hiya|yo|good (?:morning|afternoon|evening|night)|bonjour|bonsoir|salut|"
    r"coucou|re|merci(?: beaucoup| bien)?|thanks?(?: you)?(?: very much| a lot)?|thx|cool|super|"
    r"parfait|génial|ok(?:ay)?|d'accord|bravo|au revoir|bye|goodbye|à plus|a\+|"
    r"(?:comment )?(?:ça|ca) va|how are you(?: doing)?|what's up|qui es[- ]tu|who are you|"
    r"what can you do|que sais[- ]tu faire|help|aide)"
    r"(?:[\s,!.?]+(?:newsbot|bot|à toi|a toi|toi|you|everyone|tout le monde))?[\s,!.?:)(]*)+$",
    re.IGNORECASE,
)
_CHIT_CHAT_EN = re.compile(
    r"\b(hello|hi|hey|good|thanks?|thx|bye|goodbye|how are you|what's up|who are you|what can you do|help)\b",
    re.IGNORECASE,
)


def chit_chat(text: str) -> str | None:
    """The language of a greeting, thanks or small talk ("hello", « bonjour », "merci"), else None."""
    if not _CHIT_CHAT.match(text):
        return None
    return "en" if _CHIT_CHAT_EN.search(text) else "fr"

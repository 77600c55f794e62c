"""Small text helpers shared across the engine: accent folding, the language of a text (French
or English), packaged YAML/text data.

Written once here so that the slug of a fetched article, the lexical analyzer and the
evaluation's answer normalisation fold accents the same way.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any


def fold_accents(text: str, form: str = "NFKD") -> str:
    """``text`` without combining marks: ``"Grève"`` → ``"Greve"``. ``form`` is the Unicode
    decomposition used first (``NFKD`` also folds compatibility characters such as ``ﬁ``;
    ``NFD`` keeps them)."""
    return "".join(c for c in unicodedata.normalize(form, text) if not unicodedata.combining(c))  # type: ignore[arg-type]


_EN_WORDS = {
    "the", "what", "who", "when", "where", "why", "how", "which", "is", "are", "was", "were",
    "does", "did", "do", "of", "and", "about", "with", "will", "would", "has", "have", "there",
    "to", "in", "on", "an", "that", "it", "for", "by", "from", "his", "her", "their",
}
_FR_WORDS = {
    "le", "la", "les", "de", "des", "du", "que", "qui", "quel", "quelle", "quels", "quelles",
    "est", "sont", "et", "pour", "dans", "une", "un", "comment", "pourquoi", "quand", "où",
    "combien", "qu", "au", "aux", "ce", "cette", "l", "d", "à", "en", "sur", "par", "il", "elle",
}
_WORD = re.compile(r"[a-zàâçéèêëîïôûùüÿœ']+")
# further words that frame a question rather than name what it asks about
_FRAME_WORDS = {
    "been", "being", "had", "this", "these", "those", "can", "could", "should", "may", "might", "any",
    "some", "many", "much", "most", "more", "number", "whom", "whose", "then", "than", "into", "over",
    "depuis", "quoi", "lequel", "laquelle", "lesquels", "lesquelles", "ils", "elles", "leur", "leurs",
    "ces", "ses", "son", "sa", "avec", "selon", "ont", "été", "fait", "avait", "avaient", "était",
    "or", "a", "according", "as", "at", "i", "ou", "will", "would", "shall", "must",
    # the auxiliaries and light verbs a question is built with (« Quel temps fera-t-il ? »)
    "être", "sera", "seront", "serait", "seraient", "avoir", "aura", "auront", "aurait", "auraient",
    "faire", "fera", "feront", "ferait", "font", "va", "vont", "peut", "peuvent", "pourrait", "doit",
    "doivent", "be", "get", "gets", "got", "going",
    # what a question asking what happened is built with (« que s'est-il passé … ? »)
    "passé", "passe", "arrivé", "happened", "happening", "happen",
}


def is_function_word(word: str) -> bool:
    """A word of either language's grammar or of a question's frame (« depuis », "number"): not
    something the coverage can be said to mention or lack."""
    folded = word.lower().replace("’", "'")
    return folded in _EN_WORDS or folded in _FR_WORDS or folded in _FRAME_WORDS


def language_of(text: str) -> str:
    """``"en"`` or ``"fr"`` (the default when nothing tells them apart). Two languages only, told
    apart by their commonest function words: enough for questions and news passages, without a
    language-identification model."""
    words = _WORD.findall(text.lower().replace("’", "'"))
    en = sum(w in _EN_WORDS for w in words)
    fr = sum(w.split("'")[0] in _FR_WORDS for w in words)
    return "en" if en > fr else "fr"


def read_package_text(package: str, name: str) -> str:
    """The UTF-8 text of the data file ``name`` of ``package`` (prompts, messages)."""
    from importlib import resources

    return resources.files(package).joinpath(name).read_text("utf-8")


def load_package_yaml(package: str, name: str) -> Any:
    """The parsed YAML data file ``name`` of ``package``."""
    import yaml

    return yaml.safe_load(read_package_text(package, name))


__all__ = ["fold_accents", "is_function_word", "language_of", "load_package_yaml", "read_package_text"]

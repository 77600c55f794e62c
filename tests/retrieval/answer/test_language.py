from __future__ import annotations

import pytest

from retrieval.answer.language import chit_chat, message
from retrieval.text import language_of


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hello", "en"), ("Hi newsbot!", "en"), ("thanks", "en"), ("How are you?", "en"),
        ("bonjour", "fr"), ("Bonjour !", "fr"), ("merci", "fr"), ("merci beaucoup", "fr"), ("salut ça va ?", "fr"),
    ],
)
def test_greetings_and_thanks_are_small_talk(text: str, language: str) -> None:
    assert chit_chat(text) == language


@pytest.mark.parametrize(
    "text",
    ["Bonjour, où s'est tenu le sommet ?", "Hello, who won the election?", "Merci de me dire qui a gagné", "Quelle heure"],
)
def test_questions_are_not_small_talk(text: str) -> None:
    assert chit_chat(text) is None


def test_language_of_questions() -> None:
    assert language_of("How many people live in Minneapolis?") == "en"
    assert language_of("Combien d'habitants compte Minneapolis ?") == "fr"
    assert language_of("Il a dit que la ville était calme.") == "fr"


def test_messages_exist_in_both_languages_and_keep_the_refusal_opening() -> None:
    for lang in ("fr", "en"):
        for key in ("refused", "refused_mentions", "refused_nearest", "chit_chat", "quoted_language"):
            assert message(key, lang)
    assert message("refused_mentions", "fr", found="« a »", missing="« b »").startswith(
        "La couverture indexée ne répond pas"
    )
    assert message("refused_nearest", "en", nearest='"x"').startswith("The indexed coverage does not answer")

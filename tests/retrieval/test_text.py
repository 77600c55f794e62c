"""The shared text helpers."""

from __future__ import annotations

import pytest

from retrieval.text import fold_accents, is_function_word, language_of


def test_accents_are_folded() -> None:
    assert fold_accents("Grève à Zaporijjia") == "Greve a Zaporijjia"


@pytest.mark.parametrize(
    ("text", "language"),
    [("Où s'est tenu le sommet ?", "fr"), ("Where was the summit held?", "en"), ("Anchorage", "fr")],
)
def test_the_language_of_a_text(text: str, language: str) -> None:
    assert language_of(text) == language


def test_words_of_a_question_frame_are_told_from_what_it_asks_about() -> None:
    assert all(is_function_word(w) for w in ("Depuis", "has", "number", "quand", "Where", "elles", "fera", "Sera", "passé", "happened"))
    assert not any(is_function_word(w) for w in ("sommet", "Anchorage", "prisoners", "blacklisted"))

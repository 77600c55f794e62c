"""Follow-ups resolved against the conversation (tests/data/conversations.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from retrieval.answer.followups import condense, rewrite
from retrieval.search.lexical import LexicalIndex
from retrieval.types import Turn

CONVERSATIONS = json.loads((Path(__file__).resolve().parents[2] / "data" / "conversations.json").read_text("utf-8"))
LEXICAL = LexicalIndex(["un texte quelconque"])


@pytest.mark.parametrize("case", CONVERSATIONS, ids=lambda c: c["question"])
def test_follow_up_words_replace_what_they_stand_for(case: dict[str, Any]) -> None:
    history = [Turn(q) for q in case["history"]]
    standalone = condense(case["question"], history, LEXICAL, max_turns=6)
    if case.get("standalone"):
        assert standalone == case["question"]
    for word in case["expect"]:
        assert word.lower() in standalone.lower(), standalone
    for word in case["absent"]:
        assert word.lower() not in f" {standalone.lower()} ", standalone


def test_retrieval_is_led_by_the_new_words() -> None:
    standalone = rewrite("And when does that cap take effect?", "What price cap on Russian crude does the EU set?")
    assert standalone.startswith("when does that cap take effect")


def test_no_history_or_no_turns_leaves_the_question() -> None:
    assert condense("Et Zelensky ?", [], LEXICAL, 6) == "Et Zelensky ?"
    assert condense("Et Zelensky ?", [Turn("Que demande Poutine ?")], LEXICAL, 0) == "Et Zelensky ?"


def test_a_follow_up_whose_subject_was_appended_is_scored_on_its_own_words() -> None:
    from retrieval.answer.followups import own_words, rewrite

    previous = "Quel est le montant du prêt accordé par l'UE à l'Ukraine pour 2026-2027 ?"
    question = "Et quels pays ne participent pas à cet emprunt ?"
    standalone = rewrite(question, previous)
    assert standalone.startswith("quels pays ne participent pas à cet emprunt ?") and "prêt" in standalone
    assert own_words(question, standalone) == "quels pays ne participent pas à cet emprunt ?"
    # a follow-up rewritten into a whole question (a name swapped) is scored as rewritten
    swapped = rewrite("Et Zelensky ?", "Qu'a dit Poutine après le sommet ?")
    assert own_words("Et Zelensky ?", swapped) == swapped == "Qu'a dit Zelensky après le sommet ?"
    assert own_words("Où ?", "Où ?") == "Où ?"

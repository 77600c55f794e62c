"""The LLM prompt carries today's date and each passage's date and outlet."""

from __future__ import annotations

import datetime as dt

from retrieval.answer.llm import LLMGenerator, answer_messages
from retrieval.types import Answer, Passage

PASSAGES = [
    Passage(chunk_id="a:0", article_id="a", title="Kremlin estimate", text="The summit would last six to seven hours.",
            score=1.0, date="2025-08-14", source="Exemple Info", url="https://www.exemple-info.fr/a"),
    Passage(chunk_id="b:0", article_id="b", title="Outcome", text="The summit lasted three hours.", score=0.9,
            date=None, source=None, url="https://www.dailycourier.example.com/b"),
]


def test_the_prompt_dates_and_names_every_passage() -> None:
    system, user = answer_messages("How long did the summit last?", PASSAGES, "2025-08-17")
    assert "Today is 2025-08-17" in system[1] and "newest" in system[1]
    assert "Today: 2025-08-17" in user[1]
    assert 'date="2025-08-14" source="Exemple Info"' in user[1]
    assert 'date="unknown" source="dailycourier.example.com"' in user[1]  # no source: the URL's host


class Recorder:
    """A chat model that records the messages it is sent and answers with a citation."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def invoke(self, messages: list[tuple[str, str]]) -> object:
        self.messages = messages

        class Reply:
            content = "About three hours, reported on 16 August 2025 [2]."

        return Reply()


def test_the_generator_uses_the_reference_date() -> None:
    model = Recorder()
    generator = LLMGenerator(model, timeout=5, max_question_chars=500, history_turns=3,
                             reference_date=dt.date(2025, 8, 17))
    extractive = Answer(question="How long did the summit last?", answer="x [1]", refused=False)
    answer = generator.improve(extractive, PASSAGES, extractive=extractive)
    assert "[2]" in answer.answer
    assert "Today: 2025-08-17" in model.messages[1][1]

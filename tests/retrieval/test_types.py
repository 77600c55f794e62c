"""The plain data types' own behaviour."""

from __future__ import annotations

from retrieval.types import Passage


def test_a_passage_is_in_the_language_recorded_with_its_chunk_else_the_one_its_text_tells() -> None:
    text = "Les dirigeants de l'UE se sont réunis à Bruxelles pour décider du prêt à l'Ukraine."
    assert Passage("c", "a", "t", text, 1.0).written_in() == "fr"
    assert Passage("c", "a", "t", text, 1.0, language="en").written_in() == "en"
    assert Passage("c", "a", "t", "The leaders met in Brussels to decide on the loan.", 1.0).written_in() == "en"

"""The hybrid retriever's helpers."""

from __future__ import annotations


def test_the_last_place_goes_to_a_close_passage_in_the_other_language_when_none_is_there() -> None:
    from retrieval.search.hybrid import other_language_slot

    fr = "Le plan de paix américain compte désormais dix-neuf points après les discussions de Genève."
    en = "The US peace plan has been slimmed down to 19 points after the talks in Geneva, officials said."
    stored = {f"fr{i}": (fr, {}) for i in range(3)} | {"en1": (en, {}), "fr9": (fr, {})}
    best = [("fr0", 0.9), ("fr1", 0.8), ("fr2", 0.7)]
    fused = {"fr0": 0.9, "fr1": 0.8, "fr2": 0.7, "fr9": 0.6, "en1": 0.5}
    swapped = other_language_slot("fr", best, [("fr9", 0.88), ("en1", 0.86)], fused, stored)
    assert swapped == [("fr0", 0.9), ("fr1", 0.8), ("en1", 0.5)]
    # one passage in the other language already there, or none close enough: unchanged
    assert other_language_slot("fr", [*best[:2], ("en1", 0.5)], [("fr9", 0.88)], fused, stored) == [
        *best[:2], ("en1", 0.5)]
    assert other_language_slot("fr", best, [("fr9", 0.88)], fused, stored) == best
    # the language recorded with the chunk is the one used (its text alone would not tell)
    stored["en2"] = ("Zelensky, Witkoff, Kushner : 19 points.", {"language": "en"})
    assert other_language_slot("fr", best, [("en2", 0.87)], fused, stored)[-1] == ("en2", 0.0)

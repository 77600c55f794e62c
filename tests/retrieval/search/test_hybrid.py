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


def test_the_last_place_goes_to_a_passage_naming_what_the_question_names_and_the_others_do_not() -> None:
    from retrieval.search.hybrid import named_slot

    eighteenth = "EU adopts 18th sanctions package: 105 more shadow-fleet tankers blacklisted."
    stored = {f"a{i}": (eighteenth, {"title": "18th package"}) for i in range(3)}
    later = {
        "b1": ("Le Kremlin réagit aux sanctions.", {"title": "Réaction"}),
        "b2": ("117 navires de la flotte fantôme ajoutés.", {"title": "L'UE adopte un 19e paquet de sanctions"}),
    }
    fetched: list[list[str]] = []

    def fetch(ids: list[str]) -> dict[str, tuple[str, dict[str, object]]]:
        fetched.append(ids)
        return {cid: later[cid] for cid in ids if cid in later}

    best = [("a0", 0.9), ("a1", 0.8), ("a2", 0.7)]
    question = "How did the number of tankers change between the 18th and 19th packages?"
    swapped = named_slot(question, best, [("b1", 0.6), ("b2", 0.5)], dict(stored), fetch, set())
    assert swapped == [("a0", 0.9), ("a1", 0.8), ("b2", 0.5)]  # the title names the 19th
    # a slot given to the other language is kept: the one before it is used
    assert named_slot(question, best, [("b2", 0.5)], dict(stored), fetch, {"a2"}) == [
        ("a0", 0.9), ("b2", 0.5), ("a2", 0.7)]
    # nothing beyond the k names it: unchanged
    assert named_slot(question, best, [("b1", 0.6)], dict(stored), fetch, set()) == best
    # every name is covered: the candidates are not even read
    fetched.clear()
    assert named_slot("How many tankers does the 18th package blacklist?", best, [("b2", 0.5)], dict(stored),
                      fetch, set()) == best
    assert fetched == []

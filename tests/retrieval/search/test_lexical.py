"""The lexical view: which of a question's tokens are worth matching in the full-text index."""

from __future__ import annotations

from retrieval.search.lexical import LexicalView


def view(size: int, df: dict[str, int]) -> LexicalView:
    return LexicalView(size, 100.0, lambda tokens: {t: df.get(t, 0) for t in tokens})


def test_common_tokens_are_left_to_scoring() -> None:
    big = view(1_000_000, {"russ": 160_000, "petrol": 9_000, "plafond": 200, "prix": 65_000})
    # in more than 5% of a million chunks: "russ" and "prix" only score what the others find
    assert big.selective(["russ", "petrol", "plafond", "petrol", "prix"]) == ["petrol", "plafond"]
    assert big.selective(["russ", "prix"]) == ["prix", "russ"]  # nothing but common ones: the rarest kept


def test_a_small_index_matches_every_token() -> None:
    small = view(400, {"russ": 300, "petrol": 40})  # 75% of the chunks, but fewer than COMMON_MIN
    assert small.selective(["russ", "petrol"]) == ["russ", "petrol"]


def test_the_postings_read_are_bounded() -> None:
    big = view(1_000_000, {"a": 40_000, "b": 30_000, "c": 45_000, "d": 900, "e": 20})
    # rarest first within 100,000 postings: e, d, b (30,920), a (70,920); c would pass the budget
    assert big.selective(["a", "b", "c", "d", "e"]) == ["a", "b", "d", "e"]
    huge = view(10_000_000, {"a": 450_000, "b": 300_000, "c": 200_000})
    assert huge.selective(["a", "b", "c"]) == ["b", "c"]  # over the budget already: the rarest two

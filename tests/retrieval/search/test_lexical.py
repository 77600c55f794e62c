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

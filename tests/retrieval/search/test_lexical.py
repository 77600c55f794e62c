"""The lexical view: statistics read once per question, document frequencies asked for on demand."""

from __future__ import annotations

import math

from retrieval.search.lexical import LexicalView


def test_frequencies_are_asked_once_and_unknown_tokens_dropped() -> None:
    asked: list[list[str]] = []
    df = {"russ": 300, "petrol": 40}
    view = LexicalView(1_000, 100.0, lambda tokens: asked.append(list(tokens)) or {t: df.get(t, 0) for t in tokens})
    assert view.query_tokens("pétrole russe, pétrole zorglub") == ["petrol", "russ", "petrol"]
    assert view.bm25_idf(["russ", "petrol"]) == {
        "russ": math.log(1 + (1_000 - 300 + 0.5) / 300.5), "petrol": math.log(1 + (1_000 - 40 + 0.5) / 40.5),
    }
    assert view.idf("zorglub") > view.idf("petrol") > view.idf("russ")  # unseen weighs most
    assert asked == [["petrol", "russ", "petrol", "zorglub"]]  # then from the view's memory

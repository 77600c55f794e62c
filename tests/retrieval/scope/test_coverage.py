"""The coverage's title index: built once, even when a question asks for it while a warm-up builds it."""

from __future__ import annotations

import datetime as dt
import threading
import time

from retrieval.scope import coverage as coverage_module
from retrieval.scope.coverage import ArticleRef, Coverage


def test_the_title_index_is_built_once_and_a_second_caller_waits(monkeypatch) -> None:
    articles = [ArticleRef(f"a{i}", "Le sommet d'Alaska s'achève sans accord", dt.date(2025, 8, 15 + i % 2))
                for i in range(6)]
    built: list[int] = []
    index_title = coverage_module._index_title

    def slow(index, i, article, copied=None):  # a build long enough for the question to come during it
        built.append(i)
        time.sleep(0.02)
        index_title(index, i, article, copied)

    monkeypatch.setattr(coverage_module, "_index_title", slow)
    coverage = Coverage(articles=articles)
    warm = threading.Thread(target=coverage.title_index)
    warm.start()
    time.sleep(0.03)  # the warm-up is building it
    event = coverage.date_event("le sommet d'Alaska")  # a question naming the event
    warm.join()
    assert built == list(range(6))  # one build
    assert event is not None and event.day == dt.date(2025, 8, 15) and event.articles == 3

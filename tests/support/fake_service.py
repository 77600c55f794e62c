"""A stand-in answering service with the real one's interface (ask, reindex, latest)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from retrieval.errors import InvalidQuestion
from retrieval.types import Answer, ArticleInfo, QueryScope, ReindexReport, Source, Turn


def source(n: int, *, title: str = "Sommet en Alaska", url: str | None = "https://example.org/alaska",
           text: str = "Poutine rencontre Trump.") -> Source:
    return Source(n=n, article_id=f"article-{n}", chunk_id=f"article-{n}#0", title=title, date="2025-08-14",
                  url=url, text=text, score=0.9, cited=True)


@dataclass
class Call:
    question: str
    history: list[Turn]
    thread: str
    scope: QueryScope | None = None


@dataclass
class FakeService:
    text: str = "Poutine cherche à éviter de nouvelles sanctions [1]."
    sources: list[Source] = field(default_factory=lambda: [source(1)])
    delay: float = 0.0
    tokens: list[str] = field(default_factory=list)
    token_delay: float = 0.0
    error: BaseException | None = None
    calls: list[Call] = field(default_factory=list)
    reindexed: int = 0
    reindexed_paths: Any = None  # the files the last reindex was given (None: the whole corpus)
    articles: list[ArticleInfo] | None = None  # what latest() lists (default: made-up articles)

    def ask(self, question: str, history: Any = (), *, on_token: Any = None, scope: QueryScope | None = None) -> Answer:
        if not question.strip():
            raise InvalidQuestion("the question is empty")
        self.calls.append(Call(question, list(history), threading.current_thread().name, scope))
        if self.delay:
            time.sleep(self.delay)  # blocks the worker thread, like a model would
        if self.error is not None:
            raise self.error
        if on_token is not None:
            for token in self.tokens:
                on_token(token)
                time.sleep(self.token_delay)
        return Answer(question=question, answer=self.text, refused=False, sources=list(self.sources))

    def reindex(
        self, *, full_check: bool = False, progress: Any = None, answering: bool = True, paths: Any = None
    ) -> ReindexReport:
        self.reindexed += 1
        self.reindexed_paths = paths
        return ReindexReport(added=["a", "b"], unchanged=["c"], chunks=12, seconds=0.5)

    def latest(self, n: int = 5) -> list[ArticleInfo]:
        if self.articles is not None:
            return self.articles[:n]
        return [ArticleInfo(article_id=f"a{i}", title=f"Article {i}", date="2025-08-1{i}",
                            url=f"https://example.org/{i}" if i % 2 else None, indexed_at="now", chunks=2)
                for i in range(n)]

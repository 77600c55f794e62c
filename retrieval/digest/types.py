"""The digest's plain data: stories with cited lead sentences, their sources, the digest itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class StorySource:
    """One article of a story; ``n`` is the number its sentences are cited with (``[n]``)."""

    n: int
    article_id: str
    title: str
    outlet: str
    date: str | None
    url: str | None
    arrived: str


@dataclass(frozen=True)
class LeadSentence:
    text: str
    n: int  # the source it was taken from
    chunk_id: str


@dataclass
class Story:
    headline: str
    article_id: str  # the most central article, whose title is the headline
    lead: list[LeadSentence]
    sources: list[StorySource]
    latest: str | None  # the newest date (published, else arrival) of the story's articles
    summary: str | None = None  # written by the LLM when one is configured (citations checked)
    dated: bool = True  # False: no article of the story has a published date; ``latest`` is when it was seen

    @property
    def size(self) -> int:
        return len(self.sources)

    @property
    def outlets(self) -> list[str]:
        seen: list[str] = []
        for source in self.sources:
            if source.outlet not in seen:
                seen.append(source.outlet)
        return seen

    def lead_text(self) -> str:
        return " ".join(f"{s.text} [{s.n}]" for s in self.lead)

    def to_dict(self) -> dict[str, Any]:
        return {
            "headline": self.headline,
            "article_id": self.article_id,
            "size": self.size,
            "outlets": self.outlets,
            "latest": self.latest,
            "latest_is_published": self.dated,
            "lead": self.lead_text(),
            "summary": self.summary,
            "sentences": [asdict(s) for s in self.lead],
            "sources": [asdict(s) for s in self.sources],
        }


@dataclass
class Digest:
    since: str | None
    until: str | None
    articles: int
    stories: list[Story] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def multi(self) -> list[Story]:
        return [s for s in self.stories if s.size > 1]

    @property
    def singles(self) -> list[Story]:
        return [s for s in self.stories if s.size == 1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "articles": self.articles,
            "stories": [s.to_dict() for s in self.stories],
            "seconds": round(self.seconds, 3),
        }

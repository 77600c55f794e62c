"""Plain data passed between the engine's parts and its front ends."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One article of the corpus. ``id`` is its path in the corpus, without extension."""

    id: str
    title: str
    text: str
    content_hash: str
    date: str | None = None
    source: str | None = None
    url: str | None = None
    language: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A passage of an article, as stored in the index."""

    id: str
    article_id: str
    article_hash: str
    title: str
    text: str
    position: int
    start: int
    end: int
    content_hash: str
    date: str | None = None  # the article's date, or the day newsbot first saw it (see date_kind)
    url: str | None = None
    source: str | None = None
    date_kind: str | None = None  # "published" (the article's own date) or "seen"
    seen: str | None = None  # the day newsbot first indexed the article
    day: int | None = None  # ``date`` as YYYYMMDD, for date filters
    outlet: str | None = None  # ``source`` folded, for outlet filters
    host: str | None = None  # the URL's host folded, for outlet filters
    language: str | None = None  # "fr" or "en", told from the chunk's text (retrieval weighs languages apart)

    def metadata(self) -> dict[str, Any]:
        """Chroma metadata (no None values: Chroma refuses them)."""
        meta = asdict(self)
        meta.pop("text")
        meta["chunk_id"] = meta.pop("id")
        return {key: value for key, value in meta.items() if value is not None}


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its relevance figures."""

    chunk_id: str
    article_id: str
    title: str
    text: str
    score: float
    date: str | None = None
    url: str | None = None
    position: int = 0
    dense_score: float | None = None
    lexical_rank: int | None = None
    source: str | None = None
    date_kind: str | None = None  # "published" or "seen" (no date of its own: when newsbot first saw it)
    language: str | None = None  # "fr" or "en", recorded with the chunk at index time (None: not recorded)

    def written_in(self) -> str:
        """The passage's language: the one recorded with its chunk, else told from its text (an
        index written before chunks recorded theirs, or a passage built without it)."""
        from retrieval.text import language_of

        return self.language or language_of(self.text[:600])


@dataclass(frozen=True)
class Source:
    """A numbered source of an answer; ``n`` is the number cited as ``[n]``."""

    n: int
    article_id: str
    chunk_id: str
    title: str
    date: str | None
    url: str | None
    text: str
    score: float
    cited: bool
    date_kind: str | None = None  # "published" or "seen"
    also_reported_by: tuple[str, ...] = ()  # outlets of near-identical copies folded into this passage
    probability: float | None = None  # for a cited passage: its best sentence's probability of answering

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QueryScope:
    """What a question is restricted to: a date range (inclusive, ISO ``YYYY-MM-DD``), outlets, and
    whether it asks about the present (then newer articles are preferred). Built from explicit
    options (``ask --since``, ``/ask source:``) and from the question's own words."""

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()
    prefer_recent: bool = False

    @property
    def empty(self) -> bool:
        return not (self.since or self.until or self.sources or self.prefer_recent)


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation."""

    question: str
    answer: str = ""


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    sources: list[Source] = field(default_factory=list)
    standalone_question: str | None = None
    notice: str | None = None

    @property
    def cited_sources(self) -> list[Source]:
        return [source for source in self.sources if source.cited]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "sources": [source.to_dict() for source in self.sources],
        }
        if self.notice:
            data["notice"] = self.notice
        return data


@dataclass(frozen=True)
class ArticleInfo:
    """What the index knows of an indexed article (for ``/latest``)."""

    article_id: str
    title: str
    date: str | None
    url: str | None
    indexed_at: str
    chunks: int


@dataclass
class ReindexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "removed": len(self.removed),
            "unchanged": len(self.unchanged),
            "skipped": len(self.skipped),
            "chunks": self.chunks,
        }

    def summary(self) -> str:
        d = self.to_dict()
        return (
            f"{d['added']} added, {d['updated']} updated, {d['removed']} removed, "
            f"{d['unchanged']} unchanged, {d['skipped']} skipped; {d['chunks']} chunks in the index"
        )

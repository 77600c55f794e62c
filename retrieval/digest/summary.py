"""Summaries on request: « Résume l'article sur … », « résumé de la couverture sur … », "what's new on …",
« Résume les articles publiés aujourd'hui ».

:func:`summary_request` recognises such a question (and its topic and time window);
:func:`summary_answer` answers it as a small digest of the matching articles: one line per story
(headline, outlets) with its cited lead sentences, the sources numbered across the answer. The
matching articles are those retrieval finds for the topic — unless the answerer would refuse the
topic as not covered — or, without a topic, those of the window. With an LLM configured, it writes
the summary from the same passages and its citations are checked as an answer's are.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from retrieval.digest.articles import DigestArticle, load_articles
from retrieval.digest.build import now_utc, stories_of, texts
from retrieval.digest.window import parse_stamp
from retrieval.text import fold_accents
from retrieval.types import Answer, Passage, Source

if TYPE_CHECKING:
    from retrieval.index.store import IndexStore
    from retrieval.settings import Settings

_ARTICLES_PER_SUMMARY = 8
_STORIES_PER_SUMMARY = 5
RELATIVE_SCORE = 0.7  # a passage scoring below this share of the best one is about something else


class SummaryHost(Protocol):
    """What a summary needs of the answering service."""

    settings: Settings
    store: IndexStore
    answerer: Any
    generator: Any

    @property
    def retriever(self) -> Any: ...


@dataclass(frozen=True)
class SummaryRequest:
    kind: Literal["article", "coverage"]
    topic: str
    since: dt.datetime | None = None
    language: str = "fr"


def _plain(text: str) -> str:
    return fold_accents(text.lower().replace("’", "'"))


_FR = re.compile(
    r"^(?:(?:peux-tu|pouvez-vous|tu peux|vous pouvez)\s+(?:me\s+)?)?(?:fais(?:-moi)?\s+|faites(?:-moi)?\s+|donne(?:-moi)?\s+)?"
    r"(?:un\s+)?resum(?:e|es|ez|er)\b(?:-moi|\s+moi)?\s*(?P<rest>.*)$"
)
_EN = re.compile(
    r"^(?:(?:can|could) you\s+|please\s+)?(?:give me\s+)?(?:a\s+)?(?:summari[sz]e|summary of)\b\s*(?P<rest>.*)$"
)
_NEW = re.compile(r"^(?:what'?s|what is|what are the)\s+(?:new|latest|news)\b\s*(?P<rest>.*)$|^quoi de neuf\b\s*(?P<rest2>.*)$")
_ARTICLE = re.compile(r"^(?:de\s+|of\s+)?(?:l'|the\s+|cet\s+|this\s+)?article\b\s*(?:(?:sur|de|du|about|on)\b\s*)?")
_COVERAGE = re.compile(
    r"^(?:de\s+|of\s+)?(?:la\s+|the\s+)?(?:couverture|coverage|actualite|actualites|news|articles?|les articles|l'actualite)\b"
    r"\s*(?:(?:sur|de|du|des|about|on|of|concernant)\b\s*)?"
)
_LEAD = re.compile(r"^(?:(?:sur|de|du|des|about|on|with|in|concernant|a propos de|au sujet de|la|le|les|l')\s+)+")
_WINDOWS = [
    (re.compile(r"\b(?:publies?\s+|parus?\s+|d')?aujourd'hui\b|\btoday\b|\b(?:published\s+)?today\b"), "today"),
    (re.compile(r"\b(?:publies?\s+|parus?\s+|d')?hier\b|\byesterday\b"), "yesterday"),
    (re.compile(r"\bcette semaine\b|\bthis week\b|\bde la semaine\b"), "7d"),
    (re.compile(r"\bce mois-ci\b|\bthis month\b"), "30d"),
]
_FILLER = re.compile(r"\b(?:publies?|parus?|recents?|derniers?|dernieres?|recent|latest|articles?|published)\b")


def summary_request(question: str, now: dt.datetime | None = None) -> SummaryRequest | None:
    """The summary this question asks for, or None when it is an ordinary question."""
    now = now or now_utc()
    plain = _plain(question).strip().rstrip("?.! ").strip()
    rest: str | None = None
    language = "fr"
    kind: Literal["article", "coverage"] = "coverage"
    for pattern, lang in ((_FR, "fr"), (_EN, "en")):
        match = pattern.match(plain)
        if match:
            rest, language = match.group("rest"), lang
            break
    if rest is None:
        match = _NEW.match(plain)
        if not match:
            return None
        rest = match.group("rest") if match.group("rest") is not None else match.group("rest2") or ""
        language = "fr" if plain.startswith("quoi") else "en"
    if _ARTICLE.match(rest):
        kind = "article"
        rest = _ARTICLE.sub("", rest, count=1)
    else:
        rest = _COVERAGE.sub("", rest, count=1)
    since = None
    for pattern, window in _WINDOWS:
        if pattern.search(rest):
            rest = pattern.sub(" ", rest)
            if window == "today":
                since = now.replace(hour=0, minute=0, second=0, microsecond=0)
            elif window == "yesterday":
                since = now.replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
            else:
                since = now - dt.timedelta(days=int(window[:-1]))
    rest = _FILLER.sub(" ", rest)
    topic = _LEAD.sub("", " ".join(rest.split())).strip(" '\"«»“”:,")
    if not topic and since is None and kind == "coverage" and not _NEW.match(plain):
        return None  # « résume » alone: nothing to summarise
    return SummaryRequest(kind=kind, topic=original_words(question, topic), since=since, language=language)


def original_words(question: str, topic: str) -> str:
    """``topic`` (found in the folded question) as the question wrote it (accents, capitals)."""
    wanted = topic.split()
    if not wanted:
        return ""
    words = question.replace("’", "'").split()
    for start in range(len(words) - len(wanted), -1, -1):
        window = words[start:start + len(wanted)]
        if [_plain(w).strip(" '\"«»“”:,?!.") for w in window] == wanted:
            return " ".join(window).strip(" '\"«»“”:,?!.")
    return topic


def _since(store: Any, since: dt.datetime | None) -> dict[str, Any]:
    """The records :func:`_in_window` may admit: published since that day, or arrived since (an
    undated article), read by :meth:`IndexStore.window`; every record when there is no bound or the
    index's records have no arrival key yet."""
    if since is not None:
        published = store.window(since.replace(hour=0, minute=0, second=0, microsecond=0), None, published=True)
        arrived = store.window(since, None)
        if published is not None and arrived is not None:
            return {**published, **arrived}
    return dict(store.manifest())


def _in_window(article: DigestArticle, since: dt.datetime | None) -> bool:
    if since is None:
        return True
    published = article.published()
    if published is not None:
        return published >= since.replace(hour=0, minute=0, second=0, microsecond=0)
    arrived = parse_stamp(article.indexed_at)
    return arrived is not None and arrived >= since


def matching_articles(host: SummaryHost, request: SummaryRequest) -> list[DigestArticle]:
    """The articles the summary covers, the most relevant (or newest) first."""
    if request.topic:
        passages, view = host.retriever.passages(request.topic)
        if not passages:
            return []
        if host.answerer.answer(request.topic, request.topic, passages, view).refused:
            return []  # the coverage does not speak of this topic
        order = relevant_articles(passages)
        found = host.store.entries(order)  # the records of these articles alone
        entries = [found[a] for a in order if a in found]
    else:
        entries = list(_since(host.store, request.since).values())
    articles = {a.article_id: a for a in load_articles(host.store, entries)}
    ranked = [articles[e.article_id] for e in entries if e.article_id in articles]
    ranked = [a for a in ranked if _in_window(a, request.since)]
    if not request.topic:
        ranked.sort(key=lambda a: a.when(), reverse=True)
    if request.kind == "article":
        return ranked[:1]
    return ranked[:_ARTICLES_PER_SUMMARY]


def relevant_articles(passages: list[Passage]) -> list[str]:
    """The articles of the passages, best first, leaving out those whose best passage scores far below
    the best one (retrieval always returns K passages, some about something else)."""
    best = max((p.score for p in passages), default=0.0)
    order: list[str] = []
    for p in passages:
        if p.score >= RELATIVE_SCORE * best and p.article_id not in order:
            order.append(p.article_id)
    return order


def summary_answer(host: SummaryHost, question: str, now: dt.datetime | None = None) -> Answer | None:
    """The answer to a summary request, or None when ``question`` is not one."""
    request = summary_request(question, now)
    if request is None:
        return None
    t = texts()[request.language]
    articles = matching_articles(host, request)
    if not articles:
        return Answer(question=question, answer=t["summary_empty"], refused=True)
    settings = host.settings
    stories = stories_of(articles, settings)[:_STORIES_PER_SUMMARY]
    by_id = {a.article_id: a for a in articles}
    header = "summary_header_article" if len(articles) == 1 else "summary_header"
    lines = [t[header].format(articles=len(articles), stories=len(stories))]
    sources: list[Source] = []
    passages: list[Passage] = []
    for story in stories:
        numbers: dict[int, int] = {}
        for sentence in story.lead:
            if sentence.n not in numbers:
                src = story.sources[sentence.n - 1]
                article = by_id[src.article_id]
                chunk = next((c for c in article.chunks if c.chunk_id == sentence.chunk_id), article.chunks[0])
                passage = Passage(chunk_id=chunk.chunk_id, article_id=article.article_id, title=article.title,
                                  text=chunk.text, score=1.0, date=article.date, url=article.url,
                                  source=article.source, position=chunk.position)
                passages.append(passage)
                numbers[sentence.n] = len(passages)
                sources.append(Source(n=len(passages), article_id=article.article_id, chunk_id=chunk.chunk_id,
                                      title=article.title, date=article.date, url=article.url, text=chunk.text,
                                      score=1.0, cited=True))
        lead = " ".join(f"{s.text} [{numbers[s.n]}]" for s in story.lead)
        outlets = ", ".join(story.outlets[:4])
        head = story.headline if request.kind == "coverage" or len(stories) > 1 else ""
        line = f"• {head} ({outlets}) : {lead}" if head else lead
        lines.append(line)
    answer = Answer(question=question, answer="\n".join(lines), refused=False, sources=sources)
    if host.generator is not None:
        answer = host.generator.improve(answer, passages, extractive=answer)
    return answer

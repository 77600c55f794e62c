"""Building a digest: the window's articles → stories with a headline, cited leads, outlets, links.

A story's headline is the title of its most central article (the highest mean similarity to
the story's other articles). Its lead is one or two extractive sentences: the central article's
best opening sentence, then — when other outlets covered it — the best sentence of another
article that adds something (not a near-repeat), each cited ``[n]`` by its source's number.
A sentence scores by the story's shared names, figures and dates it carries and by how early it
comes (news puts the facts first). Stories with several articles come first (largest, then
newest), singletons last (newest first). With an LLM configured, each multi-article story also
gets a written summary whose citations are checked like an answer's.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import time
from collections import Counter
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from retrieval.digest.articles import DigestArticle, window_articles
from retrieval.digest.cluster import ClusterParams, Similarities, cluster, similarities
from retrieval.digest.names import fold
from retrieval.digest.types import Digest, LeadSentence, Story, StorySource
from retrieval.digest.window import Window
from retrieval.index.chunking import split_sentences
from retrieval.settings import PACKAGED_E5, PACKAGED_MINILM
from retrieval.types import Answer, Passage, Source

if TYPE_CHECKING:
    from retrieval.index.store import IndexStore
    from retrieval.settings import Settings

log = logging.getLogger(__name__)

# Story similarity (cosine + names) and near-duplicate cosine per packaged model: cosines of
# different models live on different scales (measured on a real news corpus; see docs/digest.md).
MODEL_DEFAULTS: dict[str, tuple[float, float]] = {PACKAGED_E5: (1.0, 0.985), PACKAGED_MINILM: (0.85, 0.97)}
FALLBACK_DEFAULTS = (0.8, 0.95)

_MIN_SENTENCE, _MAX_SENTENCE = 40, 400
_NOISE = re.compile(
    r"^(lire aussi|read more|à lire|voir aussi|see also|photo|crédit|credit|©|publié le|published|mis à jour|"
    r"updated|par |by |source ?:|abonnez|subscribe|cookies?)|https?://|@\w",
    re.I,
)
# a sentence opening on "this", "he"… leans on the one before it: a poor lead
_ANAPHORA = re.compile(
    r"^(ce|cet|cette|ces|il|elle|ils|elles|celui|celle|cela|ça|lui|this|that|these|those|he|she|it|they)\b", re.I
)
_WORD = re.compile(r"\w+", re.U)
_TOKEN = re.compile(r"[\w’'-]+|\d+(?:[.,]\d+)?")


@functools.lru_cache(maxsize=1)
def texts() -> dict[str, dict[str, str]]:
    import yaml

    raw = resources.files("retrieval.digest").joinpath("texts.yaml").read_text("utf-8")
    data: dict[str, dict[str, str]] = yaml.safe_load(raw)
    return data


def cluster_params(settings: Settings) -> ClusterParams:
    similarity, near = MODEL_DEFAULTS.get(settings.embedding.model, FALLBACK_DEFAULTS)
    cfg = settings.digest
    return ClusterParams(
        similarity=cfg.similarity if cfg.similarity is not None else similarity,
        names_weight=cfg.names_weight,
        near_duplicate=cfg.near_duplicate if cfg.near_duplicate is not None else near,
        max_days=cfg.max_days,
    )


# -- sentences ---------------------------------------------------------------------------------
_SENTENCES: dict[str, list[str]] = {}


def chunk_sentences(chunk_id: str, text: str) -> list[str]:
    """The sentences of a chunk (split once per process: chunk ids carry the article's hash)."""
    found = _SENTENCES.get(chunk_id)
    if found is None:
        if len(_SENTENCES) > 50_000:
            _SENTENCES.clear()
        found = _SENTENCES[chunk_id] = [" ".join(s.split()) for s in split_sentences(text)]
    return found


def candidate_sentences(article: DigestArticle, chunks: int = 2, enough: int = 4) -> list[tuple[int, str, str]]:
    """(rank, sentence, chunk id) of the article's opening chunks, noise and fragments left out."""
    found: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    title = " ".join(article.title.split()).lower()
    for chunk in article.chunks[:chunks]:
        if len(found) >= enough:
            break  # the opening chunk had enough: news puts the facts first
        for text in chunk_sentences(chunk.chunk_id, chunk.text):
            key = text.lower()
            if key in seen or key == title or not (_MIN_SENTENCE <= len(text) <= _MAX_SENTENCE):
                continue
            seen.add(key)
            if _NOISE.search(text) or text[-1] not in ".!?»\"”…)" or text.count("|") > 1:
                continue
            found.append((len(found), text, chunk.chunk_id))
    return found


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 3}


def _too_close(a: str, b: str) -> bool:
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= 0.5


def best_sentence(
    article: DigestArticle, shared: set[str], avoid: Sequence[str] = ()
) -> tuple[str, str] | None:
    """The article's sentence carrying most of the story's shared mentions, early ones preferred."""
    best: tuple[float, str, str] | None = None
    keys = {term.split(":", 1)[1] for term in shared}
    for rank, text, chunk_id in candidate_sentences(article):
        if any(_too_close(text, other) for other in avoid):
            continue
        carried = len(keys & {fold(token) for token in _TOKEN.findall(text.lower())})
        score = carried + 1.5 / (1 + rank) - (3.0 if _ANAPHORA.match(text) else 0.0)
        if best is None or score > best[0]:
            best = (score, text, chunk_id)
    return (best[1], best[2]) if best else None


# -- stories -----------------------------------------------------------------------------------
def centrality(members: list[int], combined: Any) -> list[int]:
    """The members, most central first (highest mean similarity to the others)."""
    if len(members) == 1:
        return members
    scores = {i: float(sum(combined[i, j] for j in members if j != i)) / (len(members) - 1) for i in members}
    return sorted(members, key=lambda i: (-scores[i], i))


def make_story(articles: Sequence[DigestArticle], members: list[int], combined: Any, lead_sentences: int) -> Story:
    order = centrality(members, combined)
    central = articles[order[0]]
    # sources: the central article first, then the others newest first
    rest = sorted(order[1:], key=lambda i: articles[i].when(), reverse=True)
    ranked = [order[0], *rest]
    sources = [
        StorySource(
            n=n, article_id=a.article_id, title=a.title, outlet=a.outlet, date=a.date, url=a.url,
            arrived=a.indexed_at,
        )
        for n, a in ((n, articles[i]) for n, i in enumerate(ranked, start=1))
    ]
    counts = Counter(t for i in ranked for t in articles[i].mentions)
    # a single article: its opening sentences (news leads with the facts); a story: what outlets share
    shared = {t for t, c in counts.items() if c >= 2} if len(ranked) > 1 else set()
    lead: list[LeadSentence] = []
    first = best_sentence(central, shared)
    if first is not None:
        lead.append(LeadSentence(first[0], 1, first[1]))
    if lead_sentences > 1:
        for n, i in enumerate(ranked, start=1):
            if len(lead) >= lead_sentences:
                break
            if n == 1 and len(ranked) > 1:
                continue  # a second sentence from another outlet when there is one
            found = best_sentence(articles[i], shared, avoid=[s.text for s in lead])
            if found is not None:
                lead.append(LeadSentence(found[0], n, found[1]))
    if len(ranked) == 1:
        lead.sort(key=lambda s: central.text.find(s.text) % (len(central.text) + 1))  # in the article's order
    latest = story_date([articles[i] for i in ranked])
    return Story(headline=" ".join(central.title.split()), article_id=central.article_id, lead=lead,
                 sources=sources, latest=latest, dated=any(articles[i].published() for i in ranked))


def story_date(members: Sequence[DigestArticle]) -> str | None:
    """The newest published date of the story; when none is dated, the newest arrival."""
    published = [d for a in members if (d := a.published()) is not None]
    if published:
        return max(published).date().isoformat()
    arrived = [d for a in members if (d := a.arrived()) is not None]
    return max(arrived).date().isoformat() if arrived else None


def order_stories(stories: list[Story]) -> list[Story]:
    multi = sorted((s for s in stories if s.size > 1), key=lambda s: (-s.size, _neg(s.latest), s.headline))
    single = sorted((s for s in stories if s.size == 1), key=lambda s: (_neg(s.latest), s.headline))
    return multi + single


def _neg(date: str | None) -> tuple[int, str]:
    # newest first: undated stories go after dated ones
    if not date:
        return (1, "")
    return (0, "".join(chr(0x10FFFF - ord(c)) for c in date))


def stories_of(articles: Sequence[DigestArticle], settings: Settings) -> list[Story]:
    if not articles:
        return []
    params = cluster_params(settings)
    sims: Similarities = similarities(articles)
    groups = cluster(sims, params)
    combined = sims.combined(params)
    stories = [make_story(articles, g, combined, settings.digest.lead_sentences) for g in groups]
    return order_stories(stories)


def build_digest(
    store: IndexStore, settings: Settings, window: Window, *, generator: Any = None, language: str = "fr"
) -> Digest:
    """The digest of ``window``: every article of it in exactly one story."""
    started = time.perf_counter()
    articles = window_articles(store, window)
    stories = stories_of(articles, settings)
    if generator is not None:
        for story in stories:
            if story.size > 1:
                story.summary = llm_summary(story, articles, generator, language)
    return Digest(
        since=window.since.isoformat(timespec="minutes") if window.since else None,
        until=window.until.isoformat(timespec="minutes") if window.until else None,
        articles=len(articles),
        stories=stories,
        seconds=time.perf_counter() - started,
    )


# -- the LLM's summary -------------------------------------------------------------------------
def story_passages(story: Story, articles: Sequence[DigestArticle]) -> list[Passage]:
    """One passage per source (its opening chunk), numbered as the story's sources."""
    by_id = {a.article_id: a for a in articles}
    passages = []
    for source in story.sources:
        article = by_id[source.article_id]
        chunk = article.chunks[0]
        passages.append(Passage(chunk_id=chunk.chunk_id, article_id=article.article_id, title=article.title,
                                text=chunk.text, score=1.0, date=article.date, url=article.url,
                                source=article.source))
    return passages


def llm_summary(story: Story, articles: Sequence[DigestArticle], generator: Any, language: str) -> str | None:
    """A written summary of the story by the LLM, its citations checked (None if it fails)."""
    passages = story_passages(story, articles)
    cited = {s.n for s in story.lead}
    answer = Answer(
        question=texts()[language]["summary_request"],
        answer=story.lead_text(),
        refused=False,
        sources=[
            Source(n=n, article_id=p.article_id, chunk_id=p.chunk_id, title=p.title, date=p.date, url=p.url,
                   text=p.text, score=p.score, cited=n in cited)
            for n, p in enumerate(passages, start=1)
        ],
    )
    written = generator.improve(answer, passages, extractive=answer)
    if written.notice or written.answer == answer.answer:
        return None  # the LLM failed or cited nothing: the extractive lead stands
    return str(written.answer)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

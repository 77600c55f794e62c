"""Incremental reindexing of the corpus folder into the index.

Only new and changed articles are embedded (by content hash); removed articles are
deleted; everything else is left alone. Articles are embedded in batches across articles
(so the model sees full batches) and committed one by one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from retrieval.answer.vectors import prepare_sentence_vectors
from retrieval.index.chunking import chunk_article
from retrieval.index.store import IndexStore
from retrieval.ingest.corpus import scan_corpus
from retrieval.settings import Settings
from retrieval.types import Article, Chunk, ReindexReport

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


def chunk_salt(settings: Settings) -> str:
    """What, besides the file's bytes, decides an article's chunks."""
    return f"size={settings.chunk.size};overlap={settings.chunk.overlap};v=1"


def embedding_text(chunk: Chunk) -> str:
    """The text stored and embedded for a chunk: its article's title, then the passage."""
    return f"{chunk.title}\n\n{chunk.text}"


def passage_text(document: str, title: str) -> str:
    """The passage itself, from a stored document."""
    prefix = f"{title}\n\n"
    return document[len(prefix):] if document.startswith(prefix) else document


@dataclass
class Plan:
    to_embed: list[Article]
    removed: list[str]
    report: ReindexReport


class Indexer:
    def __init__(self, store: IndexStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def plan(self, articles: list[Article], skipped: list[tuple[str, str]]) -> Plan:
        manifest = self.store.manifest()
        report = ReindexReport(skipped=skipped)
        to_embed: list[Article] = []
        for article in articles:
            entry = manifest.get(article.id)
            if entry is None:
                report.added.append(article.id)
                to_embed.append(article)
            elif entry.article_hash != article.content_hash:
                report.updated.append(article.id)
                to_embed.append(article)
            else:
                report.unchanged.append(article.id)
        present = {a.id for a in articles}
        # a file that exists but could not be read keeps its indexed version
        kept = {path.rsplit(".", 1)[0] for path, _ in skipped}
        removed = [aid for aid in manifest if aid not in present and aid not in kept]
        report.removed.extend(removed)
        return Plan(to_embed, removed, report)

    def reindex(self, *, progress: Callable[[int, int], None] | None = None) -> ReindexReport:
        started = time.perf_counter()
        scan = scan_corpus(self.settings.corpus_dir, salt=chunk_salt(self.settings))
        plan = self.plan(scan.articles, scan.skipped)
        # an interrupted run leaves the index marked: only then can uncommitted chunks exist
        interrupted = self.store.is_dirty()
        if plan.removed or plan.to_embed:
            self.store.set_dirty(True)
        self.store.remove_articles(plan.removed)
        chunked = [
            (article, chunk_article(article, self.settings.chunk.size, self.settings.chunk.overlap))
            for article in plan.to_embed
        ]
        replaced = set(plan.report.updated)
        total = sum(len(chunks) for _, chunks in chunked)
        done = 0
        if progress:
            progress(0, total)
        batch: list[tuple[Article, list[Chunk]]] = []
        batch_size = max(self.settings.embedding.batch_size * 4, 16)  # chunks embedded and committed together
        pending = 0
        for article, chunks in chunked:
            batch.append((article, chunks))
            pending += len(chunks)
            if pending >= batch_size:
                done += self._write_batch(batch, replaced)
                batch, pending = [], 0
                if progress:
                    progress(done, total)
        if batch:
            done += self._write_batch(batch, replaced)
            if progress:
                progress(done, total)
        if interrupted:
            self.store.remove_orphans(self.store.manifest())
        if interrupted or plan.removed or plan.to_embed:
            self.store.set_dirty(False)
        plan.report.embedded = done
        plan.report.chunks = self.store.count()
        plan.report.seconds = time.perf_counter() - started
        log.info("reindex: %s", plan.report.summary())
        return plan.report

    def _write_batch(self, batch: list[tuple[Article, list[Chunk]]], replaced: set[str]) -> int:
        """Embed the chunks of several articles in one call (length-sorted batches), then write them."""
        texts = [embedding_text(chunk) for _, chunks in batch for chunk in chunks]
        vectors = self.store.embeddings.embed_documents(texts) if texts else []
        items = []
        offset = 0
        for _, chunks in batch:
            n = len(chunks)
            if n:
                items.append((chunks, texts[offset:offset + n], vectors[offset:offset + n]))
            offset += n
        self.store.write_articles(items, replaced=replaced)
        prepare_sentence_vectors(self.settings, self.store.embeddings, [c.text for _, cs in batch for c in cs])
        return offset

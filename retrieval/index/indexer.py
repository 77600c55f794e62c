"""Incremental reindexing of the corpus folder into the index.

Only new and changed articles are embedded (by content hash); removed articles are
deleted; everything else is left alone. Articles are embedded in batches across articles
(so the model sees full batches) and committed one by one.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval.embeddings.base import BaseEmbeddings
from retrieval.index.chunking import chunk_article
from retrieval.index.store import IndexStore, ManifestEntry
from retrieval.ingest.corpus import (
    CorpusOptions,
    CorpusScan,
    scan_corpus,
    scan_files,
    stat_corpus,
)
from retrieval.settings import Settings
from retrieval.types import Article, Chunk, ReindexReport

log = logging.getLogger(__name__)

def chunk_salt(settings: Settings) -> str:
    """What, besides the file's bytes, decides an article's chunks."""
    return f"size={settings.chunk.size};overlap={settings.chunk.overlap};v=2"  # v2: date/outlet keys


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
    seen: dict[str, str]  # article id -> the day newsbot first saw it (kept across versions)


class Indexer:
    def __init__(
        self,
        store: IndexStore,
        settings: Settings,
        *,
        on_written: Callable[[list[Chunk]], None] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        # called with the chunks just written (the answerer prepares the vectors of their sentences
        # and headlines): the index knows nothing of answering
        self.on_written = on_written

    def plan(self, scan: CorpusScan, manifest: dict[str, ManifestEntry]) -> Plan:
        report = ReindexReport(skipped=scan.skipped)
        to_embed: list[Article] = []
        today = dt.datetime.now(dt.UTC).date().isoformat()
        seen: dict[str, str] = {}
        for article in scan.articles:
            entry = manifest.get(article.id)
            seen[article.id] = (entry.seen or entry.indexed_at[:10] or today) if entry is not None else today
            if entry is None:
                report.added.append(article.id)
                to_embed.append(article)
            elif entry.article_hash != article.content_hash:
                report.updated.append(article.id)
                to_embed.append(article)
            else:
                report.unchanged.append(article.id)
        report.unchanged.extend(scan.unchanged)
        report.unchanged.sort()
        present = {a.id for a in scan.articles} | set(scan.unchanged)
        # a file that exists but could not be read keeps its indexed version, so does an article
        # of a folder that could not be listed
        kept = {path.rsplit(".", 1)[0] for path, _ in scan.skipped}
        removed = [aid for aid in manifest if aid not in present and aid not in kept and not scan.hides(aid)]
        report.removed.extend(removed)
        return Plan(to_embed, removed, report, seen)

    def pending(self) -> Plan:
        """What a reindex would do now (files looked at as a reindex would; nothing is embedded)."""
        if (report := self.unchanged()) is not None:  # nothing changed: told from the files alone
            return Plan([], [], report, {})
        manifest = self.store.manifest()
        return self.plan(self.scan(manifest, full_check=False), manifest)

    def scan(self, manifest: dict[str, ManifestEntry], *, full_check: bool) -> CorpusScan:
        """The corpus; a file whose size, time and chunking are those of the committed version is not read."""
        salt = chunk_salt(self.settings)
        stats = {} if full_check else self.store.lexicon.file_stats()

        def known(path: Path, article_id: str) -> str | None:
            cached = stats.get(article_id)
            entry = manifest.get(article_id)
            if cached is None or entry is None:
                return None
            size, mtime_ns, cached_salt, article_hash = cached
            try:
                st = path.stat()
            except OSError:
                return None
            same = (st.st_size, st.st_mtime_ns, cached_salt) == (size, mtime_ns, salt)
            return article_hash if same and entry.article_hash == article_hash else None

        options = CorpusOptions.from_settings(self.settings)
        return scan_corpus(self.settings.corpus_dir, salt=salt, options=options, known=known)

    def scan_paths(self, paths: Sequence[Path]) -> tuple[CorpusScan, dict[str, ManifestEntry]] | None:
        """The given files read, and the manifest records of their articles; None when a whole
        scan is needed (see :func:`scan_files`)."""
        if not self.settings.corpus_dir.is_dir():
            return None
        scan = scan_files(
            self.settings.corpus_dir, paths, salt=chunk_salt(self.settings),
            options=CorpusOptions.from_settings(self.settings),
        )
        if scan is None or scan.looked_at is None:
            return None
        return scan, self.store.entries(sorted(scan.looked_at))

    def _files_exact(self) -> bool:
        """Whether the file table describes the committed articles exactly now, with no other
        writer possible meanwhile (an embedded index: this process holds the write lock)."""
        if self.settings.server_mode:
            return False
        state = self.store.lexicon.files_state()
        generation, dirty = self.store.status()
        return state is not None and state[0] == generation and not dirty

    def record_files(self, scan: CorpusScan, removed: list[str]) -> int:
        """Remember each read file's size and time (not for files changed within the last
        seconds: a change in the same clock tick would go unseen, git's "racy" case); the
        number of files remembered."""
        salt = chunk_salt(self.settings)
        recent = time.time_ns() - 2_000_000_000
        rows = []
        for article in scan.articles:
            try:
                st = scan.paths[article.id].stat()
            except (KeyError, OSError):
                continue
            if st.st_mtime_ns < recent:
                rows.append((article.id, st.st_size, st.st_mtime_ns, salt, article.content_hash))
        self.store.lexicon.record_files(rows, removed)
        return len(rows)

    def unchanged(self) -> ReindexReport | None:
        """The report of a reindex with nothing to do, found without reading the manifest; None
        when anything may have changed (then the whole reindex runs).

        The lexicon's file table (size, time, chunking, hash per article file) is marked with the
        generation at which it described exactly the committed articles. When the index is still
        at that generation and clean (no other process or machine committed or removed since, no
        interrupted run), and every file of the corpus has the size and time recorded and no
        recorded file is gone, nothing changed: only the files are looked at (``stat``), as git
        does. Anything else — a new, changed, unreadable or duplicate file, a link refused, a
        folder that cannot be listed — takes the whole path, which reports it."""
        state = self.store.lexicon.files_state()
        if state is None:
            return None
        generation, dirty = self.store.status()
        if dirty or state[0] != generation:
            return None
        stats = self.store.lexicon.file_stats()
        salt = chunk_salt(self.settings)
        root = self.settings.corpus_dir
        if not root.is_dir():
            return None
        found = stat_corpus(root, external_links=self.settings.corpus_external_links)
        if found is None:  # two files give one article id
            return None
        files, listing = found
        if listing.unreadable or listing.refused or len(files) != len(stats):
            return None
        for article_id, (size, mtime_ns) in files.items():
            cached = stats.get(article_id)
            if cached is None or (size, mtime_ns, salt) != cached[:3]:
                return None
        return ReindexReport(unchanged=sorted(files), chunks=state[1])

    def remember_files(self, manifest: dict[str, ManifestEntry], plan: Plan, chunks: int) -> None:
        """Mark the file table with the current generation when it describes exactly the
        committed articles (every one with its file's hash, nothing else), else unmark it."""
        removed = set(plan.removed)
        committed = {aid: e.article_hash for aid, e in manifest.items() if aid not in removed}
        committed.update({a.id: a.content_hash for a in plan.to_embed})
        stats = self.store.lexicon.file_stats()
        salt = chunk_salt(self.settings)
        exact = (
            not plan.report.skipped
            and stats.keys() == committed.keys()
            and all(stats[aid][3] == h and stats[aid][2] == salt for aid, h in committed.items())
        )
        generation, dirty = self.store.status()
        self.store.lexicon.set_files_state(generation if exact and not dirty else None, chunks)

    def reindex(
        self, *, progress: Callable[[int, int], None] | None = None, full_check: bool = False,
        paths: Sequence[Path] | None = None,
    ) -> ReindexReport:
        """Bring the index in step with the corpus folder. ``paths``: only these article files
        changed (a feed's new files, a watcher's events): they alone are read, and the manifest
        records of their articles alone (what the reindex costs then does not grow with the
        corpus); a whole scan when they cannot tell (see :func:`scan_files`)."""
        started = time.perf_counter()
        partial = self.scan_paths(paths) if paths is not None else None
        exact_before = False
        if partial is not None:
            scan, manifest = partial
            exact_before = self._files_exact()
        else:
            if not full_check and (report := self.unchanged()) is not None:
                report.seconds = time.perf_counter() - started
                log.info("reindex: %s (files unchanged since the last reindex)", report.summary())
                return report
            manifest = self.store.manifest()
            scan = self.scan(manifest, full_check=full_check)
        plan = self.plan(scan, manifest)
        # an interrupted run leaves the index marked: only then can uncommitted chunks exist
        interrupted = self.store.is_dirty()
        if plan.removed or plan.to_embed:
            self.store.set_dirty(True)
        self.store.remove_articles(plan.removed)
        chunked = [
            (article, chunk_article(
                article, self.settings.chunk.size, self.settings.chunk.overlap, seen=plan.seen.get(article.id)
            ))
            for article in plan.to_embed
        ]
        replaced = set(plan.report.updated)
        total = sum(len(chunks) for _, chunks in chunked)
        done = 0
        if total and isinstance(self.store.embeddings, BaseEmbeddings):
            self.store.embeddings.load()  # a model built on first use says so before the bar starts
        if total:
            log.info("indexing %d chunks of %d articles", total, len(chunked))
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
        recorded = self.record_files(scan, plan.removed)
        plan.report.embedded = done
        changed = interrupted or plan.removed or plan.to_embed
        if partial is not None:
            # the file table gains these files: when it described the committed articles exactly
            # before, and this process alone wrote since (embedded: the write lock), it still does
            # once each file read is recorded; else the next whole reindex checks every file once
            plan.report.chunks = self.store.count()
            generation, dirty = self.store.status()
            if exact_before and recorded == len(scan.articles) and not plan.report.skipped and not dirty:
                self.store.lexicon.set_files_state(generation, plan.report.chunks)
            else:
                self.store.lexicon.set_files_state(None)
        else:
            # unchanged: the committed articles' chunks, from the manifest already read (counting a
            # large collection costs seconds)
            plan.report.chunks = self.store.count() if changed else sum(e.chunks for e in manifest.values())
            self.remember_files(manifest, plan, plan.report.chunks)
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
        if self.on_written is not None:
            self.on_written([c for _, cs in batch for c in cs])
        return offset

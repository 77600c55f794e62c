"""The lexicon's full-text index: tantivy, over the lexicon's pre-analysed tokens.

Why tantivy: its top-k search of a disjunction skips most of a long posting list (block-max
WAND), where SQLite FTS5 ranks every posting of every token it matches. 300 PIAF questions over
the 1M-chunk scale fill: FTS5 (common tokens left out, within a postings budget) p50 / p95
70 / 133 ms; tantivy, every token of the question, 1.3 / 3.4 ms, and its 250 candidates hold
more of the 10 best by newsbot's BM25 (0.85 against 0.77). The index takes 107 MB at 1M chunks
(the day, outlet and host included).

The lexicon's SQLite file stays the record (rows, statistics, scope columns, the files table):
this index is derived from it, document by document, keyed by the row's ``rowid``. Every change
is queued in the lexicon's ``pending`` table inside the same SQLite transaction as the row, then
applied here and committed (:meth:`Postings.writing`); a run killed in between leaves the queue,
applied again by the next writer (deleting a rowid before adding it makes that idempotent). A
search's hits are read back from the SQLite rows by rowid, so a row deleted there and not yet
here is simply not found.

The token field is split on spaces only (the tokens are French-stemmed and accent-folded by
:class:`~retrieval.search.lexical.FrenchAnalyzer`); the day, "seen" flag, outlet and host are
indexed too, so a scoped search filters inside the index. Document frequencies count deleted
documents until their segment is merged (as Lucene's do).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from retrieval.errors import StoreUnavailable
from retrieval.index.scope import ScopeFilter

log = logging.getLogger(__name__)

# a change of the schema below makes the index anew from the lexicon's rows
SCHEMA_VERSION = 1
WRITER_HEAP = 64_000_000
# how long a writer waits for another process's tantivy writer (a reader back-filling, or a
# writer of another machine's lexicon sharing the folder) before giving up
WRITER_WAIT_S = 60.0


class PostingsBusy(StoreUnavailable):
    """Another process holds the index's writer."""


class Postings:
    """One tantivy index folder; searches from any thread, writes from one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._index: Any = None
        self._searcher: Any = None  # the last commit's, until reload()
        self._lock = threading.Lock()

    # -- opening ------------------------------------------------------------------------------
    @staticmethod
    def _schema() -> Any:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("rid", stored=False, indexed=True, fast=True)
        builder.add_text_field("tokens", stored=False, tokenizer_name="whitespace", index_option="freq")
        builder.add_integer_field("day", stored=False, indexed=True, fast=True)
        builder.add_integer_field("seen", stored=False, indexed=True, fast=True)
        builder.add_text_field("outlet", stored=False, tokenizer_name="raw", index_option="basic")
        builder.add_text_field("host", stored=False, tokenizer_name="raw", index_option="basic")
        return builder.build()

    @property
    def _version_file(self) -> Path:
        return self.path / "newsbot-schema"

    def exists(self) -> bool:
        """Whether a complete index of the current schema is there."""
        try:
            return self._version_file.read_text().strip() == str(SCHEMA_VERSION)
        except OSError:
            return False

    def create(self) -> None:
        """Make the index anew (empty)."""
        import tantivy

        with self._lock:
            self._index = self._searcher = None
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir(parents=True)
            tantivy.Index(self._schema(), path=str(self.path), reuse=False)
            self._version_file.write_text(str(SCHEMA_VERSION))

    def _opened(self) -> Any:
        index = self._index
        if index is None:
            with self._lock:
                if self._index is None:
                    import tantivy

                    self._index = tantivy.Index(self._schema(), path=str(self.path), reuse=True)
                index = self._index
        return index

    def reload(self) -> None:
        """See the latest commit (of this process or another)."""
        if self._index is not None:
            self._index.reload()
            self._searcher = None

    def drop(self) -> None:
        with self._lock:
            self._index = self._searcher = None
            shutil.rmtree(self.path, ignore_errors=True)

    def searcher(self) -> Any:
        """A searcher of the commit last loaded (kept: making one costs ~1 ms)."""
        searcher = self._searcher
        if searcher is None:
            searcher = self._searcher = self._opened().searcher()
        return searcher

    # -- reading ------------------------------------------------------------------------------
    def search(self, tokens: Sequence[str], limit: int, scope: ScopeFilter | None = None) -> list[int]:
        """The rowids of the ``limit`` best documents (tantivy's BM25) holding any of ``tokens``."""
        import tantivy

        index = self._opened()
        schema = index.schema
        unique = list(dict.fromkeys(tokens))
        if not unique or limit <= 0:
            return []
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Should, tantivy.Query.term_query(schema, "tokens", t, index_option="freq")) for t in unique
        ])
        limits = _scope_query(schema, scope) if scope is not None and not scope.empty else None
        if limits is not None:
            query = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, query), (tantivy.Occur.Must, tantivy.Query.const_score_query(limits, 0.0)),
            ])
        searcher = self.searcher()
        result = searcher.search(query, limit, count=False)
        addresses = [address for _, address in result.hits]
        return [int(rid) for rid in searcher.fast_field_values("rid", addresses)] if addresses else []

    def rowids(self) -> set[int]:
        """Every document's rowid (for checks: a few per chunk, read from a column)."""
        import tantivy

        searcher = self.searcher()
        if not searcher.num_docs:
            return set()
        result = searcher.search(tantivy.Query.all_query(), searcher.num_docs, count=False)
        return {int(rid) for rid in searcher.fast_field_values("rid", [address for _, address in result.hits])}

    def document_frequencies(self, tokens: Sequence[str]) -> dict[str, int]:
        searcher = self.searcher()
        return {t: int(searcher.doc_freq("tokens", t)) for t in dict.fromkeys(tokens)}

    # -- writing ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, wait: float = WRITER_WAIT_S) -> Iterator[PostingsBatch]:
        """Hold the index's writer (waiting up to ``wait`` s for another process's), collect
        changes, commit them at the end; then run the batch's ``after_commit`` (still holding the
        writer), merge the small segments frequent commits make, and let the writer go."""
        deadline = time.monotonic() + wait
        index = self._opened()
        while True:
            try:
                writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
                break
            except ValueError:  # LockBusy: another writer, in this process or another
                if time.monotonic() >= deadline:
                    log.debug("the full-text index's writer is busy", exc_info=True)
                    raise PostingsBusy(
                        f"the lexical index {self.path} is being written by another process; try again"
                    ) from None
                time.sleep(0.05)
        batch = PostingsBatch(writer)
        try:
            yield batch
        except BaseException:
            writer.rollback()
            raise
        if batch.changed:
            writer.commit()
            for hook in batch.after_commit:
                hook()
        writer.wait_merging_threads()  # frees the writer's lock too
        self.reload()


class PostingsBatch:
    """The changes of one commit: ``put(rowid, fields)`` adds or replaces a document, ``put(rowid,
    None)`` deletes it; ``after_commit`` runs once they are committed."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self.changed = False
        self.after_commit: list[Callable[[], None]] = []

    def put(self, rowid: int, fields: dict[str, Any] | None) -> None:
        import tantivy

        self.changed = True
        self._writer.delete_documents_by_term("rid", rowid)
        if fields is None:
            return
        document = tantivy.Document(rid=rowid, tokens=fields["tokens"], seen=int(fields["seen"]))
        if fields.get("day") is not None:
            document.add_integer("day", int(fields["day"]))
        for name in ("outlet", "host"):
            if fields.get(name):
                document.add_text(name, str(fields[name]))
        self._writer.add_document(document)


def _scope_query(schema: Any, scope: ScopeFilter) -> Any:
    """The tantivy query of what ``ScopeFilter.sql`` asks (same meaning; see ``ScopeFilter.admits``)."""
    import tantivy

    Occur, Query, Integer = tantivy.Occur, tantivy.Query, tantivy.FieldType.Integer

    def every(*queries: Any) -> Any:
        return Query.boolean_query([(Occur.Must, q) for q in queries])

    def either(*queries: Any) -> Any:
        return Query.boolean_query([(Occur.Should, q) for q in queries])

    def seen(flag: int) -> Any:
        return Query.term_query(schema, "seen", flag)

    def days(low: int | None, high: int | None) -> Any:
        return Query.range_query(schema, "day", Integer, low, high)

    parts: list[Any] = []
    if scope.since is not None and scope.until is not None:
        parts.append(either(every(seen(0), days(scope.since, scope.until)), every(seen(1), days(scope.since, None))))
    elif scope.since is not None:
        parts.append(days(scope.since, None))
    elif scope.until is not None:
        parts.append(either(every(seen(0), days(None, scope.until)), seen(1)))
    if scope.outlets:
        keys = list(scope.outlets)
        parts.append(either(Query.term_set_query(schema, "outlet", keys), Query.term_set_query(schema, "host", keys)))
    return every(*parts)

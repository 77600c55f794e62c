"""The lexicon's full-text index (tantivy): scopes filtered inside it as the SQL does, a killed
writer's queue applied by the next one, an FTS5 lexicon of an earlier version moved over."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from retrieval.index.lexicon import LexicalRow, Lexicon
from retrieval.index.postings import Postings, PostingsBusy
from retrieval.index.scope import ScopeFilter

DAYS = [None, 20250801, 20250815, 20250816, 20250901]
OUTLETS = [(None, None), ("le monde", "lemonde.fr"), ("bbc", "bbc.com"), (None, "tass.ru")]


def rows() -> list[LexicalRow]:
    made = []
    for n, (day, seen, (outlet, host)) in enumerate(itertools.product(DAYS, (False, True), OUTLETS)):
        if seen and day is None:
            continue  # a "seen" day is always known
        made.append(LexicalRow(f"a{n}:h:0", f"a{n}", "h", day, outlet, host, ["russ", f"mot{n}"], seen=seen))
    return made


@pytest.fixture
def lexicon(settings_factory) -> Lexicon:
    lexicon = Lexicon(settings_factory())
    lexicon.add(rows())
    return lexicon


SCOPES = [
    ScopeFilter(since=20250815), ScopeFilter(until=20250815), ScopeFilter(since=20250802, until=20250815),
    ScopeFilter(outlets=("le monde",)), ScopeFilter(outlets=("bbc.com", "tass.ru")),
    ScopeFilter(since=20250816, outlets=("bbc",)), ScopeFilter(until=20250801, outlets=("lemonde.fr",)),
]


@pytest.mark.parametrize("scope", SCOPES, ids=str)
def test_a_scope_admits_in_the_index_what_it_admits_elsewhere(lexicon: Lexicon, scope: ScopeFilter) -> None:
    expected = {r.chunk_id for r in rows() if scope.admits(r.day, r.outlet, r.host, seen=r.seen)}
    assert expected  # each scope admits some and refuses some
    assert expected != {r.chunk_id for r in rows()}
    assert {hit.chunk_id for hit in lexicon.search(["russ"], 1_000, scope)} == expected
    assert set(lexicon.admitted(scope, 1_000) or []) == expected  # the SQL of the same scope


def test_search_ranks_and_frequencies(lexicon: Lexicon) -> None:
    assert [hit.chunk_id for hit in lexicon.search(["mot3", "russ"], 2)][0] == "a3:h:0"  # the rare token first
    assert lexicon.document_frequencies(["russ", "mot3", "absent"]) == {"russ": len(rows()), "mot3": 1, "absent": 0}
    lexicon.remove_articles(["a3"])
    lexicon.stats()  # a question's view: the full-text index is read anew after a commit
    assert [hit.chunk_id for hit in lexicon.search(["mot3"], 5)] == []
    assert len(lexicon.postings.rowids()) == lexicon.count() == len(rows()) - 1


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from bot.settings import load_settings
    from retrieval.index.lexicon import Lexicon, LexicalRow
    from retrieval.index.postings import PostingsBatch

    put = PostingsBatch.put
    def put_then_die(self, rowid, fields):
        put(self, rowid, fields)
        os.kill(os.getpid(), signal.SIGKILL)  # the row is committed in SQLite, the index not
    PostingsBatch.put = put_then_die
    lexicon = Lexicon(load_settings(data_dir=sys.argv[1]))
    lexicon.add([LexicalRow("tard:h:0", "tard", "h", None, None, None, ["zanzibar"])])
""")


def test_a_killed_writers_queue_is_applied_by_the_next(settings_factory, tmp_path: Path) -> None:
    settings = settings_factory()
    Lexicon(settings).add(rows())
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(settings.data_dir)], capture_output=True,
                          timeout=120, cwd=Path(__file__).parents[3])
    assert done.returncode == -9, done.stderr.decode()
    lexicon = Lexicon(settings)  # a reader: it applies the queue (the dead writer's lock went with it)
    assert [hit.chunk_id for hit in lexicon.search(["zanzibar"], 5)] == ["tard:h:0"]
    assert lexicon.postings.rowids() == set(range(1, lexicon.count() + 1))
    assert lexicon._db().execute("SELECT count(*) FROM pending").fetchone()[0] == 0


def test_a_writer_waits_for_another_and_a_reader_does_not(lexicon: Lexicon, settings_factory) -> None:
    other = Postings(lexicon.postings.path)
    with other.writing():
        with pytest.raises(PostingsBusy), lexicon.postings.writing(wait=0.1):
            pass
        lexicon._db().execute("INSERT INTO pending(rid) VALUES (1)")
        lexicon._backlog = True
        assert lexicon.search(["mot0"], 5)  # the reader searches what is committed, queue or not


def test_an_fts5_lexicon_is_moved_to_the_full_text_index(settings_factory) -> None:
    settings = settings_factory()
    lexicon = Lexicon(settings)
    lexicon.add(rows())
    path = lexicon.path
    lexicon.postings.drop()
    db = sqlite3.connect(path)  # as version 2 left it: an FTS5 table over the rows, no tantivy folder
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(tokens, content='chunks', content_rowid='rowid')")
    db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'row')")
    db.execute("INSERT INTO fts(fts) VALUES('rebuild')")
    db.commit()
    db.close()
    moved = Lexicon(settings)
    assert [hit.chunk_id for hit in moved.search(["mot9"], 5)] == ["a9:h:0"]
    tables = {name for (name,) in moved._db().execute("SELECT name FROM sqlite_master")}
    assert "fts" not in tables and "vocab" not in tables
    assert len(moved.postings.rowids()) == moved.count()

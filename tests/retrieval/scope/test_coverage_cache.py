"""The coverage cache: read back at the same generation, brought up to date after additions,
built again after removals or for another index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from retrieval.index.store import ManifestEntry
from retrieval.scope.coverage import Coverage
from retrieval.scope.coverage_cache import cache_path, load_coverage


def entry(aid: str, generation: int, source: str = "Le Monde", date: str | None = "2025-08-15") -> ManifestEntry:
    return ManifestEntry(aid, "h", f"Le sommet d'Alaska {aid}", date, f"https://www.lemonde.fr/{aid}", 1,
                         "2025-08-16T00:00:00", generation=generation, source=source)


@dataclass
class Lexicon:
    path: Path


@dataclass
class Store:
    lexicon: Lexicon
    entries: dict[str, ManifestEntry] = field(default_factory=dict)
    identity: str = "index-1"
    generation: int = 0
    removed: int = 0
    reads: list[int | None] = field(default_factory=list)

    def state(self) -> tuple[str, int, int]:
        return self.identity, self.generation, self.removed

    def manifest(self, *, since: int | None = None) -> dict[str, ManifestEntry]:
        self.reads.append(since)
        return {k: e for k, e in self.entries.items() if since is None or e.generation > since}

    def article_ids(self) -> set[str]:
        self.reads.append(-1)  # the ids alone
        return set(self.entries)

    def commit(self, e: ManifestEntry) -> None:
        self.generation += 1
        self.entries[e.article_id] = ManifestEntry(**{**e.__dict__, "generation": self.generation})

    def remove(self, aid: str) -> None:
        self.generation += 1
        self.removed = self.generation
        del self.entries[aid]


def test_the_coverage_is_read_back_then_brought_up_to_date_and_rebuilt_after_removals(tmp_path: Path) -> None:
    store = Store(Lexicon(tmp_path / "lexicon-x.sqlite3"))
    store.commit(entry("a", 0))
    older = tmp_path / "lexicon-x.coverage.json"
    older.write_text('{"format":1}', encoding="utf-8")  # a cache in the earlier format
    generation, coverage = load_coverage(store)
    assert generation == 1 and [a.article_id for a in coverage.articles] == ["a"] and store.reads == [None]
    assert cache_path(store.lexicon.path).exists() and not older.exists()

    _, again = load_coverage(store)  # same generation: nothing read
    assert store.reads == [None] and again.outlets.names == coverage.outlets.names == ["Le Monde"]

    store.commit(entry("b", 0, source="BBC", date="2025-08-18"))  # an addition: only what came since
    generation, added = load_coverage(store)
    assert generation == 2 and store.reads == [None, 1]
    assert sorted(a.article_id for a in added.articles) == ["a", "b"] and added.outlets.names == ["BBC", "Le Monde"]
    assert added.newest_day() == dt.date(2025, 8, 18)

    store.commit(entry("c", 0, date="2025-08-20"))
    store.remove("b")  # a removal: the manifest's ids tell which are gone, its records since what came
    _, removed = load_coverage(store)
    assert store.reads[-1] == 2 and removed.outlets.names == ["BBC", "Le Monde"]  # the records since, for the outlets
    assert [a.article_id for a in removed.articles] == ["a", "c"] and store.reads[-1] == -1  # the ids, when needed
    assert removed.newest_day() == dt.date(2025, 8, 20)
    assert removed.outlets.names == ["BBC", "Le Monde"]  # an outlet whose articles went stays listed

    store.identity = "index-2"  # a rebuilt index whose generations started again
    store.reads.clear()
    load_coverage(store)
    assert store.reads == [None]


def test_a_damaged_cache_only_costs_a_rebuild(tmp_path: Path) -> None:
    store = Store(Lexicon(tmp_path / "lexicon-x.sqlite3"))
    store.commit(entry("a", 0))
    cache_path(store.lexicon.path).write_text("{not json", encoding="utf-8")
    _, coverage = load_coverage(store)
    assert [a.article_id for a in coverage.articles] == ["a"]
    assert cache_path(store.lexicon.path).read_text(encoding="utf-8").startswith('{"format":2')
    head, articles = cache_path(store.lexicon.path).read_text(encoding="utf-8").split("\n")
    cache_path(store.lexicon.path).write_text(head + "\n[[1,", encoding="utf-8")  # its articles' line cut short
    store.reads.clear()
    _, coverage = load_coverage(store)
    assert coverage.outlets.names == ["Le Monde"] and store.reads == []
    assert [a.article_id for a in coverage.articles] == ["a"] and store.reads == [None]  # read from the manifest


def test_the_articles_are_read_from_the_cache_when_first_needed(tmp_path: Path, monkeypatch) -> None:
    from retrieval.scope import coverage_cache

    store = Store(Lexicon(tmp_path / "lexicon-x.sqlite3"))
    store.commit(entry("a", 0))
    store.commit(entry("b", 0, source="BBC", date="2025-08-18"))
    built = load_coverage(store)[1]
    parsed: list[int] = []
    monkeypatch.setattr(coverage_cache.json, "loads", lambda text, _loads=coverage_cache.json.loads:
                        parsed.append(len(text)) or _loads(text))
    _, coverage = load_coverage(store)
    assert coverage.outlets.names == ["BBC", "Le Monde"] and len(parsed) == 1  # the outlets alone
    assert coverage.newest_day() == dt.date(2025, 8, 18) and len(parsed) == 2  # the articles, when needed
    assert coverage.to_dict() == built.to_dict()


def test_a_running_process_brings_its_own_coverage_up_to_date(tmp_path: Path, monkeypatch) -> None:
    from retrieval.scope import coverage_cache

    store = Store(Lexicon(tmp_path / "lexicon-x.sqlite3"))
    store.commit(entry("a", 0))
    held = load_coverage(store)
    index = held[1].title_index()
    real_read = coverage_cache._read
    monkeypatch.setattr(coverage_cache, "_read", lambda path: pytest.fail("the cache was read"))
    assert load_coverage(store, held) is held  # the same generation: as is

    store.commit(entry("b", 0, date="2025-08-18"))  # an addition: the articles since, the title index extended
    store.reads.clear()
    written = cache_path(store.lexicon.path).read_bytes()
    generation, coverage = load_coverage(store, held)
    assert generation == 2 and store.reads == [1]
    assert cache_path(store.lexicon.path).read_bytes() == written  # left for the next process to start
    monkeypatch.setattr(coverage_cache, "_read", real_read)  # the next process to start reads the cache
    store.reads.clear()
    _, started = load_coverage(store)
    assert store.reads == [1] and started.outlets.names == coverage.outlets.names  # the records since
    assert cache_path(store.lexicon.path).read_bytes() == written  # its articles not needed yet: not written
    assert started.to_dict() == coverage.to_dict()  # then needed: brought up to date,
    assert cache_path(store.lexicon.path).read_bytes() != written  # and the cache written
    monkeypatch.setattr(coverage_cache, "_read", lambda path: pytest.fail("the cache was read"))
    assert [a.article_id for a in coverage.articles] == ["a", "b"] and coverage.index == "index-1"
    assert coverage._title_index is not None and coverage.title_index()["alask"] == [0, 1]
    assert index["alask"] == [0] and held[1].title_index() is index  # what a question reads is left as it was
    assert coverage.title_index() == Coverage.from_entries(store.entries.values()).title_index()

    store.commit(entry("a", 0, date="2025-09-01"))  # a changed article: its index is built again when asked
    _, changed = load_coverage(store, (generation, coverage))
    assert changed._title_index is None and changed.newest_day() == dt.date(2025, 9, 1)
    assert changed.title_index() == Coverage.from_entries(store.entries.values()).title_index()

    store.remove("b")  # a removal: what is held, less what the manifest no longer lists
    _, kept = load_coverage(store, (store.generation - 1, changed))
    assert [a.article_id for a in kept.articles] == ["a"] and store.reads[-2:] == [-1, store.generation - 1]
    monkeypatch.undo()
    rebuilt = kept
    store.identity = "index-2"
    _, other = load_coverage(store, (store.generation, rebuilt))
    assert other is not rebuilt and other.index == "index-2"


def test_days_are_looked_up_in_order() -> None:
    coverage = Coverage.from_entries([entry("a", 0, date="2025-08-15"), entry("b", 0, date="2025-06-01"),
                                      entry("c", 0, date=None)])
    assert coverage.dated() == [dt.date(2025, 6, 1), dt.date(2025, 8, 15)]
    assert coverage.newest_day() == dt.date(2025, 8, 15)
    assert coverage.has_articles_between(dt.date(2025, 6, 1), dt.date(2025, 6, 1))
    assert not coverage.has_articles_between(dt.date(2025, 6, 2), dt.date(2025, 8, 14))
    assert not coverage.has_articles_between(dt.date(2025, 8, 16), dt.date(2026, 1, 1))
    assert Coverage().newest_day() is None

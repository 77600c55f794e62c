"""The coverage cache: read back at the same generation, brought up to date after additions,
built again after removals or for another index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.index.store import ManifestEntry
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
    generation, coverage = load_coverage(store)
    assert generation == 1 and [a.article_id for a in coverage.articles] == ["a"] and store.reads == [None]
    assert cache_path(store.lexicon.path).exists()

    _, again = load_coverage(store)  # same generation: nothing read
    assert store.reads == [None] and again.outlets.names == coverage.outlets.names == ["Le Monde"]

    store.commit(entry("b", 0, source="BBC", date="2025-08-18"))  # an addition: only what came since
    generation, added = load_coverage(store)
    assert generation == 2 and store.reads == [None, 1]
    assert sorted(a.article_id for a in added.articles) == ["a", "b"] and added.outlets.names == ["BBC", "Le Monde"]
    assert added.newest_day() == dt.date(2025, 8, 18)

    store.remove("b")  # a removal: the whole manifest again
    _, removed = load_coverage(store)
    assert store.reads[-1] is None and [a.article_id for a in removed.articles] == ["a"]
    assert removed.outlets.names == ["Le Monde"]

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
    assert cache_path(store.lexicon.path).read_text(encoding="utf-8").startswith('{"format":1')

"""Clustering on hand-made similarities (no model): what joins, what stays apart."""

from __future__ import annotations

import numpy as np

from retrieval.digest.cluster import ClusterParams, Similarities, cluster, name_overlap
from retrieval.digest.names import mentions

PARAMS = ClusterParams(similarity=1.0, names_weight=0.15, near_duplicate=0.985)


def sims(cosine: list[list[float]], names: float = 0.0, days: list[list[float]] | None = None) -> Similarities:
    c = np.array(cosine, dtype=np.float32)
    n = np.full(c.shape, names, dtype=np.float32)
    np.fill_diagonal(n, 1.0)
    d = np.array(days, dtype=np.float64) if days is not None else np.full(c.shape, np.nan)
    return Similarities(cosine=c, names=n, days=d)


def groups(result: list[list[int]]) -> set[frozenset[int]]:
    return {frozenset(g) for g in result}


def test_near_duplicates_join_and_unrelated_stay_apart() -> None:
    result = cluster(sims([[1, 0.99, 0.80], [0.99, 1, 0.80], [0.80, 0.80, 1]]), PARAMS)
    assert groups(result) == {frozenset({0, 1}), frozenset({2})}


def test_shared_names_decide_between_close_articles() -> None:
    close = [[1, 0.97], [0.97, 1]]
    assert len(cluster(sims(close, names=0.0), PARAMS)) == 2  # same kind of event, nothing named in common
    assert len(cluster(sims(close, names=0.5), PARAMS)) == 1  # the same people, figures, dates


def test_dated_articles_days_apart_are_less_alike() -> None:
    close = [[1, 0.97], [0.97, 1]]
    assert len(cluster(sims(close, names=0.5, days=[[0, 1], [1, 0]]), PARAMS)) == 1
    assert len(cluster(sims(close, names=0.5, days=[[0, 20], [20, 0]]), PARAMS)) == 2


def test_average_linkage_does_not_chain() -> None:
    # 0-1 and 1-2 are close, 0-2 are not: a chain through article 1 must not make one story of three
    cosine = [[1, 0.99, 0.80], [0.99, 1, 0.99], [0.80, 0.99, 1]]
    result = cluster(sims(cosine, names=0.1), ClusterParams(similarity=1.0, names_weight=0.15, near_duplicate=1.1))
    assert frozenset({0, 1, 2}) not in groups(result)
    assert sorted(i for g in result for i in g) == [0, 1, 2]  # every article exactly once


def test_names_and_their_weights() -> None:
    found = mentions("Le sommet de Vladimir Poutine et Donald Trump en Alaska le 15 août a duré trois heures. "
                     "Le prix passe à 47,6 dollars, soit 27 % de moins.")
    assert {"n:poutine", "n:alaska", "d:15-8", "f:47.6dol", "f:27%"} <= found
    assert not any(term.startswith("n:le") for term in found)
    overlap = name_overlap([{"n:a", "n:x"}, {"n:a", "n:x"}, {"n:b", "n:x"}])
    assert overlap[0, 1] > overlap[0, 2] > 0  # "x" is named everywhere: it weighs less than "a"
    assert np.allclose(overlap, overlap.T)

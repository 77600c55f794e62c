"""Grouping a window's articles into stories: agglomerative clustering (average linkage, SciPy).

Two articles are close when their vectors are (the mean of their chunk vectors from the index:
title and text) and when they name the same rare people, places, figures and dates (IDF-weighted
overlap of :func:`retrieval.digest.names.mentions`; names every article of the window shares weigh
nothing). Near-duplicates (wire copies) are closer than any threshold. Average linkage, unlike
single linkage, does not chain: a story's articles are close on average to each other, so two
events linked by one ambiguous article stay apart.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from retrieval.digest.articles import DigestArticle


_PRIOR = 10


@dataclass(frozen=True)
class ClusterParams:
    similarity: float  # average combined similarity within a story, at least
    names_weight: float  # how much shared names add to the cosine
    near_duplicate: float  # a cosine at least this high: the same story whatever else
    max_days: float = 3.0  # two dated articles further apart than this...
    days_penalty: float = 0.1  # ...lose this much similarity (a later event of the same kind)


@dataclass
class Similarities:
    cosine: np.ndarray
    names: np.ndarray
    days: np.ndarray  # days between the articles' published dates; NaN when one is undated

    def combined(self, params: ClusterParams) -> np.ndarray:
        import numpy as np

        sim = self.cosine + params.names_weight * self.names
        apart = np.nan_to_num(self.days, nan=0.0) > params.max_days
        sim = sim - params.days_penalty * apart
        sim = np.where(self.cosine >= params.near_duplicate, np.maximum(sim, 2.0), sim)
        return sim


def name_overlap(sets: Sequence[set[str]]) -> np.ndarray:
    """IDF-weighted overlap of the articles' mentions: shared weight / the smaller set's weight."""
    import numpy as np
    from scipy import sparse

    n = len(sets)
    df = Counter(term for terms in sets for term in terms)
    # IDF with a prior of _PRIOR unrelated articles: in a small window (a summary of three articles)
    # what they all share still counts; in a large one, what every article names weighs little
    total = n + _PRIOR
    column = {term: k for k, term in enumerate(df)}
    weight = np.array([math.log(total / df[term]) for term in column], dtype=np.float64)
    rows = [i for i, terms in enumerate(sets) for _ in terms]
    cols = [column[term] for terms in sets for term in terms]
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(column)))
    shared = np.asarray((matrix.multiply(weight[np.newaxis, :]) @ matrix.T).todense(), dtype=np.float64)
    masses = np.diag(shared).copy()
    smaller = np.minimum.outer(masses, masses)
    overlap = np.zeros((n, n), dtype=np.float32)
    np.divide(shared, smaller, out=overlap, where=smaller > 0, casting="unsafe")
    np.fill_diagonal(overlap, 1.0)
    return np.clip(overlap, 0.0, 1.0)


def similarities(articles: Sequence[DigestArticle]) -> Similarities:
    import numpy as np

    vectors = np.stack([a.vector() for a in articles]) if articles else np.zeros((0, 1), dtype=np.float32)
    cosine = np.clip(vectors @ vectors.T, -1.0, 1.0) if len(articles) else np.zeros((0, 0))
    names = name_overlap([set(a.mentions) for a in articles])
    ordinal = np.array(
        [float(d.toordinal()) if (d := a.published()) is not None else np.nan for a in articles], dtype=np.float64
    )
    days = np.abs(np.subtract.outer(ordinal, ordinal)) if len(articles) else np.zeros((0, 0))
    return Similarities(cosine=cosine, names=names, days=days)


def cluster(sims: Similarities, params: ClusterParams) -> list[list[int]]:
    """Indices of the articles, grouped into stories (each article in exactly one)."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    n = sims.cosine.shape[0]
    if n == 0:
        return []
    if n == 1:
        return [[0]]
    combined = sims.combined(params)
    ceiling = float(combined.max())
    distance = np.clip(ceiling - combined, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    distance = (distance + distance.T) / 2
    tree = linkage(squareform(distance, checks=False), method="average")
    labels = fcluster(tree, t=ceiling - params.similarity, criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return list(groups.values())

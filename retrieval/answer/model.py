"""The answer-sentence model: the probability that a candidate sentence answers the question.

A logistic regression over :data:`retrieval.answer.features.FEATURES` and, when ``interactions``
is set, the element-wise product of the question's and the sentence's embeddings (a learned
weighting of the cosine's terms: which directions of the embedding space tell an answer from
a sentence that merely shares the question's subject), fitted with
scikit-learn by ``python -m retrieval.answer.train`` and shipped as a small JSON file
(``retrieval/answer/sentence_model.json``: feature names, standardisation, coefficients,
and the thresholds chosen on held-back training questions). Applying it is a dot product,
so answering needs neither scikit-learn nor a pickle.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

MODEL_FILE = "sentence_model.json"


@dataclass(frozen=True)
class Thresholds:
    """Per language of the question: ``answer`` (the best sentence must reach it, else refuse),
    ``more`` (further sentences must reach it)."""

    answer: float = 0.2
    more: float = 0.5


@dataclass(frozen=True)
class RerankerBlock:
    """How the cross-encoder's logits (:mod:`retrieval.answer.reranker`) recombine with the
    logistic regression: it reads the ``k`` most likely sentences; their probability becomes
    ``sigmoid(coef · (logit(p), reranker logit) + intercept)``, fitted on questions neither
    model was fitted on, with the thresholds chosen on those probabilities. Of the ``k``, it
    reads only those at least ``ratio`` times as likely as the best (:meth:`read`)."""

    k: int
    coef: tuple[float, float]
    intercept: float
    thresholds: dict[str, Thresholds] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    ratio: float = 0.0

    def read(self, probabilities: Any) -> Any:
        """The indices of the sentences the reranker reads: of the ``k`` most likely, those at least
        ``ratio`` times as likely as the best (the best at least), most likely first."""
        import numpy as np

        p = np.asarray(probabilities)
        order = np.argsort(-p, kind="stable")[: self.k]
        if not len(order):
            return order
        return order[: max(1, int(np.sum(p[order] >= self.ratio * float(p[order[0]]))))]

    def combine(self, probabilities: Any, logits: Any) -> Any:
        import numpy as np

        p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-6, 1 - 1e-6)
        z = self.coef[0] * np.log(p / (1 - p)) + self.coef[1] * np.asarray(logits, dtype=np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k, "coef": [round(float(x), 7) for x in self.coef], "intercept": round(float(self.intercept), 7),
            "thresholds": {k: {"answer": v.answer, "more": v.more} for k, v in self.thresholds.items()},
            "ratio": self.ratio, "info": self.info,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RerankerBlock:
        a, b = (float(x) for x in data["coef"])
        return cls(
            k=int(data["k"]), coef=(a, b), intercept=float(data["intercept"]),
            thresholds={k: Thresholds(**v) for k, v in data.get("thresholds", {}).items()},
            info=dict(data.get("info", {})), ratio=float(data.get("ratio", 0.0)),
        )


@dataclass
class SentenceModel:
    features: tuple[str, ...]
    mean: Any
    scale: Any
    coef: Any
    intercept: float
    thresholds: dict[str, Thresholds] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    interactions: int = 0  # the embedding dimension of the question ⊙ sentence block, 0 without it
    reranker: RerankerBlock | None = None  # how the cross-encoder's logits recombine, when it was trained

    def neutral_interactions(self, n: int) -> Any:
        """The product block at its training mean (no evidence either way): for vectors of another model."""
        import numpy as np

        return np.tile(self.mean[len(self.features):], (n, 1))

    def probabilities(self, matrix: Any) -> Any:
        import numpy as np

        if len(matrix) == 0:
            return np.zeros(0, dtype=np.float64)
        z = ((np.asarray(matrix, dtype=np.float64) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def thresholds_for(self, language: str) -> Thresholds:
        return self.thresholds.get(language) or self.thresholds.get("fr") or Thresholds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "logistic",
            "features": list(self.features),
            "mean": [round(float(x), 7) for x in self.mean],
            "scale": [round(float(x), 7) for x in self.scale],
            "coef": [round(float(x), 7) for x in self.coef],
            "intercept": round(float(self.intercept), 7),
            "thresholds": {k: {"answer": v.answer, "more": v.more} for k, v in self.thresholds.items()},
            "interactions": self.interactions,
            "info": self.info,
            **({"reranker": self.reranker.to_dict()} if self.reranker else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SentenceModel:
        import numpy as np

        return cls(
            features=tuple(data["features"]),
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            coef=np.asarray(data["coef"], dtype=np.float64),
            intercept=float(data["intercept"]),
            thresholds={k: Thresholds(**v) for k, v in data.get("thresholds", {}).items()},
            info=dict(data.get("info", {})),
            interactions=int(data.get("interactions", 0)),
            reranker=RerankerBlock.from_dict(data["reranker"]) if data.get("reranker") else None,
        )


@functools.lru_cache(maxsize=1)
def shipped_model() -> SentenceModel:
    """The model shipped with the package."""
    text = resources.files("retrieval.answer").joinpath(MODEL_FILE).read_text("utf-8")
    return SentenceModel.from_dict(json.loads(text))

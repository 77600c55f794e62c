from __future__ import annotations

import numpy as np

from retrieval.answer.model import SentenceModel, Thresholds


def test_a_model_with_embedding_products_round_trips_and_is_neutral_without_them() -> None:
    model = SentenceModel(
        features=("cos", "cov"),
        mean=np.array([0.8, 0.3, 0.01, -0.02]),
        scale=np.array([0.05, 0.2, 0.1, 0.1]),
        coef=np.array([1.0, 2.0, 3.0, -1.0]),
        intercept=-0.5,
        thresholds={"fr": Thresholds(0.2, 0.4)},
        interactions=2,
    )
    again = SentenceModel.from_dict(model.to_dict())
    assert again.interactions == 2 and again.thresholds == model.thresholds
    block = again.neutral_interactions(3)
    assert block.shape == (3, 2) and np.allclose(block, [0.01, -0.02])
    named = np.array([[0.85, 0.5], [0.75, 0.1], [0.8, 0.3]])
    probabilities = again.probabilities(np.hstack([named, block]))
    # at their mean the products add nothing: the named features alone decide
    expected = 1 / (1 + np.exp(-(((named - model.mean[:2]) / model.scale[:2]) @ model.coef[:2] + model.intercept)))
    assert np.allclose(probabilities, expected)
    assert SentenceModel.from_dict({**model.to_dict(), "interactions": 0}).interactions == 0

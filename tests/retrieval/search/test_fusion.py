"""Fusing the dense and lexical rankings."""

from __future__ import annotations

import pytest


def test_score_fusion_prefers_strong_agreement() -> None:
    from retrieval.search.hybrid import score_fusion

    fused = score_fusion({"a": 0.90, "b": 0.85, "c": 0.80}, {"b": 12.0, "d": 6.0}, dense_weight=0.4)
    assert max(fused, key=fused.__getitem__) == "b"  # second densely, first lexically
    assert fused["a"] == pytest.approx(0.4)  # best cosine, no BM25
    assert fused["d"] == pytest.approx(0.6 * 0.5)  # lexical only: the lowest cosine of the dense list
    assert score_fusion({}, {}, 0.4) == {}
    only_dense = score_fusion({"a": 0.9}, {}, 0.4)
    assert only_dense == {"a": pytest.approx(0.4)}


def test_reciprocal_rank_fusion_rewards_both_lists() -> None:
    from retrieval.search.hybrid import rrf

    fused = rrf([["a", "b", "c"], ["b", "d"]], k=10)
    assert max(fused, key=fused.__getitem__) == "b"
    assert fused["a"] == pytest.approx(1 / 11) and fused["d"] == pytest.approx(1 / 12)

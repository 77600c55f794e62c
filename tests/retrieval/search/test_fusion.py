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


def test_a_passage_in_the_other_language_is_ranked_on_its_dense_score_alone() -> None:
    from retrieval.search.hybrid import language_fair, score_fusion

    dense = {"fr-best": 0.88, "fr-weak": 0.80, "en-close": 0.86, "en-far": 0.81}
    lexical = {"fr-best": 10.0, "fr-weak": 5.0}  # BM25 of a French question sees French passages only
    fused = score_fusion(dense, lexical, dense_weight=0.4)
    assert fused["en-close"] < fused["fr-weak"]  # a zero BM25 sinks it below a merely word-sharing passage
    languages = {"fr-best": "fr", "fr-weak": "fr", "en-close": "en", "en-far": "en"}
    fair = language_fair(fused, dense, languages, "fr", offset=0.03)
    assert fair["en-close"] > fair["fr-weak"]  # as close as the best French one, once the cross-language gap is counted
    assert fair["en-close"] < fair["fr-best"] or fair["en-close"] == pytest.approx(fair["fr-best"])
    assert fair["en-far"] < fair["en-close"]
    assert {cid: fair[cid] for cid in ("fr-best", "fr-weak")} == {cid: fused[cid] for cid in ("fr-best", "fr-weak")}
    # all in the question's language, or languages unknown: unchanged
    assert language_fair(fused, dense, {cid: "fr" for cid in dense}, "fr", 0.03) == fused
    assert language_fair(fused, dense, {}, "fr", 0.03) == fused

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from bot.discord.feedback import FeedbackStore, VoteResult


def test_one_vote_per_user_per_answer(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    assert store.record_answer("a1", "Q ?", "R [1].", ["c1", "c2"], channel_id=7, asker_id=1)
    assert store.vote("a1", 10, 1) is VoteResult.RECORDED
    assert store.vote("a1", 10, 1) is VoteResult.UNCHANGED
    assert store.vote("a1", 10, -1) is VoteResult.CHANGED
    assert store.vote("a1", 11, 1) is VoteResult.RECORDED
    votes = store.votes("a1")
    assert sorted((v.user_id, v.vote) for v in votes) == [(10, -1), (11, 1)]
    assert votes[0].question == "Q ?" and votes[0].answer == "R [1]." and votes[0].source_ids == ["c1", "c2"]
    assert votes[0].voted_at  # a time
    # the file is plain SQLite, readable by anyone
    with sqlite3.connect(tmp_path / "sub" / "feedback.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM votes").fetchone() == (2,)


def test_full_disk_is_logged_not_raised(tmp_path: Path, monkeypatch: Any, caplog: Any) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.record_answer("a1", "Q", "R", [])

    def full(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(sqlite3, "connect", full)
    with caplog.at_level(logging.ERROR):
        assert store.vote("a1", 1, 1) is VoteResult.FAILED
        assert store.record_answer("a2", "Q", "R", []) is False
        assert store.votes() == []
    assert "disk is full" in caplog.text


def test_unwritable_place(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    store = FeedbackStore(tmp_path / "file" / "feedback.sqlite3")
    assert store.vote("a", 1, -1) is VoteResult.FAILED

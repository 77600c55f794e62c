"""Votes on the bot's answers, in a local SQLite file.

Each answer the bot sends is recorded (question, answer, source chunk ids); a vote stores
(question, answer, source ids, vote, user id, time), one per user per answer: voting again
replaces the earlier vote. Any SQLite or disk error is logged and swallowed: feedback must
never stop the bot from answering. Methods block; the bot calls them off the event loop.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    answer_id  TEXT PRIMARY KEY,
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL,
    source_ids TEXT NOT NULL,
    channel_id INTEGER,
    asker_id   INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id  TEXT NOT NULL,
    user_id    INTEGER NOT NULL,
    vote       INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    question   TEXT,
    answer     TEXT,
    source_ids TEXT,
    voted_at   TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
"""


class VoteResult(Enum):
    RECORDED = "recorded"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class Vote:
    answer_id: str
    user_id: int
    vote: int
    question: str | None
    answer: str | None
    source_ids: list[str]
    voted_at: str


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class FeedbackStore:
    def __init__(self, path: Path, *, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._ready = False

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout)
            try:
                if not self._ready:
                    conn.executescript(_SCHEMA)
                    self._ready = True
                with conn:  # one transaction
                    yield conn
            finally:
                conn.close()

    def record_answer(
        self,
        answer_id: str,
        question: str,
        answer: str,
        source_ids: Sequence[str],
        *,
        channel_id: int | None = None,
        asker_id: int | None = None,
    ) -> bool:
        """Remember an answer sent, for its votes; False (logged) when it cannot be stored."""
        try:
            with self._connect() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (answer_id, question, answer, json.dumps(list(source_ids)), channel_id, asker_id, _now()),
                )
            return True
        except (sqlite3.Error, OSError):
            log.exception("feedback: cannot record answer %s in %s", answer_id, self.path)
            return False

    def vote(self, answer_id: str, user_id: int, vote: int) -> VoteResult:
        """Store ``user_id``'s vote (+1/-1) on an answer; one vote per user per answer."""
        if vote not in (-1, 1):
            raise ValueError("vote must be +1 or -1")
        try:
            with self._connect() as conn:
                row = conn.execute(
                    "SELECT question, answer, source_ids FROM answers WHERE answer_id = ?", (answer_id,)
                ).fetchone()
                question, answer, source_ids = row if row else (None, None, "[]")
                before = conn.execute(
                    "SELECT vote FROM votes WHERE answer_id = ? AND user_id = ?", (answer_id, user_id)
                ).fetchone()
                conn.execute(
                    "INSERT INTO votes VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, "
                    "voted_at = excluded.voted_at",
                    (answer_id, user_id, vote, question, answer, source_ids, _now()),
                )
        except (sqlite3.Error, OSError):
            log.exception("feedback: cannot store the vote of %s on %s in %s", user_id, answer_id, self.path)
            return VoteResult.FAILED
        if before is None:
            return VoteResult.RECORDED
        return VoteResult.UNCHANGED if before[0] == vote else VoteResult.CHANGED

    def votes(self, answer_id: str | None = None) -> list[Vote]:
        """Stored votes (all, or one answer's); empty when the file cannot be read."""
        query = "SELECT answer_id, user_id, vote, question, answer, source_ids, voted_at FROM votes"
        args: tuple[str, ...] = ()
        if answer_id is not None:
            query += " WHERE answer_id = ?"
            args = (answer_id,)
        try:
            with self._connect() as conn:
                rows = conn.execute(query + " ORDER BY voted_at", args).fetchall()
        except (sqlite3.Error, OSError):
            log.exception("feedback: cannot read %s", self.path)
            return []
        return [Vote(r[0], r[1], r[2], r[3], r[4], json.loads(r[5] or "[]"), r[6]) for r in rows]

"""Digest subscriptions of the Discord channels, kept in SQLite (they survive restarts).

A channel gets a digest at a time of day (``HH:MM``, UTC) or every N new articles; the digest
covers what arrived since the channel's last one. Plain sqlite3: one small table, a connection per
call (the bot calls it from one thread at a time, off the event loop).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import InvalidQuestion

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER,
    at_time TEXT,
    every INTEGER,
    source TEXT,
    last_sent TEXT NOT NULL,
    created_by INTEGER,
    created_at TEXT NOT NULL
)
"""
_TIME = re.compile(r"^\s*([01]?\d|2[0-3])\s*[:hH]\s*([0-5]\d)?\s*$")


@dataclass(frozen=True)
class Subscription:
    channel_id: int
    guild_id: int | None
    at_time: str | None  # "HH:MM" UTC
    every: int | None  # a digest every N new articles
    source: str | None
    last_sent: str  # ISO time of the last digest (or of the subscription)

    def last(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.last_sent)


def parse_time(text: str) -> str:
    """``8:00``, ``08h30``, ``18h`` → ``HH:MM``; :class:`InvalidQuestion` otherwise."""
    match = _TIME.match(text)
    if not match:
        raise InvalidQuestion(f"{text!r} is not a time of day: use HH:MM, e.g. 08:00 (UTC)")
    return f"{int(match.group(1)):02d}:{match.group(2) or '00'}"


def due(sub: Subscription, now: dt.datetime, arrived_since_last: int) -> bool:
    """Whether the channel's next digest is due now."""
    if sub.every is not None:
        return arrived_since_last >= sub.every
    if sub.at_time is None:
        return False
    hour, minute = (int(part) for part in sub.at_time.split(":"))
    slot = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot > now:
        slot -= dt.timedelta(days=1)
    return sub.last() < slot


class SubscriptionStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            connection.execute(_SCHEMA)
            with connection:
                yield connection
        finally:
            connection.close()

    def subscribe(
        self, channel_id: int, guild_id: int | None, *, at_time: str | None, every: int | None,
        source: str | None, user_id: int | None, now: dt.datetime,
    ) -> Subscription:
        if (at_time is None) == (every is None):
            raise InvalidQuestion("give either a time of day or a number of new articles")
        if every is not None and not 1 <= every <= 1000:
            raise InvalidQuestion("the number of new articles must be between 1 and 1000")
        stamp = now.isoformat()
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (channel_id, guild_id, at_time, every, source, stamp, user_id, stamp),
            )
        return Subscription(channel_id, guild_id, at_time, every, source, stamp)

    def unsubscribe(self, channel_id: int) -> bool:
        with self._connect() as db:
            return db.execute("DELETE FROM subscriptions WHERE channel_id = ?", (channel_id,)).rowcount > 0

    def all(self) -> list[Subscription]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT channel_id, guild_id, at_time, every, source, last_sent FROM subscriptions ORDER BY channel_id"
            ).fetchall()
        return [Subscription(*row) for row in rows]

    def get(self, channel_id: int) -> Subscription | None:
        return next((s for s in self.all() if s.channel_id == channel_id), None)

    def mark_sent(self, channel_id: int, when: dt.datetime) -> None:
        with self._connect() as db:
            db.execute("UPDATE subscriptions SET last_sent = ? WHERE channel_id = ?", (when.isoformat(), channel_id))

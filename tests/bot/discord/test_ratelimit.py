from __future__ import annotations

import pytest

from bot.discord.ratelimit import RateLimiter


def test_sliding_window_per_key() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0
    assert limiter.hit("a") == pytest.approx(60)
    assert limiter.hit("b") == 0  # another user
    now[0] = 30
    assert limiter.hit("a") == pytest.approx(30)
    now[0] = 60.5
    assert limiter.hit("a") == 0  # both events left the window
    assert limiter.hit("a") == 0
    assert limiter.hit("a") == pytest.approx(60)


def test_refused_events_do_not_count() -> None:
    now = [0.0]
    limiter = RateLimiter(1, 10, clock=lambda: now[0])
    limiter.hit(1)
    for _ in range(5):
        assert limiter.hit(1) > 0
    now[0] = 10.1
    assert limiter.hit(1) == 0


def test_memory_is_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(1, 1, clock=lambda: now[0])
    for key in range(5000):
        now[0] = key * 2.0
        limiter.hit(key)
    assert len(limiter._events) <= 1024


def test_invalid() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 60)

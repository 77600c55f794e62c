"""The ``/ask`` options read into a QueryScope (plain functions)."""

from __future__ import annotations

import pytest

from bot.discord.cogs.questions.scope import ScopeError, make_scope, parse_day
from retrieval.types import QueryScope


@pytest.mark.parametrize(("value", "start", "end"), [
    ("2025-08-14", "2025-08-14", "2025-08-14"),
    (" 2025/8/4 ", "2025-08-04", "2025-08-04"),
    ("14/08/2025", "2025-08-14", "2025-08-14"),
    ("2025-02", "2025-02-01", "2025-02-28"),
    ("2024", "2024-01-01", "2024-12-31"),
    ("14 août 2025", "2025-08-14", "2025-08-14"),
    ("August 14, 2025", "2025-08-14", "2025-08-14"),
])
def test_dates_are_read_leniently(value: str, start: str, end: str) -> None:
    assert parse_day(value) == start and parse_day(value, end=True) == end


@pytest.mark.parametrize("value", ["2025-02-30", "2025-13-01", "n'importe quoi", "12345", ""])
def test_a_bad_date_is_a_scope_error_naming_it(value: str) -> None:
    with pytest.raises(ScopeError) as caught:
        parse_day(value)
    assert caught.value.key == "scope_bad_date" and caught.value.values == {"value": value}


def test_options_become_a_scope() -> None:
    assert make_scope() is None and make_scope(" ", "", None) is None
    assert make_scope("Le Monde, BBC ,", "2025-08", "2025-08") == QueryScope(
        since="2025-08-01", until="2025-08-31", sources=("Le Monde", "BBC"))
    assert make_scope(since="2025-08-14") == QueryScope(since="2025-08-14")
    with pytest.raises(ScopeError) as caught:
        make_scope(since="2025-09-01", until="2025-08-01")
    assert caught.value.key == "scope_bad_range"

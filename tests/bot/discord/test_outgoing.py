"""Everything the bot sends, whatever the article, the question or the model says (issue 16).

Properties, checked with hypothesis over hostile titles, dates, URLs, article texts, questions and
LLM answers (streamed or not), through the real formatting and through the real NewsBot with the
fake Discord REST layer (real discord.py objects):

- no ping: every payload's ``allowed_mentions`` pings nobody, and ``@everyone``/``@here`` are shown
  defanged;
- no masked link ``[text](url)`` (nested brackets included) and no bracket outside a ``[n]``
  citation marker: the only links are the articles' own URLs, shown as they are (``<url>``);
- no control character (other than a newline) and no direction override;
- no message over 2,000 characters and never more than ``MAX_MESSAGES`` messages per reply.

The coverage-guided fuzz of the same formatting code is ``fuzz_formatting.py`` (run by
``test_fuzz_formatting`` below, bounded, marked slow).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.discord.formatting import (
    MAX_MESSAGES,
    message_parts,
    render_answer,
    render_apology,
    render_latest,
    render_partial,
    thread_name,
)
from bot.settings import load_settings
from retrieval.types import Answer, ArticleInfo, Source
from tests.conftest import REPO
from tests.support.discord_fakes import ADMIN_ID, MANAGE_GUILD, assert_all_safe, mention, start_bot, unsafe
from tests.support.fake_service import FakeService

# fragments an attacker would try, mixed with arbitrary text
NASTY = [
    "[Cliquez ici](https://evil.example/login)", "[[Le Monde](https://evil.example/a)](https://evil.example/b)",
    "[1](https://evil.example)", "[x](<https://evil.example>)", "](", "[", "]", "(", ")", "\\", "\\[", "\\]",
    "@everyone", "@here", "<@500000000000000001>", "<@&456456456456456456>", "<#200000000000000001>",
    "</reindex:123456789012345678>", "\x1b[2J", "\x1b]0;title\x07", "\x1b]8;;https://evil.example\x1b\\lien\x1b]8;;\x1b\\",
    "\u202e", "\u2066", "\x00", "\r\n", "\t", "\x7f", "\x85", "**", "__", "~~", "||", "`", "```", "> ", "# ", "-# ",
    "https://example.org/a_b*c", "<https://evil.example>", "[12]", "[1, 2]", " [3]. ", "…", "é", "\U0001f600",
    "\u200b", "javascript:alert(1)", "\n\n", ".", " ",
]
fragment = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
PLAIN_TEXT_PROBLEMS = {"control character", "direction override"}
hostile = st.lists(fragment, max_size=25).map("".join)
huge = st.one_of(hostile, st.builds(lambda part, n: part * n, hostile, st.integers(1, 1500)))
url = st.one_of(st.none(), hostile, st.sampled_from(["https://example.org/vrai", "http://ex.org/a(b)[c]",
                                                    "https://ex.org/" + "x" * 400, "ftp://ex.org/a"]))


@st.composite
def sources(draw: Any) -> list[Source]:
    n = draw(st.integers(0, 12))
    return [Source(n=i, article_id=draw(hostile) or f"a{i}", chunk_id=f"a{i}#{i}", title=draw(huge),
                   date=draw(st.one_of(st.none(), hostile)), url=draw(url), text=draw(hostile), score=1.0,
                   cited=draw(st.booleans())) for i in range(1, n + 1)]


def check(parts: list[str]) -> None:
    assert 1 <= len(parts) <= MAX_MESSAGES
    for part in parts:
        assert unsafe(part) == [], (unsafe(part), part[:300])
        assert "@everyone" not in part and "@here" not in part


@settings(max_examples=150, deadline=None)
@given(question=huge, text=huge, notice=st.one_of(st.none(), hostile), found=sources())
def test_rendered_answers_are_safe(question: str, text: str, notice: str | None, found: list[Source]) -> None:
    answer = Answer(question=question, answer=text, refused=False, sources=found, notice=notice)
    for quote in (False, True):
        check(message_parts(render_answer(answer, quote_question=quote)) or ["empty"])


@settings(max_examples=100, deadline=None)
@given(text=huge, reason=hostile, titles=st.lists(st.tuples(huge, url, st.one_of(st.none(), hostile)), max_size=25))
def test_partials_apologies_listings_and_thread_names_are_safe(
    text: str, reason: str, titles: list[tuple[str, str | None, str | None]]
) -> None:
    check([render_partial(text)])
    check([render_apology("fr", reason or None)])
    infos = [ArticleInfo(f"a{i}", title, date, link, "now", 1) for i, (title, link, date) in enumerate(titles)]
    check(message_parts(render_latest(infos)))
    name = thread_name(text)  # plain text in Discord (no markdown): only length and control characters
    assert 0 < len(name) <= 100 and not set(unsafe(name)) & PLAIN_TEXT_PROBLEMS


async def exchange(question: str, answer: str, tokens: list[str], found: list[Source],
                   articles: list[ArticleInfo], tmp: Path) -> None:
    """One hostile exchange through the real NewsBot: a mention, a follow-up, /ask, /latest."""
    service = FakeService(text=answer, sources=found, tokens=tokens, articles=articles)
    app_settings = load_settings(data_dir=tmp / "data", corpus_dir=tmp / "corpus", discord_sync_commands=False,
                                 discord_rate_limit=1000, discord_stream_interval=0.2)
    with pytest.MonkeyPatch.context() as patch:
        h = await start_bot(service, app_settings, patch)
        try:
            first = h.fake.user_says(mention(question))
            await h.fake.settle()
            h.fake.user_says(question or "?", channel_id=int(first["id"]))  # a follow-up in its thread
            await h.fake.settle()
            h.fake.slash("ask", options={"question": question or "?"})
            h.fake.slash("latest", options={"n": 25}, user_id=ADMIN_ID, permissions=MANAGE_GUILD)
            await h.fake.settle()
            assert_all_safe(h.fake)
            for thread in h.fake.named("start_thread"):
                assert len(thread["name"]) <= 100 and not set(unsafe(thread["name"])) & PLAIN_TEXT_PROBLEMS
            answers = h.fake.named("send_message")
            assert len(answers) <= 2 * MAX_MESSAGES  # two answers in the thread, each within the cap
            assert len(h.fake.named("followup")) <= 2 * MAX_MESSAGES
        finally:
            await h.bot.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=hostile, answer=huge, tokens=st.lists(hostile, max_size=6), found=sources(),
       titles=st.lists(st.tuples(huge, url), max_size=25))
def test_the_bot_sends_nothing_unsafe(
    tmp_path: Path, question: str, answer: str, tokens: list[str], found: list[Source],
    titles: list[tuple[str, str | None]],
) -> None:
    articles = [ArticleInfo(f"a{i}", title, "2025-08-14", link, "now", 1) for i, (title, link) in enumerate(titles)]
    asyncio.run(exchange(question, answer, tokens, found, articles, tmp_path))


FUZZ = Path(__file__).with_name("fuzz_formatting.py")
CASES = Path(__file__).with_name("fuzz_cases")


def test_the_fuzz_cases_found_stay_fixed() -> None:
    """Inputs the fuzzer once found failing, replayed (fast)."""
    from tests.bot.discord.fuzz_formatting import check_input

    cases = sorted(CASES.glob("*"))
    for case in cases:
        check_input(case.read_bytes())


@pytest.mark.slow
def test_fuzz_formatting(tmp_path: Path) -> None:
    """A bounded coverage-guided fuzz of the Discord formatting code (CI-sized: ~1 minute).

    In the test suite the run is reproducible (a fixed seed and number of inputs), so that a
    gate never fails by chance; ``NEWSBOT_FUZZ_SECONDS=600`` explores instead (a random seed,
    for that long): what it finds goes to ``fuzz_cases/``."""
    pytest.importorskip("atheris")
    seconds = os.environ.get("NEWSBOT_FUZZ_SECONDS")
    budget = [f"-max_total_time={seconds}"] if seconds else ["-runs=120000", "-seed=1"]
    seeds = tmp_path / "corpus"
    seeds.mkdir()
    for i, fragment in enumerate(NASTY):  # starting points: each field holding an attacker's fragment
        (seeds / f"seed-{i}").write_bytes("\x1f".join([fragment] * 8).encode("utf-8"))
    run = subprocess.run(
        [sys.executable, str(FUZZ), *budget, "-rss_limit_mb=2048", "-max_len=4096",
         f"-artifact_prefix={tmp_path}/", str(tmp_path / "corpus")],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0"}, capture_output=True, text=True,
        timeout=600,
    )
    found = sorted(p.name for p in tmp_path.glob("crash-*"))
    assert run.returncode == 0 and not found, (found, run.stderr[-3000:])


def test_the_checks_use_the_bots_own_cap() -> None:
    from tests.support import discord_fakes

    assert discord_fakes.MAX_MESSAGES == MAX_MESSAGES

"""Coverage-guided fuzz of the Discord formatting code (atheris / libFuzzer).

    PYTHONPATH=. python tests/bot/discord/fuzz_formatting.py -max_total_time=60 [CORPUS_DIR]

Each input is cut into a question, an answer, titles, dates, URLs and ids; every reply the bot
would send from them must pass :func:`tests.support.discord_fakes.unsafe` (no masked link, no
bracket outside a citation marker, no control character, at most 2,000 characters) in at most
``MAX_MESSAGES`` messages, and a split must lose no text. A failing input found here goes to
``fuzz_cases/`` (replayed by ``test_outgoing.py``).
"""

from __future__ import annotations

import re
import sys

from retrieval.types import Answer, ArticleInfo, Source
from tests.support.discord_fakes import MAX_MESSAGES, unsafe

# bot.discord.formatting is imported by main() under atheris's instrumentation (coverage feedback
# for that module only), or on first use when the cases are replayed by the tests.


def _fields(data: bytes, n: int) -> list[str]:
    text = data.decode("utf-8", "replace")
    parts = text.split("\x1f")  # the unit separator cuts the input into fields
    return (parts + [""] * n)[:n]


def _check(parts: list[str]) -> None:
    if not 1 <= len(parts) <= MAX_MESSAGES:
        raise AssertionError(f"{len(parts)} messages")
    for part in parts:
        problems = unsafe(part)
        if problems or "@everyone" in part or "@here" in part:
            raise AssertionError((problems, part[:200]))


def check_input(data: bytes) -> None:
    from bot.discord.formatting import (
        message_parts,
        render_answer,
        render_apology,
        render_latest,
        render_partial,
        split_message,
        thread_name,
    )

    question, text, title, date, url, article_id, notice, reason = _fields(data, 8)
    source = Source(n=1, article_id=article_id or "a", chunk_id="a#0", title=title, date=date or None,
                    url=url or None, text=text, score=1.0, cited=True)
    answer = Answer(question=question, answer=text, refused=False, sources=[source, source], notice=notice or None)
    _check(message_parts(render_answer(answer, quote_question=True)) or ["x"])
    _check([render_partial(text)])
    _check([render_apology("en", reason or None)])
    _check(message_parts(render_latest([ArticleInfo(article_id or "a", title, date or None, url or None, "now", 1)])))
    name = thread_name(question)
    if not 0 < len(name) <= 100 or {"control character", "direction override"} & set(unsafe(name)):
        raise AssertionError(name)
    pieces = split_message(text, 2000)
    if re.sub(r"\s+", "", "".join(pieces)) != re.sub(r"\s+", "", text):
        raise AssertionError("the split lost or added text")


def main() -> None:
    import atheris

    with atheris.instrument_imports(include=["bot.discord.formatting"]):
        import bot.discord.formatting  # noqa: F401
    atheris.Setup(sys.argv, check_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

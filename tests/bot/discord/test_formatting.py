"""Rendering and splitting answers for Discord (plain functions)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord.formatting import (
    answer_body,
    render_answer,
    render_latest,
    render_rate_limited,
    source_line,
    split_message,
    strip_mention,
    thread_name,
)
from retrieval.types import Answer, ArticleInfo, Source

CITATION = re.compile(r"\[\d+(?:\s*[,;–-]\s*\d+)*\]")
LINK = re.compile(r"<https?://[^>\s]*>")


def src(n: int, url: str | None = "https://ex.org/a", cited: bool = True) -> Source:
    return Source(n=n, article_id=f"dir/art-{n}", chunk_id=f"c{n}", title=f"Titre *{n}*", date="2025-08-14",
                  url=url, text="...", score=1.0, cited=cited)


def test_answer_has_markers_and_a_short_sources_block() -> None:
    answer = Answer(question="q", answer="Réponse [1].", refused=False, sources=[src(1), src(2, None, cited=False)])
    text = render_answer(answer)
    assert text.startswith("Réponse [1].")
    assert "[1] **Titre \\*1\\*** — 2025-08-14 — <https://ex.org/a>" in text
    assert "[2]" not in text.split("**Sources**")[1]  # uncited sources are not listed


def test_source_without_url_shows_its_id() -> None:
    assert source_line(src(3, None)).endswith("`dir/art-3`")


def test_short_text_is_one_piece() -> None:
    assert split_message("court") == ["court"]
    assert split_message("   ") == []


def test_split_prefers_paragraphs_then_sentences() -> None:
    para = "Une phrase [1]. " * 60
    text = para.strip() + "\n\n" + para.strip()
    pieces = split_message(text, 1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert all(p.endswith("[1].") for p in pieces)


def test_split_never_cuts_a_link_or_a_citation() -> None:
    text = ("mot " * 10 + "<https://example.org/" + "x" * 40 + "> [12, 13] ") * 30
    for limit in (100, 137, 500):
        pieces = split_message(text, limit)
        assert all(len(p) <= limit for p in pieces)
        assert sum(len(LINK.findall(p)) for p in pieces) == 30
        assert sum(len(CITATION.findall(p)) for p in pieces) == 30


def test_a_huge_word_is_cut_hard() -> None:
    pieces = split_message("x" * 4500)
    assert [len(p) for p in pieces] == [2000, 2000, 500]


words = st.one_of(
    st.sampled_from(["le", "sommet", "Alaska.", "fin!", "[1]", "[2, 3]", "<https://ex.org/a-b>", "\n", "\n\n",
                     "https://ex.org/x", "<@123456789012345678>", "é" * 7]),
    st.text(alphabet="abc .\n", min_size=1, max_size=30),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(words, min_size=1, max_size=400), st.integers(min_value=40, max_value=400))
def test_split_properties(parts: list[str], limit: int) -> None:
    text = " ".join(parts)
    pieces = split_message(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert re.sub(r"\s+", "", "".join(pieces)) == re.sub(r"\s+", "", text)  # nothing lost or added
    for pattern in (CITATION, LINK):  # protected spans survive whole
        assert sum(len(pattern.findall(p)) for p in pieces) == len(pattern.findall(text))


def test_mentions_and_questions() -> None:
    assert strip_mention("<@123456789012345678>  Que  cherche <@!123456789012345678> ?", 123456789012345678) == \
        "Que cherche ?"
    assert thread_name("mot " * 100).endswith("…") and len(thread_name("mot " * 100)) <= 90




def test_quoted_question_of_an_ask_answer() -> None:
    assert answer_body("> Que \\*cherche\\* ?\nRéponse.\n**Sources**\n[1] x") == ("Que *cherche* ?", "Réponse.")


def test_small_texts() -> None:
    assert "3 s" in render_rate_limited(2.2)
    infos = [ArticleInfo("a", "@everyone titre", None, None, "now", 1)]
    assert "@everyone" not in render_latest(infos) and "`a`" in render_latest(infos)
    assert render_latest([]) != ""

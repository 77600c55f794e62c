"""Rendering and splitting answers for Discord (plain functions)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord.formatting import (
    answer_body,
    message_parts,
    no_preview_link,
    render_answer,
    render_latest,
    render_partial,
    render_rate_limited,
    render_sources,
    source_line,
    split_message,
    strip_mention,
    thread_name,
)
from retrieval.types import Answer, ArticleInfo, Source
from tests.support.discord_fakes import MAX_MESSAGES, unsafe

CITATION = re.compile(r"\[\d+(?:\s*[,;–-]\s*\d+)*\]")
LINK = re.compile(r"<https?://[^>\s]*>")


def src(n: int, url: str | None = "https://ex.org/a", cited: bool = True) -> Source:
    return Source(n=n, article_id=f"dir/art-{n}", chunk_id=f"c{n}", title=f"Titre *{n}*", date="2025-08-14",
                  url=url, text="...", score=1.0, cited=cited)


def test_answer_has_markers_and_a_short_sources_block() -> None:
    answer = Answer(question="q", answer="Réponse [1].", refused=False, sources=[src(1), src(2, None, cited=False)])
    text = render_answer(answer)
    assert text.startswith("Réponse [1].")
    assert "**Titre \\*1\\*** — 2025-08-14 — <https://ex.org/a>\n↳ [1]" in text
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


# -- hostile titles, texts and answers (issue 16, defects 3 and 4) -----------------------------
PHISH = "[Cliquez ici pour la source officielle](https://evil.example/login)"
NESTED = "[[Le Monde](https://evil.example/a)](https://evil.example/b)"


def test_a_title_cannot_become_a_masked_link() -> None:
    hostile = Source(n=1, article_id="a", chunk_id="a#0", title=PHISH, date="2025-08-14",
                     url="https://example.org/vrai", text="x", score=1.0, cited=True)
    answer = Answer(question=f"Quoi ? {NESTED}", answer="Réponse [1].", refused=False, sources=[hostile])
    for text in (source_line(hostile), render_answer(answer, quote_question=True),
                 render_latest([ArticleInfo("a", PHISH, "2025-08-14", "https://example.org/vrai", "now", 1)])):
        assert unsafe(text) == [], text
        assert "<https://example.org/vrai>" in text or "`a`" in text  # the article's own URL, shown as it is
        assert "Cliquez ici pour la source officielle" in text  # the title is still shown, as text


def test_answer_text_and_llm_answers_carry_no_masked_link() -> None:
    for text in (
        f"Selon l'article, {PHISH} [1].",  # an article quoted by the extractive answerer
        f"Voir {NESTED}.",  # nested brackets
        "Le sommet [1](https://evil.example/login) a duré trois heures [2].",  # a marker made a link
        "[Connectez-vous](<https://evil.example/login>) pour la suite [1].",  # angle-bracket target
        "Texte \\[pas un lien\\](https://evil.example) [1].",  # escapes in the source text itself
    ):
        answer = Answer(question="q", answer=text, refused=False, sources=[src(1)])
        rendered = render_answer(answer)
        assert unsafe(rendered) == [], rendered
        assert "[1]" in rendered  # citation markers stay markers
        assert unsafe(render_partial(text)) == []  # streamed LLM text too


def test_control_characters_and_direction_overrides_are_removed() -> None:
    title = "Titre \x1b[2J\x1b]0;pwn\x07 \u202egnp.exe\u202c fin"
    answer = Answer(question="q\x00", answer="Texte\x1b[31m rouge\x08 [1].", refused=False,
                    sources=[Source(1, "a\x07", "a#0", title, "2025\x0b-08-14", None, "x", 1.0, True)])
    rendered = render_answer(answer, quote_question=True)
    assert unsafe(rendered) == [], repr(rendered)
    assert "rouge" in rendered and "fin" in rendered


def test_a_citation_marker_spread_with_tabs_is_shown_with_spaces() -> None:
    answer = Answer(question="q", answer="Texte [1\t\t,\t2].", refused=False,
                    sources=[Source(1, "a", "a#0", "t", None, None, "x", 1.0, True)])
    rendered = render_answer(answer)
    assert unsafe(rendered) == [] and "[1 , 2]" in rendered, repr(rendered)


def test_titles_are_capped_and_an_answer_is_never_more_than_a_few_messages() -> None:
    long_title = "Sommet " * 14_000  # ~95 KB of front-matter title
    sources = [Source(n, f"art-{n}", f"art-{n}#0", long_title, "2025-08-14", "https://ex.org/" + "x" * 5000,
                      "x", 1.0, True) for n in range(1, 11)]
    assert len(source_line(sources[0])) < 700
    for text in ("Réponse [1].", "Une très longue phrase sans fin " * 40_000 + "[1]."):  # ~1.3 MB answer
        parts = message_parts(render_answer(Answer(question="q", answer=text, refused=False, sources=sources)))
        assert 1 <= len(parts) <= MAX_MESSAGES
        assert all(len(p) <= 2000 and unsafe(p) == [] for p in parts)
    infos = [ArticleInfo(f"a{i}", long_title, None, None, "now", 1) for i in range(25)]
    assert len(message_parts(render_latest(infos))) <= MAX_MESSAGES


# -- sources grouped by article, with their dates (issues 12 and 13) --------------------------
def passage(n: int, article: str, **kw: object) -> Source:
    values: dict[str, object] = {"n": n, "article_id": article, "chunk_id": f"{article}#{n}",
                                 "title": f"Titre {article}", "date": "2025-08-14", "url": f"https://ex.org/{article}",
                                 "text": "...", "score": 1.0, "cited": True}
    values.update(kw)
    return Source(**values)  # type: ignore[arg-type]


def test_sources_are_grouped_by_article_with_their_passages_under_it() -> None:
    sources = [passage(1, "a"), passage(2, "b"), passage(3, "a"), passage(4, "c", cited=False), passage(5, "b")]
    answer = Answer(question="q", answer="Un [1]. Deux [2]. Trois [3, 5].", refused=False, sources=sources)
    block = render_answer(answer).split("**Sources**\n")[1].splitlines()
    assert block == [
        "**Titre a** — 2025-08-14 — <https://ex.org/a>", "↳ [1] [3]",
        "**Titre b** — 2025-08-14 — <https://ex.org/b>", "↳ [2] [5]",
    ]


def test_every_source_shows_its_date_or_says_it_is_unknown() -> None:
    seen = Source(1, "a", "a#0", "T", "2025-08-20T09:30:00+02:00", None, "x", 1.0, True)
    object.__setattr__(seen, "date_kind", "seen")  # what the engine sets when the date is the day it saw the page
    published = passage(2, "b", date="2025-08-14T10:00:00Z")
    undated = passage(3, "c", date=None)
    for language, unknown, seen_on in (("fr", "date inconnue", "vu le 2025-08-20"), ("en", "date unknown",
                                                                                     "seen on 2025-08-20")):
        block = render_sources([seen, published, undated], language)
        assert f"**T** — {seen_on} — `a`" in block
        assert "**Titre b** — 2025-08-14 — <https://ex.org/b>" in block
        assert f"**Titre c** — {unknown} — <https://ex.org/c>" in block
        assert f"— {unknown} —" in render_latest([ArticleInfo("a", "T", None, None, "now", 1)], language)


def test_only_an_articles_own_plain_url_is_shown_as_a_link() -> None:
    assert no_preview_link(" https://ex.org/a_(b) ") == "<https://ex.org/a_(b)>"
    assert no_preview_link("https://ex.org/[x]") == "<https://ex.org/%5Bx%5D>"
    for bad in ("javascript:alert(1)", "https://ex.org/\x00a", "https://ex.org/a b", "[x](https://evil.example)",
                "https://ex.org/" + "x" * 400, "ftp://ex.org/a"):
        assert no_preview_link(bad) is None, bad


def test_a_cut_never_leaves_half_a_citation_marker() -> None:
    """Found by the property tests: a streamed text cut inside "[1, 2]" left an open bracket."""
    for text in ("[1, 2]" * 334, "\\[1, 2]" * 300):
        cut = render_partial(text)
        assert len(cut) <= 2000 and cut.endswith(" …") and unsafe(cut) == []


def test_a_split_never_separates_an_escape_from_its_character_nor_cuts_a_marker() -> None:
    """Found by the property tests: a hard cut between "\\" and "[" sent a bare "[" on its own; a
    cut inside a huge word (where no span protects a marker) split "[1, 2]"."""
    phish = "[Cliquez ici](https://evil.example/login)"
    for text in ("</reindex:123456789012345678>000000000[0000" * 89, (phish * 3 + "[1, 2]" + phish) * 11):
        parts = message_parts(render_answer(Answer(question="q", answer=text, refused=False, sources=[])))
        assert len(parts) >= 2 and all(unsafe(p) == [] for p in parts)

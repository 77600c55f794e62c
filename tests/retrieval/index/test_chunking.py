from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.index.chunking import chunk_article, chunk_spans, split_sentences
from retrieval.types import Article


def test_french_sentences() -> None:
    text = (
        "M. Poutine a dit : « Non. » Puis il est parti ! Est-ce vrai ? "
        "Oui, en 1867 J.-C. Dupont arriva. Les U.S. ont gagné… Mme Martin, etc. sont là. Fin"
    )
    assert split_sentences(text) == [
        "M. Poutine a dit : « Non. »",
        "Puis il est parti !",
        "Est-ce vrai ?",
        "Oui, en 1867 J.-C. Dupont arriva.",
        "Les U.S. ont gagné…",
        "Mme Martin, etc. sont là.",
        "Fin",
    ]


def test_line_breaks_end_sentences() -> None:
    assert split_sentences("Un titre\nUne phrase. Une autre") == ["Un titre", "Une phrase.", "Une autre"]


def _article(text: str) -> Article:
    return Article(id="a/b", title="T", text=text, content_hash="h1")


def test_chunks_respect_size_overlap_and_offsets() -> None:
    sentences = [f"Phrase numéro {i} qui parle du sommet en Alaska et de la guerre." for i in range(40)]
    text = " ".join(sentences[:20]) + "\n\n" + " ".join(sentences[20:])
    chunks = chunk_article(_article(text), 400, 100)
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(chunk.text) <= 400
        assert text[chunk.start:chunk.end] == chunk.text
        assert chunk.text[-1] == "."  # ends on a sentence boundary
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.start < before.end  # overlap
        assert after.start > before.start
    assert [c.id for c in chunks] == [f"a/b:h1:{i}" for i in range(len(chunks))]
    assert chunks == chunk_article(_article(text), 400, 100)  # deterministic


def test_paragraph_boundary_is_preferred() -> None:
    text = "Premier paragraphe assez long pour compter. " * 4 + "\n\n" + "Second paragraphe. " * 3
    spans = chunk_spans(text, 250, 0)
    first = text[spans[0].start:spans[0].end]
    assert "Second" not in first


def test_a_sentence_longer_than_the_size_is_cut_at_words() -> None:
    text = "mot " * 500
    chunks = chunk_article(_article(text.strip()), 200, 20)
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(not c.text.startswith(" ") for c in chunks)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=3000), st.integers(100, 800))
def test_chunking_any_text(text: str, size: int) -> None:
    if not text.strip():
        return
    chunks = chunk_article(_article(text), size, size // 5)
    assert chunks
    for chunk in chunks:
        assert 0 < len(chunk.text) <= size
        assert text[chunk.start:chunk.end] == chunk.text
    # every non-space character of the text is in some chunk
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, c in enumerate(text) if not c.isspace())


def test_each_chunk_records_its_language() -> None:
    french = "Le sommet s'est tenu en Alaska et les deux présidents ont parlé de la guerre en Ukraine."
    english = "The summit was held in Alaska and the two presidents talked about the war in Ukraine."
    chunks = chunk_article(_article(french + "\n\n" + english), 100, 0)
    assert [c.language for c in chunks] == ["fr", "en"]
    assert chunks[0].metadata()["language"] == "fr"

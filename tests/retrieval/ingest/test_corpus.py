from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import ArticleError
from retrieval.ingest.corpus import list_corpus, read_article, render_markdown, scan_corpus, stat_corpus
from tests.conftest import REPO


def test_first_article_is_in_the_corpus_format() -> None:
    scan = scan_corpus(REPO / "corpus")
    ids = [a.id for a in scan.articles]
    assert "alaska-summit" in ids
    article = next(a for a in scan.articles if a.id == "alaska-summit")
    assert article.title.startswith("Diplomatie en jeu")
    assert article.language == "fr"
    assert "Yalta moderne" in article.text
    assert not scan.skipped


def test_formats_and_ids(tmp_path: Path) -> None:
    (tmp_path / "2025" / "08").mkdir(parents=True)
    (tmp_path / "2025" / "08" / "sanctions.md").write_text(
        "---\ntitle: Sanctions\ndate: 2025-08-01\nurl: https://e.org/s\nsource: E\n---\n\n# Titre\n\nLe **texte** et un [lien](https://x).\n",
        encoding="utf-8",
    )
    (tmp_path / "note.txt").write_text("Un titre\n\nLe corps du texte.\n", encoding="utf-8")
    html = (
        "<html><head><title>Page</title><meta property='og:title' content='Le sommet'></head><body>"
        "<nav>Menu Accueil</nav><article><h1>Le sommet</h1>"
        + "<p>Vladimir Poutine et Donald Trump se sont rencontrés en Alaska pour discuter de la guerre en Ukraine. "
        "Les deux dirigeants ont évoqué un possible cessez-le-feu et des échanges de territoires.</p>" * 3
        + "</article><footer>Mentions légales</footer></body></html>"
    )
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    scan = scan_corpus(tmp_path)
    by_id = {a.id: a for a in scan.articles}
    assert set(by_id) == {"2025/08/sanctions", "note", "page"}
    md = by_id["2025/08/sanctions"]
    assert (md.title, md.date, md.url, md.source) == ("Sanctions", "2025-08-01", "https://e.org/s", "E")
    assert md.text == "Titre\n\nLe texte et un lien."
    assert by_id["note"].title == "Un titre" and by_id["note"].text == "Le corps du texte."
    assert "Alaska" in by_id["page"].text and "Mentions légales" not in by_id["page"].text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty"),
        ("blank.txt", b"   \n\n", "empty"),
        ("binary.txt", b"\x00\x01\x02PNG", "binary"),
        ("latin1.txt", "Titre\nL'été à Montréal".encode("latin-1"), "UTF-8"),
        ("nofront.md", b"Just text", "no front matter"),
        ("unclosed.md", b"---\ntitle: x\n\nbody", "not closed"),
        ("badyaml.md", b"---\ntitle: [unclosed\n---\nbody", "not valid YAML"),
        ("notitle.md", b"---\ndate: 2025-01-01\n---\nbody", "no title"),
        ("list.md", b"---\n- a\n- b\n---\nbody", "key: value"),
        ("titleonly.txt", b"Only a title\n", "no text"),
    ],
)
def test_malformed_files_are_skipped_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / "good.txt").write_text("Bon titre\nUn texte valable.", encoding="utf-8")
    (tmp_path / name).write_bytes(content)
    scan = scan_corpus(tmp_path)
    assert [a.id for a in scan.articles] == ["good"]
    assert len(scan.skipped) == 1
    path, why = scan.skipped[0]
    assert path == name
    assert reason in why


def test_huge_file_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("Titre\n" + "mot " * 3000, encoding="utf-8")
    with pytest.raises(ArticleError, match="too large"):
        read_article(path, "huge", max_bytes=1000)


def test_hash_changes_with_content_and_salt(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Titre\nTexte", encoding="utf-8")
    one = read_article(path, "a").content_hash
    assert read_article(path, "a").content_hash == one
    assert read_article(path, "a", salt="size=10").content_hash != one
    path.write_text("Titre\nTexte modifié", encoding="utf-8")
    assert read_article(path, "a").content_hash != one


def test_hidden_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / ".draft.md").write_text("---\ntitle: x\n---\ny", encoding="utf-8")
    (tmp_path / "_notes.txt").write_text("x\ny", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    assert scan_corpus(tmp_path).articles == []


def test_stat_corpus_lists_what_list_corpus_lists_with_sizes_and_times(tmp_path: Path) -> None:
    import os
    import unicodedata

    (tmp_path / "2025" / "août").mkdir(parents=True)
    (tmp_path / "2025" / "août" / "sommet.md").write_text("---\ntitle: x\n---\ny", encoding="utf-8")
    (tmp_path / "b.TXT").write_text("x\ny", encoding="utf-8")
    (tmp_path / unicodedata.normalize("NFD", "été.md")).write_text("x\ny", encoding="utf-8")
    (tmp_path / ".draft.md").write_text("x", encoding="utf-8")
    (tmp_path / "_notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "outside.md").symlink_to("/etc/hostname")
    found = stat_corpus(tmp_path)
    assert found is not None
    files, listing = found
    assert sorted(files) == ["2025/août/sommet", "b", "été"]  # ids in NFC, as article_id_for gives
    assert len(files) == len(list_corpus(tmp_path).files)
    st = os.stat(tmp_path / "b.TXT")
    assert files["b"] == (st.st_size, st.st_mtime_ns)
    assert [rel for rel, _ in listing.refused] == ["outside.md"]
    # two files giving one article id: the caller must take the whole path, which reports them
    (tmp_path / "b.md").write_text("x\ny", encoding="utf-8")
    assert stat_corpus(tmp_path) is None


def test_render_markdown_round_trips(tmp_path: Path) -> None:
    meta = {"title": "Titre : « citation »", "date": "2025-08-15", "url": "https://e.org/a?b=1", "source": "E"}
    path = tmp_path / "a.md"
    path.write_text(render_markdown(meta, "Le texte."), encoding="utf-8")
    article = read_article(path, "a")
    assert (article.title, article.date, article.url, article.source) == (
        meta["title"], meta["date"], meta["url"], meta["source"]
    )
    assert article.text == "Le texte."


def test_scan_files_reads_the_given_files_alone(tmp_path: Path) -> None:
    from retrieval.ingest.corpus import scan_files

    root = tmp_path / "corpus"
    (root / "fil").mkdir(parents=True)
    (root / "fil" / "a.md").write_text("---\ntitle: A\n---\n\nUn texte assez long pour un article.\n", encoding="utf-8")
    (root / "fil" / "b.md").write_text("---\ntitle: B\n---\n\nUn autre texte.\n", encoding="utf-8")
    (root / "fil" / "bad.md").write_bytes(b"\x00\x00")
    scan = scan_files(root, [root / "fil" / "a.md", root / "fil" / "gone.md", root / "fil" / "bad.md",
                             root / "fil" / "_draft.md", root / "fil" / "notes.docx"])
    assert scan is not None
    assert [a.id for a in scan.articles] == ["fil/a"]
    assert scan.looked_at == {"fil/a", "fil/gone", "fil/bad"}  # b is not looked at; gone is
    assert [p for p, _ in scan.skipped] == ["fil/bad.md"]
    # only a whole scan can judge a folder (the corpus folder itself too), or two files giving one article id
    assert scan_files(root, [root / "fil"]) is None and scan_files(root, [root]) is None
    (root / "fil" / "a.txt").write_text("Le même article en texte.", encoding="utf-8")
    assert scan_files(root, [root / "fil" / "a.md"]) is None
    with pytest.raises(ArticleError, match="not a file of the corpus folder"):
        scan_files(root, [tmp_path / "elsewhere.md"])

"""Bad input and damaged state: each gets a clear outcome, nothing crashes or is lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.errors import IndexMissing, InvalidQuestion, NewsbotError
from retrieval.ingest.corpus import scan_corpus
from retrieval.service import open_service


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=2000), suffix=st.sampled_from([".md", ".txt", ".html"]))
def test_any_file_is_read_or_skipped(tmp_path_factory, content: bytes, suffix: str) -> None:
    root = tmp_path_factory.mktemp("c")
    (root / f"x{suffix}").write_bytes(content)
    (root / "good.txt").write_text("Titre\nTexte.", encoding="utf-8")
    scan = scan_corpus(root)
    assert "good" in [a.id for a in scan.articles]
    assert len(scan.articles) + len(scan.skipped) == 2
    for _, reason in scan.skipped:
        assert reason and "\n" not in reason


@pytest.fixture(scope="module")
def service(tmp_path_factory, models_dir, small_embeddings):
    from retrieval.settings import load_settings
    from tests.conftest import REPO

    root = tmp_path_factory.mktemp("robust")
    shutil.copytree(REPO / "corpus", root / "corpus")
    settings = load_settings(
        embedding_model="packaged:all-minilm-l6-v2", embedding_quantize=False, data_dir=root / "data",
        model_dir=models_dir, corpus_dir=root / "corpus",
    )
    svc = open_service(settings, create=True, embeddings=small_embeddings)
    svc.reindex()
    return svc


questions = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(["", " ", "\n\t", "@everyone", "<@123> **gras** `code`", "\x00\x1b[31m", "🇫🇷" * 50]),
    st.integers(1990, 2100).map(lambda n: "a" * n),
)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=questions)
def test_any_question_gets_an_answer_or_a_clear_error(service, question: str) -> None:
    try:
        answer = service.ask(question)
    except InvalidQuestion as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(answer.answer, str) and answer.answer
    assert answer.refused or answer.cited_sources


@pytest.mark.slow
def test_huge_question_is_refused_quickly(service) -> None:
    with pytest.raises(InvalidQuestion, match="too long"):
        service.ask("x" * 100_000)


@pytest.mark.slow
def test_damaged_or_deleted_index(settings_factory, small_embeddings) -> None:
    settings = settings_factory()
    open_service(settings, create=True, embeddings=small_embeddings).reindex()
    index = settings.index_path
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # as in a new process
    # deleted: "no index yet"
    shutil.rmtree(index)
    with pytest.raises(IndexMissing, match="newsbot reindex"):
        open_service(settings, embeddings=small_embeddings)
    # corrupted: one clear line naming --rebuild, then --rebuild recovers
    index.mkdir(parents=True)
    (index / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    SharedSystemClient.clear_system_cache()
    with pytest.raises(NewsbotError, match="--rebuild"):
        open_service(settings, embeddings=small_embeddings)
    service = open_service(settings, rebuild=True, embeddings=small_embeddings)
    report = service.reindex()
    assert len(report.added) == 3
    assert not service.ask("Quel est le nouveau plafond du prix du pétrole russe ?").refused


def test_duplicate_article_ids_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\ntexte", encoding="utf-8")
    (tmp_path / "a.txt").write_text("A\ntexte", encoding="utf-8")
    scan = scan_corpus(tmp_path)
    assert [a.id for a in scan.articles] == ["a"]
    assert "same article id" in scan.skipped[0][1]

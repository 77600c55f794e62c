"""The embedded defaults (multilingual-e5-small, ONNX) on the real corpus, French and English."""

from __future__ import annotations

import shutil

import pytest

from retrieval.service import open_service
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory, models_dir):
    from retrieval.settings import load_settings

    root = tmp_path_factory.mktemp("defaults")
    shutil.copytree(REPO / "corpus", root / "corpus")
    settings = load_settings(data_dir=root / "data", model_dir=models_dir, corpus_dir=root / "corpus")
    svc = open_service(settings, create=True)
    svc.reindex()
    return svc


def test_french_question(service) -> None:
    answer = service.ask("Avec quels pays Poutine cherche-t-il des alliances stratégiques ?")
    assert not answer.refused and "la Chine, l’Inde" in answer.answer


def test_english_question_about_a_french_article(service) -> None:
    answer = service.ask("Who did Putin call?")
    assert not answer.refused
    first_sentence = answer.answer.split("[", 1)[0]
    assert "échangé des appels" in first_sentence
    assert answer.cited_sources[0].article_id == "alaska-summit"


def test_unrelated_questions_are_refused(service) -> None:
    for question in ("Quel est le prix du Bitcoin ?", "Who won the 1998 football world cup?"):
        assert service.ask(question).refused, question

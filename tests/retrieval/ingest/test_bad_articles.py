"""Bad articles through a real `newsbot reindex --json`, and generated ones through the real service.

Each bad file gets a clear outcome: skipped with one warning line naming it (and the JSON
count), the rest of the corpus indexed as usual, exit status 0, never a traceback.

Duplicated content under two names: both are indexed, as two articles (an article is a
file: its id is its path). Nothing is lost if one of them is later deleted or edited,
and an answer may list both as sources. Exact duplicates are stopped earlier, where they
come from: ``newsbot add``/``feeds`` skip a page whose text is already in the corpus.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import cli_env, write_article

TEN_MB = 10 * 1024 * 1024

TWIN = (
    "Le barrage de Grand-Ouistreham sera rehaussé de quatre mètres d'ici 2027, a annoncé la préfecture.\n\n"
    "Les travaux du barrage coûteront 85 millions d'euros et protégeront la vallée des crues."
)

BAD_FILES: dict[str, bytes] = {
    "huge.md": b"---\ntitle: Trop long\n---\n\n" + b"Une phrase de remplissage. " * (TEN_MB // 27 + 10),
    "binary.md": bytes(range(256)) * 20,
    "broken-yaml.md": b"---\ntitle: [pas ferm\xc3\xa9\ndate: 2025-08-01\n---\n\nTexte de l'article.\n",
    "unclosed.md": b"---\ntitle: Sans fin\n\nLe bloc d'en-t\xc3\xaate n'est jamais ferm\xc3\xa9.\n",
    "no-title.md": b"---\ndate: 2025-08-01\n---\n\nUn article sans titre.\n",
    "no-front-matter.md": b"Juste du texte, sans en-t\xc3\xaate.\n",
    "empty.txt": b"",
    "latin1.txt": "Titre\nUn texte encodé en Latin-1 : été, café.".encode("latin-1"),
}


def newsbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_bad_articles_are_skipped_one_line_each(corpus: Path, tmp_path: Path, models_dir: Path) -> None:
    bad = corpus / "bad"
    bad.mkdir()
    for name, content in BAD_FILES.items():
        (bad / name).write_bytes(content)
    assert (bad / "huge.md").stat().st_size > TEN_MB
    write_article(corpus, "twins/original", "Le barrage sera rehaussé", TWIN, date="2025-08-20")
    (corpus / "twins" / "copie.md").write_bytes((corpus / "twins" / "original.md").read_bytes())
    env = cli_env(tmp_path / "data", corpus, models_dir)

    done = newsbot(env, "reindex", "--json")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    report = json.loads(done.stdout)
    assert report["skipped"] == len(BAD_FILES)
    assert report["added"] == 3 + 2  # the good corpus and both twins
    warnings = [line for line in done.stderr.splitlines() if "skipped" in line]
    assert len(warnings) == len(BAD_FILES), done.stderr
    for name in BAD_FILES:
        [line] = [w for w in warnings if f"bad/{name}:" in w]
        assert line.startswith("newsbot: skipped bad/")  # one line per file, its path relative to the corpus
    reason = {name: next(w for w in warnings if f"bad/{name}:" in w) for name in BAD_FILES}
    assert "too large" in reason["huge.md"]
    assert "binary" in reason["binary.md"]
    assert "not valid YAML" in reason["broken-yaml.md"]
    assert "not closed" in reason["unclosed.md"]
    assert "no title" in reason["no-title.md"]
    assert "no front matter" in reason["no-front-matter.md"]
    assert "empty" in reason["empty.txt"]
    assert "UTF-8" in reason["latin1.txt"]

    # the rest is answered as usual; the twins are both indexed (the counts above and below) and,
    # being the same text, shown once among the sources (near-duplicates are folded)
    asked = newsbot(env, "ask", "--json", "De combien de mètres le barrage de Grand-Ouistreham sera-t-il rehaussé ?")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert not answer["refused"] and "quatre mètres" in answer["answer"]
    twins = {s["article_id"] for s in answer["sources"]} & {"twins/original", "twins/copie"}
    assert len(twins) == 1
    asked = newsbot(env, "ask", "--json", "Quel est le nouveau plafond du prix du pétrole russe ?")
    assert "47,6 dollars" in json.loads(asked.stdout)["answer"]

    # a second run changes nothing and reports the same skips
    again = newsbot(env, "reindex", "--json")
    assert json.loads(again.stdout) == {**report, "added": 0, "unchanged": 5}


# -- generated articles through the real service ------------------------------------------------
titles = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["@everyone", "<@123456789012345678>", "[lien](http://x)", "'", '"', ": :", "- a", "null"]),
)
bodies = st.one_of(
    st.text(max_size=1500),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=1500),
    st.sampled_from(["", "   \n\t", "@everyone @here <@&456> /reindex", "```\ncode\n```", "\x00\x01\x1b[31m"]),
)
front_matter = st.one_of(
    st.builds(lambda t: f"---\ntitle: {json.dumps(t, ensure_ascii=False)}\n---\n", titles),  # valid YAML
    st.builds(lambda t: f"---\ntitle: {t}\n---\n", titles),  # raw: may be broken YAML
    st.builds(lambda t: f"---\ntitle: {t}\n", titles),  # never closed
    st.just("---\n- a\n- b\n---\n"),  # not key: value
    st.just("---\ntitle:\n  nested: true\n---\n"),  # not text
    st.just(""),  # none
)
articles = st.lists(st.tuples(front_matter, bodies), min_size=1, max_size=4)


@pytest.fixture(scope="module")
def gen_service(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, small_embeddings: object) -> object:
    from retrieval.service import open_service
    from retrieval.settings import load_settings

    root = tmp_path_factory.mktemp("generated")
    corpus = root / "corpus"
    write_article(corpus, "ancre", "Un article stable", "Le phare de Cordouan est classé au patrimoine mondial.")
    settings = load_settings(
        embedding_model="packaged:all-minilm-l6-v2", embedding_quantize=False, data_dir=root / "data",
        model_dir=models_dir, corpus_dir=corpus,
    )
    service = open_service(settings, create=True, embeddings=small_embeddings)
    service.reindex()
    return service


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=articles)
def test_generated_articles_are_indexed_or_skipped(gen_service: object, files: list[tuple[str, str]]) -> None:
    from retrieval.service import AnsweringService

    assert isinstance(gen_service, AnsweringService)
    service = gen_service
    folder = service.settings.corpus_dir / "gen"
    for old in folder.glob("*.md") if folder.exists() else []:
        old.unlink()
    folder.mkdir(exist_ok=True)
    for i, (front, body) in enumerate(files):
        (folder / f"{i}.md").write_text(front + "\n" + body, encoding="utf-8", errors="surrogatepass")
    report = service.reindex()
    ids = {f"gen/{i}" for i in range(len(files))}
    indexed = ids & (set(report.added) | set(report.updated) | set(report.unchanged))
    skipped = {path.rsplit(".", 1)[0] for path, _ in report.skipped}
    assert indexed | (skipped & ids) == ids and not indexed & skipped  # each file: one clear outcome
    for _, reason in report.skipped:
        assert reason and "\n" not in reason and "Traceback" not in reason
    manifest = service.store.manifest()
    assert "ancre" in manifest  # nothing else affected
    chunk_ids = service.store.chunk_ids()
    assert len(chunk_ids) == len(set(chunk_ids)) == sum(e.chunks for e in manifest.values())
    answer = service.ask("Quel phare est classé au patrimoine mondial ?")
    assert any(s.article_id == "ancre" for s in answer.sources)

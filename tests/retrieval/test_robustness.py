"""Bad input and damaged state: each gets a clear outcome, nothing crashes or is lost."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from retrieval.errors import IndexMissing, InvalidQuestion, NewsbotError
from retrieval.ingest.corpus import scan_corpus
from retrieval.service import open_service
from tests.conftest import REPO


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


# -- property tests through the real processes (issue 16: the tests that would have caught them) ----
# Article files of every shape: front-matter values of every YAML type (and raw YAML, tagged or
# broken), dates possible and impossible, encodings, line endings, sizes. A "good" file (a text
# title, a text body, well-formed YAML) must be indexed and answerable whatever else its front
# matter holds; any other file is skipped with one warning naming it. `newsbot reindex` never
# shows a traceback and loses nothing: the anchor article stays answerable throughout.
RAW_YAML = [
    "2025-02-30", "2025-13-01", "2025-01-01 25:00:00", "2025-08-15", "2025-08-15T10:00:00+02:00", "15 août 2025",
    "yes", "no", "~", "null", "0x1F", "1e3", ".inf", ".nan", "'texte'", '"texte"', "!!binary aGVsbG8=",
    "!!str 12", "!!set {a, b}", "[2025, 8]", "{jour: 15}", "&ancre [1, *ancre]", "''",
]
BROKEN_YAML = [
    "!!int abc", "!!float abc", "!!timestamp 2025-02-30", "!!timestamp 2025-08-15T10:=00:00Z", "[1, 2",
    "{a: b", "'pas fermé", "!!python/object/apply:os.system [ls]", "*inconnue", "a: b: c", "\t- x",
]
# any text but NUL: a NUL byte makes a file binary (skipped by design, tested in test_corpus)
prose = st.characters(codec="utf-8", exclude_characters="\x00")
yaml_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(prose, max_size=40), st.dates(), st.datetimes(),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
FIELDS = ("date", "source", "author", "url", "language", "tags")


def yaml_line(key: str, value: object) -> str:
    import yaml

    return yaml.safe_dump({key: value}, allow_unicode=True, width=10**6, default_flow_style=True)[1:-2] + "\n"


@st.composite
def good_files(draw: st.DrawFn, token: str) -> tuple[str, bytes]:
    title = draw(st.text(prose, max_size=60)) + f" Dossier {token}"
    lines = yaml_line("title", title)
    for key in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=4)):
        raw = draw(st.one_of(st.sampled_from(RAW_YAML), st.none()))
        lines += f"{key}: {raw}\n" if raw is not None else yaml_line(key, draw(yaml_values))
    filler = draw(st.one_of(st.text(prose, max_size=800), st.just("mot " * 60_000)))  # up to a one-line 240 KB body
    body = f"Le mot clef {token} désigne ce dossier. " + filler
    text = f"---\n{lines}---\n\n{body}\n"
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig"]))
    return ".md", text.encode(encoding, "surrogatepass")


@st.composite
def bad_files(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["broken", "title", "encoding", "empty", "binary"]))
    if kind == "broken":
        text = f"---\ntitle: Cassé\ndate: {draw(st.sampled_from(BROKEN_YAML))}\n---\n\nTexte.\n"
        return ".md", text.encode()
    if kind == "title":  # a title that is not text, or no title
        value = draw(st.one_of(st.none(), st.lists(st.integers(), min_size=1), st.just({"a": 1}), st.just("")))
        return ".md", f"---\n{yaml_line('title', value)}---\n\nTexte.\n".encode()
    if kind == "encoding":
        return draw(st.sampled_from([".md", ".txt"])), "Titre\nTexte accentué : été.".encode(draw(st.sampled_from(["utf-16", "latin-1"])))
    if kind == "empty":
        suffix = draw(st.sampled_from([".md", ".txt", ".html"]))
        # an empty front matter is a bad .md, but "---" is a fine title for a .txt
        return suffix, draw(st.sampled_from([b"", b"  \n\t", *([b"---\n---\n"] if suffix == ".md" else [])]))
    return ".md", bytes(range(256)) * draw(st.integers(1, 4))


@st.composite
def corpora(draw: st.DrawFn) -> tuple[dict[str, bytes], dict[str, str], int]:
    """Files by name; the token of each good one; the number of bad ones."""
    files: dict[str, bytes] = {}
    tokens: dict[str, str] = {}
    salt = draw(st.integers(0, 10**6))
    for i in range(draw(st.integers(1, 4))):
        token = f"zorblax{salt}x{i}"
        suffix, data = draw(good_files(token))
        files[f"good{i}{suffix}"] = data
        tokens[f"gen/good{i}"] = token
    bad = draw(st.lists(bad_files(), max_size=3))
    for i, (suffix, data) in enumerate(bad):
        files[f"bad{i}{suffix}"] = data
    return files, tokens, len(bad)


def newsbot(env: dict[str, str], *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env=env, input=stdin, capture_output=True, timeout=600
    )


@pytest.fixture(scope="module")
def cli_corpus(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> tuple[Path, dict[str, str]]:
    from tests.conftest import cli_env, write_article

    root = tmp_path_factory.mktemp("prop")
    corpus = root / "corpus"
    write_article(corpus, "ancre", "Le phare de Cordouan", "Le phare de Cordouan est classé au patrimoine mondial.")
    env = cli_env(root / "data", corpus, models_dir, NEWSBOT_ARTICLE_MAX_CHUNKS="20", PYTHONPATH=str(REPO))
    return corpus, env


@pytest.mark.slow
@settings(
    max_examples=4, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: 2 processes an example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large, HealthCheck.too_slow],
)
@given(generated=corpora())
def test_any_article_files_through_a_real_reindex(
    cli_corpus: tuple[Path, dict[str, str]], generated: tuple[dict[str, bytes], dict[str, str], int]
) -> None:
    corpus, env = cli_corpus
    files, tokens, bad = generated
    folder = corpus / "gen"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    done = newsbot(env, "reindex", "--json")
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0 and "Traceback" not in out + err, err[-3000:]
    report = json.loads(out)
    assert report["skipped"] == bad, err[-3000:]  # every good file indexed, every bad one skipped...
    skipped_lines = [line for line in err.splitlines() if "skipped" in line]
    assert len(skipped_lines) == bad and all("gen/bad" in line for line in skipped_lines)  # ...with its name
    questions = [f"Que désigne {token} ?" for token in tokens.values()] + ["Quel phare est classé au patrimoine mondial ?"]
    asked = newsbot(env, "ask", "--jsonl", stdin="\n".join(questions).encode() + b"\n")
    assert asked.returncode == 0 and b"Traceback" not in asked.stderr, asked.stderr[-3000:]
    answers = [json.loads(line) for line in asked.stdout.decode().splitlines()]
    assert len(answers) == len(questions)
    for (article_id, _), answer in zip([*tokens.items(), ("ancre", "")], answers, strict=True):
        assert article_id in {s["article_id"] for s in answer["sources"]}, (article_id, answer)


questions_bytes = st.lists(st.binary(min_size=1, max_size=200).filter(lambda b: b"\n" not in b), min_size=1, max_size=5)


@pytest.mark.slow
@settings(
    max_examples=3, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=questions_bytes)
def test_any_bytes_as_questions_through_ask_jsonl(cli_corpus: tuple[Path, dict[str, str]], lines: list[bytes]) -> None:
    corpus, env = cli_corpus
    if newsbot(env, "reindex", "--json").returncode != 0:
        pytest.fail("the index could not be built")
    anchor = "Quel phare est classé au patrimoine mondial ?".encode()
    asked = newsbot(env, "ask", "--jsonl", stdin=b"\n".join([*lines, anchor]) + b"\n")
    assert b"Traceback" not in asked.stderr and b"unexpected error" not in asked.stderr, asked.stderr[-2000:]
    answers = [json.loads(line) for line in asked.stdout.decode().splitlines()]
    assert len(answers) == sum(1 for line in lines if line.strip()) + 1  # one line out per question in
    assert "ancre" in {s["article_id"] for s in answers[-1].get("sources", [])}  # the stream went on

"""``ask --jsonl`` conversations, ``ask --source/--since/--until`` and sources grouped by article
(issue 12 item 7 and item 2's terminal side)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.cli import engine
from bot.cli.main import main
from bot.cli.render import render_answer, render_sources
from retrieval.errors import InvalidQuestion
from retrieval.types import Answer, QueryScope, Source, Turn


def src(n: int, article: str, *, date: str | None = "2025-08-14", cited: bool = True, **extra: Any) -> Source:
    source = Source(n=n, article_id=article, chunk_id=f"{article}#{n}", title=f"Titre {article}", date=date,
                    url=f"https://example.org/{article}", text=f"Passage {n} de {article}.", score=0.5,
                    cited=cited)
    for key, value in extra.items():  # fields a newer Source carries (date_kind)
        object.__setattr__(source, key, value)
    return source


@dataclass
class Recorder:
    """Answers "réponse à <question>" and records what it was asked with."""

    calls: list[tuple[str, list[Turn], QueryScope | None]] = field(default_factory=list)

    def ask(self, question: str, history: Any = (), *, on_token: Any = None, scope: QueryScope | None = None) -> Answer:
        if not question.strip():
            raise InvalidQuestion("the question is empty")
        self.calls.append((question, list(history), scope))
        return Answer(question=question, answer=f"réponse à {question}", refused=False, sources=[src(1, "a")])

    def load_vectors_meanwhile(self) -> Any:  # what a one-shot ask starts before asking
        self.calls.append(("(vectors loading)", [], None))

    def load_models(self) -> None:  # and does while they load
        self.calls.append(("(models loading)", [], None))


def run_lines(text: bytes, scope: QueryScope | None = None) -> tuple[int, list[dict[str, Any]], Recorder]:
    service = Recorder()
    out = io.StringIO()
    import sys

    saved, sys.stdout = sys.stdout, out
    try:
        status = engine.answer_lines(service, io.BytesIO(text), scope)
    finally:
        sys.stdout = saved
    return status, [json.loads(line) for line in out.getvalue().splitlines()], service


def test_jsonl_conversations_are_follow_ups() -> None:
    lines = "\n".join([
        json.dumps({"question": "Où s'est tenu le sommet ?", "conversation": "c1"}),
        "Une question simple ?",
        json.dumps({"question": "Quel est le prix du pétrole ?", "conversation": "c2"}),
        json.dumps({"question": "Et Zelensky ?", "conversation": "c1"}),
        json.dumps({"question": "Et en septembre ?", "conversation": "c2"}),
    ]).encode()
    status, rows, service = run_lines(lines)
    assert status == 0 and len(rows) == 5
    history = {question: turns for question, turns, _ in service.calls}
    assert history["Et Zelensky ?"] == [Turn("Où s'est tenu le sommet ?", "réponse à Où s'est tenu le sommet ?")]
    assert history["Et en septembre ?"] == [Turn("Quel est le prix du pétrole ?", "réponse à Quel est le prix du pétrole ?")]
    assert history["Une question simple ?"] == []
    assert [row.get("conversation") for row in rows] == ["c1", None, "c2", "c1", "c2"]
    assert "conversation" not in rows[1] and rows[1]["answer"] == "réponse à Une question simple ?"


def test_jsonl_bad_lines_are_reported_and_the_rest_goes_on() -> None:
    lines = b'{"question": 3}\n{not json\n   \n{"question": "  ", "conversation": "x"}\nEncore une ?\n'
    status, rows, service = run_lines(lines)
    assert status == 1
    assert len(rows) == 4 and [("error" in row) for row in rows] == [True, True, True, False]
    assert "line 1" in rows[0]["error"] and "line 2" in rows[1]["error"] and rows[2]["conversation"] == "x"
    assert rows[3]["answer"] == "réponse à Encore une ?"


def test_scope_options_reach_the_service(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    service = Recorder()
    monkeypatch.setattr("retrieval.service.open_service", lambda settings, **kw: service)
    assert main(["ask", "--source", "Le Monde", "--source", "AFP", "--since", "2025-08-01", "--until",
                 "2025-08-31", "Qu'a dit Zelensky ?"]) == 0
    # Chroma loads its vectors while the models load, then the question is asked
    assert [call[0] for call in service.calls[:2]] == ["(vectors loading)", "(models loading)"]
    assert service.calls[-1][2] == QueryScope(since="2025-08-01", until="2025-08-31", sources=("Le Monde", "AFP"))
    assert main(["ask", "Sans limite ?"]) == 0
    assert service.calls[-1][2] is None
    assert "Titre a" in capsys.readouterr().out


def test_sources_grouped_by_article_with_their_dates() -> None:
    sources = [src(1, "a"), src(2, "b", date=None), src(3, "a"), src(4, "c", date="2025-08-02", date_kind="seen")]
    text = render_sources(sources)
    lines = text.splitlines()
    numbered = [line for line in lines if not line.startswith(" ")]
    # one entry per article, its passages under it; every [n] line ends with where to read it
    assert numbered == [
        "[1] Titre a — 2025-08-14 — https://example.org/a",
        "[3] ↳ same article — https://example.org/a",
        "[2] Titre b — date unknown — https://example.org/b",
        "[4] Titre c — seen on 2025-08-02 — https://example.org/c",
    ]
    assert lines[1].strip().startswith("Passage 1") and lines[3].strip().startswith("Passage 3")
    short = render_sources(sources, with_text=False).splitlines()
    assert short[:2] == ["[1] Titre a — 2025-08-14 — https://example.org/a", "[3] ↳ same article — https://example.org/a"]
    answer = Answer(question="q", answer="Réponse [1][3].", refused=False,
                    sources=[src(1, "a"), src(2, "b", cited=False), src(3, "a")])
    rendered = render_answer(answer)
    assert rendered.count("Titre a") == 1 and "Titre b" not in rendered

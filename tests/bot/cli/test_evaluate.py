"""Tests of ``newsbot eval``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import build_parser, main
from tests.conftest import SMALL_MODEL
from tests.retrieval.evaluation.test_squad import TINY


@pytest.fixture
def tiny_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def small_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, models_dir: Path) -> None:
    monkeypatch.setenv("NEWSBOT_EMBEDDING_MODEL", SMALL_MODEL)
    monkeypatch.setenv("NEWSBOT_EMBEDDING_QUANTIZE", "false")
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSBOT_MODEL_DIR", str(models_dir))


def test_eval_is_registered_with_its_options() -> None:
    args = build_parser().parse_args(
        ["eval", "d.json", "--json", "--limit", "5", "--seed", "3", "--paragraphs", "9", "--extra", "x.json"]
    )
    assert args.command == "eval"
    assert (args.limit, args.seed, args.paragraphs, args.json) == (5, 3, 9, True)
    assert args.extra == [Path("x.json")]
    defaults = build_parser().parse_args(["eval", "d.json"])
    assert (defaults.limit, defaults.seed, defaults.paragraphs, defaults.json) == (None, 0, None, False)


def test_missing_dataset_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["eval", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsbot: cannot read the dataset") and err.count("\n") == 1


@pytest.mark.parametrize("option", ["--limit", "--paragraphs"])
def test_bad_counts_are_refused(capsys: pytest.CaptureFixture[str], tiny_path: Path, option: str) -> None:
    assert main(["eval", str(tiny_path), option, "0"]) == 2
    assert "must be at least 1" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_json_with_the_small_model(
    capsys: pytest.CaptureFixture[str], tiny_path: Path, tmp_path: Path, small_env: None
) -> None:
    extra = tmp_path / "unanswerable.json"
    extra.write_text('[{"question": "Who won the 2022 FIFA World Cup final in Qatar?"}]', encoding="utf-8")
    assert main(["eval", str(tiny_path), "--json", "--limit", "4", "--extra", str(extra)]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["paragraphs"] == 3 and data["chunks"] == 3
    tiny = data["sets"]["tiny-squad"]
    assert tiny["questions"] == 4
    assert tiny["recall_at_5"] == 1.0
    assert 0.0 <= tiny["containment"] <= 1.0
    assert data["sets"]["unanswerable"]["refusal_rate"] == 1.0
    assert data["settings"]["embedding_model"] == SMALL_MODEL


@pytest.mark.slow
def test_eval_table_with_the_small_model(
    capsys: pytest.CaptureFixture[str], tiny_path: Path, small_env: None
) -> None:
    assert main(["eval", str(tiny_path), "--paragraphs", "2"]) == 0
    captured = capsys.readouterr()
    assert "| recall@5 |" in captured.out
    assert "2 paragraphs" in captured.out
    assert "Traceback" not in captured.err

"""``newsbot digest|list|show|search|rm`` run as a user runs them (real processes, the small model)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_env
from tests.retrieval.digest.stories import write_stories

pytestmark = pytest.mark.slow


@pytest.fixture
def run(tmp_path: Path, models_dir: Path):
    corpus = tmp_path / "news"
    write_stories(corpus)
    env = cli_env(tmp_path / "data", corpus, models_dir)

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True,
                              text=True, env=env, timeout=600)

    assert run("reindex").returncode == 0
    run.corpus = corpus  # type: ignore[attr-defined]
    return run


def test_digest_list_show_search_rm(run) -> None:
    proc = run("digest", "--json")
    assert proc.returncode == 0, proc.stderr
    digest = json.loads(proc.stdout)
    assert digest["articles"] == 7 and digest["stories"][0]["size"] == 3
    text = run("digest", "--since", "all").stdout
    assert "Storm Aurora" in text and "[1]" in text and "Wire One" in text

    listed = json.loads(run("list", "--json", "--source", "wire one").stdout)
    assert {a["article_id"] for a in listed["articles"]} == {"wire/flood", "wire/strike"}
    assert listed["articles"][0]["date"] == "2025-03-14"  # newest first

    shown = run("show", "daily/strike")
    assert shown.returncode == 0 and "Oskar Lind" in shown.stdout and "Daily Two" in shown.stdout

    found = json.loads(run("search", "sea wall Valmont", "--json", "-k", "2").stdout)
    assert len(found["passages"]) == 2 and "flood" in found["passages"][0]["article_id"]
    assert all("score" in p for p in found["passages"]) and "answer" not in found

    refused = run("rm", "daily/strike", stdin="")
    assert refused.returncode != 0 and "--yes" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert (run.corpus / "daily" / "strike.md").exists()
    assert run("rm", "daily/strike", "--yes").returncode == 0
    assert not (run.corpus / "daily" / "strike.md").exists()
    listed = json.loads(run("list", "--json").stdout)
    assert "daily/strike" not in {a["article_id"] for a in listed["articles"]} and listed["count"] == 6
    missing = run("rm", "../etc/passwd", "--yes")
    assert missing.returncode != 0 and "no article" in missing.stderr
    bad = run("digest", "--since", "when pigs fly")
    assert bad.returncode == 2 and "24h" in bad.stderr and "Traceback" not in bad.stderr

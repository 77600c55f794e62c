"""A real `newsbot reindex` process SIGKILLed at several points, then rerun: complete, no duplicates.

Extends ``test_service.py::test_killed_reindex_leaves_a_complete_index`` (killed after its
first commit) to: during the first batch's embedding (before any commit), and after the
1st, 2nd and 4th commit (one commit = one "committed N articles" debug line, about 64
chunks). After each kill the index is reindexed by a new process; then every article is
in the manifest once, the index holds exactly the chunks the chunker makes for it (none
missing, none duplicated, none orphaned), and a third run finds nothing to do.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_article

pytestmark = pytest.mark.slow

ARTICLES = 60
CHUNK_SIZE, CHUNK_OVERLAP = 300, 50  # ~5 chunks an article: ~300 chunks, ~5 commits


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("killcorpus") / "corpus"
    for i in range(ARTICLES):
        sentences = " ".join(
            f"Le dossier {i} évoque la séance {j} du conseil sur les sanctions et l'énergie." for j in range(18)
        )
        write_article(root, f"lot/{i:03d}", f"Article numéro {i}", sentences, date=f"2025-07-{i % 28 + 1:02d}")
    return root


def environment(corpus: Path, data: Path, models_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "NEWSBOT_EMBEDDING_MODEL": "packaged:all-minilm-l6-v2",
        "NEWSBOT_EMBEDDING_QUANTIZE": "false",
        "NEWSBOT_EMBEDDING_BATCH_SIZE": "4",
        "NEWSBOT_CHUNK_SIZE": str(CHUNK_SIZE),
        "NEWSBOT_CHUNK_OVERLAP": str(CHUNK_OVERLAP),
        "NEWSBOT_DATA_DIR": str(data),
        "NEWSBOT_MODEL_DIR": str(models_dir),
        "NEWSBOT_CORPUS_DIR": str(corpus),
    }


def run_and_kill(env: dict[str, str], *, after_commits: int) -> str:
    """Start `newsbot -v reindex` and SIGKILL it after ``after_commits`` commits (0: while embedding)."""
    cmd = [sys.executable, "-m", "bot.cli", "-v", "reindex"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    seen = b""
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            data = os.read(fd, 65536)
            if not data:
                break
            seen += data
            if after_commits == 0 and b"indexing" in seen:
                # the progress bar appears once the plan is made, just before the first batch is
                # embedded; embedding ~64 chunks takes about a second: kill inside it
                time.sleep(0.3)
                break
            if after_commits and seen.count(b"committed") >= after_commits:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        rest = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, seen.decode(errors="replace")[-2000:])
    return (seen + rest).decode(errors="replace")


def expected_chunks(corpus: Path) -> dict[str, int]:
    from retrieval.index.chunking import chunk_article
    from retrieval.ingest.corpus import scan_corpus

    scan = scan_corpus(corpus)
    return {a.id: len(chunk_article(a, CHUNK_SIZE, CHUNK_OVERLAP)) for a in scan.articles}


def index_state(index: Path) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(manifest records, chunk metadatas, chunk ids) read straight from the Chroma folder."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(index), settings=ChromaSettings(anonymized_telemetry=False))
    manifest = client.get_collection("newsbot-articles").get(include=["metadatas"])
    chunks = client.get_collection("newsbot").get(include=["metadatas"])
    records = {aid: dict(meta) for aid, meta in zip(manifest["ids"], manifest["metadatas"] or [], strict=True)}
    return records, [dict(m) for m in chunks["metadatas"] or []], list(chunks["ids"])


@pytest.mark.parametrize("after_commits", [0, 1, 2, 4], ids=["embedding", "commit1", "commit2", "commit4"])
def test_killed_then_rerun_gives_a_complete_index(
    big_corpus: Path, tmp_path: Path, models_dir: Path, after_commits: int
) -> None:
    env = environment(big_corpus, tmp_path / "data", models_dir)
    log = run_and_kill(env, after_commits=after_commits)
    assert "Traceback" not in log
    commits_before_kill = log.count("committed")
    if after_commits == 0:
        assert commits_before_kill == 0, "killed too late: a batch was already committed"
    else:
        assert commits_before_kill >= after_commits

    cmd = [sys.executable, "-m", "bot.cli", "reindex", "--json"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["added"] + report["unchanged"] == ARTICLES and report["removed"] == 0
    if after_commits == 0:
        assert report["added"] == ARTICLES  # nothing had been committed
    else:
        assert 0 < report["unchanged"] < ARTICLES  # the committed batches were kept, not redone

    expected = expected_chunks(big_corpus)
    records, metas, ids = index_state(tmp_path / "data" / "index")
    assert set(records) == set(expected)
    assert len(ids) == len(set(ids)) == sum(expected.values()) == report["chunks"]  # no duplicate, none missing
    per_article: dict[str, int] = {}
    for meta in metas:
        record = records[str(meta["article_id"])]
        assert meta["article_hash"] == record["article_hash"]  # no orphan of an unfinished write
        per_article[str(meta["article_id"])] = per_article.get(str(meta["article_id"]), 0) + 1
    assert per_article == expected == {aid: int(r["chunks"]) for aid, r in records.items()}
    # the lexical index holds exactly the committed chunks too (none staged by the killed run is left)
    lexicon = sqlite3.connect(tmp_path / "data" / "index" / "lexicon-newsbot.sqlite3")
    lexical = dict(lexicon.execute("SELECT chunk_id, article_hash FROM chunks").fetchall())
    assert sorted(lexical) == sorted(ids)
    assert all(lexical[cid] == meta["article_hash"] for cid, meta in zip(ids, metas, strict=True))
    # and its full-text index one document per row, nothing left queued
    from retrieval.index.postings import Postings

    rowids = {rowid for (rowid,) in lexicon.execute("SELECT rowid FROM chunks")}
    assert Postings(tmp_path / "data" / "index" / "lexicon-newsbot.postings").rowids() == rowids
    assert lexicon.execute("SELECT count(*) FROM pending").fetchone()[0] == 0

    again = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600).stdout)
    assert again["unchanged"] == ARTICLES and again["added"] == 0 and again["chunks"] == report["chunks"]

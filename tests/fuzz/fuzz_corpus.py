"""Coverage-guided fuzzing of the corpus parser with atheris (libFuzzer).

    make fuzz                       # 60 s, the seeds in tests/fuzz/corpus
    PYTHONPATH=$PWD python -m tests.fuzz.fuzz_corpus -max_total_time=600 tests/fuzz/corpus

A crash is written as ``crash-<sha1>`` under ``tests/fuzz/regressions/`` (libFuzzer's
``-artifact_prefix``, set below unless given): keep it there, the test suite replays it.
"""

from __future__ import annotations

import logging
import os
import sys

import atheris

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

with atheris.instrument_imports(include=["retrieval", "tests.fuzz", "yaml", "dateparser"]):
    # imported here, not lazily by the targets: only modules imported in this block are instrumented
    import retrieval.ingest.corpus
    import retrieval.ingest.dates
    import retrieval.ingest.markdown
    import retrieval.ingest.urls  # noqa: F401
    from tests.fuzz.targets import check


def main() -> None:
    logging.disable(logging.CRITICAL)  # skipped files and dropped dates warn: not crashes
    argv = list(sys.argv)
    if not any(arg.startswith("-artifact_prefix=") for arg in argv):
        argv.insert(1, f"-artifact_prefix={os.path.join(REPO, 'tests', 'fuzz', 'regressions')}{os.sep}")
    atheris.Setup(argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

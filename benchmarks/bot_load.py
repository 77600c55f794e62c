"""Load on the Discord bot: N questions at once, each blocking a worker thread.

Drives the real discord.py machinery (gateway payloads in, recorded REST calls out; see
tests/support/discord_fakes.py) with a service whose ``ask`` blocks for DELAY seconds, and
measures the event loop's worst lag with a ticker awaiting ``asyncio.sleep(0.01)``. The
gateway heartbeat runs on that loop: the lag is how late a heartbeat could be.

    HF_HUB_OFFLINE=1 python benchmarks/bot_load.py [--questions 20] [--delay 0.2] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds each ask blocks its worker")
    parser.add_argument("--workers", type=int, default=2, help="NEWSBOT_DISCORD_WORKERS")
    args = parser.parse_args()

    import pytest

    from tests.bot.discord.test_app import run_burst

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as monkeypatch:
        result = asyncio.run(
            run_burst(Path(tmp), monkeypatch, n=args.questions, delay=args.delay, discord_workers=args.workers)
        )
    ideal = args.questions * args.delay / args.workers
    print(f"questions answered      {int(result['answered'])}/{args.questions}")
    print(f"workers                 {int(result['workers'])}")
    print(f"wall time               {result['seconds']:.2f} s (ideal {ideal:.2f} s)")
    print(f"event loop worst lag    {result['worst_lag_ms']:.1f} ms over {int(result['ticks'])} ticks")
    return 0 if result["answered"] == args.questions else 1


if __name__ == "__main__":
    sys.exit(main())

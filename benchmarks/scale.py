"""newsbot at scale (issue 14): what a growing index costs the bot, one-shot asks and the reindex.

    NEWSBOT_MODEL_DIR=/work/main/.newsbot/models \\
        nice -n 10 python benchmarks/scale.py --chunks 10000 [--json] [--work DIR]

1. Fill: writes articles of real French text (paragraphs of the PIAF dev set, three per
   article, shuffled; ``--piaf``) into a corpus folder until the chunker makes ``--chunks``
   chunks, and indexes them through newsbot's own reindex with a FAST FAKE EMBEDDER (a
   hash-seeded random unit vector per text, 384 dimensions like the default model): only the
   fill uses it. Everything measured below uses the real default model.
2. Bot (a fresh process, embedded index): start to first answer, RSS after it, p50/p95 over
   100 questions (and over 50 English questions: the project's English versions of PIAF
   questions, ``tests/data/*-english.json``, asked against the French text); then 10 new articles are written and a `newsbot reindex` process started on
   them (`newsbot reindex PATH…`, as `newsbot feeds` does for the files it writes; ``--whole``:
   a plain `newsbot reindex`, which looks at every file; ``--watching``: no reindex process,
   the bot's own corpus watcher, ``NEWSBOT_WATCH_CORPUS=true``, indexes the files renamed into
   the corpus, in the answering process): the time until the bot answers from
   one of them, and the slowest answer meanwhile (the bot keeps asking; its lexicon refresh
   runs in a background thread, as in the bot).
3. One-shot `newsbot ask` (fresh process): wall time and peak RSS.
4. Unchanged `newsbot reindex`: wall time and peak RSS; disk used by the index.

An existing ``--work`` folder is measured as it is; ``--grow`` fills it further, to ``--chunks``
(the articles written before are kept, the reindex adds the rest). With ``NEWSBOT_CHROMA_HOST``
and ``NEWSBOT_CHROMA_PORT`` set, every process measured uses that Chroma server (started first with
``chroma run --path WORK/data/index``; each machine's lexicon is then made from the server once).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DIM = 384
NEW_ARTICLES = 10


class FakeEmbeddings:
    """Fill-only: a deterministic random unit vector per text (no model)."""

    def _one(self, text: str) -> list[float]:
        import numpy as np

        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        v = np.random.default_rng(seed).standard_normal(DIM).astype("float32")
        return list(map(float, v / np.linalg.norm(v)))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def env_for(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "NEWSBOT_DATA_DIR": str(work / "data"),
        "NEWSBOT_CORPUS_DIR": str(work / "corpus"),
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
    })
    return env


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of a command, through /usr/bin/time."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return seconds, peak_kb / 1024, done.stdout


def paragraphs_and_questions(piaf: Path) -> tuple[list[str], list[str]]:
    data = json.loads(piaf.read_text(encoding="utf-8"))
    paragraphs, questions = [], []
    for article in data["data"]:
        for para in article["paragraphs"]:
            paragraphs.append(para["context"])
            questions.extend(qa["question"] for qa in para["qas"])
    return paragraphs, questions


def write_article(folder: Path, name: str, title: str, body: str, date: str) -> None:
    path = folder / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'---\ntitle: "{title}"\ndate: {date}\nsource: Fil {name[:4]}\n---\n\n{body}\n', encoding="utf-8")


def fill(work: Path, chunks: int, piaf: Path) -> dict[str, Any]:
    from bot.settings import load_settings
    from retrieval.index.chunking import chunk_spans
    from retrieval.service import open_service

    settings = load_settings(data_dir=work / "data", corpus_dir=work / "corpus")
    paragraphs, _ = paragraphs_and_questions(piaf)
    rng = random.Random(0)
    corpus = work / "corpus"
    made = n = 0
    past = time.time() - 3600
    while made < chunks:
        body = "\n\n".join(rng.sample(paragraphs, 3))
        made += len(chunk_spans(body, settings.chunk.size, settings.chunk.overlap))
        day = 1 + n % 28
        path = corpus / f"{n // 1000:04d}/{n:07d}.md"
        if not path.exists():  # a fill grown further (--grow) keeps the articles written before
            write_article(corpus, f"{n // 1000:04d}/{n:07d}", f"Dépêche {n}", body, f"2025-{1 + n % 12:02d}-{day:02d}")
            os.utime(path, (past, past))  # as an old corpus: an unchanged reindex may trust sizes and times
        n += 1
    started = time.perf_counter()
    service = open_service(settings, create=True, embeddings=FakeEmbeddings())
    report = service.reindex()
    return {"articles": n, "chunks": report.chunks, "fill_seconds": round(time.perf_counter() - started, 1)}


def bot_child(work: Path, piaf: Path, whole: bool = False, watching: bool = False) -> None:
    """The bot's engine in a fresh process (run by the parent with --child)."""
    started = time.perf_counter()
    from bot.settings import load_settings
    from retrieval.service import open_service

    settings = load_settings(data_dir=work / "data", corpus_dir=work / "corpus")
    _, questions = paragraphs_and_questions(piaf)
    service = open_service(settings)
    service.warm_up()
    service.ask(questions[0])
    first = time.perf_counter() - started
    rss_first = rss_mb()
    latencies = []
    for q in random.Random(1).sample(questions, 100):
        t = time.perf_counter()
        service.ask(q)
        latencies.append((time.perf_counter() - t) * 1000)
    english = [item["question"] for name in ("eval-english.json", "train-english.json")
               for item in json.loads((REPO / "tests" / "data" / name).read_text(encoding="utf-8"))]
    latencies_en = []
    for q in random.Random(1).sample(english, 50):
        t = time.perf_counter()
        service.ask(q)
        latencies_en.append((time.perf_counter() - t) * 1000)

    # 10 new articles and a reindex process; the bot keeps answering and refreshing in the background.
    # Their names and words are new at each run: a folder measured again has the last run's in its index
    nonce = "".join(random.SystemRandom().choice("bcdfghjklmnpqrstvwxz") for _ in range(8))
    new_files = []
    # watched, they arrive as `newsbot feeds` writes them: written aside, then renamed into the corpus
    written = work / "incoming" if watching else work / "corpus"
    (work / "corpus" / "new").mkdir(parents=True, exist_ok=True)
    for i in range(NEW_ARTICLES):
        write_article(written, f"new/{nonce}-{i}", f"Le zorglub{nonce} numéro {i}",
                      f"Le zorglubinet{nonce} {i} a été observé pour la première fois à Quimper ce matin. " * 5,
                      "2026-01-01")
        new_files.append(str((work / "corpus" / f"new/{nonce}-{i}.md").absolute()))
    stop = threading.Event()

    def refresher() -> None:
        while not stop.wait(1.0):
            service.refresh()

    threading.Thread(target=refresher, daemon=True).start()
    proc: subprocess.Popen[bytes] | None = None
    if watching:  # the bot's own watcher (NEWSBOT_WATCH_CORPUS) indexes them in this process
        from retrieval.ingest.watch import watch_corpus

        watcher = threading.Thread(target=watch_corpus, args=(service, settings, lambda report: None, stop),
                                   daemon=True)
        watcher.start()
        time.sleep(1.0)  # watching has begun before the files arrive
        reindex_started = time.perf_counter()
        for path in new_files:
            os.replace(written / "new" / Path(path).name, path)
    else:
        reindex_started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "reindex", "--json", *([] if whole else new_files)],
                                env=env_for(work),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    slowest = 0.0
    visible = None
    rng = random.Random(2)
    while time.perf_counter() - reindex_started < 600:
        t = time.perf_counter()
        answer = service.ask(f"Où a été observé le zorglubinet{nonce} ?")
        service.ask(rng.choice(questions))
        slowest = max(slowest, (time.perf_counter() - t) * 1000 / 2)
        if any(s.article_id.startswith(f"new/{nonce}-") for s in answer.cited_sources):
            visible = time.perf_counter() - reindex_started
            break
    if proc is not None:
        proc.wait()
    stop.set()
    print(json.dumps({
        "bot_first_answer_s": round(first, 2), "bot_rss_mb": round(rss_first), "bot_rss_end_mb": round(rss_mb()),
        "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
        "p50_en_ms": round(statistics.median(latencies_en), 1), "p95_en_ms": round(percentile(latencies_en, 0.95), 1),
        "new_articles_answerable_s": None if visible is None else round(visible, 1),
        "slowest_answer_meanwhile_ms": round(slowest),
    }))


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--piaf", type=Path, default=REPO.parent / "shared" / "eval" / "piaf-dev.json")
    parser.add_argument("--child", choices=["bot"], help=argparse.SUPPRESS)
    parser.add_argument("--whole", action="store_true", help="the new articles indexed by a plain `newsbot reindex`")
    parser.add_argument("--watching", action="store_true",
                        help="the new articles indexed by the bot's own corpus watcher (NEWSBOT_WATCH_CORPUS=true), "
                        "in the answering process, instead of a reindex process")
    parser.add_argument("--grow", action="store_true",
                        help="fill an existing --work folder further, to --chunks (its earlier articles kept)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="newsbot-scale-"))
    if args.child == "bot":
        bot_child(work, args.piaf, whole=args.whole, watching=args.watching)
        return
    result: dict[str, Any] = {"requested_chunks": args.chunks, "embedder_for_fill": "fake (hash-seeded random)"}
    if args.grow:
        shutil.rmtree(work / "corpus" / "new", ignore_errors=True)  # the last run's new articles, removed by the fill
    if args.grow or not (work / "data").exists():
        result.update(fill(work, args.chunks, args.piaf))
    env = env_for(work)
    seconds, peak, out = timed([sys.executable, str(Path(__file__)), "--child", "bot", "--work", str(work),
                                "--piaf", str(args.piaf), *(["--whole"] if args.whole else []),
                                *(["--watching"] if args.watching else [])], env)
    result.update(json.loads(out.strip().splitlines()[-1]))
    result["bot_peak_rss_mb"] = round(peak)
    seconds, peak, _ = timed([sys.executable, "-m", "bot.cli", "ask", "Quel est le nouveau plafond du prix du pétrole ?"],
                             env)
    result.update({"oneshot_ask_s": round(seconds, 2), "oneshot_ask_peak_rss_mb": round(peak)})
    seconds, peak, out = timed([sys.executable, "-m", "bot.cli", "reindex", "--json"], env)
    result.update({"unchanged_reindex_s": round(seconds, 2), "unchanged_reindex_peak_rss_mb": round(peak),
                   "unchanged_reindex": json.loads(out)})
    index = work / "data" / "index"
    lexicon = next(index.glob("lexicon-*.sqlite3"), None)
    result["disk_index_mb"] = round(disk_mb(index))
    result["disk_lexicon_mb"] = round(lexicon.stat().st_size / 1e6) if lexicon else 0
    postings = next(index.glob("lexicon-*.postings"), None)
    result["disk_postings_mb"] = round(disk_mb(postings)) if postings else 0  # the full-text index
    with open("/proc/loadavg") as f:
        result["load"] = f.read().split()[0]
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()

"""newsbot's speed figures (issue 8), printed as one Markdown table.

    python benchmarks/speed.py                       # synthetic corpus of 10,000 chunks
    python benchmarks/speed.py --chunks 2000         # smaller
    python benchmarks/speed.py --piaf ../shared/eval/piaf-dev.json   # PIAF paragraphs as articles

Everything runs offline with the settings newsbot would use (``NEWSBOT_*`` variables apply,
e.g. ``NEWSBOT_EMBEDDING_BACKEND=torch``), in a scratch folder (``--work``, default a
temporary one). Measured:

* indexing: the embedding model's raw throughput on a random sample of the corpus's chunks
  (``embed_documents`` alone), newsbot's end-to-end reindex throughput (file reading to Chroma
  write) over the whole corpus, and the plain sentence-transformers float32 ``encode`` of the
  same sample (the baseline the faster backends are compared with);
* a reindex with nothing changed;
* answering once loaded (retrieval plus the extractive answer): p50 and p95;
* start-up in fresh processes: ``newsbot ask --help``, ``newsbot ask "…"`` (first answer),
  the Discord bot ready (service opened, cogs loaded, first answer given; no network);
* peak RSS of that bot process.

The machine's load (``uptime``) is printed with the table: ratios are measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

_WORDS_TEXT = (
    "gouvernement ministre président assemblée nationale réforme budget impôt retraite élection "
    "député sénat loi projet vote majorité opposition parti syndicat grève manifestation police "
    "justice tribunal procès enquête juge avocat prison sécurité armée défense guerre paix traité "
    "sommet diplomatie ambassade sanction embargo pétrole gaz énergie électricité nucléaire climat "
    "sécheresse inondation agriculture agriculteur récolte prix inflation croissance chômage emploi "
    "entreprise usine industrie banque marché bourse euro dollar commerce exportation importation "
    "hôpital médecin santé vaccin épidémie école enseignant élève université recherche science "
    "espace satellite fusée transport train avion aéroport autoroute ville région département "
    "commune maire conseil habitant logement immobilier culture musée festival cinéma livre sport "
    "football rugby tennis cyclisme olympique équipe match victoire défaite championnat record "
    "Paris Lyon Marseille Bruxelles Berlin Londres Washington Moscou Kiev Pékin Alger Dakar "
    "lundi mardi mercredi jeudi vendredi janvier février mars avril mai juin juillet août "
    "annonce déclare affirme estime rappelle souligne prévoit propose refuse accepte signe adopte"
)
_WORDS = _WORDS_TEXT.split()
_GLUE_TEXT = "le la les un une des du de et à en dans pour sur avec selon après avant contre"
_GLUE = _GLUE_TEXT.split()


def log(message: str) -> None:
    print(f"[speed] {message}", file=sys.stderr, flush=True)


# -- corpora -------------------------------------------------------------------------------
def sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS if i % 2 else _GLUE) for i in range(rng.randint(12, 28))]
    words[0] = words[0].capitalize()
    if rng.random() < 0.5:
        words.insert(rng.randint(1, len(words) - 1), f"{rng.randint(2, 99)} %")
    return " ".join(words) + "."


def synthetic_corpus(root: Path, chunks: int, settings: Any, seed: int = 0) -> tuple[int, list[str]]:
    """Markdown articles with at least ``chunks`` chunks in all; returns (articles, questions)."""
    from retrieval.index.chunking import chunk_article
    from retrieval.index.indexer import chunk_salt
    from retrieval.ingest.corpus import read_article

    rng = random.Random(seed)
    questions: list[str] = []
    total = n = 0
    while total < chunks:
        paragraphs = [" ".join(sentence(rng) for _ in range(rng.randint(2, 6))) for _ in range(rng.randint(2, 8))]
        body = "\n\n".join(paragraphs)
        title = sentence(rng)[:80].rstrip(".")
        path = root / f"{n // 1000:03d}" / f"article-{n:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"---\ntitle: \"{title}\"\ndate: 2025-{1 + n % 12:02d}-{1 + n % 28:02d}\n---\n\n{body}\n",
            encoding="utf-8",
        )
        article = read_article(path, path.relative_to(root).with_suffix("").as_posix(), salt=chunk_salt(settings))
        total += len(chunk_article(article, settings.chunk.size, settings.chunk.overlap))
        if rng.random() < 0.3:
            words = rng.choice(paragraphs).split()[:12]
            questions.append("Que dit-on de " + " ".join(words).rstrip(".") + " ?")
        n += 1
    return n, questions


def piaf_corpus(root: Path, dataset: Path) -> tuple[int, list[str]]:
    """Each PIAF paragraph as an article; its questions."""
    data = json.loads(dataset.read_text(encoding="utf-8"))
    questions: list[str] = []
    n = 0
    for a, article in enumerate(data["data"]):
        for p, paragraph in enumerate(article["paragraphs"]):
            title = str(article.get("title", "")).replace("_", " ").replace('"', "'") or f"article {a}"
            path = root / f"{a:04d}-{p:03d}.md"
            path.write_text(f"---\ntitle: \"{title}\"\n---\n\n{paragraph['context']}\n", encoding="utf-8")
            questions.extend(q["question"] for q in paragraph["qas"])
            n += 1
    return n, questions


# -- measurements -----------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def plain_float32_throughput(settings: Any, texts: list[str]) -> float:
    """Texts/s of the plain sentence-transformers float32 encode (the baseline)."""
    import torch
    from sentence_transformers import SentenceTransformer

    from retrieval.embeddings.models import SentenceTransformerEmbeddings, resolve_model_path

    if settings.embedding.threads:
        torch.set_num_threads(settings.embedding.threads)
    model = SentenceTransformer(resolve_model_path(settings.embedding.model, settings.models_path), device="cpu")
    prefix = SentenceTransformerEmbeddings(settings.embedding.model, models_dir=settings.models_path)
    prefix._model, prefix._prompts = model, dict(getattr(model, "prompts", {}) or {})
    if not prefix._prompts.get("query") and "e5" in settings.embedding.model.lower():
        prefix._prompts = {"query": "query: ", "passage": "passage: "}
    inputs = [prefix._prompt("passage") + t for t in texts]
    model.encode(inputs[:8], batch_size=settings.embedding.batch_size)
    started = time.perf_counter()
    model.encode(inputs, batch_size=settings.embedding.batch_size, normalize_embeddings=True)
    return len(texts) / (time.perf_counter() - started)


def run_timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    return time.perf_counter() - started, done


_BOT_PROBE = r"""
import asyncio, json, sys, time
started = time.perf_counter()
from bot.settings import load_settings
from retrieval.service import open_service
from bot.discord.app import NewsBot
settings = load_settings(discord_sync_commands=False)
service = open_service(settings)
bot = NewsBot(service, settings)
asyncio.run(bot.setup_hook())
service.ask(sys.argv[1])
ready = time.perf_counter() - started
for q in json.loads(sys.argv[2]):
    service.ask(q)
# VmHWM, not ru_maxrss: the latter is inherited from the forking parent across exec
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"ready": ready, "rss_mb": peak / 1024}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=10_000, help="size of the synthetic corpus, in chunks")
    parser.add_argument("--piaf", type=Path, default=None, help="use this SQuAD-format file's paragraphs instead")
    parser.add_argument("--sample", type=int, default=512, help="chunks of the raw-encode comparison")
    parser.add_argument("--questions", type=int, default=200, help="questions timed once loaded")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (kept; reused index)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the sentence-transformers float32 baseline")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON, not a table")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    work = args.work or Path(tempfile.mkdtemp(prefix="newsbot-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    env = {
        **os.environ,
        "NEWSBOT_DATA_DIR": str(work / "data"),
        "NEWSBOT_CORPUS_DIR": str(corpus),
        "NEWSBOT_MODEL_DIR": os.environ.get("NEWSBOT_MODEL_DIR", str(REPO / ".newsbot" / "models")),
    }
    os.environ.update(env)

    from bot.settings import load_settings
    from retrieval.index.chunking import chunk_article
    from retrieval.index.indexer import chunk_salt, embedding_text
    from retrieval.ingest.corpus import scan_corpus
    from retrieval.service import open_service

    settings = load_settings()
    figures: dict[str, Any] = {
        "corpus": f"PIAF paragraphs ({args.piaf.name})" if args.piaf else f"synthetic, {args.chunks:,} chunks",
        "model": settings.embedding.model,
        "backend": f"{settings.embedding.backend}{' int8' if settings.embedding.quantize else ' float32'}",
        "cpus": os.cpu_count(),
    }
    fresh = not corpus.exists()
    if fresh:
        corpus.mkdir(parents=True)
        log("writing the corpus")
        if args.piaf:
            articles, questions = piaf_corpus(corpus, args.piaf)
        else:
            articles, questions = synthetic_corpus(corpus, args.chunks, settings)
        (work / "questions.json").write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
    questions = json.loads((work / "questions.json").read_text(encoding="utf-8"))
    scan = scan_corpus(corpus, salt=chunk_salt(settings))
    texts = [
        embedding_text(c)
        for a in scan.articles
        for c in chunk_article(a, settings.chunk.size, settings.chunk.overlap)
    ]
    figures["articles"], figures["chunks"] = len(scan.articles), len(texts)
    sample = random.Random(1).sample(texts, min(args.sample, len(texts)))
    figures["load_before"] = os.getloadavg()[0]

    # -- indexing -------------------------------------------------------------------------
    log(f"{len(scan.articles):,} articles, {len(texts):,} chunks; loading the model")
    service = open_service(settings, create=True)
    embeddings = service.store.embeddings
    embeddings.embed_documents(sample[:8])  # load (and, the first time, export) the model

    def raw_encode() -> float:
        started = time.perf_counter()
        embeddings.embed_documents(sample)
        return len(sample) / (time.perf_counter() - started)

    log("raw encode of the sample")
    raw = [raw_encode()]
    if service.store.count() == 0:
        log("end-to-end reindex")
        started = time.perf_counter()
        report = service.reindex()
        figures["index_cps"] = report.embedded / (time.perf_counter() - started)
    log("raw encode of the sample, again")  # before and after: the machine's load changes
    raw.append(raw_encode())
    figures["raw_cps"] = statistics.mean(raw)
    if "index_cps" in figures:
        figures["index_ratio"] = figures["index_cps"] / figures["raw_cps"]
    log("reindex with nothing changed")
    started = time.perf_counter()
    report = service.reindex()
    figures["noop_s"] = time.perf_counter() - started
    figures["noop_per_1000"] = figures["noop_s"] * 1000 / max(1, len(scan.articles))
    if not args.no_baseline:
        log("sentence-transformers float32 baseline on the sample")
        plain = plain_float32_throughput(settings, sample)
        raw.append(raw_encode())  # right after the baseline, for a like-for-like ratio
        figures["plain_cps"] = plain
        figures["raw_cps"] = statistics.mean(raw)
        if "index_cps" in figures:
            figures["index_ratio"] = figures["index_cps"] / figures["raw_cps"]
        figures["raw_vs_plain"] = figures["raw_cps"] / figures["plain_cps"]
        if "index_cps" in figures:
            figures["index_vs_plain"] = figures["index_cps"] / figures["plain_cps"]

    # -- answering ---------------------------------------------------------------------------
    log("answering")
    rng = random.Random(2)
    asked = rng.sample(questions, min(args.questions, len(questions)))
    started = time.perf_counter()
    service.ask(asked[0])
    figures["first_in_process_s"] = time.perf_counter() - started
    latencies = []
    for question in asked:
        started = time.perf_counter()
        service.ask(question)
        latencies.append(time.perf_counter() - started)
    figures["p50_ms"] = percentile(latencies, 0.5) * 1000
    figures["p95_ms"] = percentile(latencies, 0.95) * 1000
    del service

    # -- start-up ------------------------------------------------------------------------------
    log("start-up")
    newsbot = [sys.executable, "-m", "bot.cli"]
    figures["help_s"] = statistics.median(run_timed([*newsbot, "ask", "--help"], env, work)[0] for _ in range(3))
    first = []
    for question in asked[:3]:
        seconds, done = run_timed([*newsbot, "ask", question], env, work)
        if done.returncode != 0:
            raise SystemExit(f"newsbot ask failed: {done.stderr.strip()}")
        first.append(seconds)
    figures["first_answer_s"] = statistics.median(first)
    seconds, done = run_timed(
        [sys.executable, "-c", _BOT_PROBE, asked[0], json.dumps(asked[:50], ensure_ascii=False)], env, work
    )
    if done.returncode != 0:
        raise SystemExit(f"the bot probe failed: {done.stderr.strip()[-2000:]}")
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    figures["bot_ready_s"] = probe["ready"]
    figures["bot_rss_mb"] = probe["rss_mb"]
    figures["load_after"] = os.getloadavg()[0]

    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        print(table(figures))
    return 0


def table(f: dict[str, Any]) -> str:
    def ok(flag: bool) -> str:
        return "met" if flag else "**not met**"

    rows = [
        ("Corpus", f["corpus"], f"{f['articles']:,} articles, {f['chunks']:,} chunks", ""),
        ("Embedding model", f["model"], f["backend"], ""),
    ]
    if "plain_cps" in f:
        rows.append(("Plain sentence-transformers float32 encode", "", f"{f['plain_cps']:.1f} chunks/s", "baseline"))
    rows.append(("Raw encode, newsbot's backend", "", f"{f['raw_cps']:.1f} chunks/s", ""))
    if "raw_vs_plain" in f:
        rows.append(("Raw encode vs plain float32", "≥ 2×", f"{f['raw_vs_plain']:.2f}×", ok(f["raw_vs_plain"] >= 2)))
    if "index_cps" in f:
        rows.append(("End-to-end index (files → Chroma)", "", f"{f['index_cps']:.1f} chunks/s", ""))
        rows.append(("Index vs raw encode", "≥ 90 %", f"{f['index_ratio']:.0%}", ok(f["index_ratio"] >= 0.9)))
    if "index_vs_plain" in f:
        rows.append(("Index vs plain float32 encode", "≥ 2×", f"{f['index_vs_plain']:.2f}×", ok(f["index_vs_plain"] >= 2)))
    rows += [
        ("Reindex, nothing changed", "< 1 s / 1,000 articles",
         f"{f['noop_s']:.2f} s ({f['noop_per_1000']:.2f} s / 1,000)", ok(f["noop_per_1000"] < 1)),
        ("Answer p50 (retrieval + extractive)", "≤ 50 ms", f"{f['p50_ms']:.0f} ms", ok(f["p50_ms"] <= 50)),
        ("Answer p95", "≤ 150 ms", f"{f['p95_ms']:.0f} ms", ok(f["p95_ms"] <= 150)),
        ("`newsbot ask --help`", "< 1 s", f"{f['help_s']:.2f} s", ok(f["help_s"] < 1)),
        ("First answer of `newsbot ask \"…\"`", "< 5 s", f"{f['first_answer_s']:.2f} s", ok(f["first_answer_s"] < 5)),
        ("Bot ready (first answer given)", "< 10 s", f"{f['bot_ready_s']:.2f} s", ok(f["bot_ready_s"] < 10)),
        ("Bot peak RSS", "< 1.5 GB", f"{f['bot_rss_mb']:,.0f} MB", ok(f["bot_rss_mb"] < 1536)),
    ]
    lines = ["| Figure | Target | Measured | |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines.append("")
    lines.append(
        f"{f['cpus']} CPUs; load average {f['load_before']:.1f} before, {f['load_after']:.1f} after."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

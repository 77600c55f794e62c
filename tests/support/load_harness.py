"""Load on the bot's real answering path, shared by ``tests/bot/discord/test_load.py`` and ``benchmarks/load.py``.

U simulated users each send their share of N questions as gateway MESSAGE_CREATE events
(a mention of the bot), one after the other, each waiting for its answer: the real
:class:`~bot.discord.app.NewsBot` opens a thread, asks the REAL answering service in its
worker threads and posts the answer through the fake REST layer of ``discord_fakes``.
Measured: answered / lost, latency from the event to the final REST message (p50, p95,
max), the event loop's worst lag (a ticker awaiting ``asyncio.sleep(0.01)``), peak RSS.

Optionally a reindex runs in another thread meanwhile. Every answer is then checked, in
the worker thread as soon as the service returns it, against a log of manifest commits:
each cited article must have been committed (its manifest record written, which happens
only after all its chunks) before the answer was returned, and the index must hold
exactly the manifest's number of chunks for it, the cited chunk among them.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.types import Answer, QueryScope, Turn
from tests.support.discord_fakes import BOT_ID, FakeDiscord

FIRST_USER = 600_000_000_000_000_001

# -- generated articles -----------------------------------------------------------------------
_SYLLABLES = ["ka", "lo", "ven", "mar", "ti", "zu", "bre", "gon", "sil", "da", "ru", "phe", "nor", "qui", "vel"]
_TOPICS = [
    ("le port", "modernise ses quais et accueille des porte-conteneurs plus grands"),
    ("la mairie", "lance un plan de rénovation thermique des écoles"),
    ("l'usine", "annonce trois cents embauches dans la filière des batteries"),
    ("le festival", "attend cent mille visiteurs malgré la hausse des prix"),
    ("l'hôpital", "ouvre un service d'urgences pédiatriques rénové"),
]


def place_name(i: int) -> str:
    """A made-up, unique town name for article ``i`` (a word no other article contains)."""
    n = len(_SYLLABLES)
    return (_SYLLABLES[i % n] + _SYLLABLES[(i // n) % n] + _SYLLABLES[(i // (n * n)) % n] + "ville").capitalize()


def write_generated_articles(corpus: Path, count: int, *, folder: str = "gen") -> list[str]:
    """``count`` short Markdown articles under ``corpus/folder``; returns their ids."""
    ids = []
    for i in range(count):
        town = place_name(i)
        subject, event = _TOPICS[i % len(_TOPICS)]
        body = (
            f"À {town}, {subject} {event}. Le projet a été présenté lundi par les élus de {town}.\n\n"
            f"Selon la préfecture, les travaux à {town} dureront {i % 11 + 2} mois et coûteront "
            f"{i % 37 + 3} millions d'euros. Les habitants de {town} ont été consultés en réunion publique.\n\n"
            f"Les opposants estiment que {subject} de {town} aurait dû privilégier d'autres priorités "
            f"budgétaires, mais le conseil municipal a voté le projet à une large majorité."
        )
        path = corpus / folder / f"{i:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'---\ntitle: "{town} : {subject} {event}"\ndate: 2025-09-{i % 28 + 1:02d}\n---\n\n{body}\n',
            encoding="utf-8",
        )
        ids.append(f"{folder}/{i:04d}")
    return ids


BASE_QUESTIONS = [
    "Que cherche Poutine en Alaska ?",
    "Combien de temps a duré le sommet d'Anchorage entre Poutine et Trump ?",
    "Quel est le nouveau plafond du prix du pétrole russe ?",
    "Avec quels pays Poutine cherche-t-il des alliances stratégiques ?",
    "Qui a rencontré Donald Trump en Alaska ?",
]


def generated_question(i: int) -> str:
    subject, _ = _TOPICS[i % len(_TOPICS)]
    return f"Que fait {subject} de {place_name(i)} ?"


def mixed_questions(n: int, generated: int = 0) -> list[str]:
    """``n`` questions: about the base corpus, and (if ``generated``) about generated articles spread over them."""
    questions = []
    for q in range(n):
        if generated and q % 2:
            questions.append(generated_question((q * 7919) % generated))
        else:
            questions.append(BASE_QUESTIONS[q % len(BASE_QUESTIONS)])
    return questions


# -- checking citations against the commits ---------------------------------------------------
class CommitLog:
    """Wraps the store's manifest collection and records each article id when its record is written."""

    def __init__(self, store: Any, *, switch_delay: float = 0.0) -> None:
        self.store = store
        self.committed: set[str] = set(store.manifest())
        self.lock = threading.Lock()
        self.commits = 0
        real = store.records
        log = self

        class Recording:
            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def upsert(self, *, ids: Sequence[str], **kwargs: Any) -> Any:
                # the articles' chunks are written, their records not yet: a delay here widens
                # the window in which a retriever that ignored the manifest would cite them
                time.sleep(switch_delay)
                with log.lock:  # recorded when the switch starts: its chunks are all written by then
                    log.committed.update(ids)
                    log.commits += 1
                return real.upsert(ids=ids, **kwargs)

        store.records = Recording()
        self._real = real

    def restore(self) -> None:
        self.store.records = self._real

    def is_committed(self, article_id: str) -> bool:
        with self.lock:
            return article_id in self.committed


class CheckedService:
    """The real service; each answer's citations are checked the moment ``ask`` returns."""

    def __init__(self, service: Any, commits: CommitLog) -> None:
        self.service = service
        self.commits = commits
        self.violations: list[str] = []
        self.cited_articles: set[str] = set()
        self.answers = 0

    def ask(
        self, question: str, history: Sequence[Turn] = (), *, on_token: Any = None, scope: QueryScope | None = None
    ) -> Answer:
        answer: Answer = self.service.ask(question, history, on_token=on_token, scope=scope)
        cited = {s.article_id: s for s in answer.cited_sources}
        not_committed = [a for a in cited if not self.commits.is_committed(a)]
        self.violations.extend(f"{question!r} cites {a}, not committed yet" for a in not_committed)
        if cited:
            self._check_chunks(question, cited)
        self.cited_articles.update(cited)
        self.answers += 1
        return answer

    def _check_chunks(self, question: str, cited: dict[str, Any]) -> None:
        store = self.service.store
        manifest = store.manifest()
        collection = store.vectors
        for article_id, source in cited.items():
            entry = manifest.get(article_id)
            if entry is None:
                self.violations.append(f"{question!r} cites {article_id}, absent from the manifest")
                continue
            found = collection.get(
                where={"$and": [{"article_id": article_id}, {"article_hash": entry.article_hash}]}, include=[]
            )["ids"]
            if len(found) != entry.chunks or source.chunk_id not in found:
                self.violations.append(
                    f"{question!r} cites {source.chunk_id}: {len(found)} chunks indexed of {entry.chunks}"
                )

    def reindex(self, **kwargs: Any) -> Any:
        return self.service.reindex(**kwargs)

    def latest(self, n: int = 5) -> Any:
        return self.service.latest(n)


# -- the run ------------------------------------------------------------------------------------
@dataclass
class LoadResult:
    questions: int  # asked in all (with a reindex, users keep asking until it has finished)
    users: int
    answered: int = 0
    failed: int = 0  # an apology instead of an answer
    lost: int = 0  # nothing at all within the timeout
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    worst_lag_ms: float = 0.0
    peak_rss_mb: float = 0.0
    cited: int = 0  # answers citing at least one source
    answers_during_reindex: int = 0
    reindex_seconds: float | None = None
    reindex_added: int | None = None
    violations: list[str] = field(default_factory=list)
    cited_generated: int = 0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    def lines(self, title: str) -> list[str]:
        out = [
            f"{title}",
            f"  questions answered      {self.answered}/{self.questions} from {self.users} users "
            f"(apologies {self.failed}, lost {self.lost}); {self.cited} with cited sources",
            f"  latency                 p50 {self.percentile(50):.2f} s, p95 {self.percentile(95):.2f} s, "
            f"max {max(self.latencies, default=float('nan')):.2f} s",
            f"  throughput              {self.answered / self.seconds if self.seconds else 0:.2f} answers/s "
            f"over {self.seconds:.1f} s",
            f"  event loop worst lag    {self.worst_lag_ms:.1f} ms",
            f"  peak RSS                {self.peak_rss_mb:.0f} MB",
        ]
        if self.reindex_seconds is not None:
            out += [
                f"  reindex meanwhile       {self.reindex_added} articles in {self.reindex_seconds:.1f} s; "
                f"{self.answers_during_reindex} answers while it ran",
                f"  citations checked       {len(self.violations)} of half-indexed articles; "
                f"{self.cited_generated} generated articles cited",
            ]
        return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


async def run_load(
    service: Any,
    settings: Any,
    monkeypatch: Any,
    questions: Sequence[str],
    *,
    users: int,
    reindex: Callable[[], Any] | None = None,
    generated_ids: Sequence[str] = (),
    switch_delay: float = 0.0,
    timeout: float = 600.0,
) -> LoadResult:
    """Send ``questions`` from ``users`` concurrent users through a NewsBot over ``service``."""
    from bot.discord.app import NewsBot

    commits = CommitLog(service.store, switch_delay=switch_delay)
    checked = CheckedService(service, commits)
    bot = NewsBot(checked, settings)
    fake = FakeDiscord(bot, monkeypatch)
    fake.setup_world()
    await bot._async_setup_hook()  # what Client.login does before setup_hook
    await bot.setup_hook()

    loop = asyncio.get_running_loop()
    finals: dict[int, asyncio.Future[bool]] = {}
    real_send = bot.http.send_message

    async def send_message(channel_id: int, *, params: Any) -> Any:
        data = await real_send(channel_id, params=params)
        waiter = finals.get(int(channel_id))
        if waiter is not None and not waiter.done():
            # the final message of an answer carries the vote buttons; an apology has none
            waiter.set_result(bool(params.payload.get("components")))
        return data

    monkeypatch.setattr(bot.http, "send_message", send_message)

    result = LoadResult(questions=len(questions), users=users)
    lags: list[float] = []
    stop = asyncio.Event()
    reindex_running = threading.Event()

    async def ticker() -> None:
        while not stop.is_set():
            start = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - start - 0.01)

    async def user(index: int, mine: list[str]) -> None:
        author = FIRST_USER + index
        asked = 0
        # with a reindex running, a user keeps asking (its questions again) until it has finished
        while asked < len(mine) or (reindex is not None and reindex_running.is_set()):
            question = mine[asked % len(mine)]
            asked += 1
            result.questions += asked > len(mine)
            started = time.perf_counter()
            payload = fake.message_payload(f"<@{BOT_ID}> {question}", author_id=author)
            waiter: asyncio.Future[bool] = loop.create_future()
            finals[int(payload["id"])] = waiter  # the bot answers in a thread with the message's id
            fake.messages.setdefault(int(payload["channel_id"]), []).append(payload)
            fake.state.parse_message_create(payload)
            during = reindex_running.is_set()
            try:
                ok = await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                result.lost += 1
                continue
            result.latencies.append(time.perf_counter() - started)
            if ok:
                result.answered += 1
                result.answers_during_reindex += int(during or reindex_running.is_set())
            else:
                result.failed += 1

    def run_reindex() -> None:
        assert reindex is not None
        started = time.perf_counter()
        try:
            report = reindex()
            result.reindex_added = len(report.added)
        finally:
            result.reindex_seconds = time.perf_counter() - started
            reindex_running.clear()

    shares: list[list[str]] = [list(questions[i::users]) for i in range(users)]
    tick = asyncio.create_task(ticker())
    reindex_thread: threading.Thread | None = None
    started = time.perf_counter()
    try:
        await asyncio.sleep(0.05)
        if reindex is not None:
            reindex_running.set()
            reindex_thread = threading.Thread(target=run_reindex, name="newsbot-load-reindex", daemon=True)
            reindex_thread.start()
        await asyncio.gather(*(user(i, share) for i, share in enumerate(shares) if share))
        result.seconds = time.perf_counter() - started
        if reindex_thread is not None:
            await loop.run_in_executor(None, reindex_thread.join, timeout)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await tick
        await bot.close()
        commits.restore()
    result.worst_lag_ms = max(lags, default=0.0) * 1000
    result.peak_rss_mb = peak_rss_mb()
    result.violations = list(checked.violations)
    result.cited = _cited_answers(fake)
    generated = set(generated_ids)
    result.cited_generated = len(checked.cited_articles & generated)
    return result


def _cited_answers(fake: FakeDiscord) -> int:
    """Answers whose text lists sources (the final message of each, with its buttons)."""
    return sum(1 for p in fake.named("send_message") if p.get("components") and "**Sources**" in p["content"])

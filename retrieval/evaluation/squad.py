"""Measuring answer quality on a SQuAD-format dataset (``newsbot eval``).

Each paragraph of the dataset becomes a small article (id ``<prefix>/<article>-<paragraph>``,
title = the SQuAD article's title) written into a corpus folder under
``DATA_DIR/eval/<dataset and paragraph hash>/``. That corpus is indexed with the current
settings through the normal :meth:`AnsweringService.reindex` — which is incremental by
content hash, so a second run with the same model and chunking reuses every embedding —
and each (sampled) question is asked through :meth:`AnsweringService.ask`.

Reported, per question set:

* recall@1/5/10 and MRR of the paragraph the question was written about, over the ranked
  passages of the retriever asked for 10 passages (the answer path uses ``k``);
* answer containment: a gold answer span appears in the answer (case, accents and
  whitespace folded); first-sentence containment: it appears in the answer's first sentence;
* precision: the share of the answer's sentences that cite the gold paragraph (over the
  answered questions);
* refusal rate, p50/p95 answer latency, sentences per answer;

and for the whole run the index time and chunk count. Extra sets: questions in English
about the dataset's paragraphs (gold paragraph given by the id of a question of the
dataset) and questions the corpus cannot answer (only the refusal rate counts).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import ConfigError, NewsbotError
from retrieval.settings import Settings, flat, replace
from retrieval.text import fold_accents

log = logging.getLogger(__name__)

RANK_DEPTH = 10  # passages retrieved for the ranking metrics (recall@10)
Progress = Callable[[str, int, int], None]  # (stage, done, total)


# -- data ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalArticle:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class EvalQuestion:
    qid: str
    question: str
    article_id: str | None  # the gold paragraph; None for an unanswerable question
    answers: tuple[str, ...] = ()


@dataclass
class EvalDataset:
    name: str
    digest: str
    articles: list[EvalArticle]
    questions: list[EvalQuestion]

    def article_of(self) -> dict[str, str]:
        """Question id → gold article id."""
        return {q.qid: q.article_id for q in self.questions if q.article_id}


def load_squad(path: Path, *, prefix: str | None = None) -> EvalDataset:
    """A SQuAD-format file as articles (one per paragraph) and questions."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the dataset {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw)
        entries = data["data"]
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"{path} is not a SQuAD-format JSON file (no 'data' list)") from None
    prefix = prefix or re.split(r"[-_.]", path.stem)[0] or "eval"
    articles: list[EvalArticle] = []
    questions: list[EvalQuestion] = []
    try:
        for a_index, entry in enumerate(entries):
            title = clean_title(str(entry.get("title") or f"{prefix} {a_index}"))
            for p_index, paragraph in enumerate(entry["paragraphs"]):
                article_id = f"{prefix}/{a_index:04d}-{p_index:02d}"
                articles.append(EvalArticle(article_id, title[:200], str(paragraph["context"])))
                for qa in paragraph.get("qas", []):
                    answers = tuple(str(a["text"]) for a in qa.get("answers", []) if a.get("text"))
                    questions.append(EvalQuestion(str(qa["id"]), str(qa["question"]), article_id, answers))
    except (KeyError, TypeError, AttributeError):
        raise ConfigError(f"{path} is not a SQuAD-format JSON file (a paragraph lacks 'context')") from None
    if not articles:
        raise ConfigError(f"{path} holds no paragraph")
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return EvalDataset(path.stem, digest, articles, questions)


def clean_title(title: str) -> str:
    """A SQuAD title without its HTML markup (``<i>…</i>``, ``<abbr>``) and underscores."""
    title = html.unescape(re.sub(r"<[^>]+>", "", title)).replace("_", " ")
    return " ".join(title.split())


def only_split(dataset: EvalDataset, split: str | None) -> EvalDataset:
    """The dataset's questions restricted to one split (``train``/``heldout``, see :func:`split_of`);
    every paragraph stays indexed, so retrieval is measured over the whole corpus."""
    if not split or split == "all":
        return dataset
    questions = [q for q in dataset.questions if q.article_id is not None and split_of(q.article_id) == split]
    return EvalDataset(dataset.name, dataset.digest, dataset.articles, questions)


def subset(dataset: EvalDataset, paragraphs: int | None, seed: int) -> EvalDataset:
    """The dataset restricted to ``paragraphs`` paragraphs drawn at random (and their questions)."""
    if not paragraphs or paragraphs >= len(dataset.articles):
        return dataset
    chosen = random.Random(seed).sample(range(len(dataset.articles)), paragraphs)
    articles = [dataset.articles[i] for i in sorted(chosen)]
    keep = {a.id for a in articles}
    questions = [q for q in dataset.questions if q.article_id in keep]
    return EvalDataset(dataset.name, dataset.digest, articles, questions)


def sample(questions: Sequence[EvalQuestion], limit: int | None, seed: int) -> list[EvalQuestion]:
    """``limit`` questions drawn at random with ``seed`` (all of them, in order, without a limit)."""
    if not limit or limit >= len(questions):
        return list(questions)
    chosen = random.Random(seed).sample(range(len(questions)), limit)
    return [questions[i] for i in sorted(chosen)]


def load_extra(path: Path, dataset: EvalDataset) -> list[EvalQuestion]:
    """Extra questions (JSON list of objects with ``question``, and ``qid`` + ``answers`` when answerable).

    ``qid`` names a question of the dataset: the extra question's gold paragraph is that
    question's paragraph. Without ``qid`` the question is one the corpus cannot answer.
    """
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the question file {path}: {exc}") from None
    if not isinstance(items, list):
        raise ConfigError(f"{path} must hold a JSON list of questions")
    article_of = dataset.article_of()
    out: list[EvalQuestion] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("question"):
            raise ConfigError(f"{path}: item {n} has no 'question'")
        qid = item.get("qid")
        article_id = None
        if qid:
            article_id = article_of.get(str(qid))
            if article_id is None:
                log.warning("%s: question id %s is not in %s; skipped", path, qid, dataset.name)
                continue
        answers = tuple(str(a) for a in item.get("answers", []))
        out.append(EvalQuestion(str(qid or f"{path.stem}-{n}"), str(item["question"]), article_id, answers))
    return out


# -- scoring ---------------------------------------------------------------------------
_CITATION = re.compile(r"\s*\[\d+\]")


def fold(text: str) -> str:
    """Lower case, no accents, one space between words, typographic apostrophes unified."""
    text = fold_accents(text.replace("’", "'").replace("\u00a0", " "))
    return " ".join(text.casefold().split())


def contains_answer(answer: str, golds: Sequence[str]) -> bool:
    """True when one of the gold spans appears in the answer (citation marks removed)."""
    folded = fold(_CITATION.sub("", answer))
    return any(fold(gold) and fold(gold) in folded for gold in golds)


def gold_rank(article_ids: Sequence[str], gold: str) -> int | None:
    """1-based rank of the first passage of the gold article, or None."""
    for rank, article_id in enumerate(article_ids, start=1):
        if article_id == gold:
            return rank
    return None


_SENTENCE = re.compile(r"(.+?)((?:\s*\[\d+\])+)(?=\s|$)", re.S)


def answer_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """The sentences of an extractive answer with the passage numbers each cites."""
    out = []
    for match in _SENTENCE.finditer(answer):
        text = match.group(1).strip()
        if text:
            out.append((text, [int(n) for n in re.findall(r"\d+", match.group(2))]))
    return out


def sentence_count(answer: str) -> int:
    """Sentences in an extractive answer: each ends with `` [n]`` (a footnote mark opening a
    sentence, as in Wikipedia text, is not counted)."""
    return len(re.findall(r"(?<=\S) \[\d+\](?= |$)", answer))


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class QuestionResult:
    qid: str
    question: str
    article_id: str | None
    rank: int | None
    contained: bool
    refused: bool
    seconds: float
    sentences: int
    answer: str = ""
    first_contained: bool = False
    precision: float | None = None  # share of answer sentences citing the gold paragraph


@dataclass
class SetReport:
    name: str
    questions: int
    recall_at_1: float | None = None
    recall_at_5: float | None = None
    recall_at_10: float | None = None
    mrr: float | None = None
    containment: float | None = None
    first_sentence_containment: float | None = None
    precision: float | None = None
    refusal_rate: float = 0.0
    latency_p50: float = 0.0
    latency_p95: float = 0.0
    mean_sentences: float = 0.0
    max_sentences: int = 0

    @classmethod
    def from_results(cls, name: str, results: Sequence[QuestionResult], *, answerable: bool = True) -> SetReport:
        n = len(results)
        report = cls(name=name, questions=n)
        if not n:
            return report
        seconds = [r.seconds for r in results]
        report.refusal_rate = sum(r.refused for r in results) / n
        report.latency_p50 = percentile(seconds, 0.5)
        report.latency_p95 = percentile(seconds, 0.95)
        answered = [r for r in results if not r.refused]
        if answered:
            report.mean_sentences = sum(r.sentences for r in answered) / len(answered)
            report.max_sentences = max(r.sentences for r in answered)
        if answerable:
            ranks = [r.rank for r in results]
            report.recall_at_1 = sum(1 for r in ranks if r is not None and r <= 1) / n
            report.recall_at_5 = sum(1 for r in ranks if r is not None and r <= 5) / n
            report.recall_at_10 = sum(1 for r in ranks if r is not None and r <= 10) / n
            report.mrr = sum(1.0 / r for r in ranks if r is not None) / n
            report.containment = sum(r.contained for r in results) / n
            report.first_sentence_containment = sum(r.first_contained for r in results) / n
            precisions = [r.precision for r in results if r.precision is not None]
            report.precision = sum(precisions) / len(precisions) if precisions else None
        return report


@dataclass
class EvalReport:
    dataset: str
    paragraphs: int
    chunks: int
    index_seconds: float
    embedded: int
    settings: dict[str, Any]
    sets: list[SetReport] = field(default_factory=list)
    results: dict[str, list[QuestionResult]] = field(default_factory=dict)

    def to_dict(self, *, with_results: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "dataset": self.dataset,
            "paragraphs": self.paragraphs,
            "chunks": self.chunks,
            "index_seconds": round(self.index_seconds, 3),
            "embedded": self.embedded,
            "settings": self.settings,
            "sets": {s.name: _rounded(asdict(s)) for s in self.sets},
        }
        if with_results:
            data["results"] = {name: [asdict(r) for r in rs] for name, rs in self.results.items()}
        return data

    def get(self, name: str) -> SetReport:
        for report in self.sets:
            if report.name == name:
                return report
        raise KeyError(name)

    def table(self) -> str:
        """A Markdown table of the figures, one column per question set."""
        rows = [
            ("questions", "questions", "{:d}"),
            ("recall@1", "recall_at_1", "{:.3f}"),
            ("recall@5", "recall_at_5", "{:.3f}"),
            ("recall@10", "recall_at_10", "{:.3f}"),
            ("MRR", "mrr", "{:.3f}"),
            ("answer containment", "containment", "{:.3f}"),
            ("first sentence holds the answer", "first_sentence_containment", "{:.3f}"),
            ("precision (sentences from the gold paragraph)", "precision", "{:.3f}"),
            ("refusal rate", "refusal_rate", "{:.3f}"),
            ("sentences per answer (mean / max)", None, ""),
            ("answer latency p50 (ms)", "latency_p50", "ms"),
            ("answer latency p95 (ms)", "latency_p95", "ms"),
        ]
        head = "| | " + " | ".join(s.name for s in self.sets) + " |"
        lines = [head, "|---|" + "---|" * len(self.sets)]
        for label, attr, fmt in rows:
            cells = []
            for s in self.sets:
                if attr is None:
                    cells.append(f"{s.mean_sentences:.2f} / {s.max_sentences}")
                    continue
                value = getattr(s, attr)
                if value is None:
                    cells.append("—")
                elif fmt == "ms":
                    cells.append(f"{value * 1000:.0f}")
                else:
                    cells.append(fmt.format(value))
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append(
            f"{self.dataset}: {self.paragraphs:,} paragraphs, {self.chunks:,} chunks; "
            f"index time {self.index_seconds:.1f} s ({self.embedded:,} chunks embedded in this run)"
        )
        return "\n".join(lines)


def _rounded(data: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in data.items()}


# -- running ---------------------------------------------------------------------------
def workspace(settings: Settings, dataset: EvalDataset) -> Path:
    """The cache folder of this dataset (and paragraph selection) with this model."""
    key = hashlib.sha256()
    key.update(dataset.digest.encode())
    for article in dataset.articles:
        key.update(article.id.encode() + b"\0")
    embedding = settings.embedding
    key.update(f"{embedding.model};q={embedding.quantize};b={embedding.backend}".encode())
    return settings.data_dir / "eval" / f"{dataset.name}-{key.hexdigest()[:12]}"


def write_corpus(dataset: EvalDataset, folder: Path) -> None:
    """One ``.txt`` article per paragraph (title on the first line); unchanged files are kept."""
    wanted: set[Path] = set()
    for article in dataset.articles:
        path = folder / f"{article.id}.txt"
        wanted.add(path)
        content = f"{article.title}\n{article.text.strip()}\n"
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    for path in folder.rglob("*.txt"):
        if path not in wanted:
            path.unlink()


def eval_settings(settings: Settings, dataset: EvalDataset) -> Settings:
    """The settings with the corpus and the index moved to the dataset's cache folder."""
    root = workspace(settings, dataset)
    return replace(
        settings,
        corpus_dir=root / "corpus",
        # one index per chunking: switching back and forth while tuning reuses both
        index_dir=root / f"index-{settings.chunk.size}-{settings.chunk.overlap}",
        model_dir=settings.models_path,
        chroma_host=None,
        watch_corpus=False,
        llm_base_url=None,
    )


def ranking_retriever(service: Any, settings: Settings) -> Any:
    """The service's retriever, asked for :data:`RANK_DEPTH` passages."""
    from retrieval.search.hybrid import HybridRetriever

    deeper = replace(settings, k=RANK_DEPTH, fetch_k=max(settings.fetch_k, RANK_DEPTH))
    return HybridRetriever(store=service.store, settings=deeper)


def ask_all(
    service: Any,
    ranker: Any,
    questions: Sequence[EvalQuestion],
    *,
    stage: str = "questions",
    progress: Progress | None = None,
) -> list[QuestionResult]:
    results: list[QuestionResult] = []
    total = len(questions)
    if progress:
        progress(stage, 0, total)
    for n, q in enumerate(questions, start=1):
        started = time.perf_counter()
        try:
            answer = service.ask(q.question)
        except NewsbotError as exc:  # an unusable question counts as refused
            log.warning("question %s: %s", q.qid, exc)
            results.append(QuestionResult(q.qid, q.question, q.article_id, None, False, True, 0.0, 0))
            continue
        seconds = time.perf_counter() - started
        rank = None
        if q.article_id is not None:
            passages, _ = ranker.passages(q.question)
            rank = gold_rank([p.article_id for p in passages], q.article_id)
        contained = not answer.refused and contains_answer(answer.answer, q.answers)
        sentences = answer_sentences(answer.answer) if not answer.refused else []
        first = bool(sentences) and contains_answer(sentences[0][0], q.answers)
        precision = None
        if sentences and q.article_id is not None:
            article_of = {s.n: s.article_id for s in answer.sources}
            gold = sum(any(article_of.get(n) == q.article_id for n in ns) for _, ns in sentences)
            precision = gold / len(sentences)
        results.append(
            QuestionResult(
                q.qid, q.question, q.article_id, rank, contained, answer.refused, seconds,
                sentence_count(answer.answer) if not answer.refused else 0, answer.answer, first, precision,
            )
        )
        if progress:
            progress(stage, n, total)
    return results


def run_eval(
    settings: Settings,
    dataset: EvalDataset,
    *,
    limit: int | None = None,
    seed: int = 0,
    extra: Sequence[tuple[str, Sequence[EvalQuestion]]] = (),
    progress: Progress | None = None,
    embeddings: Any = None,
) -> EvalReport:
    """Index the dataset with ``settings`` (reusing the cache) and ask its questions.

    ``extra`` holds named sets of further questions (English ones, unanswerable ones:
    a question without gold paragraph only counts for the refusal rate).
    """
    from retrieval.service import open_service

    local = eval_settings(settings, dataset)
    write_corpus(dataset, local.corpus_dir)
    service = open_service(local, create=True, embeddings=embeddings)

    def index_progress(done: int, total: int) -> None:
        if progress:
            progress("indexing", done, total)

    report = service.reindex(progress=index_progress)
    ranker = ranking_retriever(service, local)
    questions = sample(dataset.questions, limit, seed)
    result = EvalReport(
        dataset=dataset.name,
        paragraphs=len(dataset.articles),
        chunks=report.chunks,
        index_seconds=report.seconds,
        embedded=report.embedded,
        settings=settings_summary(settings),
    )
    main = ask_all(service, ranker, questions, stage=dataset.name, progress=progress)
    result.results[dataset.name] = main
    result.sets.append(SetReport.from_results(dataset.name, main))
    for name, items in extra:
        results = ask_all(service, ranker, items, stage=name, progress=progress)
        answerable = all(q.article_id is not None for q in items)
        result.results[name] = results
        result.sets.append(SetReport.from_results(name, results, answerable=answerable))
    return result


def settings_summary(settings: Settings) -> dict[str, Any]:
    keys = (
        "embedding_model", "embedding_quantize", "chunk_size", "chunk_overlap", "k", "fetch_k",
        "hybrid", "fusion", "dense_weight", "rrf_k", "min_dense_score", "min_dense_score_en",
        "min_term_coverage", "max_answer_sentences",
    )
    values = flat(settings)
    return {key: values[key] for key in keys}


__all__ = [
    "EvalArticle", "EvalDataset", "answer_sentences", "article_index", "only_split", "split_of", "EvalQuestion", "EvalReport", "QuestionResult", "SetReport",
    "contains_answer", "eval_settings", "fold", "gold_rank", "load_extra", "load_squad", "run_eval",
    "sample", "subset", "write_corpus",
]


def article_index(article_id: str) -> int | None:
    """The SQuAD article's index in its dataset, from an article id (``…/0012-title``)."""
    try:
        return int(article_id.rsplit("/", 1)[-1].split("-")[0])
    except ValueError:
        return None


def split_of(article_id: str) -> str:
    """``"heldout"`` for the paragraphs of every fourth SQuAD article (index % 4 == 0), else
    ``"train"``: the answer-sentence model is trained on the others only."""
    index = article_index(article_id)
    return "heldout" if index is not None and index % 4 == 0 else "train"

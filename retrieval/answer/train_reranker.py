"""Fine-tune the answer reranker on PIAF dev: ``python -m retrieval.answer.train_reranker``
(``make train`` runs it after the sentence model).

1. The PIAF dev paragraphs are indexed and the training articles' questions asked, as
   :mod:`retrieval.answer.train` does; the shipped sentence model scores every candidate
   sentence (the reranker reads the most likely ones, so it is trained on what it will see).
   The training articles are split again by SQuAD article index: ``% 4 in (1, 2)`` fine-tune
   the cross-encoder, ``% 4 == 3`` fit the recombination and the thresholds (questions the
   cross-encoder never saw); ``% 4 == 0`` stays held out for ``newsbot eval --split heldout``.
2. Fine-tuning (torch, CPU: ~35 min on 2 cores): the packaged multilingual-e5-small, its top
   ``--layers`` layers trainable (all 12 by default; the embeddings stay frozen), a linear head over the mean of the pair's token states; per
   question a softmax over one answering sentence and six that do not (three the sentence
   model ranks highest, three drawn at random), one epoch.
3. The tuned layers and the head are written to ``retrieval/answer/sentence_reranker.safetensors``
   (matrices int8 with a scale per row, the rest float16: 21 MB); the reranker is exported to ONNX from them as it runs (:mod:`retrieval.answer.reranker`),
   and that export scores the recombination part: a logistic regression over (logit of the
   sentence model's probability, the reranker's logit) on the ``k`` best sentences, its
   thresholds chosen per language as :func:`retrieval.answer.train.choose_thresholds` does.
   The result is the ``reranker`` block of ``sentence_model.json``.

English questions (``tests/data/train-english.json``) take part as in the sentence model's training.
``--recombine-only`` keeps the tuned layers of ``--weights-out`` and refits step 3's recombination
only: after the sentence model was trained again, its probabilities are what is recombined.
Without ``../shared/eval/piaf-dev.json`` (``--dataset``), it says so and stops.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.answer.train import DEFAULT_DATASET, ENGLISH, OUT, choose_thresholds

log = logging.getLogger("retrieval.answer.train_reranker")

WEIGHTS_OUT = Path(__file__).resolve().parent / "sentence_reranker.safetensors"
NEGATIVES = 6
K = 8  # sentences read again per question, at most
# of the K, only those at least this share of the best's probability are read: on the combine
# questions, the first sentence held the answer as often as with all K (French 0.620, English
# 0.534) for 3.6 (French) / 4.6 (English) sentences read instead of 8 (0.2: 2.5 / 3.2, containment
# −0.3 / −0.7 points); see docs/answers.md
READ_RATIO = 0.1


@dataclass
class Asked:
    question: str
    language: str
    part: str  # "tune" or "combine"
    texts: list[str]
    probabilities: list[float]
    labels: list[int]  # a gold span, in the gold article
    holds: list[int]  # a gold span, anywhere


def part_of(article_id: str) -> str | None:
    from retrieval.evaluation.squad import article_index

    index = article_index(article_id)
    return None if index is None else {1: "tune", 2: "tune", 3: "combine"}.get(index % 4)


def ask_all(service: Any, answerer: Any, questions: list[tuple[Any, str]]) -> list[Asked]:
    from retrieval.evaluation.squad import fold

    lexical = service.retriever.view()
    out: list[Asked] = []
    for n, (q, language) in enumerate(questions):
        part = part_of(q.article_id or "")
        if part is None:
            continue
        passages, _ = service.retriever.passages(q.question, view=lexical)
        scored = answerer.score(q.question, q.question, passages, lexical, language)
        if not scored:
            continue
        golds = [fold(a) for a in q.answers if fold(a)]
        texts, probabilities, labels, holds = [], [], [], []
        for s in scored:
            contains = any(g in fold(s.candidate.text) for g in golds)
            texts.append(s.candidate.text)
            probabilities.append(s.probability)
            holds.append(int(contains))
            labels.append(int(contains and passages[s.candidate.passage].article_id == q.article_id))
        out.append(Asked(q.question, language, part, texts, probabilities, labels, holds))
        if (n + 1) % 500 == 0:
            log.info("%d/%d questions asked", n + 1, len(questions))
    return out


def groups_for_tuning(asked: list[Asked], rng: random.Random) -> list[tuple[str, str, list[str]]]:
    """(question, an answering sentence, sentences that hold no answer) per tuning question."""
    groups = []
    for a in asked:
        if a.part != "tune":
            continue
        positives = [t for t, y in zip(a.texts, a.labels, strict=True) if y]
        answerless = [(p, t) for t, h, p in zip(a.texts, a.holds, a.probabilities, strict=True) if not h]
        ranked = [t for _, t in sorted(answerless, key=lambda pt: -pt[0])]
        if not positives or not ranked:
            continue
        hard, rest = ranked[: NEGATIVES // 2], ranked[NEGATIVES // 2:]
        negatives = hard + rng.sample(rest, min(len(rest), NEGATIVES - len(hard)))
        groups.append((a.question, rng.choice(positives), negatives))
    rng.shuffle(groups)
    return groups


def fine_tune(
    base: Path, groups: list[tuple[str, str, list[str]]], layers: int, lr: float, out: Path, epochs: int = 1,
) -> None:
    """``epochs`` passes of listwise fine-tuning (the groups shuffled again for each after the
    first); the top ``layers`` layers and the head written to ``out``."""
    import torch
    from safetensors.numpy import save_file
    from transformers import AutoModel, AutoTokenizer

    from retrieval.answer.reranker import MAX_TOKENS, PASSAGE_PREFIX, QUERY_PREFIX, pack

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    model = AutoModel.from_pretrained(str(base))
    total = model.config.num_hidden_layers
    tuned = [f"encoder.layer.{i}." for i in range(total - layers, total)]
    for name, parameter in model.named_parameters():
        parameter.requires_grad = any(name.startswith(t) for t in tuned)
    head = torch.nn.Linear(model.config.hidden_size, 1)
    optimizer = torch.optim.AdamW(
        [{"params": [p for p in model.parameters() if p.requires_grad], "lr": lr},
         {"params": head.parameters(), "lr": 2e-3}],
        weight_decay=0.01,
    )
    per_step = 2
    order = list(groups)
    rng = random.Random(0)
    for _ in range(epochs - 1):
        again = list(groups)
        rng.shuffle(again)
        order += again
    steps = math.ceil(len(order) / per_step)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / 30) * max(0.05, 1 - s / steps)
    )
    model.train()
    started, running = time.perf_counter(), None
    for step in range(steps):
        batch = order[step * per_step:(step + 1) * per_step]
        firsts, seconds, sizes = [], [], []
        for question, positive, negatives in batch:
            items = [positive, *negatives]
            firsts += [QUERY_PREFIX + question] * len(items)
            seconds += [PASSAGE_PREFIX + t for t in items]
            sizes.append(len(items))
        encoded = tokenizer(
            firsts, seconds, padding=True, truncation="only_second", max_length=MAX_TOKENS, return_tensors="pt"
        )
        hidden = model(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).float()
        logits = head((hidden * mask).sum(1) / mask.sum(1)).squeeze(-1)
        loss = torch.stack([
            torch.nn.functional.cross_entropy(group.unsqueeze(0), torch.tensor([0]))
            for group in torch.split(logits, sizes)
        ]).mean()
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = loss.item() if running is None else 0.97 * running + 0.03 * loss.item()
        if step % 100 == 0:
            log.info("step %d/%d: loss %.3f (%.0f s)", step, steps, running, time.perf_counter() - started)
    state = {k: v.detach().numpy() for k, v in model.state_dict().items() if any(k.startswith(t) for t in tuned)}
    state["head.weight"] = head.weight.detach().numpy()
    state["head.bias"] = head.bias.detach().numpy()
    metadata = {"layers": str(layers), "tuning_questions": str(len(groups)), "epochs": str(epochs),
                "base": "packaged:multilingual-e5-small"}
    save_file(pack(state), str(out), metadata=metadata)


def recombine(asked: list[Asked], reranker: Any, k: int = K, ratio: float = READ_RATIO) -> dict[str, Any]:
    """The recombination (a logistic regression) and its thresholds, on the ``combine`` questions."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rows, labels, holds, groups, languages, lr = [], [], [], [], [], []
    for g, a in enumerate(a for a in asked if a.part == "combine"):
        order = np.argsort(-np.asarray(a.probabilities), kind="stable")[:k]
        logits = reranker.logits(a.question, [a.texts[i] for i in order])
        for i, logit in zip(order, logits, strict=True):
            p = min(max(a.probabilities[i], 1e-6), 1 - 1e-6)
            rows.append([math.log(p / (1 - p)), float(logit)])
            labels.append(a.labels[i])
            holds.append(a.holds[i])
            groups.append(g)
            languages.append(a.language)
            lr.append(a.probabilities[i])
    X, y = np.asarray(rows), np.asarray(labels)
    fitted = LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
    probs = fitted.predict_proba(X)[:, 1]
    data = {"y": y, "holds": np.asarray(holds), "group": np.asarray(groups), "lang": np.asarray(languages)}
    thresholds, figures = {}, {}
    for language in ("fr", "en"):
        mask = data["lang"] == language
        if not mask.any():
            continue
        part = {k: v[mask] for k, v in data.items()}
        thresholds[language] = choose_thresholds(part, probs[mask])
        sentence_model = np.asarray(lr)[mask]
        top = {int(g): float(p) for g, p in zip(part["group"][::-1], sentence_model[::-1], strict=True)}
        read = np.asarray([p >= ratio * top[int(g)] for g, p in zip(part["group"], sentence_model, strict=True)])
        for name, score, kept in (("sentence_model", sentence_model, None), ("with_reranker", probs[mask], None),
                                  ("with_reranker_read_ratio", probs[mask], read)):
            best: dict[int, tuple[float, int]] = {}
            for i, (s, h, g) in enumerate(zip(score, part["holds"], part["group"], strict=True)):
                if kept is not None and not kept[i]:
                    continue
                if int(g) not in best or s > best[int(g)][0]:
                    best[int(g)] = (float(s), int(h))
            figures[f"{language}_{name}_first_holds_span"] = round(sum(h for _, h in best.values()) / max(1, len(best)), 4)
    log.info("recombination part: %s", figures)
    return {
        "k": k, "ratio": ratio, "coef": [float(fitted.coef_[0][0]), float(fitted.coef_[0][1])],
        "intercept": float(fitted.intercept_[0]), "thresholds": thresholds,
        "info": {"questions": int(len(set(groups))), **figures},
    }


def recorded_tuning(weights: Path, shipped: dict[str, Any]) -> dict[str, int]:
    """How kept layers were tuned: from the weights' metadata, else from the model's reranker block."""
    from safetensors import safe_open

    with safe_open(str(weights), framework="numpy") as f:
        metadata = f.metadata() or {}
    before = shipped.get("reranker", {}).get("info", {})
    out: dict[str, int] = {}
    for key in ("layers", "tuning_questions", "epochs"):
        value = metadata.get(key, before.get(key))
        if value is not None:
            out[key] = int(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrieval.answer.train_reranker", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--english", type=Path, default=ENGLISH)
    parser.add_argument("--model-out", type=Path, default=OUT, help="the sentence model whose reranker block is written")
    parser.add_argument("--weights-out", type=Path, default=WEIGHTS_OUT)
    parser.add_argument("--layers", type=int, default=12, help="top layers fine-tuned (default 12: all)")
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="tuning questions at most (0: all; for a quick try)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--recombine-only", action="store_true",
        help="keep the tuned layers of --weights-out and refit only the recombination and its thresholds "
        "(after the sentence model was trained again: the questions are asked, nothing is fine-tuned)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if not args.dataset.exists():
        sys.stderr.write(f"{args.dataset} not found: the training needs the PIAF dev set (../shared/eval).\n")
        return 2
    if args.recombine_only and not args.weights_out.exists():
        sys.stderr.write(f"{args.weights_out} not found: --recombine-only needs tuned layers to keep.\n")
        return 2

    from retrieval.answer.extractive import ExtractiveAnswerer
    from retrieval.answer.model import RerankerBlock, SentenceModel
    from retrieval.answer.reranker import SentenceReranker
    from retrieval.answer.vectors import SentenceVectors, cache_path, model_key
    from retrieval.embeddings.sources import ensure_built
    from retrieval.evaluation.squad import EvalQuestion, eval_settings, load_squad, write_corpus
    from retrieval.service import open_service
    from retrieval.settings import PACKAGED_E5, Settings, load_settings
    from retrieval.text import language_of

    started = time.perf_counter()
    settings: Settings = load_settings()
    dataset = load_squad(args.dataset)
    local = eval_settings(settings, dataset)
    write_corpus(dataset, local.corpus_dir)
    service = open_service(local, create=True)
    service.reindex()
    key = model_key(local)
    model = SentenceModel.from_dict(json.loads(args.model_out.read_text("utf-8")))
    model.reranker = None
    answerer = ExtractiveAnswerer(
        vectors=SentenceVectors(service.store.embeddings, key, cache_path(local, key)),
        model=model, embedding_model=local.embedding.model,
    )
    questions: list[tuple[Any, str]] = [(q, language_of(q.question)) for q in dataset.questions]
    by_id = {q.qid: q for q in dataset.questions}
    if args.english.exists():
        for item in json.loads(args.english.read_text("utf-8")):
            base = by_id.get(item["qid"])
            if base is not None:
                questions.append((EvalQuestion(f"en-{base.qid}", item["question"], base.article_id, base.answers), "en"))
    asked = ask_all(service, answerer, questions)
    shipped = json.loads(args.model_out.read_text("utf-8"))
    if args.recombine_only:
        tuning = recorded_tuning(args.weights_out, shipped)
    else:
        rng = random.Random(args.seed)
        groups = groups_for_tuning(asked, rng)
        if args.limit:
            groups = groups[: args.limit]
        log.info("fine-tuning on %d questions", len(groups))
        e5 = ensure_built(PACKAGED_E5, local.models_path)
        if e5.folder is None:  # pragma: no cover
            raise SystemExit("the packaged multilingual-e5-small has no folder")
        fine_tune(e5.folder, groups, args.layers, args.lr, args.weights_out, epochs=args.epochs)
        tuning = {"layers": args.layers, "tuning_questions": len(groups), "epochs": args.epochs}
    reranker = SentenceReranker(local.models_path, threads=local.embedding.threads, weights=args.weights_out)
    block = recombine(asked, reranker)
    block["info"] = {**block["info"], **tuning}
    shipped["reranker"] = RerankerBlock.from_dict(block).to_dict()
    args.model_out.write_text(json.dumps(shipped, indent=1) + "\n", encoding="utf-8")
    log.info("wrote %s and %s in %.0f s", args.weights_out, args.model_out, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

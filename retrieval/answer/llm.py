"""Optional LLM answers: fluent answers written from the retrieved passages, with checked citations.

When ``NEWSBOT_LLM_BASE_URL`` and ``NEWSBOT_LLM_MODEL`` are set, :func:`generator_from_settings`
builds an :class:`LLMGenerator` around a LangChain chat model (``ChatOpenAI`` for any
OpenAI-compatible server, ``ChatOllama`` for Ollama's native API). The answering service
calls it twice per question:

* :meth:`LLMGenerator.condense` rewrites a follow-up into a standalone question (``None`` on
  any failure: the service then uses its own heuristic);
* :meth:`LLMGenerator.improve` writes the answer from the numbered passages (prompt in
  ``retrieval/answer/prompts/answer.txt``), streaming tokens, then checks its citations: a ``[n]``
  pointing to no passage is removed, an answer citing nothing falls back to the extractive
  answer, and the sources' ``cited`` flags follow the citations kept.

Every LLM call is bounded by ``llm_timeout`` in total (connection, first token and the whole
stream); a failure, a timeout or an unusable reply gives the extractive answer with a one-line
notice. Nothing here raises to the caller.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from retrieval.answer.extractive import language_of, message
from retrieval.errors import ConfigError, LLMError
from retrieval.text import read_package_text
from retrieval.types import Answer, Passage, Turn

if TYPE_CHECKING:
    from retrieval.settings import Settings

log = logging.getLogger(__name__)

# --- prompts -------------------------------------------------------------------------------

_SECTION = re.compile(r"^=== *(\w+) *===[ \t]*$", re.M)


@functools.cache
def load_prompt(name: str) -> dict[str, str]:
    """The sections of a prompt file of ``retrieval/prompts`` (``=== name ===`` headers)."""
    text = read_package_text("retrieval.answer.prompts", name)
    parts = _SECTION.split(text)
    # parts = [preamble (comments), name1, body1, name2, body2, ...]
    return {parts[i].lower(): parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}


# an article must not be able to close (or open) the delimiters of the passages
_DELIMITER = re.compile(r"<(\s*/?\s*passages?\b)", re.I)


def neutralize(text: str) -> str:
    """Untrusted text with the passage delimiters defused."""
    return _DELIMITER.sub(r"&lt;\1", text)


def _attr(text: str) -> str:
    return neutralize(" ".join(text.split())).replace('"', "'")


def format_passages(passages: Sequence[Passage]) -> str:
    from retrieval.scope.outlets import outlet_name

    template = load_prompt("answer.txt")["passage"]
    return "\n".join(
        template.format(
            n=n, title=_attr(p.title), date=_attr(_passage_date(p)), source=_attr(outlet_name(p.source, p.url) or ""),
            text=neutralize(p.text.strip()),
        )
        for n, p in enumerate(passages, start=1)
    )


def _passage_date(passage: Passage) -> str:
    """The publication day, or "unknown" (a date newsbot only saw the article on is not one)."""
    if not passage.date or getattr(passage, "date_kind", None) == "seen":
        return "unknown"
    return str(passage.date)[:10]


def answer_messages(question: str, passages: Sequence[Passage], today: str = "") -> list[tuple[str, str]]:
    prompt = load_prompt("answer.txt")
    today = today or dt.date.today().isoformat()
    user = prompt["user"].format(passages=format_passages(passages), question=question, today=today)
    return [("system", prompt["system"].replace("{today}", today)), ("human", user)]


_CITATION_MARK = re.compile(r"\s*\[\d+\]")


def condense_messages(question: str, history: Sequence[Turn]) -> list[tuple[str, str]]:
    prompt = load_prompt("condense.txt")
    turns = "\n".join(
        prompt["turn"].format(
            question=" ".join(turn.question.split()),
            answer=" ".join(_CITATION_MARK.sub("", turn.answer).split()),
        )
        for turn in history
    )
    user = prompt["user"].format(history=turns, question=question)
    return [("system", prompt["system"]), ("human", user)]


# --- citation check ------------------------------------------------------------------------

_CITATION = re.compile(
    r"(?P<lead>[ \t]*)\[\s*(?:(?:passages?|sources?|n°)\s*)?"
    r"(?P<body>\d+(?:\s*(?:[,;]|-|–|and|et)\s*\d+)*)\s*\]",
    re.I,
)
_NUMBER_OR_RANGE = re.compile(r"(\d+)(?:\s*[-–]\s*(\d+))?")
_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_MAX_RANGE = 50


@dataclass(frozen=True)
class CitationCheck:
    """An LLM answer after the check: ``cited`` are the passage numbers kept."""

    text: str
    cited: frozenset[int]
    removed: tuple[int, ...]  # numbers that pointed to no retrieved passage


def _numbers(body: str) -> list[int]:
    numbers: list[int] = []
    for match in _NUMBER_OR_RANGE.finditer(body):
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        if last < first or last - first > _MAX_RANGE:
            last = first
        numbers.extend(range(first, last + 1))
    return numbers


def check_citations(text: str, count: int) -> CitationCheck:
    """Keep the ``[n]`` with 1 <= n <= count (normalised to ``[n]``), remove the others."""
    cited: set[int] = set()
    removed: list[int] = []

    def fix(match: re.Match[str]) -> str:
        kept: list[int] = []
        for n in _numbers(match.group("body")):
            if 1 <= n <= count:
                if n not in kept:
                    kept.append(n)
            else:
                removed.append(n)
        cited.update(kept)
        if not kept:
            return ""
        return match.group("lead") + " ".join(f"[{n}]" for n in kept)

    checked = _CITATION.sub(fix, _THINK.sub("", text))
    checked = re.sub(r"[ \t]+([.,])", r"\1", checked) if removed else checked
    checked = re.sub(r"[ \t]{2,}", " ", checked).strip()
    return CitationCheck(checked, frozenset(cited), tuple(removed))


def _condensed(text: str, limit: int) -> str | None:
    """The first line of the model's rewrite, without quotes or a label; None if unusable."""
    text = _THINK.sub("", text)
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = re.sub(r"^(standalone question|question autonome|question)\s*:\s*", "", line, flags=re.I)
    line = line.strip().strip("\"'«»“”`").strip()
    if not line or len(line) > limit:
        return None
    return line


# --- the generator -------------------------------------------------------------------------


def _content_text(content: Any) -> str:
    """The text of a message's content (a string, or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
        return "".join(parts)
    raise LLMError("the language model returned no text")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:159] + "…"


class LLMGenerator:
    """Condenses follow-ups and writes answers with a LangChain chat model."""

    def __init__(
        self, model: Any, *, timeout: float, max_question_chars: int, history_turns: int,
        reference_date: dt.date | None = None,
    ) -> None:
        self.model = model
        self.reference_date = reference_date  # "today" in the prompt (None: the real today)
        self.timeout = timeout
        self.max_question_chars = max_question_chars
        self.history_turns = history_turns

    # -- one bounded call ---------------------------------------------------------------
    def run(self, messages: list[tuple[str, str]], on_token: Callable[[str], None] | None = None) -> str:
        """The model's reply, streamed through ``on_token`` if given, within ``timeout`` seconds.

        The request runs in a daemon thread; this thread waits for its tokens until the
        deadline, so a server that hangs or trickles cannot hold the caller past it.
        Raises :class:`LLMError`.
        """
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()
        model = self.model

        def work() -> None:
            try:
                if on_token is None:
                    reply = model.invoke(messages)
                    events.put(("done", _content_text(reply.content)))
                    return
                for chunk in model.stream(messages):
                    if stop.is_set():
                        break
                    text = _content_text(chunk.content)
                    if text:
                        events.put(("token", text))
                events.put(("done", None))
            except BaseException as exc:  # reported to the waiting thread
                events.put(("error", exc))

        deadline = time.monotonic() + self.timeout
        threading.Thread(target=work, name="newsbot-llm", daemon=True).start()
        parts: list[str] = []
        sink = on_token
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    if remaining <= 0:
                        raise queue.Empty
                    kind, value = events.get(timeout=remaining)
                except queue.Empty:
                    raise LLMError(f"the language model did not answer within {self.timeout:g} s") from None
                if kind == "token":
                    parts.append(value)
                    if sink is not None:
                        try:
                            sink(value)
                        except Exception:  # a front end that cannot show tokens gets the final answer
                            log.warning("on_token failed; no more tokens are streamed", exc_info=True)
                            sink = None
                elif kind == "done":
                    text: str = value if value is not None else "".join(parts)
                    if not text.strip():
                        raise LLMError("the language model returned an empty answer")
                    return text
                else:
                    if isinstance(value, LLMError):
                        raise value
                    raise LLMError(f"the language model failed: {_short(value)}") from value
        finally:
            stop.set()

    # -- the service's hooks ---------------------------------------------------------------
    def condense(self, question: str, history: Sequence[Turn]) -> str | None:
        """A standalone version of a follow-up, or None (never raises)."""
        turns = list(history)[-self.history_turns :] if self.history_turns else []
        if not turns:
            return None
        try:
            text = self.run(condense_messages(question, turns))
        except Exception as exc:
            log.info("LLM condense failed: %s", _short(exc))
            return None
        return _condensed(text, self.max_question_chars)

    def improve(
        self,
        answer: Answer,
        passages: Sequence[Passage],
        *,
        extractive: Answer | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """The LLM's answer from the passages, citations checked; the extractive one on failure."""
        fallback = extractive or answer
        language = language_of(answer.question)
        if answer.refused or not passages:
            return answer
        question = answer.standalone_question or answer.question
        try:
            today = (self.reference_date or dt.date.today()).isoformat()
            text = self.run(answer_messages(question, passages, today), on_token)
        except Exception as exc:
            log.warning("LLM answer failed: %s", _short(exc))
            return replace(fallback, notice=message("llm_fallback", language))
        checked = check_citations(text, len(passages))
        if checked.removed:
            log.info("removed citations of no passage: %s", checked.removed)
        if not checked.cited:
            log.info("LLM answer cited no passage; using the extractive answer")
            return replace(fallback, notice=message("llm_uncited", language))
        return replace(
            answer,
            answer=checked.text,
            refused=False,
            sources=[replace(source, cited=source.n in checked.cited) for source in answer.sources],
            notice=None,
        )


# --- construction from the settings ------------------------------------------------------


def _ollama_url(url: str) -> str:
    """Ollama's native API lives at the server root, not under the OpenAI-compatible ``/v1``."""
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def make_chat_model(settings: Settings) -> Any:
    """The LangChain chat model the settings describe (nothing is contacted here)."""
    llm = settings.llm
    if not (llm.base_url and llm.model):
        raise ConfigError("set NEWSBOT_LLM_BASE_URL and NEWSBOT_LLM_MODEL to use a language model")
    base_url, model = llm.base_url, llm.model
    key = llm.api_key.get_secret_value() if llm.api_key else None
    if llm.provider == "ollama":
        from langchain_ollama import ChatOllama

        client: dict[str, Any] = {"timeout": settings.llm.timeout}
        if key:
            client["headers"] = {"Authorization": f"Bearer {key}"}
        return ChatOllama(
            model=model,
            base_url=_ollama_url(base_url),
            temperature=settings.llm.temperature,
            num_predict=settings.llm.max_tokens,
            client_kwargs=client,
        )
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    extra: dict[str, Any] = {}
    if "api.openai.com" not in base_url:
        # langchain-openai sends only ``max_completion_tokens``, which some local servers ignore
        extra["extra_body"] = {"max_tokens": settings.llm.max_tokens}
    return ChatOpenAI(
        base_url=base_url,
        model=model,
        # local servers need no key, but the client insists on one (and must not read OPENAI_API_KEY)
        api_key=SecretStr(key or "not-needed"),
        temperature=settings.llm.temperature,
        timeout=settings.llm.timeout,
        max_completion_tokens=settings.llm.max_tokens,
        max_retries=0,
        use_responses_api=False,
        **extra,
    )


def generator_from_settings(settings: Settings, model: Any = None) -> LLMGenerator:
    return LLMGenerator(
        model if model is not None else make_chat_model(settings),
        timeout=settings.llm.timeout,
        max_question_chars=settings.max_question_chars,
        history_turns=settings.history_turns,
        reference_date=settings.reference_date,
    )


__all__ = [
    "CitationCheck",
    "LLMGenerator",
    "answer_messages",
    "check_citations",
    "condense_messages",
    "generator_from_settings",
    "make_chat_model",
]

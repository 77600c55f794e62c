"""newsbot's one settings object: the engine's sections.

Every setting is read from the environment (prefix ``NEWSBOT_``) or from ``.env``;
``.env.example`` lists each of them with its default. A setting of a section is named
``NEWSBOT_<SECTION>_<FIELD>`` (``NEWSBOT_EMBEDDING_MODEL`` is ``settings.embedding.model``);
the others are ``NEWSBOT_<FIELD>``. Nothing here is read at import time: entry points call
:func:`load_settings` once and pass the object down. The Discord bot adds its own section
(:mod:`bot.settings`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_E5 = "packaged:multilingual-e5-small"
PACKAGED_MINILM = "packaged:all-minilm-l6-v2"


def default_models_dir() -> Path:
    """Built models' default home: the user's cache, shared by every folder and checkout."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("newsbot", appauthor=False)) / "models"


class Section(BaseModel):
    """A group of settings; its fields are read from ``NEWSBOT_<SECTION>_<FIELD>``."""

    model_config = ConfigDict(extra="ignore", frozen=False)


class ChromaSettings(Section):
    host: str | None = Field(
        None, description="Chroma server host, or its URL (http://localhost:8000); unset = embedded."
    )
    port: int = Field(8000, ge=1, le=65535, description="Chroma server port (a port in the host's URL wins).")

    @model_validator(mode="before")
    @classmethod
    def _host_as_url(cls, data: Any) -> Any:
        """``http://localhost:8000`` is read as host ``localhost`` and port 8000."""
        if not isinstance(data, dict) or not isinstance(data.get("host"), str) or "://" not in data["host"]:
            return data
        from urllib.parse import urlsplit

        url = urlsplit(data["host"].strip())
        if url.scheme != "http" or not url.hostname:
            raise ValueError("NEWSBOT_CHROMA_HOST must be a host name or an http:// URL (e.g. http://localhost:8000)")
        try:
            port = url.port
        except ValueError as exc:
            raise ValueError(f"NEWSBOT_CHROMA_HOST: invalid port in {data['host']!r}") from exc
        return {**data, "host": url.hostname, **({"port": port} if port else {})}


class EmbeddingSettings(Section):
    model: str = Field(
        PACKAGED_E5,
        description="packaged:multilingual-e5-small, packaged:all-minilm-l6-v2, "
        "or any sentence-transformers model name or path.",
    )
    device: str = Field("cpu", description="Device of the torch backend (cpu, cuda…).")
    batch_size: int = Field(32, ge=1, le=1024, description="Texts embedded per batch.")
    quantize: bool = Field(True, description="int8 dynamic quantization of the embedding model on CPU.")
    backend: Literal["onnx", "torch"] = Field(
        "onnx",
        description="onnx = ONNX Runtime (exported once, offline, from the model's weights into MODEL_DIR/onnx; "
        "fast start, no torch at run time); torch = sentence-transformers.",
    )
    threads: int = Field(
        0, ge=0, le=256, description="Threads of the embedding model; 0 = the runtime's default (one per core)."
    )


class ChunkSettings(Section):
    size: int = Field(1000, ge=100, le=20000, description="Target chunk size, characters.")
    overlap: int = Field(150, ge=0, le=5000, description="Overlap between chunks, characters.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkSettings:
        if self.overlap >= self.size:
            raise ValueError("NEWSBOT_CHUNK_OVERLAP must be smaller than NEWSBOT_CHUNK_SIZE")
        return self


class LLMSettings(Section):
    base_url: str | None = Field(
        None,
        description="LLM server URL, e.g. http://localhost:11434/v1 (Ollama), http://localhost:8080/v1 "
        "(llama.cpp), https://api.openai.com/v1; unset = extractive answers.",
    )
    model: str | None = Field(None, description="Model name on that server; unset = extractive answers.")
    api_key: SecretStr | None = Field(None, description="API key of a hosted LLM; local servers need none.")
    provider: Literal["openai", "ollama"] = Field(
        "openai", description="openai = any OpenAI-compatible API; ollama = Ollama's native API."
    )
    temperature: float = Field(0.1, ge=0.0, le=2.0, description="LLM sampling temperature.")
    timeout: float = Field(
        30.0, gt=0, description="Seconds one LLM call may take in all (whole stream included); then extractive."
    )
    max_tokens: int = Field(400, ge=16, le=8192, description="Longest LLM answer, in tokens.")

    @property
    def enabled(self) -> bool:
        return bool(self.base_url and self.model)


class FeedsSettings(Section):
    file: Path = Field(Path("feeds.txt"), description="One RSS/Atom URL per line.")
    max_per_run: int = Field(50, ge=1, description="New pages fetched per feeds run at the most.")
    max_attempts: int = Field(
        3, ge=1, le=100, description="Runs that retry a feed entry whose page failed before giving up on it."
    )
    keep_seen: int = Field(
        5000, ge=100, description="Entries remembered per feed (the oldest are forgotten beyond this)."
    )
    interval: float = Field(0.0, ge=0, le=10080, description="Minutes between feeds runs by the Discord bot; 0 = never.")


class HTTPSettings(Section):
    timeout: float = Field(15.0, gt=0, description="Seconds an HTTP request may take.")
    user_agent: str = Field("newsbot/0.1 (+https://github.com/newsbot)", description="User-Agent of requests.")
    max_bytes: int = Field(5_000_000, ge=1000, description="Largest page downloaded, in bytes.")
    allow_hosts: str = Field(
        "",
        description="Comma-separated hosts, IP addresses or networks (10.0.0.0/8) that may be fetched although "
        "they are private, loopback or link-local (refused by default: an internal page would become an article).",
    )


class WatchSettings(Section):
    corpus: bool = Field(False, description="The bot reindexes when corpus/ changes.")
    debounce: float = Field(
        1.0, gt=0, le=60, description="Watching the corpus: seconds of quiet before reindexing a change."
    )


class DigestSettings(Section):
    similarity: float | None = Field(
        None, description="Least average similarity (cosine + shared names) of a story's articles; unset = the model's default."
    )
    near_duplicate: float | None = Field(None, description="Cosine above which two articles are one story; unset = the model's default.")
    names_weight: float = Field(0.15, ge=0, le=1, description="Weight of shared names, figures and dates in a story's similarity.")
    max_days: float = Field(3.0, ge=0, description="Dated articles further apart than this many days are less alike.")
    lead_sentences: int = Field(2, ge=1, le=3, description="Extractive sentences under a story's headline.")
    since: str = Field("24h", description="Default window of a digest (24h, 7d, a date, or all).")


class Settings(BaseSettings):
    """The engine's settings: storage, embeddings, retrieval, answers, ingestion."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
    )

    # --- corpus and storage -------------------------------------------------------
    corpus_dir: Path = Field(Path("corpus"), description="Folder of articles (.md, .txt, .html).")
    corpus_external_links: bool = Field(
        False, description="Read symbolic links in corpus/ that point outside it (refused by default)."
    )
    data_dir: Path = Field(Path(".newsbot"), description="Where newsbot keeps its own files.")
    index_dir: Path | None = Field(None, description="Embedded Chroma index folder (default: DATA_DIR/index).")
    model_dir: Path | None = Field(
        None,
        description="Where models are built, once per machine (default: the user's cache, "
        "~/.cache/newsbot/models on Linux).",
    )
    collection: str = Field("newsbot", min_length=3, max_length=60, description="Chroma collection name.")
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)  # type: ignore[arg-type]

    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)  # type: ignore[arg-type]
    chunk: ChunkSettings = Field(default_factory=ChunkSettings)  # type: ignore[arg-type]

    # --- retrieval and answers -----------------------------------------------------
    k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    fetch_k: int = Field(
        50, ge=1, le=500, description="Candidates per retriever before fusion (at least K are fetched)."
    )
    hybrid: bool = Field(True, description="Fuse BM25 (French) with dense retrieval.")
    fusion: Literal["score", "rrf"] = Field(
        "score", description="How dense and BM25 results are fused: normalised scores, or reciprocal rank."
    )
    dense_weight: float = Field(
        0.4, ge=0.0, le=1.0, description="Share of the dense score in score fusion (the rest is BM25)."
    )
    rrf_k: int = Field(10, ge=1, le=1000, description="Rank constant of reciprocal rank fusion.")
    min_dense_score: float = Field(0.835, description="Refuse when the best passage's cosine is below this...")
    min_term_coverage: float = Field(
        0.45, description="...and fewer than this share of the question's terms appear in it."
    )
    min_dense_score_en: float = Field(
        0.805, description="MIN_DENSE_SCORE for questions detected as English, and for passages in the other "
        "language than the question's (cross-lingual cosines run lower)."
    )
    max_answer_sentences: int = Field(3, ge=1, le=10, description="Sentences of an extractive answer at most.")
    answer_reranker: bool = Field(
        True,
        description="Read the most likely sentences again with the answer reranker (a cross-encoder built once "
        "from the default embedding model) before choosing them; off = the sentence model alone, faster.",
    )
    max_question_chars: int = Field(2000, ge=10, le=100000, description="Longest question, in characters.")
    history_turns: int = Field(6, ge=0, le=50, description="Earlier turns used to understand a follow-up.")
    sentence_cache_dir: Path | None = Field(
        None,
        description="Folder of the sentence-vector cache, keyed by sentence and model, so it can be shared "
        "between indexes (default: DATA_DIR/cache).",
    )

    # --- time and outlets (retrieval/scope) -------------------------------------------
    reference_date: dt.date | None = Field(
        None,
        description="The day questions are asked on, YYYY-MM-DD (« hier », \"last month\", the recency prior); "
        "unset = today. Set it for reproducible runs.",
    )
    recency_half_life_days: float = Field(
        3.0,
        gt=0,
        le=3650,
        description="Questions about the present (\"latest\", « actuellement »): an article this many days older "
        "than the newest matching one weighs half as much in the ranking.",
    )

    llm: LLMSettings = Field(default_factory=LLMSettings)  # type: ignore[arg-type]

    # --- ingestion -------------------------------------------------------------------
    feeds: FeedsSettings = Field(default_factory=FeedsSettings)  # type: ignore[arg-type]
    http: HTTPSettings = Field(default_factory=HTTPSettings)  # type: ignore[arg-type]
    article_min_chars: int = Field(
        300, ge=1, description="A fetched page whose main text is shorter is not an article."
    )
    article_max_chunks: int = Field(
        300, ge=1, le=100_000,
        description="Chunks of one article indexed at the most: a longer text is cut, with a warning naming it.",
    )
    watch: WatchSettings = Field(default_factory=WatchSettings)  # type: ignore[arg-type]
    digest: DigestSettings = Field(default_factory=DigestSettings)  # type: ignore[arg-type]

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="Log level: DEBUG, INFO, WARNING or ERROR."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    # --- derived -------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.index_dir or self.data_dir / "index"

    @property
    def models_path(self) -> Path:
        return self.model_dir or default_models_dir()

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma.host)

    @property
    def candidates(self) -> int:
        """Candidates fetched per retriever: FETCH_K, and never fewer than K."""
        return max(self.fetch_k, self.k)


S = TypeVar("S", bound=Settings)


def sections(cls: type[BaseSettings]) -> dict[str, type[Section]]:
    """The section fields of a settings class: name -> section model."""
    found: dict[str, type[Section]] = {}
    for name, field in cls.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, Section):
            found[name] = kind
    return found


def nest(cls: type[BaseSettings], flat: dict[str, Any]) -> dict[str, Any]:
    """``{"chunk_size": 500, "k": 3}`` -> ``{"chunk": {"size": 500}, "k": 3}``: overrides are named as in
    ``.env`` (without the prefix), whatever section they belong to."""
    groups = sections(cls)
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        head, _, rest = key.partition("_")
        if key not in cls.model_fields and head in groups and rest in groups[head].model_fields:
            nested.setdefault(head, {})[rest] = value
        else:
            nested[key] = value
    return nested


def env_names(cls: type[BaseSettings]) -> dict[str, tuple[str, ...]]:
    """Every environment name a settings class reads -> its path in the object."""
    names: dict[str, tuple[str, ...]] = {}
    groups = sections(cls)
    for name, field in cls.model_fields.items():
        if name in groups:
            for sub in groups[name].model_fields:
                names[f"NEWSBOT_{name}_{sub}".upper()] = (name, sub)
            continue
        choices = getattr(field.validation_alias, "choices", None)
        names[str(choices[0]) if choices else f"NEWSBOT_{name}".upper()] = (name,)
    return names


def valid_env_names(cls: type[BaseSettings]) -> set[str]:
    """Every name a settings class reads from the environment or ``.env``, aliases included."""
    names = set(env_names(cls))
    for field in cls.model_fields.values():
        names.update(str(choice) for choice in getattr(field.validation_alias, "choices", None) or ())
    return names


def unknown_env_names(
    cls: type[BaseSettings], environ: Mapping[str, str], dotenv: Mapping[str, object] | None = None
) -> list[tuple[str, str, str | None]]:
    """``NEWSBOT_*`` names of ``environ`` and of a ``.env`` file's values that no setting reads:
    ``(name, where, closest valid name or None)``, where is ``"environment"`` or ``".env"``."""
    import difflib

    valid = valid_env_names(cls)
    found: list[tuple[str, str, str | None]] = []
    for where, names in (("environment", environ), (".env", dotenv or {})):
        for name in sorted(names):
            upper = name.upper()
            if not upper.startswith("NEWSBOT_") or upper in valid:
                continue
            close = difflib.get_close_matches(upper, sorted(valid), n=1, cutoff=0.6)
            found.append((name, where, close[0] if close else None))
    return found


def flat(settings: Settings) -> dict[str, Any]:
    """The settings named as in ``.env`` without the prefix: ``{"chunk_size": 1000, "k": 5, …}``."""
    values: dict[str, Any] = {}
    for env, path in env_names(type(settings)).items():
        value: Any = settings
        for part in path:
            value = getattr(value, part)
        values[env.removeprefix("NEWSBOT_").lower() if len(path) > 1 else path[0]] = value
    return values


def replace(settings: S, **changes: object) -> S:
    """A copy of ``settings`` with ``changes`` named as in ``.env`` (``chunk_size=500``), not validated
    again: for values that come from validated settings or from the code itself."""
    update: dict[str, Any] = {}
    for key, value in nest(type(settings), changes).items():
        if isinstance(value, dict) and key in sections(type(settings)):
            update[key] = getattr(settings, key).model_copy(update=value)
        else:
            update[key] = value
    return settings.model_copy(update=update)


def load_settings(cls: type[S] = Settings, /, **overrides: object) -> S:  # type: ignore[assignment]
    """Build the settings from env, ``.env`` and explicit overrides (which win), named as in ``.env``
    without the prefix (``chunk_size=500``)."""
    from pydantic import ValidationError

    from retrieval.errors import ConfigError

    values = nest(cls, overrides)
    unknown = sorted(set(values) - set(cls.model_fields))
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(unknown)}")
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(str(p) for p in first.get("loc", ()))
        by_path = {path: env for env, path in env_names(cls).items()}
        where = by_path.get(loc[:2]) or by_path.get(loc[:1])
        if where is None and loc and loc[0] in sections(cls):  # a check across the fields of a section
            where = f"NEWSBOT_{loc[0].upper()}_*"
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {where or 'settings'}: {message}") from None

"""newsbot's one settings object.

Every setting is read from the environment (prefix ``NEWSBOT_``) or from ``.env``;
``.env.example`` lists each of them with its default. Nothing here is read at import
time: entry points call :func:`load_settings` once and pass the object down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGED_E5 = "packaged:multilingual-e5-small"
PACKAGED_MINILM = "packaged:all-minilm-l6-v2"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
    )

    # --- corpus and storage -------------------------------------------------------
    corpus_dir: Path = Field(Path("corpus"), description="Folder of articles (.md, .txt, .html).")
    data_dir: Path = Field(Path(".newsbot"), description="Where newsbot keeps its own files.")
    index_dir: Path | None = Field(
        None, description="Embedded Chroma index folder (default: DATA_DIR/index)."
    )
    model_dir: Path | None = Field(
        None, description="Where packaged models are built (default: DATA_DIR/models)."
    )
    collection: str = Field("newsbot", min_length=3, max_length=60)
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded.")
    chroma_port: int = Field(8000, ge=1, le=65535)

    # --- embeddings ----------------------------------------------------------------
    embedding_model: str = Field(
        PACKAGED_E5,
        description="packaged:multilingual-e5-small, packaged:all-minilm-l6-v2, "
        "or any sentence-transformers model name or path.",
    )
    embedding_device: str = "cpu"
    embedding_batch_size: int = Field(32, ge=1, le=1024)
    embedding_quantize: bool = Field(
        True, description="int8 dynamic quantization of the embedding model on CPU."
    )
    embedding_backend: Literal["onnx", "torch"] = Field(
        "onnx",
        description="onnx = ONNX Runtime (exported once, offline, from the model's weights into MODEL_DIR/onnx; "
        "fast start, no torch at run time); torch = sentence-transformers.",
    )
    embedding_threads: int = Field(
        0, ge=0, le=256, description="Threads of the embedding model; 0 = the runtime's default (one per core)."
    )

    # --- chunking ------------------------------------------------------------------
    chunk_size: int = Field(1000, ge=100, le=20000, description="Target chunk size, characters.")
    chunk_overlap: int = Field(150, ge=0, le=5000, description="Overlap between chunks, characters.")

    # --- retrieval and answers -----------------------------------------------------
    k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    fetch_k: int = Field(50, ge=1, le=500, description="Candidates per retriever before fusion.")
    hybrid: bool = Field(True, description="Fuse BM25 (French) with dense retrieval.")
    fusion: Literal["score", "rrf"] = Field(
        "score", description="How dense and BM25 results are fused: normalised scores, or reciprocal rank."
    )
    dense_weight: float = Field(
        0.4, ge=0.0, le=1.0, description="Share of the dense score in score fusion (the rest is BM25)."
    )
    rrf_k: int = Field(10, ge=1, le=1000, description="Rank constant of reciprocal rank fusion.")
    min_dense_score: float = Field(
        0.835, description="Refuse when the best passage's cosine is below this..."
    )
    min_term_coverage: float = Field(
        0.45, description="...and fewer than this share of the question's terms appear in it."
    )
    min_dense_score_en: float = Field(
        0.805, description="MIN_DENSE_SCORE for questions detected as English (cross-lingual cosines run lower)."
    )
    max_answer_sentences: int = Field(3, ge=1, le=10)
    max_question_chars: int = Field(2000, ge=10, le=100000)
    history_turns: int = Field(6, ge=0, le=50)

    # --- LLM (optional) ------------------------------------------------------------
    llm_base_url: str | None = Field(
        None,
        description="LLM server URL, e.g. http://localhost:11434/v1 (Ollama), http://localhost:8080/v1 "
        "(llama.cpp), https://api.openai.com/v1; unset = extractive answers.",
    )
    llm_model: str | None = Field(None, description="Model name on that server; unset = extractive answers.")
    llm_api_key: SecretStr | None = Field(None, description="API key of a hosted LLM; local servers need none.")
    llm_provider: Literal["openai", "ollama"] = Field(
        "openai", description="openai = any OpenAI-compatible API; ollama = Ollama's native API."
    )
    llm_temperature: float = Field(0.1, ge=0.0, le=2.0, description="LLM sampling temperature.")
    llm_timeout: float = Field(
        30.0, gt=0, description="Seconds one LLM call may take in all (whole stream included); then extractive."
    )
    llm_max_tokens: int = Field(400, ge=16, le=8192, description="Longest LLM answer, in tokens.")

    # --- Discord -------------------------------------------------------------------
    discord_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DISCORD_TOKEN", "NEWSBOT_DISCORD_TOKEN")
    )
    discord_channels: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Allowed channel ids, comma-separated; empty = all."
    )
    discord_dms: bool = False
    discord_rate_limit: int = Field(5, ge=1, description="Questions per user per minute.")
    discord_workers: int = Field(2, ge=1, le=32, description="Threads answering questions.")
    feedback_db: Path | None = Field(None, description="Votes database (default: DATA_DIR/feedback.sqlite3).")
    watch_corpus: bool = Field(False, description="The bot reindexes when corpus/ changes.")
    discord_rate_window: float = Field(
        60.0, gt=0, le=86400, description="Window of DISCORD_RATE_LIMIT, in seconds."
    )
    discord_stream_interval: float = Field(
        1.0, ge=0.2, le=30, description="Seconds between edits of an answer being streamed by the LLM."
    )
    discord_history_messages: int = Field(
        30, ge=0, le=100, description="Messages of a thread read back to rebuild the conversation."
    )
    discord_thread_archive: int = Field(
        1440, description="Minutes of inactivity before the bot's answer threads are archived: 60, 1440, 4320 or 10080."
    )

    @field_validator("discord_thread_archive")
    @classmethod
    def _archive_minutes(cls, value: int) -> int:
        allowed = (60, 1440, 4320, 10080)  # the only durations Discord accepts
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(map(str, allowed))} (minutes)")
        return value

    discord_sync_commands: bool = Field(
        True, description="Register the slash commands (/ask, /latest, /reindex) with Discord at start."
    )
    discord_language: Literal["fr", "en"] = Field("fr", description="Language of the bot's own messages.")
    discord_latest: int = Field(10, ge=1, le=25, description="Articles listed by /latest by default.")

    # --- feeds ---------------------------------------------------------------------
    feeds_file: Path = Field(Path("feeds.txt"), description="One RSS/Atom URL per line.")
    http_timeout: float = Field(15.0, gt=0)
    http_user_agent: str = "newsbot/0.1 (+https://github.com/newsbot)"
    http_max_bytes: int = Field(5_000_000, ge=1000)
    feeds_max_per_run: int = Field(50, ge=1)
    feeds_max_attempts: int = Field(
        3, ge=1, le=100, description="Runs that retry a feed entry whose page failed before giving up on it."
    )
    feeds_keep_seen: int = Field(
        5000, ge=100, description="Entries remembered per feed (the oldest are forgotten beyond this)."
    )
    article_min_chars: int = Field(
        300, ge=1, description="A fetched page whose main text is shorter is not an article."
    )
    watch_debounce: float = Field(
        1.0, gt=0, le=60, description="Watching the corpus: seconds of quiet before reindexing a change."
    )

    log_level: str = "WARNING"

    @field_validator("discord_channels", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("NEWSBOT_CHUNK_OVERLAP must be smaller than NEWSBOT_CHUNK_SIZE")
        if self.fetch_k < self.k:
            self.fetch_k = self.k
        return self

    # --- derived paths -------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.index_dir or self.data_dir / "index"

    @property
    def models_path(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def feedback_path(self) -> Path:
        return self.feedback_db or self.data_dir / "feedback.sqlite3"

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)


def load_settings(**overrides: object) -> Settings:
    """Build the settings from env, ``.env`` and explicit overrides (which win)."""
    from pydantic import ValidationError

    from retrieval.errors import ConfigError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ())]
        where = f"NEWSBOT_{loc[0].upper()}" if loc and loc[0] in Settings.model_fields else "settings"
        raise ConfigError(f"invalid setting {where}: {first.get('msg')}") from None

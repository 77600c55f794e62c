"""Shared fixtures. Every test runs offline: no model or data comes from a hub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["ANONYMIZED_TELEMETRY"] = "False"
# built models: where the developer keeps them (read before the environment is cleared)
_MODEL_DIR = os.environ.get("NEWSBOT_MODEL_DIR")
# settings come from the tests, never from a developer's .env or environment
for _name in list(os.environ):
    if _name.startswith("NEWSBOT_") or _name == "DISCORD_TOKEN":
        del os.environ[_name]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PIAF = SHARED / "eval" / "piaf-dev.json"
SMALL_MODEL = "packaged:all-minilm-l6-v2"


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run each test in a clean folder so a developer's .env is never read."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """Built models are shared with newsbot's own runs, so they are built once per machine:
    NEWSBOT_MODEL_DIR if set, else the checkout's .newsbot/models if it has one, else the
    per-user cache `newsbot` itself uses (where `make chat` built them)."""
    from retrieval.settings import default_models_dir

    local = REPO / ".newsbot" / "models"
    path = Path(_MODEL_DIR) if _MODEL_DIR else local if local.is_dir() else default_models_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def small_embeddings(models_dir: Path):
    """The small packaged English model, loaded once for the whole session."""
    from retrieval.embeddings.models import SentenceTransformerEmbeddings

    return SentenceTransformerEmbeddings(SMALL_MODEL, models_dir=models_dir, quantize=False)


def write_article(corpus: Path, article_id: str, title: str, body: str, **meta: str) -> Path:
    path = corpus / f"{article_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    front = "".join(f"{key}: {value}\n" for key, value in meta.items())
    path.write_text(f"---\ntitle: \"{title}\"\n{front}---\n\n{body}\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small French corpus: the Alaska article plus two short ones."""
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "alaska-summit.md").write_text(
        (REPO / "corpus" / "alaska-summit.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    write_article(
        root,
        "2025/08/sanctions",
        "Nouvelles sanctions européennes contre la Russie",
        "L'Union européenne a adopté un dix-huitième paquet de sanctions contre la Russie.\n\n"
        "Le paquet abaisse le plafond du prix du pétrole russe à 47,6 dollars le baril. "
        "Il vise aussi la flotte fantôme de pétroliers qui contourne l'embargo.",
        date="2025-07-18",
        url="https://example.org/sanctions",
        source="Exemple Info",
    )
    write_article(
        root,
        "2025/08/petrole",
        "Les revenus pétroliers de la Russie en baisse",
        "Les recettes de la Russie tirées du pétrole et du gaz ont chuté de 27 % sur un an en juillet.\n\n"
        "Le budget fédéral dépend pour près d'un tiers des hydrocarbures, selon le ministère des Finances.",
        date="2025-08-04",
    )
    return root


@pytest.fixture
def settings_factory(tmp_path: Path, corpus: Path, models_dir: Path):
    from bot.settings import load_settings

    def make(**overrides):
        values = {
            "embedding_model": SMALL_MODEL,
            "embedding_quantize": False,
            "data_dir": tmp_path / "data",
            "model_dir": models_dir,
            "corpus_dir": corpus,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


def cli_env(data_dir: Path, corpus: Path, models_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `newsbot` process run by a test: the small model, tmp folders."""
    return {
        **os.environ,
        "NEWSBOT_EMBEDDING_MODEL": SMALL_MODEL,
        "NEWSBOT_EMBEDDING_QUANTIZE": "false",
        "NEWSBOT_DATA_DIR": str(data_dir),
        "NEWSBOT_MODEL_DIR": str(models_dir),
        "NEWSBOT_CORPUS_DIR": str(corpus),
        **extra,
    }


def write_uncommitted_article(service, corpus: Path) -> None:
    """Write the chunks of an article "secret" (about "zanzibarien") without committing it,
    as a reindex killed between staging (vectors and lexical entries) and the manifest record would
    leave them."""
    from retrieval.index.chunking import chunk_article
    from retrieval.index.indexer import chunk_salt, embedding_text
    from retrieval.ingest.corpus import read_article

    path = write_article(corpus, "secret", "Article à moitié écrit", "Le mot zanzibarien apparaît ici seulement.")
    article = read_article(path, "secret", salt=chunk_salt(service.settings))
    chunks = chunk_article(article, service.settings.chunk.size, service.settings.chunk.overlap)
    texts = [embedding_text(c) for c in chunks]
    items = [(chunks, texts, service.store.embeddings.embed_documents(texts))]
    service.store.stage_vectors(items)  # the commit's first two phases, never its switch
    service.store.stage_lexical(items)
